"""tokenize / detokenize through the CLI on a random tiny One-DVA."""

from __future__ import annotations

import dataclasses
import os

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


# -- token file integrity: checksum, metadata against tensors, dtypes, model type, seed --------
@pytest.fixture()
def token_file(tmp_path, sample_video, model_id, capsys):
    """7 frames in clips of 5 (5 + 2), half the 1D latents kept: 50 of 99 per clip."""
    tok = tmp_path / "t.safetensors"
    assert main(["tokenize", str(sample_video), "-o", str(tok), "--model", model_id,
                 "--frames", "7", "--clip-frames", "5", "--length", "0.5"]) == 0
    capsys.readouterr()
    return tok


def _load(path):
    with safe_open(str(path), framework="pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}, dict(f.metadata())


def _resave(path, tensors, meta):
    """A crafted file with a valid checksum, so what rejects it is the field validation."""
    from vid1d.tokenizer import token_checksum

    meta = {k: v for k, v in meta.items() if k != "sha256"}
    save_file(tensors, str(path), metadata={**meta, "sha256": token_checksum(meta, sorted(tensors.items()))})
    return path


def _refused(argv, capsys, *words) -> str:
    """Run ``argv``; it must fail with one error line naming ``words`` and write nothing.
    Returns the error line."""
    out = argv[argv.index("-o") + 1]
    assert main(argv) == 2, argv
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "error" in err, err
    assert all(w in err for w in words), err
    assert not os.path.exists(out), out
    return err


def test_corrupt_token_files_are_refused(tmp_path, token_file, capsys):
    raw = token_file.read_bytes()
    header_end = 8 + int.from_bytes(raw[:8], "little")
    rec = str(tmp_path / "rec.y4m")
    data_flip = tmp_path / "dflip.safetensors"  # one byte of one latent
    data_flip.write_bytes(raw[:header_end + 100] + bytes([raw[header_end + 100] ^ 0x10])
                          + raw[header_end + 101:])
    meta_flip = tmp_path / "mflip.safetensors"  # one bit of the header: frames 7 -> 6
    assert raw.count(b'"frames":"7"') == 1
    meta_flip.write_bytes(raw.replace(b'"frames":"7"', b'"frames":"6"'))
    name_flip = tmp_path / "nflip.safetensors"  # one bit of a tensor's name: t -> u
    assert raw.count(b'"clip00001.struct"') == 1
    name_flip.write_bytes(raw.replace(b'"clip00001.struct"', b'"clip00001.strucu"'))
    for bad in (data_flip, meta_flip, name_flip):
        _refused(["detokenize", str(bad), "-o", rec], capsys, bad.name, "checksum")
    tensors, meta = _load(token_file)
    no_sum = tmp_path / "nosum.safetensors"
    save_file(tensors, str(no_sum), metadata={k: v for k, v in meta.items() if k != "sha256"})
    old = tmp_path / "old.safetensors"  # what vid1d wrote before checksums
    save_file(tensors, str(old), metadata={**meta, "format": "vid1d.tokens/1"})
    for bad in (no_sum, old):
        _refused(["detokenize", str(bad), "-o", rec], capsys, bad.name, "re-tokenize")
    assert main(["detokenize", str(token_file), "-o", rec]) == 0  # the untouched file decodes


@pytest.mark.parametrize("edit, words", [
    ({"frames": "6"}, ["clip 1 keeps 50"]),  # a 1-frame last clip has no 1D latents
    ({"frames": "900"}, ["cannot hold 900 frames"]),
    ({"frames": " 7"}, ["'frames'"]),
    ({"frames": "7.0"}, ["'frames'"]),
    ({"width": "64"}, ["structural latents"]),
    ({"clips": "3", "frames": "11", "lengths": "[50, 50, 50]"}, ["clip00002.struct is missing"]),
    ({"lengths": "[50, 49]"}, ["clip 1 oned", "(50, 4)"]),
    ({"lengths": "[50.0, 50]"}, ["lengths"]),
    ({"lengths": "[true, 50]"}, ["lengths"]),
    ({"length_mode": "0.7"}, ["clip 0 keeps 50", "keeps 69"]),
    ({"length_mode": "half"}, ["length_mode"]),
    ({"fps": "0"}, ["frame rate"]),
    ({"fps": "nan"}, ["fps"]),
    ({"channels": "5"}, ["clip 0 struct", "(99, 4)"]),
    ({"comment": "hi"}, ["unknown metadata"]),
])
def test_metadata_must_agree_with_the_tensors(tmp_path, token_file, capsys, edit, words):
    tensors, meta = _load(token_file)
    bad = _resave(tmp_path / "bad.safetensors", tensors, {**meta, **edit})
    err = _refused(["detokenize", str(bad), "-o", str(tmp_path / "x.y4m")], capsys)
    assert all(w in err for w in words), err


def test_extra_and_mistyped_tensors_are_refused(tmp_path, token_file, capsys):
    tensors, meta = _load(token_file)
    rec = str(tmp_path / "x.y4m")
    extra = _resave(tmp_path / "extra.safetensors", {**tensors, "clip00002.oned": torch.zeros(1, 4)}, meta)
    _refused(["detokenize", str(extra), "-o", rec], capsys, "unexpected tensor")
    for dtype, name in ((torch.float64, "F64"), (torch.float16, "F16"), (torch.int64, "I64")):
        cast = {k: v.to(dtype) for k, v in tensors.items()}
        bad = _resave(tmp_path / f"{name}.safetensors", cast, meta)
        _refused(["detokenize", str(bad), "-o", rec], capsys, name, "not F32")
    nan = dict(tensors, **{"clip00001.struct": tensors["clip00001.struct"].clone()})
    nan["clip00001.struct"][0, 0] = float("nan")
    bad = _resave(tmp_path / "nan.safetensors", nan, meta)
    _refused(["detokenize", str(bad), "-o", rec], capsys, "non-finite")


def test_the_model_must_be_the_one_dva_that_made_the_tokens(tmp_path, token_file, capsys):
    tensors, meta = _load(token_file)
    rec = str(tmp_path / "x.y4m")
    no_model = _resave(tmp_path / "nomodel.safetensors", tensors,
                       {k: v for k, v in meta.items() if k != "model"})
    assert "no valid model" in _refused(["detokenize", str(no_model), "-o", rec], capsys)
    dot = _resave(tmp_path / "dot.safetensors", tensors, {**meta, "model": "."})
    assert "no valid model" in _refused(["detokenize", str(dot), "-o", rec], capsys)
    codec = _resave(tmp_path / "codec.safetensors", tensors, {**meta, "model": "gvc1d-small"})
    assert "not a One-DVA tokenizer" in _refused(["detokenize", str(codec), "-o", rec], capsys)
    wrong_model = ["detokenize", str(token_file), "-o", rec, "--model", "gvc1d-small"]
    assert "not a One-DVA tokenizer" in _refused(wrong_model, capsys)
    other = _resave(tmp_path / "other.safetensors", tensors, {**meta, "weights_sha256": "0" * 64})
    assert "other weights" in _refused(["detokenize", str(other), "-o", rec], capsys)
    blank = _resave(tmp_path / "blank.safetensors", tensors, {**meta, "weights_sha256": ""})
    assert "weights_sha256" in _refused(["detokenize", str(blank), "-o", rec], capsys)


def test_seed_must_fit_64_bits(tmp_path, token_file, capsys, model_id):
    from vid1d.errors import InputError
    from vid1d.models.registry import load_model
    from vid1d.tokenizer import detokenize_video

    rec = tmp_path / "x.y4m"
    for seed in ("99999999999999999999", "-1", "9223372036854775808", "abc"):
        _refused(["detokenize", str(token_file), "-o", str(rec), f"--seed={seed}"], capsys, "--seed")
    assert main(["detokenize", str(token_file), "-o", str(rec), "--seed=9223372036854775807"]) == 0
    model, _ = load_model(model_id)
    with pytest.raises(InputError, match="seed"):
        detokenize_video(model, token_file, tmp_path / "y.y4m", seed=1 << 63)
