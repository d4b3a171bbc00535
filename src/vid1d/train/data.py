"""The training loop's view of ``vid1d.data``.

The loop only needs ``Dataset[index] -> {"video", "label", "source", ...}`` that is
a pure function of the index (and the data config's seed): that is what makes
multi-GPU sampling and resuming exact (:mod:`vid1d.train.sampler`). Any such
dataset can also be passed to :func:`vid1d.train.fit` directly.
"""

from __future__ import annotations

from typing import Any

from torch.utils.data import Dataset


def data_config_cls() -> type:
    """``vid1d.data``'s DataConfig (imported late: data is a peer package of train)."""
    from vid1d.data.config import DataConfig

    return DataConfig


def build_dataset(cfg: Any, split: str) -> Dataset:
    """The ``split`` ("train" | "val") dataset described by the data config ``cfg``."""
    from vid1d.data import build_dataset as build_vid1d_dataset

    return build_vid1d_dataset(cfg, split=split)


def is_unbounded(dataset: Dataset) -> bool:
    """True for ``vid1d.data`` clip datasets: every index >= 0 is a fresh, deterministic
    sample and ``len()`` is only a virtual epoch size, so positions need no wrapping."""
    try:
        from vid1d.data.base import ClipDataset
    except ImportError:
        return False
    return isinstance(dataset, ClipDataset)
