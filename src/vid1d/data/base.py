"""The determinism contract every vid1d clip dataset keeps.

A dataset is a map-style :class:`torch.utils.data.Dataset` whose item ``index`` is a
pure function of ``(seed, index)``: everything random (source, start frame, crop,
flip, synthetic motion) is drawn from ``np.random.default_rng([seed, index])``. So a
batch does not depend on the number of DataLoader workers, on which worker made it,
or on what was sampled before, and a resumed run sees exactly the clips it would
have seen. ``len()`` is a virtual epoch size; any non-negative index is valid
(indices past ``len()`` give further, equally deterministic samples).

The output size is the one exception to "drawn from [seed, index]": with several
sizes, all indices of a group ``index // size_group`` share one size (drawn from
``default_rng([seed, group, SIZE_STREAM])``) so that a batch of aligned indices can
be stacked.

A sample is ``{"video": (3, T, H, W) float32 in [0, 1], "label": int64 scalar tensor,
"source": str}`` plus ``"caption": str`` for datasets with :attr:`has_captions`.
"""

from __future__ import annotations

import abc
import contextlib
import threading
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from vid1d.errors import InputError

SIZE_STREAM = 0x51_2E  # distinguishes the size stream from per-index streams


class ClipDataset(Dataset, abc.ABC):
    """Base class: virtual length, size groups, per-index generators.

    Subclasses implement :meth:`sample` and set :attr:`class_names`.
    """

    class_names: tuple[str, ...] = ()
    has_captions: bool = False

    def __init__(self, *, frames: int, sizes: Sequence[tuple[int, int]], size_group: int = 1,
                 epoch_size: int = 10_000, seed: int = 0) -> None:
        if frames < 1:
            raise InputError(f"frames must be >= 1, got {frames}")
        if not sizes:
            raise InputError("at least one output size is needed")
        if size_group < 1 or epoch_size < 1 or seed < 0:
            raise InputError("size_group and epoch_size must be >= 1 and seed >= 0")
        self.frames = int(frames)
        self.sizes = tuple((int(h), int(w)) for h, w in sizes)
        self.size_group = int(size_group)
        self.epoch_size = int(epoch_size)
        self.seed = int(seed)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def __len__(self) -> int:
        return self.epoch_size

    def __iter__(self) -> Iterator[dict]:
        # Without this, Python's legacy iteration protocol would call __getitem__
        # forever (every non-negative index is valid).
        return (self[i] for i in range(len(self)))

    def rng(self, index: int) -> np.random.Generator:
        """The generator every random choice of item ``index`` comes from."""
        return np.random.default_rng([self.seed, index])

    def output_size(self, index: int) -> tuple[int, int]:
        """(H, W) of item ``index``: shared by the group ``index // size_group``."""
        if len(self.sizes) == 1:
            return self.sizes[0]
        g = np.random.default_rng([self.seed, index // self.size_group, SIZE_STREAM])
        return self.sizes[int(g.integers(len(self.sizes)))]

    def __getitem__(self, index: int) -> dict:
        if isinstance(index, torch.Tensor | np.integer):
            index = int(index)
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise IndexError(f"{type(self).__name__} index must be a non-negative int, got {index!r}")
        with single_threaded():
            return self.sample(index, self.output_size(index))

    @abc.abstractmethod
    def sample(self, index: int, size: tuple[int, int]) -> dict:
        """Item ``index`` rendered at ``size`` = (H, W); a pure function of (seed, index, size)."""


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Run torch with one intra-op thread inside the block when in the main thread.

    A clip is made of many small tensor ops, where torch's thread pool only adds
    synchronisation: with 2 threads on the 2-core development machine (other jobs
    running) making a 128x128 video clip took 2.4x longer than with 1. DataLoader
    workers already use one thread each; this gives ``num_workers=0`` the same. Only
    the main thread changes the (process-wide) setting, because there the loader and
    the training step never run at the same time; it is restored on exit.
    """
    n = torch.get_num_threads()
    if n == 1 or threading.current_thread() is not threading.main_thread():
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def label_tensor(label: int) -> torch.Tensor:
    return torch.tensor(label, dtype=torch.int64)


def log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    """A draw from [lo, hi] uniform in log space (one draw even when lo == hi)."""
    u = rng.random()
    return float(lo * (hi / lo) ** u)
