"""Colour conversion against ITU-R reference values, round trips, 4:2:0 resampling, ffmpeg."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import torch

from vid1d.errors import InputError
from vid1d.io import (
    downsample_420,
    open_video,
    open_writer,
    planes_to_rgb,
    quantize,
    rgb_to_ycbcr,
    upsample_420,
    ycbcr_to_rgb,
)
from vid1d.utils.ffmpeg import run_ffmpeg

COLOURS = {  # R'G'B' primaries and extremes
    "white": (1.0, 1.0, 1.0), "black": (0.0, 0.0, 0.0),
    "red": (1.0, 0.0, 0.0), "green": (0.0, 1.0, 0.0), "blue": (0.0, 0.0, 1.0),
}

# 8-bit Y'CbCr from the ITU-R BT.709-6 / BT.601-7 definitions (limited range) and JFIF
# (BT.601 full range; Cr of red and Cb of blue are 255.5 before clipping).
REFERENCE = {
    ("bt709", False): {"white": (235, 128, 128), "black": (16, 128, 128), "red": (63, 102, 240),
                       "green": (173, 42, 26), "blue": (32, 240, 118)},
    ("bt601", False): {"white": (235, 128, 128), "black": (16, 128, 128), "red": (81, 90, 240),
                       "green": (145, 54, 34), "blue": (41, 240, 110)},
    ("bt601", True): {"white": (255, 128, 128), "black": (0, 128, 128), "red": (76, 85, 255),
                      "green": (150, 44, 21), "blue": (29, 255, 107)},
    ("bt709", True): {"white": (255, 128, 128), "black": (0, 128, 128), "red": (54, 99, 255),
                      "green": (182, 30, 12), "blue": (18, 255, 116)},
}


def _pixel(rgb) -> torch.Tensor:
    return torch.tensor(rgb, dtype=torch.float32).view(3, 1, 1)


@pytest.mark.parametrize("matrix,full", list(REFERENCE))
def test_reference_values_8bit(matrix, full):
    for name, rgb in COLOURS.items():
        ycc = quantize(rgb_to_ycbcr(_pixel(rgb), matrix, full), 8).reshape(3)
        assert tuple(int(v) for v in ycc) == REFERENCE[(matrix, full)][name], name


def test_reference_values_10bit_limited():
    white = quantize(rgb_to_ycbcr(_pixel(COLOURS["white"]), "bt709", bit_depth=10), 10).reshape(3)
    black = quantize(rgb_to_ycbcr(_pixel(COLOURS["black"]), "bt709", bit_depth=10), 10).reshape(3)
    red = quantize(rgb_to_ycbcr(_pixel(COLOURS["red"]), "bt709", bit_depth=10), 10).reshape(3)
    assert white.tolist() == [940, 512, 512]
    assert black.tolist() == [64, 512, 512]
    assert red.tolist() == [250, 409, 960]  # BT.709-6 table, 10-bit


@pytest.mark.parametrize("matrix", ["bt709", "bt601", "bt2020"])
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("bits", [8, 10])
def test_float_round_trip(matrix, full, bits):
    x = torch.rand(2, 3, 5, 7, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    y = ycbcr_to_rgb(rgb_to_ycbcr(x, matrix, full, bit_depth=bits), matrix, full,
                     bit_depth=bits, clamp=False)
    assert torch.allclose(x, y, atol=1e-12)
    x32 = x.float()
    y32 = ycbcr_to_rgb(rgb_to_ycbcr(x32, matrix, full, bit_depth=bits), matrix, full, bit_depth=bits)
    assert (x32 - y32).abs().max() < 1e-5


def test_luma_of_grey_and_primaries_sum():
    """Y' of any grey is the grey level; Kr + Kg + Kb = 1 for every matrix."""
    grey = torch.full((3, 2, 2), 0.4)
    for matrix in ("bt709", "bt601", "bt2020"):
        ycc = rgb_to_ycbcr(grey, matrix, full_range=True)
        assert torch.allclose(ycc[0], torch.full((2, 2), 0.4))
        assert torch.allclose(ycc[1:], torch.full((2, 2, 2), 128 / 255))


def test_channel_dim_for_clips():
    clip = torch.rand(3, 4, 6, 8)  # (C, T, H, W)
    by_dim0 = rgb_to_ycbcr(clip, dim=0)
    by_frames = rgb_to_ycbcr(clip.permute(1, 0, 2, 3)).permute(1, 0, 2, 3)
    assert torch.allclose(by_dim0, by_frames, atol=1e-6)
    with pytest.raises(InputError):
        rgb_to_ycbcr(torch.rand(4, 6, 8))
    with pytest.raises(InputError):
        rgb_to_ycbcr(clip, matrix="bt2100-pq")


def test_downsample_is_box_average():
    c = torch.tensor([[1.0, 3.0, 10.0, 20.0], [5.0, 7.0, 30.0, 40.0]])
    assert downsample_420(c).tolist() == [[4.0, 25.0]]
    odd = torch.rand(2, 5, 7)
    d = downsample_420(odd)
    assert d.shape == (2, 3, 4)
    # the odd last column/row is replicated, i.e. averaged with itself
    assert torch.allclose(d[:, 2, 3], odd[:, 4, 6])
    assert torch.allclose(d[:, 0, 3], (odd[:, 0, 6] + odd[:, 1, 6]) / 2)


def test_nearest_upsample_then_downsample_is_identity():
    c = torch.rand(3, 4, 6)
    up = upsample_420(c, (8, 12))
    assert up.shape == (3, 8, 12)
    assert torch.equal(downsample_420(up), c)


def test_bilinear_upsample_is_centre_sited():
    # chroma sample i sits between luma samples 2i and 2i+1 (position 2i + 0.5), so a
    # linear ramp over chroma must come back as the same ramp at the interior luma positions
    ramp = torch.arange(6.0).view(1, 6).expand(4, 6)
    up = upsample_420(ramp, (8, 12), mode="bilinear")
    luma_pos = torch.arange(12.0)
    expected = (luma_pos - 0.5) / 2
    assert torch.allclose(up[3, 1:-1], expected[1:-1], atol=1e-6)
    assert torch.allclose(upsample_420(torch.full((2, 3), 0.3), (4, 6), "bilinear"),
                          torch.full((4, 6), 0.3))


def test_upsample_nearest_odd_size_and_errors():
    c = torch.arange(6.0).view(2, 3)
    up = upsample_420(c, (3, 5))
    assert up.tolist() == [[0, 0, 1, 1, 2], [0, 0, 1, 1, 2], [3, 3, 4, 4, 5]]
    with pytest.raises(InputError):
        upsample_420(c, (6, 6))
    with pytest.raises(InputError):
        upsample_420(c, (4, 6), mode="bicubic")


def test_quantize_rounds_clamps_and_rejects_nan():
    x = torch.tensor([-0.2, 0.0, 0.5 / 255, 1.4 / 255, 1.6 / 255, 1.0, 3.0])
    assert quantize(x, 8).tolist() == [0, 0, 0, 1, 2, 255, 255]
    q10 = quantize(torch.tensor([1.0, 0.5]), 10)
    assert q10.dtype == np.dtype("<u2") and q10.tolist() == [1023, 512]
    with pytest.raises(InputError):
        quantize(torch.tensor([float("nan")]), 8)


def _psnr_u8(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = ((a.double() - b.double()) ** 2).mean().item()
    return 10 * np.log10(255.0**2 / mse)


def test_yuv420_to_rgb_matches_ffmpeg(tmp_path, smooth_rgb):
    """Nearest up-sampling + BT.601 limited is what ffmpeg does for untagged yuv420p -> rgb24."""
    x = smooth_rgb(4, 48, 64)  # saturated colours, so a wrong matrix shows
    path = tmp_path / "clip.y4m"
    with open_writer(path, width=64, height=48, fps=30, matrix="bt601") as w:
        w.write(x)
    raw = run_ffmpeg(["-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]).stdout
    ref = torch.from_numpy(np.frombuffer(raw, np.uint8).reshape(4, 48, 64, 3).copy())
    ref = ref.permute(3, 0, 1, 2)
    with open_video(path, matrix="bt601") as r:
        ours = torch.from_numpy(quantize(r.read(), 8))
        planes = next(r.yuv_chunks())
    assert (ours.int() - ref.int()).abs().max() <= 3  # libswscale's fixed-point rounding
    assert _psnr_u8(ours, ref) > 45
    # the alternatives are measurably further from ffmpeg, so this test can fail
    bilinear = quantize(planes_to_rgb(*planes, chroma="420", matrix="bt601", upsample="bilinear"), 8)
    assert _psnr_u8(torch.from_numpy(bilinear), ref) < _psnr_u8(ours, ref) - 5
    with open_video(path, matrix="bt709") as r:
        wrong = torch.from_numpy(quantize(r.read(), 8))
    assert (wrong.int() - ref.int()).abs().max() > 10


def test_ffmpeg_binary_runs():
    assert isinstance(run_ffmpeg(["-version"]), subprocess.CompletedProcess)
