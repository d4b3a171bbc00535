"""Non-parametric factorized density ("entropy bottleneck").

Ballé, Minnen, Singh, Hwang, Johnston, "Variational image compression with a
scale hyperprior", ICLR 2018, Appendix 6.1. Each channel ``c`` has its own
univariate density, defined through its cumulative ``F_c = sigmoid(g_c)`` where
``g_c`` is a small monotone network (K layers)::

    g = h_K o ... o h_1,   h_k(x) = f_k(softplus(H_k) x + b_k),   f_k(x) = x + tanh(a_k) * tanh(x)

(softplus keeps the matrices positive and tanh(a_k) > -1 keeps each f_k
increasing). A quantized value ``v`` has probability ``F(v + 1/2) - F(v - 1/2)``;
it is computed as ``|sigmoid(s u) - sigmoid(s l)|`` with ``s = -sign(u + l)`` so the
subtraction happens in the tail where sigmoid is not saturated (the "sign trick").

Coding: three quantiles per channel (the median and the ``tail_mass / 2``
quantiles on both sides) are learned by :meth:`FactorizedDensity.aux_loss`;
``update()`` evaluates the pmf on the integer grid ``median + k``,
``k in [-ceil(median - q_lo), ceil(q_hi - median)]``, and stores it as an integer
CDF per channel. Symbols are ``round(y - median)``, so the grid is centred on
the median as in CompressAI.

Layout::

    y (B, C, ...) --round/noise around medians--> y_hat --F(v+1/2)-F(v-1/2)--> likelihoods
    y --round(y - medians)--> symbols --channel c uses table c--> bytes
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor, nn

from vid1d.entropy.base import EntropyModel, check_codable, lower_bound, to_numpy_int
from vid1d.entropy.cdf import DEFAULT_PRECISION, CdfTable, pmf_to_quantized_cdf
from vid1d.entropy.coder import decode, encode
from vid1d.errors import InputError
from vid1d.quant import quantize


class FactorizedDensity(EntropyModel):
    """Per-channel learned density of Ballé et al. 2018 (CompressAI's ``EntropyBottleneck``).

    Args:
        channels: number of channels ``C`` of the inputs ``(B, C, ...)``.
        filters: hidden widths of the monotone network (paper: ``(3, 3, 3)``).
        init_scale: initial spread of the density (and of the quantiles).
        tail_mass: probability mass left outside the coded range (escape path).
        likelihood_bound: lower bound of the likelihoods (keeps the rate finite).
        precision: bits of the integer frequencies.
        coder: ``"ans"`` or ``"range"``.
    """

    def __init__(
        self,
        channels: int,
        filters: tuple[int, ...] = (3, 3, 3),
        init_scale: float = 10.0,
        tail_mass: float = 1e-9,
        likelihood_bound: float = 1e-9,
        precision: int = DEFAULT_PRECISION,
        coder: str = "ans",
    ) -> None:
        super().__init__(precision=precision, coder=coder)
        self.channels = int(channels)
        self.filters = tuple(int(f) for f in filters)
        self.init_scale = float(init_scale)
        self.tail_mass = float(tail_mass)
        self.likelihood_bound = float(likelihood_bound)

        dims = (1, *self.filters, 1)
        scale = self.init_scale ** (1.0 / (len(self.filters) + 1))
        self.matrices = nn.ParameterList()
        self.biases = nn.ParameterList()
        self.factors = nn.ParameterList()
        for k in range(len(self.filters) + 1):
            # softplus(init) = 1 / (scale * fan_out): the composed network starts as a
            # wide logistic of spread ~init_scale, covering untrained latents.
            init = math.log(math.expm1(1.0 / scale / dims[k + 1]))
            self.matrices.append(nn.Parameter(torch.full((channels, dims[k + 1], dims[k]), init)))
            self.biases.append(nn.Parameter(torch.rand(channels, dims[k + 1], 1) - 0.5))
            if k < len(self.filters):
                self.factors.append(nn.Parameter(torch.zeros(channels, dims[k + 1], 1)))

        self.quantiles = nn.Parameter(
            torch.tensor([-init_scale, 0.0, init_scale]).repeat(channels, 1, 1)
        )  # (C, 1, 3): lower tail quantile, median, upper tail quantile
        target = math.log(2.0 / self.tail_mass - 1.0)
        self.register_buffer("target", torch.tensor([-target, 0.0, target]))

    # -- the density ----------------------------------------------------------------------
    def _logits_cumulative(self, x: Tensor, stop_gradient: bool) -> Tensor:
        """``g(x)`` for ``x`` of shape ``(C, 1, N)``; returns ``(C, 1, N)``."""
        logits = x
        for k, (matrix, bias) in enumerate(zip(self.matrices, self.biases, strict=True)):
            if stop_gradient:
                matrix, bias = matrix.detach(), bias.detach()
            logits = torch.matmul(F.softplus(matrix.to(x.dtype)), logits) + bias.to(x.dtype)
            if k < len(self.factors):
                factor = self.factors[k].detach() if stop_gradient else self.factors[k]
                logits = logits + torch.tanh(factor.to(x.dtype)) * torch.tanh(logits)
        return logits

    def _likelihood_cnl(self, v: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Likelihood of quantized values ``v`` (C, 1, N), with the two cumulative logits."""
        lower = self._logits_cumulative(v - 0.5, stop_gradient=False)
        upper = self._logits_cumulative(v + 0.5, stop_gradient=False)
        sign = -torch.sign(lower + upper).detach()
        lik = torch.abs(torch.sigmoid(sign * upper) - torch.sigmoid(sign * lower))
        return lik, lower, upper

    def medians(self) -> Tensor:
        """Learned medians, shape ``(C,)``."""
        return self.quantiles[:, 0, 1]

    def likelihood(self, y_hat: Tensor) -> Tensor:
        """``P(y_hat)`` for quantized (or noisy) ``y_hat`` of shape ``(B, C, ...)``."""
        self._check_input(y_hat)
        with torch.autocast(device_type=y_hat.device.type, enabled=False):
            v = rearrange(y_hat.float(), "b c ... -> c (b ...)").unsqueeze(1)  # (C, 1, N)
            lik, _, _ = self._likelihood_cnl(v)
            lik = lower_bound(lik, self.likelihood_bound)
        # (C, 1, B * prod(...)) -> (B, C, ...): undo the "c (b ...)" flattening.
        return lik.reshape(self.channels, y_hat.shape[0], *y_hat.shape[2:]).transpose(0, 1)

    def forward(self, y: Tensor, training: bool | None = None) -> tuple[Tensor, Tensor]:
        """Quantize ``y`` (noise when training, rounding around the medians otherwise).

        Returns ``(y_hat, likelihoods)``, both shaped like ``y`` (float32).
        """
        self._check_input(y)
        training = self.training if training is None else training
        means = self.medians().detach().view(1, -1, *([1] * (y.dim() - 2)))
        y_hat = quantize(y, "noise" if training else "round", means)
        return y_hat, self.likelihood(y_hat)

    def aux_loss(self) -> Tensor:
        """L1 loss pulling ``g(quantiles)`` to the logits of ``tail_mass/2, 1/2, 1 - tail_mass/2``.

        Only the quantiles receive gradients (the density is detached), so this
        can be minimised by its own optimizer without biasing the density.
        """
        logits = self._logits_cumulative(self.quantiles, stop_gradient=True)
        return torch.abs(logits - self.target).sum()

    def _check_input(self, y: Tensor) -> None:
        if y.dim() < 2 or y.shape[1] != self.channels:
            raise InputError(
                f"{type(self).__name__} expects (B, {self.channels}, ...), got {tuple(y.shape)}"
            )

    # -- the coding path ----------------------------------------------------------------
    @torch.no_grad()
    def update(self) -> None:
        """Build one integer CDF per channel from the current density (idempotent).

        The pmf is evaluated in float64; the integer tables (not the floats)
        are what encoder and decoder share, through ``state_dict``.
        """
        q = self.quantiles.detach().double()[:, 0, :]  # (C, 3)
        if not torch.isfinite(q).all():
            raise InputError(f"{type(self).__name__}: non-finite quantiles, cannot build tables")
        medians = q[:, 1]
        # Half-ranges are capped so every table (plus escape) fits the precision;
        # anything beyond is still codable through the escape symbol.
        cap = (1 << (self.precision - 2)) - 1
        minima = torch.ceil(medians - q[:, 0]).clamp(0, cap).long()
        maxima = torch.ceil(q[:, 2] - medians).clamp(0, cap).long()
        lengths = minima + maxima + 1
        width = int(lengths.max())
        grid = torch.arange(width, dtype=torch.float64, device=q.device)[None, :]
        grid = grid + (medians - minima)[:, None]  # (C, width): median + k
        lik, lower, upper = self._likelihood_cnl(grid.unsqueeze(1))  # (C, 1, width)
        pmf = lik[:, 0].cpu().numpy()
        # Mass outside the grid: below its first bin and above its last (per channel).
        last_upper = upper[:, 0].gather(1, (lengths - 1)[:, None])[:, 0]
        tail = (torch.sigmoid(lower[:, 0, 0]) + torch.sigmoid(-last_upper)).cpu().numpy()
        rows = [
            pmf_to_quantized_cdf(pmf[c, : int(lengths[c])], self.precision, float(tail[c]))
            for c in range(self.channels)
        ]
        cdfs = np.full((self.channels, width + 2), 1 << self.precision, dtype=np.int32)
        for c, row in enumerate(rows):
            cdfs[c, : row.size] = row
        lengths, minima = lengths.cpu().numpy(), minima.cpu().numpy()
        self._set_table(CdfTable(cdfs, lengths + 1, -minima, self.precision))

    def _symbols(self, y: Tensor) -> Tensor:
        means = self.medians().detach().view(1, -1, *([1] * (y.dim() - 2)))
        shifted = y.detach().float() - means.to(y.device)
        check_codable(shifted, "latent y")
        return torch.round(shifted).to(torch.int32)

    def _indexes(self, shape: tuple[int, ...]) -> np.ndarray:
        idx = np.arange(self.channels, dtype=np.int32).reshape(1, -1, *([1] * (len(shape) - 2)))
        return np.broadcast_to(idx, shape)

    def compress(self, y: Tensor) -> tuple[bytes, Tensor]:
        """Entropy-code ``round(y - medians)``; returns ``(bytes, symbols int32 (B, C, ...))``."""
        self._check_input(y)
        table = self.table
        symbols = self._symbols(y).cpu()
        data = encode(to_numpy_int(symbols), self._indexes(tuple(y.shape)), table, coder=self.coder)
        return data, symbols

    def decompress(self, data: bytes, shape: tuple[int, ...] | torch.Size) -> Tensor:
        """Decode ``(B, C, ...)``-shaped latents: ``symbols + medians`` (float32)."""
        shape = tuple(int(s) for s in shape)
        if len(shape) < 2 or shape[1] != self.channels:
            raise InputError(f"decompress shape must be (B, {self.channels}, ...), got {shape}")
        symbols = decode(data, self._indexes(shape), self.table, coder=self.coder)
        means = self.medians().detach().cpu().view(1, -1, *([1] * (len(shape) - 2)))
        y_hat = torch.from_numpy(symbols).float() + means
        return y_hat.to(self.quantiles.device)


EntropyBottleneck = FactorizedDensity
