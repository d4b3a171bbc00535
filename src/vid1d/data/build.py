"""`build_dataset(cfg, split)`: the one entry point the training loop calls.

Splits (never by clip, see :mod:`vid1d.data.split`):

* real sources: by a hash of each source's path relative to ``root``; labels come
  from all sources before splitting, so train and val agree on class ids;
* camera motion: by still image (hash of its name);
* moving shapes: by seed stream (val draws from ``derive_seed(seed, "val")``);
* mixed: each part split its own way.

The validation dataset has ``val_size`` items, no flips, and its own seed
``derive_seed(seed, "val")``, so it is the same fixed set of clips for every
training run with the same data and seed.
"""

from __future__ import annotations

from vid1d.data.base import ClipDataset
from vid1d.data.config import DataConfig
from vid1d.data.split import SPLITS, derive_seed, split_keys
from vid1d.errors import InputError


def build_dataset(cfg: DataConfig, split: str = "train") -> ClipDataset:
    """The train or validation dataset described by ``cfg``."""
    if not isinstance(cfg, DataConfig):
        raise InputError(f"build_dataset needs a DataConfig, got {type(cfg).__name__}")
    if split not in SPLITS:
        raise InputError(f"split must be 'train' or 'val', got {split!r}")
    train = split == "train"
    common = dict(frames=cfg.frames, sizes=cfg.all_sizes, size_group=cfg.size_group,
                  epoch_size=cfg.epoch_size if train else cfg.val_size,
                  seed=cfg.seed if train else derive_seed(cfg.seed, "val"))
    flip = cfg.flip and train

    if cfg.kind == "synthetic-shapes":
        from vid1d.data.synthetic import MovingShapes

        return MovingShapes(**common)
    if cfg.kind == "synthetic-motion":
        return _camera_motion(cfg, split, flip, common)

    from vid1d.data import sources as S
    from vid1d.data.datasets import FolderClips, MixedClips

    scan = {"videos": S.scan_videos, "frames": S.scan_frame_folders, "yuv": S.scan_yuv,
            "mixed": S.scan_any}[cfg.kind]
    everything = scan(cfg.root)
    keep = split_keys([s.key for s in everything], cfg.val_fraction, split)
    mixed = cfg.kind == "mixed"
    seed = common["seed"]
    real = FolderClips([everything[i] for i in keep], stride=cfg.stride, scale=cfg.scale,
                       flip=flip, class_names=S.class_names_of(everything), root=str(cfg.root),
                       **{**common, "seed": derive_seed(seed, "real") if mixed else seed})
    if not mixed:
        return real
    synthetic = _camera_motion(cfg, split, flip, {**common, "seed": derive_seed(seed, "synthetic")})
    return MixedClips(real, synthetic, cfg.synthetic_fraction, sizes=cfg.all_sizes,
                      size_group=cfg.size_group, epoch_size=common["epoch_size"], seed=seed)


def _camera_motion(cfg: DataConfig, split: str, flip: bool, common: dict) -> ClipDataset:
    from vid1d.data.synthetic import STILLS, VAL_STILLS, CameraMotionClips

    # Held-out stills come from a fixed list of full-range natural photographs, not from
    # the hash split: that held out 'hubble' (nearly black), where a dark output scores
    # well, and every model's validation PSNR was inflated by it.
    if split == "val" and cfg.val_fraction == 0:
        raise InputError("val_fraction is 0: there is no validation split")
    n_val = 0 if cfg.val_fraction == 0 else max(1, round(cfg.val_fraction * len(STILLS)))
    held = set(VAL_STILLS[: min(n_val, len(VAL_STILLS))])
    images = [n for n in STILLS if (n in held) == (split == "val")]
    return CameraMotionClips(images, flip=flip, **common)
