"""compare_videos: streamed per-frame metrics equal a whole-clip computation; length/size checks."""

from __future__ import annotations

import pytest
import torch

from vid1d.errors import InputError
from vid1d.eval import compare as compare_mod
from vid1d.eval.compare import _Lockstep, compare_videos
from vid1d.io import open_video, open_writer

W, H = 64, 48


def _clip(frames: int, seed: int) -> tuple[torch.Tensor, ...]:
    """Random 8-bit yuv420p planes (exactly representable)."""
    g = torch.Generator().manual_seed(seed)
    return tuple(
        torch.randint(0, 256, (frames, h, w), generator=g).float() / 255
        for h, w in ((H, W), (H // 2, W // 2), (H // 2, W // 2))
    )


def _write(path, planes):
    with open_writer(
        path, width=planes[0].shape[-1], height=planes[0].shape[-2], fps=25, format="y4m"
    ) as w:
        w.write_yuv(*planes)
    return path


@pytest.fixture
def pair(tmp_path):
    ref = _clip(20, 0)
    noise = _clip(20, 1)
    # distorted = reference plus a little deterministic noise, still on the 8-bit grid
    dist = tuple(
        torch.clamp(r + torch.round((n - 0.5) * 8) / 255, 0, 1)
        for r, n in zip(ref, noise, strict=True)
    )
    return _write(tmp_path / "ref.y4m", ref), _write(tmp_path / "dist.y4m", dist), ref, dist


def _psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    mse = ((a.double() - b.double()) ** 2).flatten(1).mean(1)
    return 10 * torch.log10(1 / mse)


def test_streamed_metrics_equal_whole_clip_oracle(pair, monkeypatch):
    ref_path, dist_path, ref, dist = pair
    # 3-frame chunks so that 20 frames cross several chunk boundaries
    monkeypatch.setattr(compare_mod, "_CHUNK_BYTES", 3 * 3 * 4 * W * H)
    res = compare_videos(ref_path, dist_path, metrics=("psnr", "psnr_yuv", "ms_ssim"))
    assert res["frames"] == 20 and (res["width"], res["height"]) == (W, H)
    for k, (a, b) in zip("yuv", zip(ref, dist, strict=True), strict=True):
        oracle = _psnr(a, b)
        assert res["per_frame"][f"psnr_{k}"] == pytest.approx(oracle.tolist(), abs=1e-5)
    y, u, v = (torch.tensor(res["per_frame"][f"psnr_{k}"]) for k in "yuv")
    assert res["per_frame"]["psnr_yuv"] == pytest.approx(((6 * y + u + v) / 8).tolist())
    with open_video(ref_path) as r, open_video(dist_path) as d:
        rgb_r, rgb_d = r.read(), d.read()
    oracle_rgb = _psnr(rgb_r.transpose(0, 1), rgb_d.transpose(0, 1))
    assert res["per_frame"]["psnr_rgb"] == pytest.approx(oracle_rgb.tolist(), abs=1e-4)
    assert res["mean"]["psnr_rgb"] == pytest.approx(float(oracle_rgb.mean()), abs=1e-4)
    assert 0 < res["mean"]["ms_ssim"] < 1 and len(res["per_frame"]["ms_ssim"]) == 20
    assert "4 scales" not in res["metric_versions"]["ms_ssim"]  # 48 px: fewer than 4 scales fit


def test_identical_videos_and_vmaf(pair):
    ref_path = pair[0]
    res = compare_videos(ref_path, ref_path, metrics=("psnr", "vmaf"), max_frames=5)
    assert res["frames"] == 5 and res["per_frame"]["psnr_rgb"] == [100.0] * 5
    assert len(res["per_frame"]["vmaf"]) == 5
    assert res["metric_versions"]["vmaf"].startswith("libvmaf")


def test_frame_count_mismatch_is_an_error_unless_max_frames(tmp_path, pair):
    ref_path = pair[0]
    short = _write(tmp_path / "short.y4m", tuple(p[:13] for p in pair[2]))
    with pytest.raises(InputError, match="reference has 20 frames, distorted 13"):
        compare_videos(ref_path, short, metrics=("psnr",))
    res = compare_videos(ref_path, short, metrics=("psnr", "psnr_yuv"), max_frames=50)
    assert res["frames"] == 13 and res["per_frame"]["psnr_y"] == [100.0] * 13


def test_size_mismatch_and_bad_metric(tmp_path, pair):
    other = tmp_path / "small.y4m"
    with open_writer(other, width=32, height=32, fps=25, format="y4m") as w:
        w.write(torch.zeros(3, 2, 32, 32))
    with pytest.raises(InputError, match="frame sizes differ"):
        compare_videos(pair[0], other)
    with pytest.raises(InputError, match="unknown metric"):
        compare_videos(pair[0], pair[1], metrics=("psnr", "lpips2"))
    with pytest.raises(InputError, match="no such file"):
        compare_videos(tmp_path / "nope.y4m", pair[1])


def test_lockstep_realigns_uneven_chunks_and_counts_frames():
    a = iter(
        [torch.arange(3).view(1, 3), torch.arange(3, 6).view(1, 3), torch.arange(6, 8).view(1, 2)]
    )
    b = iter([torch.arange(4).view(1, 4), torch.arange(4, 8).view(1, 4)])
    pairs = _Lockstep(a, b, exact=True)
    got = [(x.tolist(), y.tolist()) for x, y in pairs]
    assert all(x == y for x, y in got) and sum(len(x[0]) for x, _ in got) == 8
    assert pairs.frames == 8
    a = iter([torch.zeros(1, 4), torch.zeros(1, 4)])
    b = iter([torch.zeros(1, 3)])
    with pytest.raises(InputError, match="reference has 8 frames, distorted 3"):
        list(_Lockstep(a, b, exact=True))


def test_identical_planes_in_different_containers_are_identical(sample_video, tmp_path):
    """mp4 (untagged, BT.601 by libswscale's rule) vs a Y4M copy of its planes: one RGB
    conversion is used for both, so RGB PSNR is the lossless cap, not ~46 dB."""
    copy = tmp_path / "copy.y4m"
    with (
        open_video(sample_video) as r,
        open_writer(copy, width=176, height=144, fps=r.info.fps, format="y4m") as w,
    ):
        for planes in r.yuv_chunks(8, 10):
            w.write_yuv(*planes)
    res = compare_videos(sample_video, copy, metrics=("psnr", "psnr_yuv"), max_frames=10)
    assert res["rgb_conversion"] == {"matrix": "bt601", "full_range": False}
    assert res["per_frame"]["psnr_rgb"] == [100.0] * 10
    assert res["mean"]["psnr_yuv"] == 100.0


def test_raw_yuv_named_by_size_works_with_vmaf(pair, tmp_path):
    ref = pair[2]
    raw = tmp_path / f"clip_{W}x{H}_25.yuv"
    with open_writer(raw, width=W, height=H, fps=25, format="yuv") as w:
        w.write_yuv(*ref)
    res = compare_videos(pair[0], raw, metrics=("psnr_yuv", "vmaf"), max_frames=4)
    assert res["frames"] == 4 and res["per_frame"]["psnr_y"] == [100.0] * 4
    assert len(res["per_frame"]["vmaf"]) == 4


def test_stlpips_streamed_equals_whole_clip(pair, stlpips_weights, monkeypatch):
    ref_path, dist_path, _, _ = pair
    monkeypatch.setattr(compare_mod, "_CHUNK_BYTES", 3 * 3 * 4 * W * H)  # 3-frame chunks
    monkeypatch.setattr(compare_mod, "_PERCEPTUAL_PIXELS", 2 * 2 * W * H)  # 2-frame batches
    res = compare_videos(ref_path, dist_path, metrics=("psnr", "stlpips"))
    with open_video(ref_path) as r, open_video(dist_path) as d:
        a, b = r.read().transpose(0, 1), d.read().transpose(0, 1)
    with torch.no_grad():
        oracle = stlpips_weights(a, b)
    assert res["per_frame"]["stlpips"] == pytest.approx(oracle.tolist(), rel=1e-4, abs=1e-7)
    assert res["mean"]["stlpips"] > 0
    assert res["metric_versions"]["stlpips"].startswith("vid1d ST-LPIPS-alex vST0.0 sha256:")
    same = compare_videos(ref_path, ref_path, metrics=("stlpips",))
    assert same["mean"]["stlpips"] == 0.0


def test_stlpips_without_weights_fails_before_reading(tmp_path, no_stlpips_weights):
    with pytest.raises(InputError, match="vid1d weights fetch stlpips-alex"):
        compare_videos(tmp_path / "missing.y4m", tmp_path / "missing2.y4m", metrics=("stlpips",))
