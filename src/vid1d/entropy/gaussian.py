"""Gaussian conditional entropy model (mean-scale hyperprior).

Ballé et al., "Variational image compression with a scale hyperprior" (ICLR
2018) and Minnen et al., "Joint autoregressive and hierarchical priors" (NeurIPS
2018): each latent ``y`` is modelled as ``N(mu, sigma^2)`` convolved with
``U(-1/2, 1/2)``, with ``mu`` and ``sigma`` predicted by another network. The
training likelihood of a quantized value is
``Phi((v + 1/2) / sigma) - Phi((v - 1/2) / sigma)`` with ``v = y_hat - mu``.

Coding (bit-exact by construction):

- ``sigma`` is quantized to an index into a fixed scale table (the smallest
  entry ``>= sigma``, i.e. rounded *up*, which only costs rate, never
  correctness): ``build_indexes``;
- the mean only shifts the quantization grid: symbols are ``round(y - mu)``
  and the decoder adds ``mu`` back, so the CDFs never depend on ``mu``;
- one integer CDF per table entry, centred on 0, built by ``update()`` from the
  scale table with :mod:`vid1d.entropy.detmath` (only exactly rounded float64
  operations): every machine builds identical tables from the same scale table.
  The tables are also kept in ``state_dict``.

The default scale table is CompressAI's: 64 log-spaced scales from 0.11 to 256.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from vid1d.entropy.base import EntropyModel, check_codable, lower_bound, to_numpy_int
from vid1d.entropy.cdf import DEFAULT_PRECISION, CdfTable
from vid1d.entropy.coder import decode, encode
from vid1d.entropy.detmath import det_exp, det_normal_cdf, det_normal_quantile
from vid1d.errors import InputError
from vid1d.quant import quantize

# math.log(0.11) and math.log(256.0), written out so the default table does not
# depend on the platform's libm.
_LOG_SCALE_MIN = -2.2072749131897207
_LOG_SCALE_MAX = 5.545177444479562
_NUM_SCALES = 64


def default_scale_table() -> np.ndarray:
    """``exp(linspace(log 0.11, log 256, 64))`` as float32, identical on every machine."""
    steps = np.arange(_NUM_SCALES, dtype=np.float64)
    step = (_LOG_SCALE_MAX - _LOG_SCALE_MIN) / float(_NUM_SCALES - 1)
    return det_exp(_LOG_SCALE_MIN + steps * step).astype(np.float32)


def _std_normal_cdf(x: Tensor) -> Tensor:
    return 0.5 * torch.erfc(x * (-1.0 / math.sqrt(2.0)))


class GaussianConditional(EntropyModel):
    """Conditional Gaussian model with quantized scales (CompressAI's ``GaussianConditional``).

    Args:
        scale_table: increasing positive scales, one integer CDF each; default
            :func:`default_scale_table`.
        scale_bound: lower bound applied to predicted scales (default: the
            smallest table entry).
        tail_mass: mass outside each table's range (coded via the escape path).
        likelihood_bound: lower bound of the training likelihoods.
        precision: bits of the integer frequencies; coder: ``"ans"`` or ``"range"``.
    """

    def __init__(
        self,
        scale_table: np.ndarray | list[float] | None = None,
        scale_bound: float | None = None,
        tail_mass: float = 1e-9,
        likelihood_bound: float = 1e-9,
        precision: int = DEFAULT_PRECISION,
        coder: str = "ans",
    ) -> None:
        super().__init__(precision=precision, coder=coder)
        table = default_scale_table() if scale_table is None else np.asarray(scale_table)
        table = table.astype(np.float32)
        if table.ndim != 1 or table.size < 1 or not (table > 0).all():
            raise InputError("scale_table must be a non-empty 1-D array of positive scales")
        if (np.diff(table) <= 0).any():
            raise InputError("scale_table must be strictly increasing")
        self.register_buffer("scale_table", torch.from_numpy(table))
        self.scale_bound = float(table[0]) if scale_bound is None else float(scale_bound)
        self.tail_mass = float(tail_mass)
        self.likelihood_bound = float(likelihood_bound)

    # -- the training path ----------------------------------------------------------------
    def likelihood(self, y_hat: Tensor, scales: Tensor, means: Tensor | None = None) -> Tensor:
        """``P(y_hat | mu, sigma)`` (float32, computed with autocast off)."""
        with torch.autocast(device_type=y_hat.device.type, enabled=False):
            values = y_hat.float() if means is None else y_hat.float() - means.float()
            scales = lower_bound(scales.float(), self.scale_bound)
            values = torch.abs(values)  # symmetric: evaluate in the lower tail (accuracy)
            upper = _std_normal_cdf((0.5 - values) / scales)
            lower = _std_normal_cdf((-0.5 - values) / scales)
            return lower_bound(upper - lower, self.likelihood_bound)

    def forward(
        self,
        y: Tensor,
        scales: Tensor,
        means: Tensor | None = None,
        training: bool | None = None,
    ) -> tuple[Tensor, Tensor]:
        """``(y_hat, likelihoods)``: noisy ``y`` when training, ``round(y - mu) + mu`` otherwise."""
        training = self.training if training is None else training
        y_hat = quantize(y, "noise" if training else "round", means)
        return y_hat, self.likelihood(y_hat, scales, means)

    # -- the coding path ------------------------------------------------------------------
    def build_indexes(self, scales: Tensor) -> Tensor:
        """Index of the smallest table scale ``>= max(sigma, scale_bound)`` (int32, shaped like scales)."""
        check_codable(scales, "scales")
        s = scales.detach().float().clamp_min(self.scale_bound)
        table = self.scale_table.to(s.device)
        return torch.bucketize(s, table[:-1], right=False).to(torch.int32)

    @torch.no_grad()
    def update(self) -> None:
        """Build one integer CDF per scale-table entry (deterministic, idempotent)."""
        scales = self.scale_table.detach().cpu().double().numpy()
        multiplier = -det_normal_quantile(self.tail_mass / 2.0)
        cap = (1 << (self.precision - 2)) - 1
        centers = np.minimum(np.ceil(scales * multiplier), cap).astype(np.int64)
        lengths = 2 * centers + 1
        width = int(lengths.max())
        k = np.abs(np.arange(width, dtype=np.float64)[None, :] - centers[:, None])  # |value|
        upper = det_normal_cdf((0.5 - k) / scales[:, None])
        lower = det_normal_cdf((-0.5 - k) / scales[:, None])
        pmf = upper - lower
        tail = 2.0 * det_normal_cdf((-0.5 - centers) / scales)  # both sides of the range
        self._set_table(
            CdfTable.from_pmfs(
                [pmf[i, : lengths[i]] for i in range(scales.size)],
                offsets=-centers,
                precision=self.precision,
                tail_masses=tail,
            )
        )

    def _symbols(self, y: Tensor, means: Tensor | None) -> Tensor:
        shifted = (
            y.detach().float() if means is None else y.detach().float() - means.detach().float()
        )
        check_codable(shifted, "latent y")
        return torch.round(shifted).to(torch.int32)

    def compress(
        self, y: Tensor, scales: Tensor, means: Tensor | None = None
    ) -> tuple[bytes, Tensor]:
        """Code ``round(y - mu)`` with the table of each scale's index; returns ``(bytes, symbols)``."""
        table = self.table
        if scales.shape != y.shape or (means is not None and means.shape != y.shape):
            raise InputError(
                f"y {tuple(y.shape)}, scales {tuple(scales.shape)} and means must share one shape"
            )
        indexes = to_numpy_int(self.build_indexes(scales))
        symbols = self._symbols(y, means).cpu()
        return encode(to_numpy_int(symbols), indexes, table, coder=self.coder), symbols

    def decompress(self, data: bytes, scales: Tensor, means: Tensor | None = None) -> Tensor:
        """Decode latents shaped like ``scales``: ``symbols + mu`` (float32, on ``scales.device``)."""
        table = self.table
        if means is not None and means.shape != scales.shape:
            raise InputError(f"means {tuple(means.shape)} and scales {tuple(scales.shape)} differ")
        indexes = to_numpy_int(self.build_indexes(scales))
        symbols = torch.from_numpy(decode(data, indexes, table, coder=self.coder))
        y_hat = symbols.to(scales.device).float()
        return y_hat if means is None else y_hat + means.detach().float()
