"""Training data: clip datasets over real video, synthetic clips, splits, configs.

Importing this package is cheap; the names below are loaded on first use::

    from vid1d.data import DataConfig, build_dataset
    ds = build_dataset(DataConfig(kind="videos", root="clips/", frames=8, size=(128, 128)))
    item = ds[0]  # {"video": (3, 8, 128, 128), "label": int64, "source": "a.mp4"}

See :mod:`vid1d.data.base` for the determinism contract every dataset keeps.
"""

from __future__ import annotations

from vid1d.utils.lazy import lazy_exports

_EXPORTS = {
    "DataConfig": "vid1d.data.config",
    "build_dataset": "vid1d.data.build",
    "ClipDataset": "vid1d.data.base",
    "FolderClips": "vid1d.data.datasets",
    "MixedClips": "vid1d.data.datasets",
    "CameraMotionClips": "vid1d.data.synthetic",
    "MovingShapes": "vid1d.data.synthetic",
    "Source": "vid1d.data.sources",
    "scan_videos": "vid1d.data.sources",
    "scan_frame_folders": "vid1d.data.sources",
    "scan_yuv": "vid1d.data.sources",
    "scan_any": "vid1d.data.sources",
    "read_clip": "vid1d.data.clips",
    "split_keys": "vid1d.data.split",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports("vid1d.data", _EXPORTS, globals())
