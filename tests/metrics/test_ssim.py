"""SSIM / MS-SSIM against the pytorch_msssim oracle, and the small-frame policy."""

from __future__ import annotations

import pytest
import pytorch_msssim
import torch
import torch.nn.functional as F

from vid1d.errors import InputError
from vid1d.metrics import MS_SSIM_WEIGHTS, clip_to_frames, ms_ssim, ms_ssim_scales, ssim


def smooth_pair(n: int, h: int, w: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Random smooth images (upsampled noise) and a noisy, slightly shifted copy."""
    g = torch.Generator().manual_seed(seed)
    x = F.interpolate(torch.rand(n, 3, h // 8 + 1, w // 8 + 1, generator=g), size=(h, w),
                      mode="bicubic", align_corners=False).clamp(0, 1)
    y = (0.9 * x + 0.05 + 0.04 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    return x, y


def oracle(fn, x, y, **kw):
    return fn(x, y, data_range=1.0, size_average=False, **kw)


@pytest.mark.parametrize("shape, seed", [((2, 176, 200), 0), ((1, 161, 161), 1), ((2, 190, 257), 2)])
def test_matches_pytorch_msssim_on_random_smooth_images(shape, seed):
    x, y = smooth_pair(*shape, seed=seed)
    assert torch.allclose(ssim(x, y), oracle(pytorch_msssim.ssim, x, y), atol=1e-4)
    ours, scales = ms_ssim(x, y, return_scales=True)
    assert scales == 5
    assert torch.allclose(ours, oracle(pytorch_msssim.ms_ssim, x, y), atol=1e-4)
    assert ours.shape == (shape[0],)


def test_matches_pytorch_msssim_on_natural_frames(sample_frames):
    x = sample_frames[:4]
    y = sample_frames[1:5]  # the next frame: natural motion as the distortion
    assert torch.allclose(ssim(x, y), oracle(pytorch_msssim.ssim, x, y), atol=1e-4)
    # 5 scales need a side > 160: upsample the QCIF frames 2x (352x288)
    x2, y2 = (F.interpolate(t, scale_factor=2, mode="bilinear") for t in (x, y))
    assert torch.allclose(ms_ssim(x2, y2), oracle(pytorch_msssim.ms_ssim, x2, y2), atol=1e-4)
    assert (ms_ssim(x2, y2) < 1).all()


def test_explicit_fewer_weights_match_oracle():
    """M < 5 weights run M scales, exactly as pytorch_msssim does."""
    x, y = smooth_pair(2, 161, 170, seed=3)
    w = [0.2, 0.3, 0.5]
    assert torch.allclose(ms_ssim(x, y, weights=w), oracle(pytorch_msssim.ms_ssim, x, y, weights=w),
                          atol=1e-4)


def test_small_frames_use_fewer_scales_with_renormalized_weights(sample_frames):
    x, y = sample_frames[:3], sample_frames[1:4]  # 176x144: too small for 5 scales
    score, scales = ms_ssim(x, y, return_scales=True)
    assert scales == 4
    w4 = torch.tensor(MS_SSIM_WEIGHTS[:4])
    explicit = ms_ssim(x, y, weights=(w4 / w4.sum()).tolist())
    assert torch.allclose(score, explicit, atol=1e-7)
    assert ((score > 0) & (score < 1)).all()
    with pytest.raises(InputError, match="too small for 5 scales"):
        ms_ssim(x, y, small="error")


def test_scale_count_rule():
    assert ms_ssim_scales(161, 500) == 5
    assert ms_ssim_scales(160, 500) == 4
    assert ms_ssim_scales(144, 176) == 4
    assert ms_ssim_scales(81, 81) == 4
    assert ms_ssim_scales(80, 81) == 3
    assert ms_ssim_scales(20, 20) == 1
    assert ms_ssim_scales(10, 100) == 0
    assert ms_ssim_scales(500, 500, max_scales=3) == 3
    # every supported count really runs with valid 11x11 windows down to the coarsest scale
    for side in (11, 21, 41, 81, 161):
        x, y = smooth_pair(1, side, side, seed=side)
        _, scales = ms_ssim(x, y, return_scales=True)
        assert scales == ms_ssim_scales(side, side)


def test_identical_is_one_and_deterministic(sample_frames):
    x = sample_frames[:2]
    assert torch.allclose(ssim(x, x), torch.ones(2), atol=1e-6)
    assert torch.allclose(ms_ssim(x, x), torch.ones(2), atol=1e-6)
    y = sample_frames[2:4]
    assert torch.equal(ms_ssim(x, y), ms_ssim(x, y))
    # per frame: a batch gives the same scores as frames one at a time
    one_by_one = torch.cat([ms_ssim(x[i : i + 1], y[i : i + 1]) for i in range(2)])
    assert torch.allclose(ms_ssim(x, y), one_by_one, atol=1e-6)


def test_float64_and_clip_input(sample_frames):
    x, y = sample_frames[:2], sample_frames[2:4]
    s64 = ssim(x.double(), y.double())
    assert s64.dtype == torch.float64
    assert torch.allclose(s64.float(), ssim(x, y), atol=1e-5)
    clip_x, clip_y = x.permute(1, 0, 2, 3), y.permute(1, 0, 2, 3)  # (C, T, H, W)
    assert torch.allclose(ssim(clip_to_frames(clip_x), clip_to_frames(clip_y)), ssim(x, y))


def test_errors():
    x = torch.rand(1, 3, 10, 40)
    with pytest.raises(InputError, match="at least 11"):
        ssim(x, x)
    with pytest.raises(InputError, match="at least 11"):
        ms_ssim(x, x)
    y = torch.rand(1, 3, 20, 20)
    with pytest.raises(InputError, match="weights"):
        ms_ssim(y, y, weights=[])
    with pytest.raises(InputError, match="weights"):
        ms_ssim(y, y, weights=[0.5, -0.5])
    with pytest.raises(InputError, match="small"):
        ms_ssim(y, y, small="pad")
    with pytest.raises(InputError, match="shapes differ"):
        ssim(y, y[..., :-1])


def test_differentiable_for_training_losses():
    x, y = smooth_pair(2, 48, 48, seed=7)
    x.requires_grad_(True)
    (1 - ms_ssim(x, y)).mean().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
