"""tokenize / detokenize through the CLI on a random tiny One-DVA."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from vid1d.cli.main import main
from vid1d.io import open_video
from vid1d.models.checkpoint import save_checkpoint
from vid1d.models.onedva import PRESETS, OneDVA
from vid1d.utils.config import config_to_dict

CFG = dataclasses.replace(PRESETS["tiny"], max_queries=128, perceptual="", repa="")


@pytest.fixture()
def model_id(tmp_path, monkeypatch):
    monkeypatch.setenv("VID1D_MODELS", str(tmp_path / "models"))
    torch.manual_seed(0)
    model = OneDVA(CFG)
    model.motion.update(torch.tensor([0.01, 0.05]))  # statistics for the adaptive length
    save_checkpoint(tmp_path / "models" / "onedva-cli-test", model.state_dict(), model_type="onedva",
                    config=config_to_dict(CFG), extra={"id": "onedva-cli-test"})
    return "onedva-cli-test"


def test_tokenize_detokenize_round_trip(tmp_path, sample_video, model_id, capsys):
    tok = tmp_path / "t.safetensors"
    assert main(["tokenize", str(sample_video), "-o", str(tok), "--model", model_id,
                 "--frames", "7", "--clip-frames", "5", "--length", "0.5"]) == 0
    assert "2 clips" in capsys.readouterr().out
    with safe_open(str(tok), framework="pt") as f:
        meta = f.metadata()
        assert meta["frames"] == "7" and meta["clips"] == "2" and meta["model"] == model_id
        # clip 0: 5 frames -> 1·9·11 = 99 1D latents, half kept; clip 1: 2 frames -> 99, half
        assert f.get_tensor("clip00000.oned").shape == (50, 4)
        assert f.get_tensor("clip00000.struct").shape == (99, 4)
    rec = tmp_path / "rec.y4m"
    assert main(["detokenize", str(tok), "-o", str(rec), "--steps", "2"]) == 0
    with open_video(rec) as r:
        assert (r.info.width, r.info.height, r.info.num_frames) == (176, 144, 7)
    again = tmp_path / "again.y4m"
    assert main(["detokenize", str(tok), "-o", str(again), "--steps", "2"]) == 0
    assert again.read_bytes() == rec.read_bytes()  # seeded: the same tokens decode the same


def test_adaptive_and_budget_lengths(tmp_path, sample_video, model_id):
    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    assert main(["tokenize", str(sample_video), "-o", str(a), "--model", model_id,
                 "--frames", "5", "--clip-frames", "5", "--length", "adaptive"]) == 0
    assert main(["tokenize", str(sample_video), "-o", str(b), "--model", model_id,
                 "--frames", "5", "--clip-frames", "5", "--budget", "7"]) == 0
    with safe_open(str(b), framework="pt") as f:
        assert f.get_tensor("clip00000.oned").shape == (7, 4)
    with safe_open(str(a), framework="pt") as f:
        assert f.metadata()["length_mode"] == "adaptive"


def test_bad_inputs_are_one_line_errors(tmp_path, sample_video, model_id, capsys):
    tok = tmp_path / "t.safetensors"
    main(["tokenize", str(sample_video), "-o", str(tok), "--model", model_id, "--frames", "5",
          "--clip-frames", "5"])
    capsys.readouterr()
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(tok.read_bytes()[:100])
    with safe_open(str(tok), framework="pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}
        meta = dict(f.metadata())
    wrong_shape = tmp_path / "wrong.safetensors"
    save_file({**tensors, "clip00000.struct": torch.zeros(3, 4)}, str(wrong_shape), metadata=meta)
    lying = tmp_path / "lying.safetensors"
    save_file(tensors, str(lying), metadata={**meta, "frames": "900"})
    cases = [
        ["tokenize", str(sample_video), "-o", str(tok), "--model", model_id, "--length", "2"],
        ["tokenize", str(sample_video), "-o", str(tok), "--model", model_id, "--length", "0.5",
         "--budget", "3"],
        ["tokenize", str(sample_video), "-o", str(sample_video), "--model", model_id],
        ["tokenize", str(tmp_path / "missing.mp4"), "-o", str(tok), "--model", model_id],
        ["detokenize", str(broken), "-o", str(tmp_path / "x.y4m")],
        ["detokenize", str(sample_video), "-o", str(tmp_path / "x.y4m")],
        ["detokenize", str(wrong_shape), "-o", str(tmp_path / "x.y4m")],
        ["detokenize", str(lying), "-o", str(tmp_path / "x.y4m")],
    ]
    for argv in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "error" in err, err
    assert not (tmp_path / "x.y4m").exists()


def test_resize_tokenizes_at_the_requested_size(tmp_path, sample_video, model_id, capsys):
    tok, rec = tmp_path / "t.safetensors", tmp_path / "rec.y4m"
    assert main(["tokenize", str(sample_video), "-o", str(tok), "--model", model_id,
                 "--frames", "5", "--clip-frames", "5", "--resize", "48x32"]) == 0
    with safe_open(str(tok), framework="pt") as f:
        assert (f.metadata()["width"], f.metadata()["height"]) == ("48", "32")
        assert f.get_tensor("clip00000.struct").shape == (2 * 3, 4)  # ⌈32/16⌉·⌈48/16⌉
    assert main(["detokenize", str(tok), "-o", str(rec), "--steps", "1"]) == 0
    with open_video(rec) as r:
        assert (r.info.width, r.info.height, r.info.num_frames) == (48, 32, 5)
    capsys.readouterr()
    assert main(["tokenize", str(sample_video), "-o", str(tok), "--model", model_id,
                 "--resize", "48"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--resize" in err[0]
