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
