"""Train/validation splits by source, and seeds derived from names.

Clips cut from one video share its content, so a split by clip would leak the
validation set into training. We split *sources* (a video file, a frame folder, a
still image) by a hash of their key (the path relative to the dataset root): the
assignment does not depend on the training seed, on the order files are listed in,
or on which other files are present, so adding videos to a folder never moves an
existing one across the split.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from vid1d.errors import InputError

SPLITS = ("train", "val")


def key_fraction(key: str) -> float:
    """A stable pseudo-random number in [0, 1) for ``key`` (first 8 bytes of its SHA-256)."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def split_keys(keys: Sequence[str], val_fraction: float, split: str) -> list[int]:
    """Indices of the ``keys`` in ``split`` ("train" or "val").

    A key is in validation when :func:`key_fraction` < ``val_fraction``. With
    ``val_fraction > 0`` and at least two keys, validation gets at least one key and
    training keeps at least one (the lowest / highest hash), so small folders still
    split. The two splits are disjoint and cover all keys.
    """
    if split not in SPLITS:
        raise InputError(f"split must be 'train' or 'val', got {split!r}")
    if not 0.0 <= val_fraction < 1.0:
        raise InputError(f"val_fraction must be in [0, 1), got {val_fraction!r}")
    if len(set(keys)) != len(keys):
        raise InputError("split_keys: keys must be unique")
    fr = [key_fraction(k) for k in keys]
    val = {i for i, f in enumerate(fr) if f < val_fraction}
    if val_fraction > 0 and len(keys) >= 2:
        order = sorted(range(len(keys)), key=lambda i: fr[i])
        if not val:
            val.add(order[0])
        if len(val) == len(keys):
            val.discard(order[-1])
    if split == "val":
        if val_fraction > 0 and not val:
            raise InputError("a validation split needs at least 2 sources (found 1)")
        if val_fraction == 0:
            raise InputError("val_fraction is 0: there is no validation split")
        return sorted(val)
    return [i for i in range(len(keys)) if i not in val]


def derive_seed(seed: int, name: str) -> int:
    """A 63-bit seed for a named sub-stream of ``seed`` (e.g. the validation set)."""
    digest = hashlib.sha256(f"{int(seed)}/{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1
