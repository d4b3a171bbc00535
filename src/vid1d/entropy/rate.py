"""Rate accounting from model likelihoods (the R of R + lambda D)."""

from __future__ import annotations

import torch
from torch import Tensor

LIKELIHOOD_FLOOR = 1e-9


def bits_from_likelihoods(
    likelihoods: dict[str, Tensor] | Tensor, floor: float = LIKELIHOOD_FLOOR
) -> Tensor:
    """Total ``sum -log2 p`` over every tensor of ``likelihoods`` (a float32 scalar).

    The floor keeps one degenerate likelihood from producing ``inf``; the
    models already bound their likelihoods from below with a gradient-friendly
    bound, so it only matters for hand-made inputs.
    """
    tensors = likelihoods.values() if isinstance(likelihoods, dict) else [likelihoods]
    total = torch.zeros((), dtype=torch.float32)
    for lik in tensors:
        total = total.to(lik.device) - torch.log2(lik.float().clamp_min(floor)).sum()
    return total
