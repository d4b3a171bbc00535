"""`DataConfig`: what the training loop needs to know about its clips (embedded in run configs).

Frozen and validated on construction, so a bad value is an :class:`InputError` when the
run starts, not a crash in a DataLoader worker an hour later. Build datasets from it
with :func:`vid1d.data.build_dataset`; parse it from a dict with
``vid1d.utils.config.config_from_dict(DataConfig, d)``.

Sizes are ``(height, width)``, the order of the tensors they describe.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vid1d.errors import InputError

KINDS = ("videos", "frames", "yuv", "synthetic-motion", "synthetic-shapes", "mixed")
"""``videos``: a folder of video files (any PyAV container, .y4m); ``frames``: folders of
frame images (Vimeo-90k ``sequences/00001/0001/im1.png``); ``yuv``: raw ``Name_WxH_fps.yuv``;
``synthetic-motion``: camera motion over still images; ``synthetic-shapes``: moving shapes;
``mixed``: every real source under ``root`` plus ``synthetic_fraction`` camera-motion clips."""

REAL_KINDS = ("videos", "frames", "yuv", "mixed")


@dataclass(frozen=True)
class DataConfig:
    """Clip sampling for training and validation.

    ``size`` is the output (height, width); with ``sizes`` non-empty each group of
    ``size_group`` consecutive indices draws one of them (multi-resolution training:
    set ``size_group`` to the per-device batch size and give each batch an aligned
    block of indices, so a batch never mixes sizes). ``scale`` is the range of source
    pixels per output pixel, drawn log-uniformly (1 = native-resolution crops, 2 =
    crops twice as large, downscaled); it is clamped so the crop fits in the frame,
    which upscales frames smaller than the output. ``stride`` is the temporal step
    between sampled frames. ``scale`` and ``stride`` apply to real sources; synthetic
    clips choose their own view and speed (see :mod:`vid1d.data.synthetic`).
    ``epoch_size`` and ``val_size`` are the virtual lengths of the train and validation
    datasets. ``val_fraction`` of the sources (never of the clips) are held out for
    validation. ``workers`` is for the training loop's DataLoader (0 = load in the main
    process); ``seed`` seeds every random draw (see :mod:`vid1d.data.base`).
    """

    kind: str = "synthetic-motion"
    root: str | None = None
    frames: int = 8
    stride: int = 1
    size: tuple[int, int] = (64, 64)
    sizes: tuple[tuple[int, int], ...] = ()
    size_group: int = 1
    scale: tuple[float, float] = (1.0, 1.0)
    flip: bool = True
    epoch_size: int = 10_000
    val_size: int = 512
    val_fraction: float = 0.1
    synthetic_fraction: float = 0.0
    workers: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(f"data.kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.kind in REAL_KINDS and not self.root:
            raise InputError(f"data.kind {self.kind!r} needs data.root (a folder)")
        for name in ("frames", "stride", "size_group", "epoch_size", "val_size"):
            v = getattr(self, name)
            if not _is_int(v) or v < 1:
                raise InputError(f"data.{name} must be a positive integer, got {v!r}")
        for name in ("workers", "seed"):
            v = getattr(self, name)
            if not _is_int(v) or v < 0:
                raise InputError(f"data.{name} must be a non-negative integer, got {v!r}")
        _check_size(self.size, "data.size")
        for s in self.sizes:
            _check_size(s, "data.sizes")
        if len(self.scale) != 2 or not all(_is_pos_float(x) for x in self.scale) \
                or self.scale[0] > self.scale[1]:
            raise InputError(f"data.scale must be (low, high) with 0 < low <= high, got {self.scale!r}")
        if not (_is_float(self.val_fraction) and 0.0 <= self.val_fraction < 1.0):
            raise InputError(f"data.val_fraction must be in [0, 1), got {self.val_fraction!r}")
        if not (_is_float(self.synthetic_fraction) and 0.0 <= self.synthetic_fraction <= 1.0):
            raise InputError(f"data.synthetic_fraction must be in [0, 1], got {self.synthetic_fraction!r}")
        if self.synthetic_fraction and self.kind != "mixed":
            raise InputError("data.synthetic_fraction applies only to data.kind 'mixed'")

    @property
    def all_sizes(self) -> tuple[tuple[int, int], ...]:
        """The output sizes this config can produce."""
        return tuple(tuple(s) for s in self.sizes) or (tuple(self.size),)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_float(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _is_pos_float(v) -> bool:
    return _is_float(v) and v > 0


def _check_size(s, what: str) -> None:
    if not (isinstance(s, tuple | list) and len(s) == 2 and all(_is_int(x) and 0 < x <= 8192 for x in s)):
        raise InputError(f"{what} must be (height, width) with positive integers <= 8192, got {s!r}")
