"""Categorical entropy model over a finite alphabet (token ids: VQ/FSQ codes, AR priors).

Training: the likelihood of a symbol is its softmax probability under the given
logits (``(..., K)``, e.g. the output of an autoregressive transformer), or
under the model's own learned logits when none are given (an unconditional
prior).

Coding: logits are turned into integer frequencies by
:func:`frequencies_from_logits` — a softmax computed with
:mod:`vid1d.entropy.detmath` (exactly rounded float64 operations only) followed
by :func:`~vid1d.entropy.cdf.probs_to_frequencies`. Identical logits therefore
give identical frequencies on every machine; making the *logits* identical
on the decoder (same network, same incremental code path, ideally integer
arithmetic) is the caller's job. With caller-given logits no table is needed;
the unconditional prior is tabulated by ``update()`` like the other models.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vid1d.entropy.base import TablesNotBuiltError, lower_bound, to_numpy_int
from vid1d.entropy.cdf import DEFAULT_PRECISION, MAX_PRECISION, probs_to_frequencies
from vid1d.entropy.coder import check_coder, decode_with_frequencies, encode_with_frequencies
from vid1d.entropy.detmath import det_softmax_weights
from vid1d.errors import InputError


def frequencies_from_logits(
    logits: np.ndarray | Tensor, precision: int = DEFAULT_PRECISION
) -> np.ndarray:
    """Integer frequencies ``(..., K)`` (>= 1, rows summing to ``2^precision``) from logits.

    Deterministic in the logit values (float32 logits are widened exactly to float64).
    """
    if isinstance(logits, Tensor):
        logits = logits.detach().cpu().double().numpy()
    return probs_to_frequencies(det_softmax_weights(logits), precision)


class CategoricalModel(nn.Module):
    """Categorical distribution over ``num_symbols`` symbols, conditional or unconditional.

    Args:
        num_symbols: alphabet size ``K >= 2``.
        likelihood_bound: lower bound of training likelihoods.
        precision: bits of the integer frequencies; coder: ``"ans"`` or ``"range"``.

    The unconditional prior's integer frequencies live in the ``prior_frequencies``
    buffer (empty until ``update()``), so they travel with ``state_dict``.
    """

    def __init__(
        self,
        num_symbols: int,
        likelihood_bound: float = 1e-9,
        precision: int = DEFAULT_PRECISION,
        coder: str = "ans",
    ) -> None:
        super().__init__()
        if not 1 <= precision <= MAX_PRECISION:
            raise InputError(f"precision must be in [1, {MAX_PRECISION}], got {precision}")
        self.precision = int(precision)
        self.coder = check_coder(coder)
        if num_symbols < 2 or num_symbols > 1 << precision:
            raise InputError(f"num_symbols must be in [2, 2^{precision}], got {num_symbols}")
        self.num_symbols = int(num_symbols)
        self.likelihood_bound = float(likelihood_bound)
        self.logits = nn.Parameter(torch.zeros(num_symbols))  # unconditional prior
        self.register_buffer("prior_frequencies", torch.zeros(0, dtype=torch.int32))

    def _logits_for(self, symbols: Tensor, logits: Tensor | None) -> Tensor:
        if logits is None:
            return self.logits.expand(*symbols.shape, self.num_symbols)
        if logits.shape != (*symbols.shape, self.num_symbols):
            raise InputError(
                f"logits shape {tuple(logits.shape)} != symbols shape {tuple(symbols.shape)} "
                f"+ ({self.num_symbols},)"
            )
        return logits

    def forward(self, symbols: Tensor, logits: Tensor | None = None) -> Tensor:
        """Likelihood (float32, shaped like ``symbols``) of integer ``symbols`` under ``logits``."""
        logits = self._logits_for(symbols, logits)
        with torch.autocast(device_type=logits.device.type, enabled=False):
            log_p = F.log_softmax(logits.float(), dim=-1)
            lik = log_p.gather(-1, symbols.long().unsqueeze(-1)).squeeze(-1).exp()
            return lower_bound(lik, self.likelihood_bound)

    likelihood = forward

    # -- the coding path ------------------------------------------------------------------
    @torch.no_grad()
    def update(self) -> None:
        """Tabulate the unconditional prior (idempotent)."""
        freqs = frequencies_from_logits(self.logits, self.precision)
        self.prior_frequencies = torch.from_numpy(freqs.astype(np.int32)).to(self.logits.device)

    def _frequencies(self, logits: Tensor | None, count: int) -> np.ndarray:
        if logits is not None:
            return frequencies_from_logits(logits.reshape(count, self.num_symbols), self.precision)
        if self.prior_frequencies.numel() == 0:
            raise TablesNotBuiltError(
                f"{type(self).__name__}: the unconditional prior is not tabulated; call update() "
                "(or pass logits) before compress/decompress"
            )
        return self.prior_frequencies.cpu().numpy().astype(np.int64)

    def compress(self, symbols: Tensor, logits: Tensor | None = None) -> bytes:
        """Code integer ``symbols`` in ``[0, K)`` under ``logits (..., K)`` or the prior."""
        if logits is not None:
            self._logits_for(symbols, logits)
        freqs = self._frequencies(logits, symbols.numel())
        return encode_with_frequencies(
            to_numpy_int(symbols).reshape(-1), freqs, self.precision, coder=self.coder
        )

    def decompress(
        self, data: bytes, logits: Tensor | None = None, shape: tuple[int, ...] | None = None
    ) -> Tensor:
        """Decode symbols (int32) shaped like ``logits.shape[:-1]``, or ``shape`` for the prior."""
        if logits is not None:
            shape = tuple(logits.shape[:-1])
            if logits.shape[-1] != self.num_symbols:
                raise InputError(f"logits must end with {self.num_symbols} classes")
        elif shape is None:
            raise InputError("decompress needs logits or, for the unconditional prior, a shape")
        count = int(np.prod(shape, dtype=np.int64))
        freqs = self._frequencies(logits, count)
        out = decode_with_frequencies(data, freqs, self.precision, count, coder=self.coder)
        return torch.from_numpy(out).reshape(shape)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        key = prefix + "prior_frequencies"
        if key in state_dict:
            self.prior_frequencies = torch.empty_like(state_dict[key])
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
