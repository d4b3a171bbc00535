"""benchmarks/onedva_eval.py: the evaluation clips at the two scales."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vid1d.io import open_video, open_writer


def _video(path, T=20, H=96, W=160):
    torch.manual_seed(0)
    frames = torch.rand(3, T, H, W)
    with open_writer(path, width=W, height=H, fps=25, pix_fmt="yuv444p") as w:
        w.write(frames)


def test_native_clips_are_centre_crops_and_cover_clips_are_downscaled_frames(load_benchmark, tmp_path):
    ev = load_benchmark("onedva_eval")
    _video(tmp_path / "a.y4m")
    with open_video(tmp_path / "a.y4m") as r:
        full = next(r.chunks(17, 17))  # (3, 17, 96, 160): the first clip as decoded
    native = ev.load_clips(tmp_path, per_video=1, scale="native")
    cover = ev.load_clips(tmp_path, per_video=1)
    assert len(native) == len(cover) == 1 and native[0]["name"] == "a.y4m#0"
    assert native[0]["video"].shape == cover[0]["video"].shape == (3, 17, 64, 112)
    # native: the pixels of the frame's centre, unscaled
    torch.testing.assert_close(native[0]["video"], full[:, :, 16:80, 24:136].clamp(0, 1))
    # cover: the whole frame area-scaled by 112/160 (to 67×112), then its centre rows
    small = F.interpolate(full.transpose(0, 1), size=(67, 112), mode="area").transpose(0, 1)
    torch.testing.assert_close(cover[0]["video"], small[:, :, 1:65].clamp(0, 1))


def test_native_scales_up_only_frames_smaller_than_the_crop(load_benchmark, tmp_path):
    ev = load_benchmark("onedva_eval")
    _video(tmp_path / "small.y4m", H=48, W=80)
    clip = ev.load_clips(tmp_path, per_video=1, scale="native")[0]["video"]
    assert clip.shape == (3, 17, 64, 112)
