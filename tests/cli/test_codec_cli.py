"""encode / decode / info / explain / eval through the CLI on a random tiny GVC1D."""

from __future__ import annotations

import json

import pytest
import torch

from vid1d.cli.main import main
from vid1d.models.checkpoint import save_checkpoint
from vid1d.models.gvc1d import GVC1D, PRESETS
from vid1d.utils.config import config_to_dict


@pytest.fixture()
def model_id(tmp_path, monkeypatch):
    monkeypatch.setenv("VID1D_MODELS", str(tmp_path / "models"))
    torch.manual_seed(0)
    model = GVC1D(PRESETS["tiny"])
    save_checkpoint(tmp_path / "models" / "gvc1d-cli-test", model.state_dict(), model_type="gvc1d",
                    config=config_to_dict(PRESETS["tiny"]), extra={"id": "gvc1d-cli-test"})
    return "gvc1d-cli-test"


def test_encode_decode_info(tmp_path, sample_video, model_id, capsys):
    stream = tmp_path / "a.v1d"
    assert main(["encode", str(sample_video), "-o", str(stream), "--model", model_id,
                 "--frames", "2", "--quality", "5"]) == 0
    assert "bpp" in capsys.readouterr().out
    assert main(["decode", str(stream), "-o", str(tmp_path / "rec.y4m")]) == 0
    assert main(["info", str(tmp_path / "rec.y4m")]) == 0
    assert "176x144" in capsys.readouterr().out and (tmp_path / "rec.y4m").stat().st_size > 0
    assert main(["info", str(stream)]) == 0
    out = capsys.readouterr().out
    assert "gvc1d-cli-test" in out and "frame_count: 2" in out


def test_cli_errors_are_one_line(tmp_path, sample_video, model_id, capsys):
    stream = tmp_path / "a.v1d"
    cases = [
        ["encode", str(tmp_path / "missing.mp4"), "-o", str(stream), "--model", model_id],
        ["encode", str(sample_video), "-o", str(stream), "--model", "no-such-model"],
        ["encode", str(sample_video), "-o", str(sample_video), "--model", model_id],
        ["encode", str(sample_video), "-o", str(stream), "--model", model_id, "--quality", "99"],
        ["decode", str(sample_video), "-o", str(tmp_path / "x.y4m")],
    ]
    for argv in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "error" in err, err
    assert not stream.exists()


def test_truncated_stream_decode_fails_cleanly(tmp_path, sample_video, model_id, capsys):
    stream = tmp_path / "a.v1d"
    main(["encode", str(sample_video), "-o", str(stream), "--model", model_id, "--frames", "2"])
    data = stream.read_bytes()
    stream.write_bytes(data[: len(data) - 7])
    out = tmp_path / "rec.y4m"
    assert main(["decode", str(stream), "-o", str(out)]) == 2
    assert "truncated" in capsys.readouterr().err
    assert not out.exists()


def test_explain_writes_png(tmp_path, sample_video, model_id):
    png = tmp_path / "outflow.png"
    assert main(["explain", str(sample_video), "-o", str(png), "--model", model_id,
                 "--frames", "2", "--crop", "48", "--tokens", "0,1"]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_eval_learned_and_classic(tmp_path, sample_video, model_id):
    out = tmp_path / "eval"
    assert main(["eval", str(sample_video), "--codecs", f"{model_id},x264", "--frames", "2",
                 "--qualities", "0,2,5,7", "--no-vmaf", "-o", str(out), "--anchor", "x264"]) == 0
    rd = json.loads((out / f"carphone_pristine__{model_id}.json").read_text())
    assert rd["codec"]["kind"] == "learned" and len(rd["points"]) == 4
    for p in rd["points"]:
        assert p["bpp"] == pytest.approx(8 * p["bytes"] / (176 * 144 * 2))
        # the metrics of the decoded file equal what the encoder reconstructed (8-bit rounding)
        assert abs(p["psnr_rgb"] - p["encoder_psnr_rgb"]) < 0.05
    assert (out / "carphone_pristine__rd_psnr_rgb.png").exists()
    assert "Complexity" in (out / "report.md").read_text()
