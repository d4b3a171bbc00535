"""Entropy models and coding: likelihoods for training, integer tables for real bitstreams.

- :mod:`~vid1d.entropy.cdf`: integer CDF tables (:class:`CdfTable`,
  :func:`pmf_to_quantized_cdf`, :func:`probs_to_frequencies`).
- :mod:`~vid1d.entropy.coder`: ANS / range coding through constriction with
  exactly those integer probabilities, escape path for any int32 value.
- Models (``nn.Module``; ``forward`` for training, ``update`` then
  ``compress``/``decompress`` for coding): :class:`FactorizedDensity`
  (``EntropyBottleneck``), :class:`GaussianConditional`, :class:`CategoricalModel`.
- :func:`bits_from_likelihoods`: the rate term.
"""

from vid1d.entropy.base import EntropyModel, TablesNotBuiltError, lower_bound
from vid1d.entropy.categorical import CategoricalModel, frequencies_from_logits
from vid1d.entropy.cdf import (
    DEFAULT_PRECISION,
    CdfTable,
    pmf_to_quantized_cdf,
    probs_to_frequencies,
)
from vid1d.entropy.coder import (
    CODERS,
    decode,
    decode_with_frequencies,
    encode,
    encode_with_frequencies,
    estimate_bits,
    estimate_bits_with_frequencies,
)
from vid1d.entropy.factorized import EntropyBottleneck, FactorizedDensity
from vid1d.entropy.gaussian import GaussianConditional, default_scale_table
from vid1d.entropy.rate import bits_from_likelihoods

__all__ = [
    "CODERS",
    "DEFAULT_PRECISION",
    "CategoricalModel",
    "CdfTable",
    "EntropyBottleneck",
    "EntropyModel",
    "FactorizedDensity",
    "GaussianConditional",
    "TablesNotBuiltError",
    "bits_from_likelihoods",
    "decode",
    "decode_with_frequencies",
    "default_scale_table",
    "encode",
    "encode_with_frequencies",
    "estimate_bits",
    "estimate_bits_with_frequencies",
    "frequencies_from_logits",
    "lower_bound",
    "pmf_to_quantized_cdf",
    "probs_to_frequencies",
]
