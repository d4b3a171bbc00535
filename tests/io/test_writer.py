"""Writers: atomic outputs, nothing left behind on errors, argument checking."""

from __future__ import annotations

import pytest
import torch

from vid1d.errors import InputError
from vid1d.io import VideoWriter, open_video, open_writer, write_video
from vid1d.io.png import PNGFolderWriter
from vid1d.io.pyav import PyAVWriter
from vid1d.io.y4m import Y4MWriter
from vid1d.io.yuv import YUVWriter

TARGETS = ["out.y4m", "out.yuv", "out.mp4", "out.mkv", "frames/"]


class Boom(Exception):
    pass


def _clip(t=2, h=8, w=8):
    return torch.rand(3, t, h, w, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("name", TARGETS)
def test_nothing_left_on_exception(tmp_path, name):
    target = tmp_path / name
    with pytest.raises(Boom), open_writer(target, width=8, height=8, fps=25) as w:
        w.write(_clip())
        assert not target.exists()  # only the hidden temporary exists while writing
        raise Boom
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", TARGETS)
def test_output_appears_on_close(tmp_path, name):
    target = tmp_path / name
    w = open_writer(target, width=8, height=8, fps=25)
    w.write(_clip())
    assert not target.exists()
    w.close()
    w.close()  # idempotent
    assert target.exists()
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
    assert w.frames_written == 2
    with pytest.raises(ValueError):
        w.write(_clip())


def test_failed_write_keeps_previous_output(tmp_path):
    target = tmp_path / "keep.y4m"
    write_video(target, [_clip()], fps=25)
    before = target.read_bytes()

    def chunks():
        yield _clip()
        raise Boom

    with pytest.raises(Boom):
        write_video(target, chunks(), fps=25)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.y4m"]


def test_abort_and_bad_frames_leave_nothing(tmp_path):
    w = open_writer(tmp_path / "a.mp4", width=8, height=8, fps=25)
    w.write(_clip())
    w.abort()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(InputError), open_writer(tmp_path / "b.y4m", width=8, height=8, fps=25) as w:
        w.write(torch.rand(3, 1, 8, 9))  # wrong width
    with pytest.raises(InputError), open_writer(tmp_path / "c.y4m", width=8, height=8, fps=25) as w:
        w.write(torch.full((3, 1, 8, 8), float("nan")))
    with pytest.raises(InputError), open_writer(tmp_path / "f.y4m", width=8, height=8, fps=25) as w:
        w.write(torch.zeros(3, 1, 8, 8, dtype=torch.uint8))  # integers are not [0, 1] floats
    with pytest.raises(InputError), open_writer(tmp_path / "d/", width=8, height=8, fps=25) as w:
        w.write_yuv(torch.rand(1, 8, 8), torch.rand(1, 4, 4), torch.rand(1, 4, 4))  # RGB output
    with pytest.raises(InputError), open_writer(tmp_path / "e.yuv", width=8, height=8, fps=25) as w:
        w.write_yuv(torch.rand(1, 8, 8), torch.rand(1, 8, 8), torch.rand(1, 8, 8))  # not 4:2:0
    assert list(tmp_path.iterdir()) == []


def test_format_dispatch(tmp_path):
    kinds = {"a.y4m": Y4MWriter, "a.yuv": YUVWriter, "a.mp4": PyAVWriter, "a.MKV": PyAVWriter,
             "a.mov": PyAVWriter, "dir/": PNGFolderWriter, "noext": PNGFolderWriter}
    for name, cls in kinds.items():
        w = open_writer(tmp_path / name if not name.endswith("/") else f"{tmp_path}/{name}",
                        width=8, height=8, fps=25)
        assert isinstance(w, cls) and isinstance(w, VideoWriter), name
        w.abort()
    w = open_writer(tmp_path / "x.bin", width=8, height=8, fps=25, format="y4m")
    assert isinstance(w, Y4MWriter)
    w.abort()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kwargs", [
    {"path": "a.webp"},                                    # unknown extension
    {"format": "gif"},                                     # unknown format
    {"width": 7},                                          # odd width with 4:2:0
    {"width": 0},
    {"height": 40000},
    {"fps": 0},
    {"fps": "fast"},
    {"pix_fmt": "nv12"},
    {"path": "a.y4m", "pix_fmt": "rgb24"},
    {"path": "a.y4m", "codec": "libx264"},                 # codecs apply to containers only
    {"path": "a.yuv", "crf": 20},
    {"path": "d/", "pix_fmt": "yuv420p"},
    {"crf": 70},
    {"crf": 20, "lossless": True},
    {"codec": "no-such-codec"},
    {"codec": "ffv1", "crf": 20},
    {"codec": "libsvtav1", "lossless": True},
    {"codec": "libsvtav1", "pix_fmt": "yuv444p"},
    {"codec": "aac"},                                      # not a video encoder
    {"matrix": "bt2100-pq"},
])
def test_bad_writer_arguments(tmp_path, kwargs):
    kw = {"path": "a.mp4", "width": 8, "height": 8, "fps": 25, **kwargs}
    path = kw.pop("path")
    with pytest.raises(InputError):
        open_writer(f"{tmp_path}/{path}", **kw)
    assert list(tmp_path.iterdir()) == []


def test_write_video_returns_path_and_rejects_empty(tmp_path):
    out = write_video(tmp_path / "v.y4m", iter([_clip(3)]), fps=25)
    assert out == tmp_path / "v.y4m" and open_video(out).info.num_frames == 3
    with pytest.raises(InputError, match="no frames"):
        write_video(tmp_path / "e.y4m", [], fps=25)
    with pytest.raises(InputError):
        write_video(tmp_path / "e.y4m", [torch.rand(3, 8, 8)], fps=25)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.y4m"]


def test_single_frame_and_444_odd_sizes(tmp_path):
    x = torch.round(torch.rand(3, 7, 9) * 255) / 255
    with open_writer(tmp_path / "o.y4m", width=9, height=7, fps=25, pix_fmt="yuv444p") as w:
        w.write(x)  # (3, H, W) is one frame
    y = open_video(tmp_path / "o.y4m").read()
    assert y.shape == (3, 1, 7, 9) and (y[:, 0] - x).abs().max() < 3 / 255
