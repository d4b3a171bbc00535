"""benchmarks/gvc1d_ablation.py: which variants share a run, the BD figures and their
fallbacks, and one end-to-end call on the tiny preset (train in parallel, export, code
real bitstreams, table, plot) that a second call only re-evaluates."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest


def test_variants_with_the_anchors_config_reuse_its_run(load_benchmark):
    abl = load_benchmark("gvc1d_ablation")
    small = abl.plan_runs("small", abl.TABLE2 + abl.TABLE3, "mem-1d")
    assert small["16x8"] == "mem-1d" and small["mem-1d"] == "mem-1d"  # small's default is 16x8
    assert all(small[v] == v for v in abl.TABLE2 + abl.TABLE3 if v != "16x8")
    tiny = abl.plan_runs("tiny", abl.TABLE2 + abl.TABLE3, "mem-1d")
    assert tiny["16x8"] == "16x8"  # tiny's default is 4x4
    assert abl.overrides("small", "no-ar") == ["model.ar=False", "model.memory=none"]
    # a replicate of the anchor: its own run, other seeds
    assert abl.overrides("small", "mem-1d-seed3") == ["train.seed=3", "data.seed=3"]
    assert abl.plan_runs("small", ["mem-1d-seed3"], "mem-1d") == {"mem-1d-seed3": "mem-1d-seed3"}


def test_bd_figures_and_why_they_are_undefined(load_benchmark):
    abl = load_benchmark("gvc1d_ablation")

    def rd(bpp, psnr):
        return {"points": [{"bpp": b, "psnr_rgb": p, "ms_ssim": p / 40} for b, p in zip(bpp, psnr, strict=True)]}

    anchor = rd([0.1, 0.2, 0.4, 0.8], [20.0, 22.0, 24.0, 26.0])
    better = rd([0.1, 0.2, 0.4, 0.8], [21.0, 23.0, 25.0, 27.0])  # +1 dB everywhere
    out = abl.compare(anchor, better)
    assert abs(out["bd_psnr"] - 1.0) < 1e-9 and out["bd_rate_psnr"] < 0
    flat = rd([0.1, 0.2, 0.4, 0.8], [20.0, 20.0, 21.0, 21.5])  # not strictly monotone
    out = abl.compare(flat, better)
    assert out["bd_rate_psnr"].startswith("n/a (anchor curve is not strictly monotonic")
    assert isinstance(out["bd_psnr"], float)  # BD-PSNR needs only overlapping rates
    apart = rd([1.0, 2.0, 4.0, 8.0], [30.0, 31.0, 32.0, 33.0])
    assert abl.compare(anchor, apart)["bd_psnr"].startswith("n/a (the RD curves do not overlap")
    assert abl.mean_defined([1.0, "n/a (x)", 3.0]) == (2.0, 2)
    assert abl.mean_defined(["n/a (x)"]) == (None, 0)


def test_tiny_end_to_end(tmp_path, sample_video, monkeypatch, capsys, load_benchmark):
    out, runs = tmp_path / "abl", tmp_path / "runs"
    argv = ["gvc1d_ablation.py", "--preset", "tiny", "--steps", "2", "--jobs", "2",
            "--variants", "no-ar", "--train-arg", "train.log_every=1",
            "--eval-input", str(sample_video), "--frames", "2", "--qualities", "0,2,4,7",
            "--runs", str(runs), "--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    abl = load_benchmark("gvc1d_ablation")
    abl.main()
    assert capsys.readouterr().out.count("[ablation] training") == 2  # no-ar and the anchor
    meta = json.loads(Path(f"{out}.json").read_text())
    rows = {r["variant"]: r for r in meta["rows"]}
    assert set(rows) == {"no-ar", "mem-1d"} and meta["anchor"] == "mem-1d"
    (clip,) = rows["mem-1d"]["clips"]
    assert clip["bd_psnr"] == 0.0 and len(clip["points"]) == 4  # the anchor against itself
    assert [p["quality"]["value"] for p in rows["no-ar"]["clips"][0]["points"]] == [0, 2, 4, 7]
    md = Path(f"{out}.md").read_text()
    assert "| no-ar | ar=False memory=none |" in md and "| mem-1d | (default) |" in md
    assert Path(f"{out}_carphone_pristine.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # both runs are at their last step and their RD files are newer: a second call
    # neither trains nor codes again
    assert abl.finished_step(runs / "no-ar") == 2 and abl.finished_step(runs / "8x16") == 0
    monkeypatch.setattr(abl.subprocess, "run", lambda *a, **k: (_ for _ in ()).throw(
        AssertionError("ran again")))
    args = abl.argparse.Namespace(runs=str(runs), steps=2, jobs=2, frames=2, precision=meta["precision"],
                                  qualities="0,2,4,7")
    abl.train_all(args, ["no-ar", "mem-1d"], {})
    rds = abl.evaluate_all(args, ["no-ar", "mem-1d"], [str(sample_video)], {})
    assert rds["no-ar"][0]["points"][0]["bpp"] == rows["no-ar"]["clips"][0]["points"][0]["bpp"]


def test_failures_are_one_line(tmp_path, monkeypatch, capsys, load_benchmark):
    abl = load_benchmark("gvc1d_ablation")
    log = str(tmp_path / "x.train.log")
    with pytest.raises(SystemExit, match=r"training x failed \(exit 3\), see .*x\.train\.log"):
        abl.run_logged([sys.executable, "-c", "print('boom'); raise SystemExit(3)"], log, {},
                       1, "training x")
    assert "boom" in Path(log).read_text()
    monkeypatch.setattr(sys, "argv", ["gvc1d_ablation.py", "--variants", "8x16,nope",
                                      "--runs", str(tmp_path / "runs")])
    with pytest.raises(SystemExit) as e:
        abl.main()
    assert e.value.code == 2 and "unknown ablation variant 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()  # nothing trained
