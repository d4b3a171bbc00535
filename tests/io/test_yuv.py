"""Raw .yuv: file-name convention, exact round trips, size/format checks, truncation."""

from __future__ import annotations

import hashlib

import pytest
import torch

from vid1d.errors import InputError
from vid1d.io import count_frames, open_video, open_writer, parse_yuv_filename
from vid1d.utils.ffmpeg import run_ffmpeg


@pytest.mark.parametrize("name,expected", [
    ("BasketballDrive_1920x1080_50.yuv", (1920, 1080, 50.0)),
    ("RaceHorses_416x240_30.yuv", (416, 240, 30.0)),
    ("/data/ctc/Kimono1_1920x1080_24.yuv", (1920, 1080, 24.0)),
    ("Tango2_3840x2160_60fps_10bit_420.yuv", (3840, 2160, 60.0)),
    ("Johnny_1280x720_59.94.yuv", (1280, 720, 59.94)),
    ("Campfire_3840x2160_30fps_bt709_420_videoRange.yuv", (3840, 2160, 30.0)),
    ("foreman_352x288.yuv", (352, 288, None)),
    ("akiyo_176x144_8bit.yuv", (176, 144, None)),
    ("seq-640x360-25Hz.yuv", (640, 360, 25.0)),
])
def test_parse_yuv_filename(name, expected):
    assert parse_yuv_filename(name) == expected


@pytest.mark.parametrize("name", ["foreman.yuv", "clip_0x288_30.yuv", "big_99999x1080.yuv",
                                  "v2x.yuv", "name1920x1080.yuv"])
def test_parse_yuv_filename_rejects(name):
    with pytest.raises(InputError):
        parse_yuv_filename(name)


@pytest.mark.parametrize("pix_fmt", ["yuv420p", "yuv420p10le", "yuv444p", "yuv444p10le"])
def test_write_read_exact(tmp_path, random_planes, pix_fmt):
    planes = random_planes(pix_fmt, 18, 10, 4, seed=3)
    path = tmp_path / "clip.yuv"
    with open_writer(path, width=18, height=10, fps=25, pix_fmt=pix_fmt) as w:
        w.write_yuv(*(p[:1] for p in planes))  # two writes: appends
        w.write_yuv(*(p[1:] for p in planes))
    with open_video(path, size=(18, 10), pix_fmt=pix_fmt) as r:
        assert r.info.num_frames == 4 and r.info.container == "yuv" and r.info.fps == 30
        got = [torch.cat(p) for p in zip(*r.yuv_chunks(chunk_frames=3), strict=True)]
    for g, want in zip(got, planes, strict=True):
        assert torch.equal(g, want)


def test_layout_matches_ffmpeg_rawvideo(tmp_path, sample_video):
    """ffmpeg's yuv420p rawvideo of the sample reads back as PyAV's decoded planes, and our
    writer reproduces ffmpeg's file byte for byte."""
    ff = tmp_path / "carphone_176x144_30.yuv"
    run_ffmpeg(["-i", sample_video, "-frames:v", "5", "-f", "rawvideo", "-pix_fmt", "yuv420p", ff])
    with open_video(ff) as r, open_video(sample_video) as ref:
        assert (r.info.width, r.info.height, r.info.num_frames, r.info.fps) == (176, 144, 5, 30)
        planes = next(r.yuv_chunks(5))
        for got, want in zip(planes, next(ref.yuv_chunks(5)), strict=True):
            assert torch.equal(got, want)
    with open_writer(tmp_path / "ours.yuv", width=176, height=144, fps=30) as w:
        w.write_yuv(*planes)
    assert hashlib.sha256((tmp_path / "ours.yuv").read_bytes()).digest() == \
        hashlib.sha256(ff.read_bytes()).digest()


def test_size_fps_and_format_from_name(tmp_path, random_planes):
    planes = random_planes("yuv420p10le", 8, 4, 2)
    path = tmp_path / "Seq_8x4_50_10bit.yuv"
    with open_writer(path, width=8, height=4, fps=50, pix_fmt="yuv420p10le") as w:
        w.write_yuv(*planes)
    with open_video(path) as r:
        assert (r.info.width, r.info.height, r.info.fps, r.info.pix_fmt) == (8, 4, 50, "yuv420p10le")
        assert torch.equal(next(r.yuv_chunks())[0], planes[0])
    with open_video(path, fps=25, pix_fmt="yuv420p10le") as r:
        assert r.info.fps == 25
    assert count_frames(path) == 2


def test_wrong_size_or_truncated(tmp_path, random_planes):
    path = tmp_path / "clip_16x8_25.yuv"
    with open_writer(path, width=16, height=8, fps=25) as w:
        w.write_yuv(*random_planes("yuv420p", 16, 8, 3))
    data = path.read_bytes()
    path.write_bytes(data[:-5])
    with pytest.raises(InputError, match="truncated"):
        open_video(path)
    path.write_bytes(data)
    with pytest.raises(InputError, match="not a whole number"):
        open_video(path, size=(10, 10))
    with pytest.raises(InputError):
        open_video(path, size=(15, 8))  # odd width for 4:2:0
    with pytest.raises(InputError):
        open_video(path, pix_fmt="nv12")
    with pytest.raises(InputError, match="frame size"):
        open_video(tmp_path / "clip_16x8_25.yuv", size=(0, 8))
    (tmp_path / "nosize.yuv").write_bytes(data)
    with pytest.raises(InputError, match="size"):
        open_video(tmp_path / "nosize.yuv")


def test_rgb_chunks_of_yuv(tmp_path, sample_video):
    """chunks() converts with BT.709 limited by default, as the writer does."""
    x = open_video(sample_video).read(4)
    path = tmp_path / "c_176x144.yuv"
    with open_writer(path, width=176, height=144, fps=30, pix_fmt="yuv444p10le") as w:
        w.write(x)
    y = open_video(path, pix_fmt="yuv444p10le").read()
    assert (x - y).abs().max() < 1.5 / 255
    y601 = open_video(path, pix_fmt="yuv444p10le", matrix="bt601").read()
    assert (x - y601).abs().max() > 5 / 255


def test_max_frames_and_empty(tmp_path, random_planes):
    path = tmp_path / "m_8x8.yuv"
    with open_writer(path, width=8, height=8, fps=25) as w:
        w.write_yuv(*random_planes("yuv420p", 8, 8, 5))
    with open_video(path) as r:
        assert [c.shape[1] for c in r.chunks(2, max_frames=3)] == [2, 1]
        assert r.read(max_frames=0).shape == (3, 0, 8, 8)
        with pytest.raises(InputError):
            r.chunks(0)
    with pytest.raises(ValueError):
        r.read()
    empty = tmp_path / "e_8x8.yuv"
    empty.write_bytes(b"")
    with open_video(empty) as r:
        assert r.info.num_frames == 0 and r.read().shape == (3, 0, 8, 8)
