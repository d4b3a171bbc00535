"""End to end through the CLI: baseline -> RD JSON -> bdrate table and RD plot; metrics; errors."""

from __future__ import annotations

import json

import pytest

from vid1d.cli.main import main
from vid1d.eval.rd import load_rd


@pytest.fixture(scope="module")
def rd_files(sample_video, tmp_path_factory):
    out = tmp_path_factory.mktemp("rd")
    files = []
    for codec in ("x264", "x265"):
        path = out / f"{codec}.json"
        rc = main(
            [
                "baseline",
                str(sample_video),
                "-o",
                str(path),
                "--codec",
                codec,
                "--preset",
                "ultrafast",
                "--qp",
                "22,27,32,37",
                "--frames",
                "4",
                "--no-vmaf",
            ]
        )
        assert rc == 0
        files.append(path)
    return files


def test_baseline_writes_valid_rd_json(rd_files, capsys):
    for path in rd_files:
        rd = load_rd(path)
        assert len(rd["points"]) == 4 and rd["source"]["frames"] == 4
        assert [p["quality"]["value"] for p in rd["points"]] == [22, 27, 32, 37]
        assert rd["points"][0]["vmaf"] is None and "vmaf" not in rd["metric_versions"]
        assert rd["codec"]["preset"] == "ultrafast"


def test_bdrate_and_plot(rd_files, tmp_path, capsys):
    capsys.readouterr()
    assert (
        main(
            [
                "bdrate",
                *map(str, rd_files),
                "--anchor",
                "x264",
                "--metrics",
                "psnr_rgb,psnr_yuv",
                "--format",
                "markdown",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "| carphone_pristine.mp4 | x265 ultrafast | low-delay |" in out
    assert "anchor: x264 ultrafast" in out
    png = tmp_path / "rd.png"
    assert main(["plot", *map(str, rd_files), "-o", str(png), "--metric", "psnr_yuv"]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 10_000


def test_metrics_command(sample_video, tmp_path, capsys):
    out = tmp_path / "m.json"
    assert (
        main(
            [
                "metrics",
                str(sample_video),
                str(sample_video),
                "--frames",
                "3",
                "--no-vmaf",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    assert "PSNR RGB" in capsys.readouterr().out
    res = json.loads(out.read_text())
    assert res["frames"] == 3 and res["per_frame"]["psnr_rgb"] == [100.0] * 3


@pytest.mark.parametrize(
    "argv",
    [
        ["baseline", "{missing}", "-o", "{tmp}/x.json"],
        ["baseline", "{sample}", "-o", "{tmp}/x.json", "--codec", "x266"],
        ["baseline", "{sample}", "-o", "{sample}", "--codec", "x264"],
        ["metrics", "{sample}", "{missing}"],
        ["bdrate", "{missing}", "--anchor", "x265"],
        ["plot", "{missing}", "-o", "{tmp}/x.png"],
    ],
)
def test_user_errors_exit_2_with_one_line(argv, sample_video, tmp_path, capsys):
    subs = {
        "missing": str(tmp_path / "missing.mp4"),
        "tmp": str(tmp_path),
        "sample": str(sample_video),
    }
    rc = main([a.format(**subs) for a in argv])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and err.startswith(f"vid1d {argv[0]}: error: ")
    assert "Traceback" not in err
    assert sample_video.stat().st_size > 0  # never overwritten
