"""Y4M: exact write/read, decoded identically by ffmpeg, header variants, bad/truncated files."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest
import torch

from vid1d.errors import InputError
from vid1d.io import count_frames, open_video, open_writer
from vid1d.io.y4m import parse_header
from vid1d.utils.ffmpeg import run_ffmpeg

FORMATS = ["yuv420p", "yuv420p10le", "yuv444p", "yuv444p10le"]


def _write(path, planes, pix_fmt, width, height, fps=25, **kw):
    with open_writer(path, width=width, height=height, fps=fps, pix_fmt=pix_fmt, **kw) as w:
        w.write_yuv(*planes)
    return path


@pytest.mark.parametrize("pix_fmt", FORMATS)
def test_write_read_exact(tmp_path, random_planes, pix_fmt):
    planes = random_planes(pix_fmt, 20, 12, 5)
    path = _write(tmp_path / "a.y4m", planes, pix_fmt, 20, 12)
    with open_video(path) as r:
        assert (r.info.width, r.info.height, r.info.num_frames) == (20, 12, 5)
        assert r.info.pix_fmt == pix_fmt and r.info.container == "y4m"
        assert r.info.bit_depth == (10 if "10" in pix_fmt else 8)
        chunks = list(r.yuv_chunks(chunk_frames=2))
    assert [c[0].shape[0] for c in chunks] == [2, 2, 1]
    for got, want in zip((torch.cat(p) for p in zip(*chunks, strict=True)), planes, strict=True):
        assert torch.equal(got, want)


@pytest.mark.parametrize("pix_fmt", ["yuv420p", "yuv420p10le", "yuv444p"])
def test_ffmpeg_decodes_our_y4m_identically(tmp_path, random_planes, pix_fmt):
    """ffmpeg's rawvideo output of our .y4m is byte-identical to the samples we wrote."""
    planes = random_planes(pix_fmt, 24, 16, 3, seed=2)
    path = _write(tmp_path / "a.y4m", planes, pix_fmt, 24, 16)
    decoded = run_ffmpeg(["-i", path, "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"]).stdout
    maxv = 1023 if "10" in pix_fmt else 255
    dtype = np.dtype("<u2") if maxv == 1023 else np.uint8
    ours = b"".join(
        np.round(p[t].numpy() * maxv).astype(dtype).tobytes() for t in range(3) for p in planes
    )
    assert hashlib.sha256(decoded).hexdigest() == hashlib.sha256(ours).hexdigest()


def test_reads_ffmpeg_y4m(tmp_path, sample_video):
    """A .y4m written by ffmpeg (C420mpeg2, A128:117, X tags) reads as PyAV's decoded planes."""
    path = tmp_path / "ff.y4m"
    run_ffmpeg(["-i", sample_video, "-frames:v", "6", path])
    assert b"C420" in path.read_bytes()[:80]
    with open_video(path) as r, open_video(sample_video) as ref:
        assert r.info.fps == ref.info.fps and r.info.num_frames == 6
        for got, want in zip(next(r.yuv_chunks(6)), next(ref.yuv_chunks(6)), strict=True):
            assert torch.equal(got, want)


def test_ffmpeg_10bit_y4m(tmp_path, sample_video):
    path = tmp_path / "ff10.y4m"
    run_ffmpeg(["-i", sample_video, "-frames:v", "3", "-pix_fmt", "yuv420p10le", "-strict", "-1", path])
    raw = run_ffmpeg(["-i", path, "-f", "rawvideo", "-pix_fmt", "yuv420p10le", "-"]).stdout
    with open_video(path) as r:
        assert r.info.pix_fmt == "yuv420p10le"
        y, u, v = next(r.yuv_chunks(3))
    ours = b"".join(
        np.round(p[t].numpy() * 1023).astype("<u2").tobytes() for t in range(3) for p in (y, u, v)
    )
    assert ours == raw


def test_rgb_round_trip_close(tmp_path, sample_video):
    """RGB -> Y'CbCr samples -> RGB loses only quantization (and 4:2:0 chroma detail)."""
    x = open_video(sample_video).read(3)
    for pix_fmt, min_psnr in [("yuv444p", 50), ("yuv420p", 45), ("yuv444p10le", 60)]:
        with open_writer(tmp_path / "a.y4m", width=176, height=144, fps=30, pix_fmt=pix_fmt) as w:
            w.write(x)
        y = open_video(tmp_path / "a.y4m").read()
        psnr = 10 * torch.log10(1 / ((x - y) ** 2).mean())
        assert psnr > min_psnr, (pix_fmt, psnr)


@pytest.mark.parametrize("tag,pix_fmt", [
    ("C420jpeg", "yuv420p"), ("C420mpeg2", "yuv420p"), ("C420paldv", "yuv420p"),
    ("C420", "yuv420p"), ("C444", "yuv444p"), ("C420p10", "yuv420p10le"),
    ("C444p10", "yuv444p10le"), ("", "yuv420p"),
])
def test_header_colour_tags(tag, pix_fmt):
    hdr = parse_header(f"YUV4MPEG2 W8 H4 F30000:1001 It A10:11 {tag} XYSCSS=420 XFOO".encode())
    assert (hdr["width"], hdr["height"], hdr["pix_fmt"]) == (8, 4, pix_fmt)
    assert hdr["fps"].numerator == 30000 and hdr["fps"].denominator == 1001


def test_header_defaults_and_range():
    hdr = parse_header(b"YUV4MPEG2 W8 H4 F0:0 XCOLORRANGE=FULL")
    assert hdr["fps"] == 25 and hdr["full_range"] is True
    assert parse_header(b"YUV4MPEG2 H4 W8")["full_range"] is None


def test_full_range_tag_is_used(tmp_path, smooth_rgb):
    x = smooth_rgb(2, 16, 16)
    with open_writer(tmp_path / "f.y4m", width=16, height=16, fps=30, pix_fmt="yuv444p",
                     full_range=True) as w:
        w.write(x)
    assert b"XCOLORRANGE=FULL" in (tmp_path / "f.y4m").read_bytes()[:80]
    with open_video(tmp_path / "f.y4m") as r:
        assert r.full_range
        assert (r.read() - x).abs().max() < 2 / 255
    with open_video(tmp_path / "f.y4m", full_range=False) as r:  # forced wrong: visibly off
        assert (r.read() - x).abs().max() > 10 / 255


def test_frame_headers_with_params(tmp_path):
    y = bytes(range(8)) * 2
    data = b"YUV4MPEG2 W4 H4 F25:1 C444\n" + b"FRAME Ixyz\n" + y + y + y + b"FRAME\n" + y * 3
    (tmp_path / "p.y4m").write_bytes(data)
    with open_video(tmp_path / "p.y4m") as r:
        yy, _, _ = next(r.yuv_chunks())
    assert yy.shape == (2, 4, 4)
    assert torch.equal(yy[1].flatten() * 255, torch.tensor(list(y), dtype=torch.float32))


@pytest.mark.parametrize("header", [
    b"YUV4MPEG W8 H4\n",                  # bad signature
    b"YUV4MPEG2 W0 H4\n",                 # zero width
    b"YUV4MPEG2 W8 H-4\n",                # negative height
    b"YUV4MPEG2 W20000 H4\n",             # too large
    b"YUV4MPEG2 W7 H4 C420jpeg\n",        # odd width for 4:2:0
    b"YUV4MPEG2 W8\n",                    # no height
    b"YUV4MPEG2 W8 H4 C422\n",            # unsupported chroma
    b"YUV4MPEG2 W8 H4 Fabc\n",            # bad rate
    b"YUV4MPEG2 W8 H4 F25:1",             # no newline
    b"YUV4MPEG2 W8 H4 \xff\n",            # not ASCII
    b"YUV4MPEG2 W8 H4 " + b"X" * 5000 + b"\n",  # header far too long
    b"",                                  # empty file
])
def test_bad_headers(tmp_path, header):
    (tmp_path / "bad.y4m").write_bytes(header + bytes(48))
    with pytest.raises(InputError):
        open_video(tmp_path / "bad.y4m")


def test_truncated_final_frame(tmp_path, random_planes):
    path = _write(tmp_path / "t.y4m", random_planes("yuv420p", 16, 8, 3), "yuv420p", 16, 8)
    data = path.read_bytes()
    path.write_bytes(data[:-10])
    with pytest.raises(InputError, match="frame 2 is truncated"):
        open_video(path)
    path.write_bytes(data + b"FRAM")  # a dangling partial marker
    with pytest.raises(InputError):
        open_video(path)
    path.write_bytes(data.replace(b"FRAME", b"FRAMX", 2))  # corrupt second marker
    with pytest.raises(InputError, match="expected 'FRAME'"):
        open_video(path)


def test_file_shrinking_while_reading_is_an_error(tmp_path, random_planes):
    """Frames are read lazily: after the first chunk, a shrunken file is noticed, not padded."""
    path = _write(tmp_path / "s.y4m", random_planes("yuv420p", 16, 8, 6), "yuv420p", 16, 8)
    with open_video(path) as r:
        it = r.chunks(chunk_frames=2)
        assert next(it).shape == (3, 2, 8, 16)
        path.write_bytes(path.read_bytes()[:-300])
        with pytest.raises(InputError, match="truncated"):
            list(it)


def test_10bit_samples_out_of_range(tmp_path):
    y = np.full(16, 4000, dtype="<u2").tobytes()  # 12-bit values in a 10-bit file
    (tmp_path / "r.y4m").write_bytes(b"YUV4MPEG2 W4 H4 C444p10\nFRAME\n" + y * 3)
    with open_video(tmp_path / "r.y4m") as r, pytest.raises(InputError, match="wrong pix_fmt"):
        r.read()


def test_count_and_fps_override(tmp_path, random_planes):
    path = _write(tmp_path / "c.y4m", random_planes("yuv420p", 8, 8, 7), "yuv420p", 8, 8,
                  fps=30000 / 1001)
    assert b"F30000:1001" in path.read_bytes()[:60]
    assert count_frames(path) == 7
    with open_video(path, fps=50) as r:
        assert r.info.fps == 50
    with pytest.raises(InputError):
        open_video(path, size=(16, 8))
    with pytest.raises(InputError):
        open_video(path, pix_fmt="yuv444p")


def test_y4m_and_the_learned_codec_need_no_pyav(tmp_path):
    # A machine without PyAV (e.g. a GPU box with its own torch) still reads and writes
    # .y4m and codes it with a learned codec: PyAV is imported only for containers/PNG.
    code = f"""
import sys
sys.modules["av"] = None  # any `import av` now raises ImportError
import torch
from vid1d.io import open_video, open_writer
from vid1d.codec import decode_video, encode_video
from vid1d.models.gvc1d import GVC1D, PRESETS
src, out = {str(tmp_path / "a.y4m")!r}, {str(tmp_path / "a.v1d")!r}
with open_writer(src, width=40, height=24, fps=25) as w:
    w.write(torch.rand(3, 2, 24, 40))
with open_video(src) as r:
    assert r.read(5).shape == (3, 2, 24, 40)
model = GVC1D(PRESETS["tiny"]).eval()
encode_video(model, src, out, model_id="t", quality=3.0)
assert decode_video(out, None, model=model).frames == 2
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
