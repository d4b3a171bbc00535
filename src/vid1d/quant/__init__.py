"""Quantizers: rounding for coding, and the differentiable proxies used to train it.

See :mod:`vid1d.quant.scalar` (round / noise / straight-through / dispatcher),
:mod:`vid1d.quant.soft_round` (Agustsson & Theis soft rounding, Kumaraswamy noise) and
:mod:`vid1d.quant.fsq` (finite scalar quantization, Mentzer et al. 2023).
"""

from vid1d.quant.fsq import FSQ
from vid1d.quant.scalar import (
    QUANT_MODES,
    QuantMode,
    add_uniform_noise,
    quantize,
    round_ste,
    round_with_means,
)
from vid1d.quant.soft_round import (
    kumaraswamy_noise,
    noisy_soft_round,
    soft_round,
    soft_round_inverse,
)

__all__ = [
    "FSQ",
    "QUANT_MODES",
    "QuantMode",
    "add_uniform_noise",
    "kumaraswamy_noise",
    "noisy_soft_round",
    "quantize",
    "round_ste",
    "round_with_means",
    "soft_round",
    "soft_round_inverse",
]
