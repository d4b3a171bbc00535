"""Tiny on-disk corpora for the data tests, written into tmp folders (no network, no /work/shared)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from vid1d.io import write_video


def _rgb(frames: int, height: int, width: int, seed: int) -> torch.Tensor:
    """A (3, T, H, W) clip with texture (so crops differ) that moves (so frames differ)."""
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(3, height + frames, width + frames, generator=g)
    base = torch.nn.functional.avg_pool2d(base[None], 3, stride=1, padding=1)[0]
    return torch.stack([base[:, t:t + height, t:t + width] for t in range(frames)], dim=1)


def write_png_sequence(folder: Path, frames: int, height: int, width: int, seed: int) -> None:
    from PIL import Image

    folder.mkdir(parents=True)
    clip = (_rgb(frames, height, width, seed) * 255).round().to(torch.uint8)
    for t in range(frames):
        Image.fromarray(clip[:, t].permute(1, 2, 0).numpy()).save(folder / f"im{t + 1}.png")


@pytest.fixture
def frames_root(tmp_path) -> Path:
    """Vimeo-90k layout: sequences/<group>/<clip>/im1.png ... im7.png (9 clips, 3 groups)."""
    root = tmp_path / "vimeo" / "sequences"
    for g in range(1, 4):
        for c in range(1, 4):
            write_png_sequence(root / f"{g:05d}" / f"{c:04d}", 7, 40, 56, seed=10 * g + c)
    return root


@pytest.fixture
def yuv_root(tmp_path) -> Path:
    """Raw 8-bit 4:2:0 files named Name_WxH_fps.yuv, plus one .y4m elsewhere."""
    root = tmp_path / "yuv"
    root.mkdir()
    rng = np.random.default_rng(0)
    for name, (w, h, n) in {"Foo_64x48_30.yuv": (64, 48, 6), "Bar_32x24_25.yuv": (32, 24, 9)}.items():
        (root / name).write_bytes(rng.integers(0, 256, n * w * h * 3 // 2, dtype=np.uint8).tobytes())
    return root


@pytest.fixture
def y4m_file(tmp_path) -> Path:
    path = tmp_path / "y4m" / "clip.y4m"
    path.parent.mkdir()
    rng = np.random.default_rng(1)
    w, h = 30, 22
    data = b"YUV4MPEG2 W30 H22 F25:1 Ip A1:1 C420jpeg\n"
    for _ in range(5):
        data += b"FRAME\n" + rng.integers(0, 256, w * h + 2 * 15 * 11, dtype=np.uint8).tobytes()
    path.write_bytes(data)
    return path


@pytest.fixture
def videos_root(tmp_path, sample_video) -> Path:
    """The bundled clip plus two short H.264 clips with B-frames and a keyframe every 8 frames
    (mp4 and avi: the avi's frames carry decode timestamps, out of display order)."""
    root = tmp_path / "videos"
    (root / "real").mkdir(parents=True)
    shutil.copy(sample_video, root / "real" / sample_video.name)
    opts = {"x264-params": "keyint=8:min-keyint=8:bframes=2:scenecut=0"}
    for name, seed in (("moving.mp4", 3), ("moving.avi", 4)):
        write_video(root / name, [_rgb(40, 48, 64, seed)], fps=25, options=opts)
    (root / "notes.txt").write_text("not a video")
    return root
