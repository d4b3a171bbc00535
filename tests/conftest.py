"""Shared fixtures: the bundled sample clip, a temp dir, quiet progress bars."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("VID1D_PROGRESS", "0")

SAMPLE = Path(__file__).resolve().parents[1] / "src" / "vid1d" / "assets" / "carphone_pristine.mp4"
SHARED_VIDEOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "videos"


@pytest.fixture(scope="session")
def sample_video() -> Path:
    """carphone_pristine.mp4 (176x144, 120 frames), shipped in the package."""
    assert SAMPLE.exists(), SAMPLE
    return SAMPLE


def random_stlpips(net: str = "alex", seed: int = 0):
    """An ST-LPIPS module with random weights and, like the official ones, non-negative heads."""
    import torch

    from vid1d.metrics import STLPIPS

    torch.manual_seed(seed)
    model = STLPIPS(net)
    for k in range(5):
        lin = getattr(model, f"lin{k}").model[1]
        lin.weight.data = lin.weight.data.abs()
    return model


@pytest.fixture
def stlpips_weights(tmp_path, monkeypatch):
    """A random-weight ST-LPIPS alex file as ``$VID1D_STLPIPS_WEIGHTS``; returns the module."""
    from vid1d.metrics import save_metric_weights

    model = random_stlpips()
    path = tmp_path / "stlpips-random.safetensors"
    save_metric_weights(model, path, {"vid1d_format": "stlpips", "net": "alex"})
    monkeypatch.setenv("VID1D_STLPIPS_WEIGHTS", str(path))
    return model


@pytest.fixture
def no_stlpips_weights(tmp_path, monkeypatch):
    """No ST-LPIPS weights anywhere: variable unset, an empty home (no fetched file)."""
    monkeypatch.delenv("VID1D_STLPIPS_WEIGHTS", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "empty-home"))


@pytest.fixture
def make_random_stlpips():
    """:func:`random_stlpips` as a fixture: ``make_random_stlpips(net="alex", seed=0)``."""
    return random_stlpips
