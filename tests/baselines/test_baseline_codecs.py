"""Codec settings, option checking, and the errors a user can cause (no encoding here)."""

from __future__ import annotations

import re

import pytest

from vid1d.baselines import (
    CODECS,
    BaselineSpec,
    GopConfig,
    encoder_version,
    get_codec,
    run_baselines,
)
from vid1d.baselines import codecs as codecs_mod
from vid1d.errors import ExternalToolError, InputError


def test_every_codec_is_in_the_ffmpeg_binary_and_reports_a_version():
    for name in CODECS:
        codec = get_codec(name)
        assert re.search(r"\d", encoder_version(codec)), name


def test_aliases_resolve():
    assert get_codec("libx265") is CODECS["x265"]
    assert get_codec("VVC") is CODECS["vvenc"]


def test_gop_defaults_and_validation():
    assert GopConfig.make() == GopConfig("low-delay", -1)
    assert GopConfig.make("random-access") == GopConfig("random-access", 32)
    assert GopConfig.make("random-access").gop == 32 and GopConfig.make().gop is None
    for bad in [("random-access", -1), ("low-delay", 0), ("low-delay", -5), ("intra", None)]:
        with pytest.raises(InputError):
            GopConfig.make(*bad)


def test_low_delay_options_forbid_reordering_and_extra_intra():
    gop = GopConfig.make("low-delay")
    x264 = " ".join(
        CODECS["x264"].encode_args(preset="medium", param="qp", value=22, gop=gop, frames=96)
    )
    assert "keyint=infinite" in x264 and "bframes=0" in x264 and "scenecut=0" in x264
    x265 = " ".join(
        CODECS["x265"].encode_args(preset="medium", param="crf", value=22, gop=gop, frames=96)
    )
    assert "-crf 22" in x265 and "keyint=-1" in x265 and "bframes=0" in x265
    vvc = " ".join(
        CODECS["vvenc"].encode_args(preset="faster", param="qp", value=32, gop=gop, frames=96)
    )
    assert "-b:v 0" in vvc and "PicReordering=0" in vvc and "IntraPeriod=-1" in vvc
    aom = CODECS["aom"].encode_args(preset="6", param="crf", value=35, gop=gop, frames=96)
    assert aom[aom.index("-lag-in-frames") + 1] == "0" and aom[aom.index("-g") + 1] == "96"


def test_option_errors_are_input_errors():
    x265 = CODECS["x265"]
    with pytest.raises(InputError, match="preset"):
        x265.check_preset("warp-speed")
    with pytest.raises(InputError, match="0..51"):
        x265.check_quality("qp", [22, 99])
    with pytest.raises(InputError, match="crf"):
        CODECS["vvenc"].check_quality("crf", [22])
    with pytest.raises(InputError, match="repeated"):
        x265.check_quality("qp", [22, 22])
    with pytest.raises(InputError, match="-2..13"):
        CODECS["svtav1"].check_preset("fast")
    assert CODECS["svtav1"].check_preset("08") == "8"
    with pytest.raises(InputError, match="low-delay"):
        CODECS["vvenc"].check_gop(GopConfig.make("low-delay", 16))
    with pytest.raises(InputError, match="multiple of 8"):
        CODECS["vvenc"].check_gop(GopConfig.make("random-access", 12))
    with pytest.raises(InputError, match="unknown codec"):
        get_codec("x266")
    assert BaselineSpec.parse("x265:veryslow") == BaselineSpec("x265", "veryslow")


def test_options_are_checked_before_any_work(sample_video, tmp_path):
    # a bad second spec must fail before the first codec runs (nothing written)
    with pytest.raises(InputError, match="preset"):
        run_baselines(sample_video, ["x264", "x265:nope"], frames=2, keep_dir=tmp_path / "k")
    assert not (tmp_path / "k").exists()
    with pytest.raises(InputError, match="no such file"):
        run_baselines(tmp_path / "missing.mp4", ["x264"], frames=2)
    with pytest.raises(InputError, match="only 120 frames"):
        run_baselines(sample_video, [BaselineSpec("x264", "ultrafast", "qp", (30,))], frames=121)


def test_missing_encoder_is_an_external_tool_error(monkeypatch):
    monkeypatch.setattr(codecs_mod, "available_encoders", lambda: frozenset({"libx264"}))
    assert get_codec("x264").encoder == "libx264"
    with pytest.raises(ExternalToolError, match="libvvenc is not in this ffmpeg build"):
        get_codec("vvenc")
