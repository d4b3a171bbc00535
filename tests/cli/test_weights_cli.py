"""`vid1d weights fetch` and the --stlpips options: one-line errors, and the metric end to end."""

from __future__ import annotations

import json

import pytest

from vid1d.cli.main import main


def _one_line_error(capsys, command: str) -> str:
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.err.startswith(f"vid1d {command}: error: ")
    assert "Traceback" not in captured.err
    return captured.err


def test_unknown_weights_name(capsys):
    with pytest.raises(SystemExit) as e:
        main(["weights", "fetch", "lpips-vgg"])
    assert e.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_metrics_stlpips_without_weights_is_one_line(sample_video, no_stlpips_weights, capsys):
    code = main(["metrics", str(sample_video), str(sample_video), "--no-vmaf", "--stlpips"])
    assert code == 2
    assert "vid1d weights fetch stlpips-alex" in _one_line_error(capsys, "metrics")


def test_metrics_stlpips_with_weights(sample_video, tmp_path, stlpips_weights, capsys):
    out = tmp_path / "m.json"
    assert main(["metrics", str(sample_video), str(sample_video), "--no-vmaf", "--stlpips",
                 "--frames", "2", "--json", str(out)]) == 0
    assert "ST-LPIPS    0.00000" in capsys.readouterr().out
    res = json.loads(out.read_text())
    assert res["per_frame"]["stlpips"] == [0.0, 0.0] and "stlpips" in res["metric_versions"]


def test_eval_stlpips_without_weights_fails_before_coding(sample_video, tmp_path,
                                                          no_stlpips_weights, capsys):
    out = tmp_path / "ev"
    code = main(["eval", str(sample_video), "--codecs", "x264:ultrafast", "--anchor", "x264", "--frames", "2",
                 "--no-vmaf", "--stlpips", "-o", str(out)])
    assert code == 2 and "vid1d weights fetch" in _one_line_error(capsys, "eval")
    assert not out.exists()


def test_demo_adds_stlpips_when_its_weights_are_there(sample_video, tmp_path, stlpips_weights,
                                                      capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--no-learned", "--input", str(sample_video), "--frames", "1",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "ST-LPIPS" in printed and "not measured" not in printed
    rd = json.loads((out / "rd_x265.json").read_text())
    assert all(p["stlpips"] is not None for p in rd["points"])
    assert (out / "rd_stlpips.png").is_file() and "stlpips" in (out / "bdrate.md").read_text()
