"""Synthetic RD results (``vid1d.rd/1``) with known BD values."""

from __future__ import annotations

import copy

import pytest

W, H, FRAMES = 176, 144, 10
PIXELS = W * H * FRAMES


def _make_rd(
    name: str,
    sizes,
    psnrs,
    *,
    preset: str | None = None,
    sha: str = "ab" * 32,
    config: str = "low-delay",
    vmaf=None,
) -> dict:
    points = []
    for i, (nbytes, q) in enumerate(zip(sizes, psnrs, strict=True)):
        nbytes = int(nbytes)
        points.append(
            {
                "quality": {"param": "qp", "value": 22 + 5 * i},
                "bytes": nbytes,
                "bpp": nbytes * 8 / PIXELS,
                "psnr_rgb": q,
                "ms_ssim": 1 - 10 ** (-q / 20),
                "vmaf": None if vmaf is None else vmaf[i],
                "per_frame": {"psnr_rgb": [q] * FRAMES},
            }
        )
    return {
        "schema": "vid1d.rd/1",
        "source": {
            "path": f"/data/{sha[:4]}.y4m",
            "name": f"{sha[:4]}.y4m",
            "sha256": sha,
            "width": W,
            "height": H,
            "frames": FRAMES,
            "fps": 30.0,
        },
        "codec": {"name": name, "preset": preset, "config": config, "intra_period": -1},
        "points": points,
        "metric_versions": {"psnr": "test"},
        "machine": {"cpu": "test"},
        "date": "2026-11-22T00:00:00Z",
        "vid1d_version": "0.1.0",
    }


@pytest.fixture
def make_rd():
    """Factory: ``make_rd(name, sizes_in_bytes, psnrs, preset=, sha=, config=, vmaf=)``."""

    def factory(*args, **kwargs):
        return copy.deepcopy(_make_rd(*args, **kwargs))

    return factory
