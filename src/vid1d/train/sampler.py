"""Which samples each rank sees at each step: a pure function of (step, rank).

Step ``s`` consumes global sample positions ``s·B … s·B + B − 1`` (``B`` = global
batch). Rank ``r`` takes the contiguous slice ``s·B + r·L + j`` (``L = B / world``,
``j < L``) and feeds it in ``accum_steps`` micro-batches. A position ``g`` is the
dataset index itself for ``vid1d.data`` clip datasets (every index is a fresh
sample; aligned blocks keep multi-size batches uniform, see ``DataConfig.size_group``);
for a finite dataset it maps through a per-epoch permutation seeded by
``(seed, g // len)``.

Because ``vid1d.data`` datasets are pure functions of their index, this makes
data parallelism exact (N ranks see exactly the samples one process would) and
resuming exact (restarting at step ``k`` needs nothing but ``k``).

``offset_steps`` shifts the whole stream: step ``s`` reads the positions of step
``s + offset_steps``. A run started from trained weights (``train.init``) uses it to
read a stretch of the data that the runs behind those weights did not (every run
otherwise starts at position 0), see :func:`vid1d.train.loop.init_data_offset`.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader, Dataset, Sampler


class StepBatchSampler(Sampler[list[int]]):
    """Yields the micro-batches (lists of dataset indices) of one rank, steps ``[start, stop)``.

    ``num_items=None`` declares an unbounded dataset (positions are indices).
    """

    def __init__(self, num_items: int | None, *, batch_size: int, world_size: int = 1,
                 rank: int = 0, accum_steps: int = 1, start_step: int = 0, stop_step: int,
                 seed: int = 0, shuffle: bool = True, offset_steps: int = 0):
        if num_items is not None and num_items < 1:
            raise ValueError("the dataset is empty")
        self.n = num_items
        self.batch_size = batch_size
        self.local = batch_size // world_size
        self.micro = self.local // accum_steps
        if self.micro * accum_steps * world_size != batch_size:
            raise ValueError(f"batch_size {batch_size} does not split into {world_size} ranks x "
                             f"{accum_steps} micro-batches")
        self.rank, self.accum = rank, accum_steps
        self.start, self.stop = start_step, stop_step
        self.seed, self.shuffle = seed, shuffle
        if offset_steps < 0:
            raise ValueError("offset_steps must be >= 0")
        self.offset = offset_steps
        self._epoch, self._perm = -1, torch.empty(0, dtype=torch.int64)

    def dataset_index(self, position: int) -> int:
        if self.n is None:  # unbounded dataset
            return position
        epoch, i = divmod(position, self.n)
        if not self.shuffle:
            return i
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._epoch, self._perm = epoch, torch.randperm(self.n, generator=g)
        return int(self._perm[i])

    def step_indices(self, step: int) -> list[int]:
        """This rank's ``L`` dataset indices for optimizer step ``step``."""
        first = (step + self.offset) * self.batch_size + self.rank * self.local
        return [self.dataset_index(first + j) for j in range(self.local)]

    def __iter__(self) -> Iterator[list[int]]:
        for step in range(self.start, self.stop):
            idx = self.step_indices(step)
            for a in range(self.accum):
                yield idx[a * self.micro:(a + 1) * self.micro]

    def __len__(self) -> int:
        return max(0, self.stop - self.start) * self.accum


def make_loader(dataset: Dataset, sampler: Sampler, *, workers: int, seed: int,
                pin_memory: bool = False) -> DataLoader:
    # An explicit generator: otherwise DataLoader draws its worker base seed from
    # the global torch RNG, which would shift the model's random stream (noise,
    # λ sampling) depending on when loaders are created, breaking exact resume.
    return DataLoader(dataset, batch_sampler=sampler, num_workers=workers,
                      pin_memory=pin_memory, generator=torch.Generator().manual_seed(seed),
                      persistent_workers=False)
