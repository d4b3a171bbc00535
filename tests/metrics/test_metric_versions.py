"""metric_versions: what every result file records about how each number was made."""

from __future__ import annotations

import json

import pytest

from vid1d import __version__
from vid1d.errors import InputError
from vid1d.metrics import metric_versions
from vid1d.utils.ffmpeg import ffmpeg_version


def test_always_present_and_json_serializable():
    v = metric_versions()
    assert v["vid1d"] == __version__
    assert {"psnr", "psnr_yuv", "ssim", "ms_ssim"} <= set(v)
    assert "vmaf" not in v and "lpips" not in v and "dists" not in v and "bd" not in v
    assert "100 dB" in v["psnr"] and "(6y+u+v)/8" in v["psnr_yuv"]
    json.dumps(v)


def test_records_ms_ssim_scales_vmaf_and_bd():
    assert "5 scales," in metric_versions(ms_ssim_scales=5)["ms_ssim"]
    assert "4 scales, renormalized" in metric_versions(ms_ssim_scales=4)["ms_ssim"]
    v = metric_versions(vmaf=True, bd_method="pchip")
    assert v["vmaf"] == f"libvmaf vmaf_v0.6.1 via ffmpeg {ffmpeg_version()}"
    assert "PCHIP" in v["bd"] and "JVET" in v["bd"]
    assert "VCEG-M33" in metric_versions(bd_method="cubic")["bd"]
    with pytest.raises(InputError, match="unknown BD method"):
        metric_versions(bd_method="akima")
