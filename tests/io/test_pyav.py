"""PyAV sources (the bundled mp4) and mp4/mkv outputs: chunks, counts, lossless round trips, tags."""

from __future__ import annotations

import os
from fractions import Fraction

import av
import numpy as np
import pytest
import torch

from vid1d.errors import InputError
from vid1d.io import PLANAR_FORMATS, count_frames, open_video, open_writer, quantize, write_video
from vid1d.utils.ffmpeg import run_ffmpeg


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(10 * torch.log10(1 / ((a - b) ** 2).mean()))


def test_bundled_clip_info_and_chunks(sample_video):
    with open_video(sample_video) as r:
        info = r.info
        assert (info.width, info.height, info.num_frames) == (176, 144, 120)
        assert info.fps == Fraction(30000, 1001)
        assert (info.pix_fmt, info.bit_depth) == ("yuv420p", 8)
        assert "mp4" in info.container and info.path == str(sample_video)
        chunks = list(r.chunks(chunk_frames=16))
        assert [c.shape[1] for c in chunks] == [16] * 7 + [8]
        assert all(c.shape == (3, c.shape[1], 144, 176) and c.dtype == torch.float32 for c in chunks)
        whole = r.read()
        assert torch.equal(torch.cat(chunks, dim=1), whole)
        assert [c.shape[1] for c in r.chunks(16, max_frames=20)] == [16, 4]
        assert torch.equal(r.read(max_frames=5), whole[:, :5])
    assert count_frames(sample_video) == 120


def test_rgb_is_pyav_rgb24(sample_video):
    """chunks() is exactly what PyAV/libswscale gives for rgb24."""
    with av.open(str(sample_video)) as c:
        frames = c.decode(video=0)
        ref = [next(frames).to_ndarray(format="rgb24") for _ in range(5)]
    ref = torch.from_numpy(np.stack(ref)).permute(3, 0, 1, 2).float() / 255
    assert torch.equal(open_video(sample_video).read(5), ref)


def test_yuv_chunks_are_decoded_planes(sample_video):
    with av.open(str(sample_video)) as c:
        frame = next(c.decode(video=0))
        ref = frame.to_ndarray(format="yuv420p")  # (H * 3 / 2, W)
    with open_video(sample_video) as r:
        y, u, v = next(r.yuv_chunks(4))
    assert y.shape == (4, 144, 176) and u.shape == v.shape == (4, 72, 88)
    assert np.array_equal(np.round(y[0].numpy() * 255).astype(np.uint8), ref[:144])
    assert np.array_equal(np.round(u[0].numpy() * 255).astype(np.uint8).ravel(),
                          ref[144:144 + 36].ravel())


@pytest.mark.parametrize("name", ["x.mp4", "x.mkv"])
def test_lossless_rgb_is_exact(tmp_path, smooth_rgb, name):
    """lossless=True: libx264rgb -qp 0 (mp4) / ffv1 (mkv) give back the same 8-bit RGB."""
    x = smooth_rgb(6, 30, 46)  # not a multiple of 16, even
    noise = torch.rand(x.shape, generator=torch.Generator().manual_seed(0))
    x = torch.round((0.8 * x + 0.2 * noise) * 255) / 255
    path = write_video(tmp_path / name, [x[:, :4], x[:, 4:]], fps=24, lossless=True)
    with open_video(path) as r:
        assert r.info.fps == 24 and (r.info.width, r.info.height) == (46, 30)
        assert torch.equal(r.read(), x)
    assert count_frames(path) == 6


def test_lossless_odd_size_rgb(tmp_path):
    x = torch.round(torch.rand(3, 2, 15, 17, generator=torch.Generator().manual_seed(1)) * 255) / 255
    write_video(tmp_path / "o.mp4", [x], fps=10, lossless=True)
    assert torch.equal(open_video(tmp_path / "o.mp4").read(), x)


def _two_colours(height: int = 16, width: int = 32) -> torch.Tensor:
    """Left half one saturated colour, right half another; the edge is chroma-aligned."""
    x = torch.empty(3, 2, height, width)
    x[:, :, :, : width // 2] = torch.tensor([0.8, 0.3, 0.5]).view(3, 1, 1, 1)
    x[:, :, :, width // 2:] = torch.tensor([0.1, 0.9, 0.2]).view(3, 1, 1, 1)
    return x


@pytest.mark.parametrize("pix_fmt", ["yuv420p", "yuv444p", "yuv420p10le"])
def test_colour_tags_are_written_and_honoured(tmp_path, pix_fmt):
    """The stream says BT.601 full range and centre chroma siting; PyAV converts back by it."""
    x = _two_colours()
    path = tmp_path / "y.mp4"
    with open_writer(path, width=32, height=16, fps=25, pix_fmt=pix_fmt, lossless=True,
                     matrix="bt601", full_range=True) as w:
        w.write(x)
    with av.open(str(path)) as c:
        f = next(c.decode(video=0))
        assert (int(f.colorspace), int(f.color_range)) == (6, 2)  # SMPTE170M, JPEG
    assert (open_video(path).read() - x).abs().max() <= 2 / 255
    wrong = open_video(path, matrix="bt709", full_range=False).read()  # overriding the tags
    assert (wrong - x).abs().max() > 10 / 255


@pytest.mark.parametrize("pix_fmt,width,height", [
    ("yuv420p", 32, 16), ("yuv420p10le", 32, 16), ("yuv444p10le", 32, 16),
    ("yuv444p", 17, 9), ("yuv444p12le", 33, 17),
])
def test_lossless_yuv_samples_are_exact(tmp_path, random_planes, pix_fmt, width, height):
    """yuv_chunks gives the decoded samples of every planar format vid1d knows, odd sizes too
    (4:4:4 was once converted to 4:2:0, so a .y4m and an .mkv of the same planes differed)."""
    planes = random_planes(pix_fmt, width, height, 3)
    path = tmp_path / "y.mkv"
    with open_writer(path, width=width, height=height, fps=25, pix_fmt=pix_fmt, lossless=True) as w:
        w.write_yuv(*planes)
    with open_video(path) as r:
        assert (r.info.pix_fmt, r.info.bit_depth) == (pix_fmt, PLANAR_FORMATS[pix_fmt].bit_depth)
        assert r.yuv_format.name == pix_fmt
        got = next(r.yuv_chunks())
    for g, want in zip(got, planes, strict=True):
        assert torch.equal(g, want)


@pytest.mark.parametrize("pix_fmt", ["yuv422p", "yuv422p10le", "yuv410p"])
def test_other_subsamplings_keep_their_samples(tmp_path, random_planes, pix_fmt):
    """Planar formats vid1d has no name for are read as decoded, chroma repeated to 4:4:4
    (libswscale's high-bit-depth conversion of odd widths is not even repeatable)."""
    src = tmp_path / "src.y4m"
    bits = 10 if pix_fmt.endswith("10le") else 8
    with open_writer(src, width=33, height=17, fps=25, pix_fmt="yuv444p10le" if bits > 8
                     else "yuv444p") as w:
        w.write_yuv(*random_planes("yuv444p10le" if bits > 8 else "yuv444p", 33, 17, 2))
    path = tmp_path / "s.mkv"
    run_ffmpeg(["-i", src, "-c:v", "ffv1", "-pix_fmt", pix_fmt, path])
    with av.open(str(path)) as c:
        native = [[np.array(p, copy=True) for p in (_plane(f, i, bits) for i in range(3))]
                  for f in c.decode(video=0)]
    with open_video(path) as r:
        assert r.info.pix_fmt == pix_fmt and r.yuv_format.name == (
            "yuv444p10le" if bits > 8 else "yuv444p")
        runs = [[p.clone() for p in next(r.yuv_chunks())] for _ in range(3)]
    for got in runs:
        for t, frame in enumerate(native):
            y, u, v = (quantize(p[t], bits) for p in got)
            assert np.array_equal(y, frame[0])
            ch, cw = frame[1].shape
            ry, rx = -(-17 // ch), -(-33 // cw)
            assert np.array_equal(u, np.repeat(np.repeat(frame[1], ry, 0), rx, 1)[:17, :33])


def _plane(frame, i: int, bits: int) -> np.ndarray:
    from vid1d.io.pyav import plane_array

    return plane_array(frame.planes[i], np.dtype(np.uint8 if bits == 8 else "<u2"))


def test_lossy_quality_and_codec_choice(tmp_path, sample_video):
    x = open_video(sample_video).read(8)
    out = write_video(tmp_path / "l.mp4", [x], fps=Fraction(30000, 1001))
    assert _psnr(open_video(out).read(), x) > 33
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.name == "h264"
    small = write_video(tmp_path / "s.mp4", [x], fps=30, crf=45)
    assert small.stat().st_size < out.stat().st_size
    hevc = write_video(tmp_path / "h.mkv", [x], fps=30, codec="libx265", crf=30,
                       options={"x265-params": "log-level=none"})
    with av.open(str(hevc)) as c:
        assert c.streams.video[0].codec_context.name == "hevc"


def test_pyav_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        open_video(tmp_path / "missing.mp4")
    (tmp_path / "junk.mp4").write_bytes(b"this is not a video" * 10)
    with pytest.raises(InputError):
        open_video(tmp_path / "junk.mp4")
    with pytest.raises(InputError):
        count_frames(tmp_path / "junk.mp4")


def test_fifos_are_refused(tmp_path):
    """Readers open a file more than once (and Y4M/YUV seek); opening a FIFO once waited
    for a writer forever."""
    for name in ("f.mp4", "f.y4m", "f_16x16.yuv"):
        os.mkfifo(tmp_path / name)
        with pytest.raises(InputError, match="not a regular file"):
            open_video(tmp_path / name)


def test_reopen_iterates_from_start(sample_video):
    with open_video(sample_video) as r:
        a = next(r.chunks(4))
        b = next(r.chunks(4))
        assert torch.equal(a, b)
    assert np.array_equal(quantize(a, 8), quantize(b, 8))


def test_reader_reports_the_conversion_in_use(tmp_path, sample_video):
    with open_video(sample_video) as r:  # untagged: libswscale's BT.601 limited
        assert (r.matrix, r.full_range) == ("bt601", False)
    with open_video(sample_video, matrix="bt709", full_range=True) as r:
        assert (r.matrix, r.full_range) == ("bt709", True)
    x = _two_colours()
    for matrix, full in [("bt709", False), ("bt601", True), ("bt2020", False)]:
        path = tmp_path / f"{matrix}.mkv"
        write_video(path, [x], fps=25, pix_fmt="yuv444p", lossless=True, matrix=matrix,
                    full_range=full)
        with open_video(path) as r:
            assert (r.matrix, r.full_range) == (matrix, full)
            assert (r.read() - x).abs().max() <= 2 / 255


def test_odd_sized_yuv420_source(tmp_path, sample_video):
    """Sources with odd sizes (allowed in containers) give ceil-sized chroma and full RGB."""
    path = tmp_path / "odd.mkv"
    run_ffmpeg(["-i", sample_video, "-frames:v", "3", "-vf", "crop=175:143:0:0:exact=1",
                "-c:v", "ffv1", path])
    with open_video(path) as r:
        assert (r.info.width, r.info.height, r.info.pix_fmt) == (175, 143, "yuv420p")
        y, u, v = next(r.yuv_chunks())
        assert y.shape == (3, 143, 175) and u.shape == v.shape == (3, 72, 88)
        rgb = r.read()
    assert rgb.shape == (3, 3, 143, 175)
    fy, fu, fv = next(open_video(sample_video).yuv_chunks(3))
    assert torch.equal(y, fy[:, :143, :175])  # ffv1 is lossless: the cropped samples
    assert torch.equal(u, fu[:, :72, :88]) and torch.equal(v, fv[:, :72, :88])
    # libswscale filters chroma at odd sizes (no fast path), so RGB is close, not equal
    full = open_video(sample_video).read(3)[:, :, :143, :175]
    assert _psnr(rgb, full) > 35
