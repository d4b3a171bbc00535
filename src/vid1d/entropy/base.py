"""What every probability model shares: integer tables kept as buffers, and their guard.

Each model has a *training path* (float likelihoods, differentiable) and a
*coding path* (integer CDF tables, bit-exact). The tables are built by an
explicit ``update()`` (idempotent: the same parameters always give the same
tables), live in the module's ``state_dict`` as int32 buffers so a loaded model
codes exactly like the one that was saved, and coding before they exist raises
:class:`TablesNotBuiltError`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from vid1d.entropy.cdf import DEFAULT_PRECISION, CdfTable
from vid1d.entropy.coder import check_coder
from vid1d.errors import InputError, Vid1dError


class TablesNotBuiltError(Vid1dError, RuntimeError):
    """Coding was requested before ``update()`` built the integer CDF tables.

    Both a :class:`~vid1d.errors.Vid1dError` (the CLI reports it in one line, e.g.
    for a checkpoint saved without tables) and a ``RuntimeError`` (it is a
    programming error in library code that forgot ``update()``).
    """


class LowerBound(torch.autograd.Function):
    """``max(x, bound)`` whose gradient still flows where it would push ``x`` up.

    A plain clamp kills the gradient below the bound, so a scale stuck there
    could never grow again (Ballé et al. 2018; CompressAI's ``LowerBound``).
    """

    @staticmethod
    def forward(ctx, x: Tensor, bound: float) -> Tensor:
        ctx.save_for_backward(x)
        ctx.bound = bound
        return x.clamp_min(bound)

    @staticmethod
    def backward(ctx, grad_output: Tensor) -> tuple[Tensor, None]:
        (x,) = ctx.saved_tensors
        pass_through = (x >= ctx.bound) | (grad_output < 0)
        return grad_output * pass_through.to(grad_output.dtype), None


def lower_bound(x: Tensor, bound: float) -> Tensor:
    """``max(x, bound)`` with the pass-through gradient of :class:`LowerBound`."""
    return LowerBound.apply(x, bound)


_TABLE_BUFFERS = ("cdf", "cdf_lengths", "cdf_offsets", "cdf_precision")


class EntropyModel(nn.Module):
    """Base class holding a :class:`CdfTable` in buffers ``cdf*`` (empty until ``update()``)."""

    def __init__(self, precision: int = DEFAULT_PRECISION, coder: str = "ans") -> None:
        super().__init__()
        self.coder = check_coder(coder)
        self.precision = int(precision)
        self.register_buffer("cdf", torch.zeros(0, 0, dtype=torch.int32))
        self.register_buffer("cdf_lengths", torch.zeros(0, dtype=torch.int32))
        self.register_buffer("cdf_offsets", torch.zeros(0, dtype=torch.int32))
        self.register_buffer("cdf_precision", torch.zeros((), dtype=torch.int32))
        self._table: CdfTable | None = None

    # -- tables -------------------------------------------------------------------------
    @property
    def tables_built(self) -> bool:
        return self.cdf.numel() > 0

    def _set_table(self, table: CdfTable) -> None:
        device = self.cdf.device
        self.cdf = torch.from_numpy(table.cdfs.copy()).to(device)
        self.cdf_lengths = torch.from_numpy(table.lengths.copy()).to(device)
        self.cdf_offsets = torch.from_numpy(table.offsets.copy()).to(device)
        self.cdf_precision = torch.tensor(table.precision, dtype=torch.int32, device=device)
        self._table = table

    @property
    def table(self) -> CdfTable:
        """The integer tables used for coding; raises :class:`TablesNotBuiltError` before ``update()``."""
        if not self.tables_built:
            raise TablesNotBuiltError(
                f"{type(self).__name__}: integer CDF tables are not built; "
                "call update() (or load a state_dict that has them) before compress/decompress"
            )
        if self._table is None:
            self._table = CdfTable(
                self.cdf.cpu().numpy(),
                self.cdf_lengths.cpu().numpy(),
                self.cdf_offsets.cpu().numpy(),
                int(self.cdf_precision),
            )
        return self._table

    def update(self) -> None:  # pragma: no cover - abstract
        """Build the integer tables from the current parameters (idempotent)."""
        raise NotImplementedError

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # Table buffers change shape with update(); adopt the saved shapes before
        # nn.Module copies the values in (it refuses a size mismatch otherwise).
        for name in _TABLE_BUFFERS:
            key = prefix + name
            if key in state_dict:
                saved = state_dict[key]
                setattr(self, name, torch.empty_like(saved, device=getattr(self, name).device))
        self._table = None
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


def to_numpy_int(x: Tensor) -> np.ndarray:
    """A CPU int32 numpy copy of an integer tensor."""
    return x.detach().to("cpu", torch.int32).numpy()


def check_codable(x: Tensor, what: str) -> None:
    """Refuse values that rounding cannot turn into int32 symbols (NaN, inf, > 2^31)."""
    if not torch.isfinite(x).all():
        raise InputError(f"{what} contains NaN or infinite values; cannot entropy-code it")
    if x.numel() and x.abs().max() >= 2.0**31 - 1:
        raise InputError(f"{what} has values beyond the int32 range; cannot entropy-code it")
