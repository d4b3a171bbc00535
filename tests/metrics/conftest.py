"""Fixtures for the metric tests: the bundled sample clip decoded with PyAV.

Decoding here is deliberately independent of ``vid1d.io`` so the metrics are
checked against frames we did not produce ourselves. (Tests run with
``--import-mode=importlib``, so helpers reach test modules as fixtures.)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
import torch


def decode_rgb(path: Path, n: int) -> torch.Tensor:
    """First ``n`` frames as float RGB ``(n, 3, H, W)`` in [0, 1]."""
    frames = []
    with av.open(str(path)) as c:
        for frame in c.decode(video=0):
            frames.append(frame.to_ndarray(format="rgb24"))
            if len(frames) == n:
                break
    x = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2)
    return x.float() / 255


def decode_yuv420(path: Path, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """First ``n`` frames as 8-bit-valued YUV 4:2:0 planes scaled to [0, 1]: (n, H, W) etc."""
    ys, us, vs = [], [], []
    with av.open(str(path)) as c:
        for frame in c.decode(video=0):
            a = frame.to_ndarray(format="yuv420p")  # (H*3/2, W), planes stacked
            h, w = frame.height, frame.width
            ys.append(a[:h])
            uv = a[h:].reshape(2, h // 2, w // 2)
            us.append(uv[0])
            vs.append(uv[1])
            if len(ys) == n:
                break
    return tuple(torch.from_numpy(np.stack(p)).double() / 255 for p in (ys, us, vs))


@pytest.fixture(scope="session")
def sample_frames(sample_video: Path) -> torch.Tensor:
    """8 natural RGB frames (8, 3, 144, 176)."""
    return decode_rgb(sample_video, 8)


@pytest.fixture(scope="session")
def yuv_decoder() -> Callable[[Path, int], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """:func:`decode_yuv420`: ``(path, n) -> (Y, U, V)`` planes in [0, 1]."""
    return decode_yuv420
