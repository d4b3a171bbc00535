"""benchmarks/gvc1d_temporal.py: its per-clip figures, and one run on a random tiny GVC1D
that writes the table, the per-frame JSON and the plot."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest


def test_summarize(load_benchmark):
    temporal = load_benchmark("gvc1d_temporal")
    s = temporal.summarize([100, 50, 60, 70, 40, 30], [20.0, 21.0, 22.0, 23.0, 24.0, 25.0])
    assert s["intra_bytes"] == 100 and s["inter_bytes_mean"] == 50.0
    assert s["inter_over_intra"] == 0.5
    assert s["psnr_frame0"] == 20.0 and s["psnr_frames1_3"] == 22.0 and s["psnr_last4"] == 23.5
    with pytest.raises(ValueError):
        temporal.summarize([100], [20.0])


def test_run_on_a_tiny_model(tmp_path, sample_video, monkeypatch, load_benchmark, tiny_gvc1d):
    tiny_gvc1d("tiny-temporal")
    out = tmp_path / "temporal"
    monkeypatch.setattr(sys, "argv", ["gvc1d_temporal.py", str(sample_video), "--model",
                                      "tiny-temporal", "--frames", "3", "--quality", "2",
                                      "--precision", "float32", "--out", str(out)])
    load_benchmark("gvc1d_temporal").main()
    (row,) = json.loads(Path(f"{out}.json").read_text())["rows"]
    assert len(row["frame_bytes"]) == len(row["psnr"]) == 3
    assert row["inter_over_intra"] == pytest.approx(
        (row["frame_bytes"][1] + row["frame_bytes"][2]) / 2 / row["frame_bytes"][0])
    assert "| tiny-temporal | carphone" in Path(f"{out}.md").read_text()
    assert Path(f"{out}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
