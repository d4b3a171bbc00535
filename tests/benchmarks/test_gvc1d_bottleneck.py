"""benchmarks/gvc1d_bottleneck.py: the thumbnail reference and one run on a random tiny
GVC1D that writes the table and the per-row JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

from vid1d.models.gvc1d import GVC1D, PRESETS


def test_thumbnail_reference(load_benchmark):
    bottleneck = load_benchmark("gvc1d_bottleneck")
    flat = torch.full((3, 2, 48, 64), 0.25)
    # a constant frame survives any thumbnail (PSNR saturates at the metric's cap)
    assert bottleneck.thumbnail_psnr(flat, 12) > 90
    torch.manual_seed(0)
    smooth = torch.nn.functional.interpolate(torch.rand(2, 3, 6, 8), size=(48, 64),
                                             mode="bilinear", align_corners=False).transpose(0, 1)
    # more values, closer reconstruction
    assert bottleneck.thumbnail_psnr(smooth, 3 * 12 * 16) > bottleneck.thumbnail_psnr(smooth, 3 * 3 * 4)
    model = GVC1D(PRESETS["tiny"])
    windows = 3 * 4  # 48x64 in 16-px windows
    assert bottleneck.latent_values(model, 48, 64) == windows * model.cfg.tokens * model.cfg.token_channels


def test_run_on_a_tiny_model(tmp_path, sample_video, monkeypatch, load_benchmark, tiny_gvc1d):
    tiny_gvc1d("tiny-bn")
    out = tmp_path / "bn"
    monkeypatch.setattr(sys, "argv", ["gvc1d_bottleneck.py", str(sample_video), "--model", "tiny-bn",
                                      "--frames", "2", "--qualities", "0,3", "--out", str(out)])
    load_benchmark("gvc1d_bottleneck").main()
    rows = json.loads(Path(f"{out}.json").read_text())["rows"]
    assert [r["quality"] for r in rows] == [0.0, 3.0]
    for r in rows:
        assert len(r["psnr_rounded_frames"]) == len(r["psnr_unrounded_frames"]) == 2
        assert r["gap_db"] == pytest.approx(r["psnr_unrounded"] - r["psnr_rounded"])
        assert r["bpp_estimated"] > 0 and r["psnr_thumbnail"] > 0
    assert "| tiny-bn | carphone" in Path(f"{out}.md").read_text()
