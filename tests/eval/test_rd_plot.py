"""plot_rd writes a real PNG atomically; refuses mixed sources and missing metrics."""

from __future__ import annotations

import struct

import pytest

from vid1d.errors import InputError
from vid1d.eval.plot import plot_rd

SIZES = [1000, 2000, 4000, 8000]  # bytes
PSNR = [30.0, 33.0, 36.0, 39.0]


def test_plot_writes_a_png(make_rd, tmp_path):
    rds = [
        make_rd("x265", SIZES, PSNR, preset="medium"),
        make_rd("ours", [round(b * 0.8) for b in SIZES], PSNR),
    ]
    out = plot_rd(rds, tmp_path / "rd.png", metric="ms_ssim")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])  # IHDR
    assert (width, height) == (960, 720)  # 6.4 x 4.8 in at 150 dpi
    assert 10_000 < len(data) < 1_000_000
    assert [p.name for p in tmp_path.iterdir()] == ["rd.png"]


def test_plot_errors(make_rd, tmp_path):
    a = make_rd("x265", SIZES, PSNR)
    with pytest.raises(InputError, match="different sources"):
        plot_rd([a, make_rd("ours", SIZES, PSNR, sha="cc" * 32)], tmp_path / "x.png")
    with pytest.raises(InputError, match="no vmaf value"):
        plot_rd([a], tmp_path / "x.png", metric="vmaf")
    with pytest.raises(InputError, match="unknown metric"):
        plot_rd([a], tmp_path / "x.png", metric="psnr")
    assert not list(tmp_path.iterdir())
