"""One-line errors (exit 2) and right answers of metrics, info, bdrate, demo and baseline
on inputs a second fuzzing round found mishandled."""

from __future__ import annotations

import json
import os

import pytest
import torch

from vid1d.cli.main import main
from vid1d.io import open_writer, write_video


def _one_line_error(capsys, command: str) -> str:
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.err.startswith(f"vid1d {command}: error: ")
    assert "Traceback" not in captured.err
    return captured.err


@pytest.fixture(scope="module")
def rd_files(sample_video, tmp_path_factory):
    out = tmp_path_factory.mktemp("rd")
    for codec in ("x264", "x265"):
        assert main(["baseline", str(sample_video), "-o", str(out / f"{codec}.json"), "--codec",
                     f"{codec}:ultrafast", "--frames", "2", "--no-vmaf"]) == 0
    return [str(out / "x264.json"), str(out / "x265.json")]


def test_metrics_of_odd_sized_444_y4m_and_lossless_mkv(tmp_path, capsys):
    """The mkv reader once converted 4:4:4 to 4:2:0: 'plane u shapes differ'."""
    g = torch.Generator().manual_seed(0)
    planes = [torch.randint(0, 256, (3, 17, 33), generator=g).float() / 255 for _ in range(3)]
    paths = [tmp_path / "a.y4m", tmp_path / "a.mkv"]
    for path in paths:
        with open_writer(path, width=33, height=17, fps=25, pix_fmt="yuv444p",
                         lossless=True) as w:
            w.write_yuv(*planes)
    out = tmp_path / "m.json"
    assert main(["metrics", *map(str, paths), "--no-vmaf", "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["frames"] == 3
    assert res["mean"]["psnr_u"] == res["mean"]["psnr_v"] == res["mean"]["psnr_rgb"] == 100.0


def test_metrics_refuses_an_unwritable_json_before_the_work(sample_video, tmp_path, capsys):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    for target in (tmp_path, a_file / "m.json"):
        assert main(["metrics", str(sample_video), str(sample_video), "--frames", "2",
                     "--no-vmaf", "--json", str(target)]) == 2
        assert capsys.readouterr().out == ""  # once: results printed, then the error
    assert a_file.read_text() == "x"


def test_info_on_folders(tmp_path, capsys):
    """Once 'no such file' for every folder, PNG frame folders included."""
    write_video(tmp_path / "frames/", [torch.rand(3, 2, 16, 16)], fps=10)
    assert main(["info", str(tmp_path / "frames")]) == 0
    out = capsys.readouterr().out
    assert "png, 16x16" in out and "2 frames" in out
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("hi")
    assert main(["info", str(tmp_path / "notes")]) == 2
    assert "no .png or .jpg frames" in _one_line_error(capsys, "info")
    assert main(["info", str(tmp_path / "missing")]) == 2
    assert "no such file or directory" in _one_line_error(capsys, "info")


def test_info_on_a_v1d_file_that_is_not_a_stream(tmp_path, capsys):
    """A .v1d name without the magic bytes is said to be no bitstream, not 'no video'."""
    (tmp_path / "notes.v1d").write_text("hello\n")
    assert main(["info", str(tmp_path / "notes.v1d")]) == 2
    assert "not a .v1d bitstream" in _one_line_error(capsys, "info")


def test_inputs_that_are_fifos_are_refused(sample_video, tmp_path, capsys):
    """Reading a FIFO once waited for a writer forever."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for argv in (["info", str(fifo)], ["metrics", str(sample_video), str(fifo), "--no-vmaf"],
                 ["bdrate", str(fifo), "--anchor", "x264"]):
        assert main(argv) == 2
        assert "not a regular file" in _one_line_error(capsys, argv[0])


def test_bdrate_needs_metrics_and_something_to_compare(rd_files, capsys):
    """These printed '(no comparisons)' and exited 0."""
    for metrics in ("", " , "):
        assert main(["bdrate", *rd_files, "--anchor", "x264", "--metrics", metrics]) == 2
        assert "names no metric" in _one_line_error(capsys, "bdrate")
    assert main(["bdrate", rd_files[0], "--anchor", "x264"]) == 2
    assert "nothing to compare" in _one_line_error(capsys, "bdrate")
    assert main(["bdrate", rd_files[0], rd_files[0], "--anchor", "x264"]) == 2
    assert "given twice" in _one_line_error(capsys, "bdrate")
    assert main(["bdrate", *rd_files, "--anchor", "x264", "--metrics", "psnr_rgb"]) == 0


def test_demo_with_a_model_that_does_not_exist(sample_video, tmp_path, capsys):
    """Once a note, then the classic codecs only, exit 0."""
    out = tmp_path / "demo"
    assert main(["demo", "--model", "nosuch", "--out", str(out), "--frames", "1"]) == 2
    assert "unknown model id 'nosuch'" in _one_line_error(capsys, "demo")
    assert main(["demo", "--model", "gvc1d-small", "--no-learned", "--out", str(out)]) == 2
    _one_line_error(capsys, "demo")
    assert not out.exists()


def test_baseline_option_errors(sample_video, tmp_path, capsys):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    base = ["baseline", str(sample_video), "-o", str(tmp_path / "out"), "--frames", "2",
            "--no-vmaf"]
    cases = [
        (["--codec", "x264:ultrafast", "--keep-bitstreams", str(a_file)],
         "is not a folder"),  # once: FileExistsError traceback
        (["--codec", "x264:ultrafast,x264:ultrafast"], "given twice"),  # once: one file, twice
        (["--codec", "x264,x264:medium"], "given twice"),
    ]
    for extra, message in cases:
        assert main(base + extra) == 2, extra
        assert message in _one_line_error(capsys, "baseline")
    assert a_file.read_text() == "x" and not (tmp_path / "out").exists()
    odd = tmp_path / "odd.y4m"
    write_video(odd, [torch.rand(3, 2, 17, 33)], fps=10, pix_fmt="yuv444p")
    assert main(["baseline", str(odd), "-o", str(tmp_path / "o.json"), "--no-vmaf"]) == 2
    err = _one_line_error(capsys, "baseline")  # once: named a temporary file
    assert f"{odd}: 33x17 has an odd side" in err
