"""PSNR: closed-form values, the all-channel MSE convention, the cap, YUV 6:1:1 vs ffmpeg."""

from __future__ import annotations

import json
import math
import re

import pytest
import torch

from vid1d.errors import InputError
from vid1d.metrics import PSNR_MAX_DB, clip_to_frames, mse, psnr, psnr_yuv
from vid1d.utils.ffmpeg import run_ffmpeg


def test_closed_form_value():
    x = torch.zeros(2, 3, 8, 8)
    y = torch.full_like(x, 0.1)
    y[1] = 0.01
    assert torch.allclose(psnr(x, y), torch.tensor([20.0, 40.0], dtype=torch.float64))
    assert torch.allclose(mse(x, y), torch.tensor([0.01, 1e-4], dtype=torch.float64))


def test_mse_is_over_all_channels_not_mean_of_channel_psnrs():
    x = torch.zeros(1, 3, 4, 4)
    y = x.clone()
    y[:, 0] = 0.3  # only red differs: MSE = 0.09 / 3
    assert psnr(x, y).item() == pytest.approx(10 * math.log10(1 / 0.03))


def test_data_range_scales():
    torch.manual_seed(0)
    x, y = torch.rand(3, 3, 16, 16), torch.rand(3, 3, 16, 16)
    assert torch.allclose(psnr(x, y), psnr(x * 255, y * 255, data_range=255))


def test_identical_frames_are_capped_not_inf():
    x = torch.rand(4, 3, 8, 8)
    p = psnr(x, x.clone())
    assert torch.equal(p, torch.full((4,), PSNR_MAX_DB, dtype=torch.float64))
    json.dumps(p.tolist(), allow_nan=False)  # serializable, no inf
    # a lossy but tiny error stays below the cap, and the cap is configurable
    y = x.clone()
    y[0, 0, 0, 0] += 1 / 255
    assert psnr(x, y)[0] < PSNR_MAX_DB
    assert psnr(x, x, max_db=60.0)[0].item() == 60.0


def test_per_frame_and_clip_helper():
    torch.manual_seed(1)
    clip = torch.rand(3, 5, 12, 10)  # (C, T, H, W)
    noisy = (clip + 0.05 * torch.randn_like(clip)).clamp(0, 1)
    frames = clip_to_frames(clip)
    assert frames.shape == (5, 3, 12, 10)
    assert torch.equal(frames[2], clip[:, 2])
    per_frame = psnr(frames, clip_to_frames(noisy))
    for t in range(5):
        assert per_frame[t] == psnr(clip[:, t], noisy[:, t])[0]  # (C, H, W) = one frame
    batch = torch.stack([clip, noisy])  # (B, C, T, H, W) -> (B*T, ...) clip-major
    assert torch.equal(clip_to_frames(batch)[5:], clip_to_frames(noisy))


def test_yuv_611_weighting():
    shape = (2, 8, 8), (2, 4, 4), (2, 4, 4)
    ref = tuple(torch.zeros(s) for s in shape)
    dist = (torch.full(shape[0], 0.1), torch.full(shape[1], 10**-1.5), torch.full(shape[2], 0.01))
    out = psnr_yuv(ref, dist)
    assert torch.allclose(out["y"], torch.tensor([20.0, 20.0], dtype=torch.float64))
    assert torch.allclose(out["u"], torch.tensor([30.0, 30.0], dtype=torch.float64))
    assert torch.allclose(out["v"], torch.tensor([40.0, 40.0], dtype=torch.float64))
    assert torch.allclose(out["yuv"], torch.tensor([(6 * 20 + 30 + 40) / 8] * 2, dtype=torch.float64))
    # (N, 1, H, W) planes are accepted too; identical planes hit the cap in every entry
    same = psnr_yuv(tuple(p.unsqueeze(1) for p in ref), tuple(p.unsqueeze(1) for p in ref))
    assert all(torch.all(v == PSNR_MAX_DB) for v in same.values())


def test_yuv_matches_ffmpeg_psnr_filter(sample_video, yuv_decoder, tmp_path, monkeypatch):
    lo = tmp_path / "lo.mp4"
    run_ffmpeg(["-i", sample_video, "-frames:v", "4", "-c:v", "libx264", "-crf", "40", lo])
    stats = tmp_path / "psnr.log"
    graph = ("[0:v]settb=1/100,setpts=N[d];[1:v]trim=end_frame=4,settb=1/100,setpts=N[r];"
             f"[d][r]psnr=stats_file={stats.name}")
    monkeypatch.chdir(tmp_path)  # a bare stats file name needs no filtergraph escaping
    run_ffmpeg(["-i", lo, "-i", sample_video, "-filter_complex", graph, "-f", "null", "-"])
    lines = stats.read_text().splitlines()
    ours = psnr_yuv(yuv_decoder(sample_video, 4), yuv_decoder(lo, 4))
    assert len(lines) == 4
    for i, line in enumerate(lines):
        ref = {k: float(v) for k, v in re.findall(r"psnr_([yuv]):([\d.]+)", line)}
        for plane in "yuv":
            assert ours[plane][i].item() == pytest.approx(ref[plane], abs=0.006)


@pytest.mark.parametrize(
    "x, y, msg",
    [
        (torch.rand(1, 3, 4, 4), torch.rand(1, 3, 4, 5), "shapes differ"),
        (torch.zeros(1, 3, 4, 4, dtype=torch.uint8), torch.zeros(1, 3, 4, 4, dtype=torch.uint8),
         "float"),
        (torch.rand(1, 3, 2, 4, 4), torch.rand(1, 3, 2, 4, 4), "clip_to_frames"),
        (torch.rand(0, 3, 4, 4), torch.rand(0, 3, 4, 4), "empty"),
    ],
)
def test_bad_inputs(x, y, msg):
    with pytest.raises(InputError, match=msg):
        psnr(x, y)


def test_bad_options():
    x = torch.rand(1, 3, 4, 4)
    with pytest.raises(InputError, match="data_range"):
        psnr(x, x, data_range=0)
    with pytest.raises(InputError, match="Y, U, V"):
        psnr_yuv((x, x), (x, x))
    with pytest.raises(InputError, match="plane u"):
        psnr_yuv((x[:, 0], x, x[:, 0]), (x[:, 0], x, x[:, 0]))
    with pytest.raises(InputError, match="clip_to_frames expects"):
        clip_to_frames(torch.rand(3, 4, 4))
