"""Clip datasets over real video: folders of video files, frame folders, raw YUV; and mixes.

Item ``index`` of a :class:`FolderClips` (all draws from ``default_rng([seed, index])``,
in this order):

1. a source, with probability proportional to its number of frames (every frame of
   the corpus is equally likely to be in a clip; sources shorter than the clip's
   span ``(frames - 1) * stride + 1`` are never drawn);
2. a start frame, uniform over the positions where the clip fits;
3. a scale ``s`` (source pixels per output pixel), log-uniform in ``scale``, then
   clamped to ``min(H_src / H, W_src / W)`` so the crop always lies inside the frame;
4. the crop ``round(s H) x round(s W)`` at a uniform position; it is resized to the
   output size (bilinear, antialiased) when ``s != 1``;
5. a horizontal flip with probability 1/2 when ``flip``.

Frames smaller than the output are therefore **upscaled** (``s < 1``), never padded:
padding would teach a codec or generator flat replicated borders that real inputs
do not have, whereas mild upscaling keeps the content's statistics.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from vid1d.data.base import ClipDataset, label_tensor, log_uniform
from vid1d.data.clips import Window, read_clip
from vid1d.data.sources import Source, class_names_of
from vid1d.errors import InputError


def sample_window(rng: np.random.Generator, frame_hw: tuple[int, int], out_hw: tuple[int, int],
                  scale: tuple[float, float]) -> Window:
    """Draw a crop (top, left, h, w) of a ``frame_hw`` frame to be resized to ``out_hw``."""
    H, W = frame_hw
    oh, ow = out_hw
    s = min(log_uniform(rng, *scale), H / oh, W / ow)
    h = min(max(round(oh * s), 1), H)
    w = min(max(round(ow * s), 1), W)
    top = int(rng.integers(0, H - h + 1))
    left = int(rng.integers(0, W - w + 1))
    return top, left, h, w


def resize_clip(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(C, T, h, w) -> (C, T, H, W), bilinear with antialiasing when shrinking."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    y = F.interpolate(x.transpose(0, 1), size=size, mode="bilinear", align_corners=False,
                      antialias=True)
    return y.transpose(0, 1).clamp_(0.0, 1.0).contiguous()


class FolderClips(ClipDataset):
    """Random clips from a list of :class:`Source` (see the module docstring for the draws).

    ``class_names`` fixes the label of every source by its ``class_name``; pass the
    names computed over *all* sources so train and validation agree on labels.
    """

    def __init__(self, sources: Sequence[Source], *, frames: int, stride: int = 1,
                 sizes: Sequence[tuple[int, int]] = ((64, 64),), size_group: int = 1,
                 scale: tuple[float, float] = (1.0, 1.0), flip: bool = True,
                 epoch_size: int = 10_000, seed: int = 0,
                 class_names: Sequence[str] | None = None, root: str = "") -> None:
        super().__init__(frames=frames, sizes=sizes, size_group=size_group,
                         epoch_size=epoch_size, seed=seed)
        if stride < 1:
            raise InputError(f"stride must be >= 1, got {stride}")
        if not sources:
            raise InputError(f"no sources in {root or 'the dataset'}")
        self.stride = int(stride)
        self.scale = (float(scale[0]), float(scale[1]))
        self.flip = bool(flip)
        self.span = (self.frames - 1) * self.stride + 1
        self.class_names = tuple(class_names) if class_names is not None else class_names_of(list(sources))
        ids = {c: i for i, c in enumerate(self.class_names)}
        missing = sorted({s.class_name for s in sources} - set(ids))
        if missing:
            raise InputError(f"class_names lacks {missing[:3]}")
        self.sources = [s for s in sources if s.num_frames >= self.span]
        if not self.sources:
            longest = max(sources, key=lambda s: s.num_frames)
            raise InputError(
                f"a clip of {self.frames} frames at stride {self.stride} spans {self.span} frames, "
                f"longer than every video in {root or 'the dataset'} "
                f"(longest: {longest.key}, {longest.num_frames} frames)")
        self.labels = [ids[s.class_name] for s in self.sources]
        weights = np.array([s.num_frames - self.span + 1 for s in self.sources], dtype=np.float64)
        self._cum = np.cumsum(weights / weights.sum())

    def sample(self, index: int, size: tuple[int, int]) -> dict:
        rng = self.rng(index)
        i = min(int(np.searchsorted(self._cum, rng.random(), side="right")), len(self.sources) - 1)
        src = self.sources[i]
        start = int(rng.integers(0, src.num_frames - self.span + 1))
        window = sample_window(rng, (src.height, src.width), size, self.scale)
        flip = rng.random() < 0.5 and self.flip
        video = read_clip(src, range(start, start + self.span, self.stride), window)
        video = resize_clip(video, size)
        if flip:
            video = video.flip(-1)
        return {"video": video, "label": label_tensor(self.labels[i]), "source": src.key}

    def __repr__(self) -> str:
        return (f"FolderClips({len(self.sources)} sources, {self.num_classes} classes, "
                f"frames={self.frames}, stride={self.stride}, sizes={self.sizes}, len={len(self)})")


class MixedClips(ClipDataset):
    """Item ``index`` comes from ``synthetic`` with probability ``fraction``, else from ``real``.

    The choice is drawn from ``default_rng([seed, index])``; the chosen dataset renders
    the same ``index`` at this dataset's size, so both parts keep their own
    determinism. Labels: real classes first, then the synthetic ones (offset by the
    number of real classes). Captions are dropped unless both parts have them, so
    the default collate always sees the same keys.
    """

    def __init__(self, real: ClipDataset, synthetic: ClipDataset, fraction: float, *,
                 sizes: Sequence[tuple[int, int]], size_group: int = 1, epoch_size: int = 10_000,
                 seed: int = 0) -> None:
        super().__init__(frames=real.frames, sizes=sizes, size_group=size_group,
                         epoch_size=epoch_size, seed=seed)
        if real.frames != synthetic.frames:
            raise InputError("mixed datasets need the same number of frames in both parts")
        if not 0.0 <= fraction <= 1.0:
            raise InputError(f"synthetic fraction must be in [0, 1], got {fraction}")
        self.real, self.synthetic, self.fraction = real, synthetic, float(fraction)
        self.class_names = tuple(real.class_names) + tuple(synthetic.class_names)
        self.has_captions = real.has_captions and synthetic.has_captions

    def sample(self, index: int, size: tuple[int, int]) -> dict:
        if self.rng(index).random() < self.fraction:
            item = self.synthetic.sample(index, size)
            item["label"] = item["label"] + len(self.real.class_names)
        else:
            item = self.real.sample(index, size)
        if not self.has_captions:
            item.pop("caption", None)
        return item
