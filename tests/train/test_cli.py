"""`vid1d train` and `vid1d export` end to end, and export -> load_model."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

import vid1d.cli.main as cli
from vid1d.errors import InputError
from vid1d.models.registry import list_models, load_model
from vid1d.train import fit, resolve_run_config
from vid1d.train.export import export_run


@pytest.fixture(autouse=True)
def only_our_subcommands(monkeypatch):
    # The real entry point, without importing the other subcommands' modules.
    monkeypatch.setattr(cli, "SUBCOMMANDS", ["train", "export"])


def main(argv: list[str]) -> int:
    return cli.main(argv)


def test_train_cli_resume_and_export(tiny, tmp_path, models_dir, capsys):
    run = tmp_path / "run"
    # options and overrides intermixed, as people type them; real vid1d.data clips
    rc = main(["train", "train-test-ae", "--preset", "recipe", "model.dim=5", "--data",
               "synthetic-shapes", "--out", str(run), "--steps", "4", "train.ckpt_every=2",
               "train.device=cpu", "train.val_every=2", "train.sample_every=4"])
    assert rc == 0, capsys.readouterr().err
    assert "step 4/4" in capsys.readouterr().out
    records = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if "split" not in r] == [2, 4]
    assert [r["step"] for r in records if r.get("split") == "val"] == [2, 4]
    assert (run / "checkpoints" / "latest").read_text().strip() == "step_000004"
    assert (run / "samples" / "step_000004.png").exists()
    saved = (run / "config.yaml").read_text()
    assert "dim: 5" in saved and "kind: synthetic-shapes" in saved and "steps: 4" in saved

    # a second `train` into the same folder is refused; --resume RUN continues (and extends)
    assert main(["train", "train-test-ae", "--out", str(run)]) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert main(["train", "--resume", str(run), "--steps", "6"]) == 0
    assert "step 6/6" in capsys.readouterr().out
    steps = [json.loads(x)["step"] for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps[-1] == 6 and "resumed from step_000004" in (run / "train.log").read_text()

    assert main(["export", str(run), "-o", "tiny-exported", "--card", "note=hello",
                 "--card", "epochs=2"]) == 0
    model, ckpt = load_model("tiny-exported")
    card = ckpt.meta["card"]
    assert ckpt.meta["id"] == "tiny-exported" and ckpt.meta["type"] == "train-test-ae"
    assert card["step"] == 6 and card["weights"] == "ema" and card["note"] == "hello"
    assert card["epochs"] == 2 and card["data"]["kind"] == "synthetic-shapes"
    assert card["metrics"]["step"] == 6 and card["val"]["mse"] > 0 and card["hardware"]["device"]
    assert card["train_seconds"] > 0 and "tiny-exported" in list_models()
    ema = {k[4:]: v for k, v in load_file(run / "checkpoints" / "step_000006.safetensors").items()
           if k.startswith("ema.")}
    for k, v in model.state_dict().items():
        assert torch.equal(v, ema[k]), k
    assert main(["export", str(run), "-o", "tiny-exported"]) == 2  # exists: needs --force
    assert "--force" in capsys.readouterr().err
    assert main(["export", str(run), "-o", "tiny-raw", "--weights", "model", "--step", "4"]) == 0
    raw, _ = load_model("tiny-raw")
    ref = load_file(run / "checkpoints" / "step_000004.safetensors")
    assert all(torch.equal(v, ref[f"model.{k}"]) for k, v in raw.state_dict().items())


def test_cli_errors_are_one_line(tiny, tmp_path, capsys):
    out = str(tmp_path / "r")
    cases = [
        (["train", "train-test-ae", "--out", out, "model.dimm=3"], "unknown config key model.dimm"),
        (["train", "train-test-ae", "--preset", "nope", "--out", out], "no preset 'nope'"),
        (["train", "train-test-ae", "--data", str(tmp_path / "nowhere"), "--out", out],
         "not a folder"),
        (["train", "train-test-ae"], "--out RUN is required"),
        (["train", "--resume", str(tmp_path / "none")], "not a vid1d run folder"),
        (["export", str(tmp_path / "none"), "-o", "x"], "no such folder"),
        (["export", out, "-o", "bad/name"], "model id"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, (argv, err)


def test_run_folders_that_are_files_or_broken_are_one_line_errors(tiny, tmp_path, models_dir,
                                                                  capsys):
    """These once ended in tracebacks (FileExistsError, NotADirectoryError, UnicodeDecodeError,
    TypeError from json) or left half an exported model behind."""
    a_file = tmp_path / "a_file"
    a_file.write_text("not a run")
    run = tmp_path / "run"
    cfg = resolve_run_config("train-test-ae", preset="recipe", overrides=[
        "train.steps=1", "train.val_every=0", "train.sample_every=0", "train.device=cpu"])
    fit(cfg, run, train_set=tiny.TinyClips(8))
    cases = [
        (["train", "train-test-ae", "--preset", "recipe", "--data", "synthetic-shapes",
          "--out", str(a_file)], "exists and is not a folder"),
        (["train", "train-test-ae", "--preset", "recipe", "--data", "synthetic-shapes",
          "--out", str(a_file / "sub")], "is not a folder"),
        (["train", "--resume", str(a_file)], "not a vid1d run folder"),
        (["export", str(a_file), "-o", "x"], "not a folder"),
        (["export", str(run), "-o", "dated", "--card", "when=2024-01-01"], "card entry 'when'"),
        (["export", str(run), "-o", "nan", "--card", "step=.nan"], "card entry 'step'"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, (argv, err)
    assert a_file.read_text() == "not a run"
    assert not models_dir.exists() or not list(models_dir.iterdir())  # nothing half-written
    (run / "checkpoints" / "latest").write_bytes(b"\xff\xfe")
    for argv in (["export", str(run), "-o", "x"], ["train", "--resume", str(run)]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "latest: unreadable" in err and err.count("\n") == 1, (argv, err)


def test_data_folder_and_print_config(tiny, tmp_path, capsys):
    (tmp_path / "clips").mkdir()
    assert main(["train", "train-test-ae", "--preset", "recipe", "--data", str(tmp_path / "clips"),
                 "--out", str(tmp_path / "r"), "--print-config", "data.frames=3"]) == 0
    printed = capsys.readouterr().out
    assert f"root: {tmp_path / 'clips'}" in printed and "kind: mixed" in printed
    assert "frames: 3" in printed and not (tmp_path / "r").exists()


def test_export_without_ema_needs_raw_weights(tiny, tmp_path, models_dir):
    cfg = resolve_run_config("train-test-ae", preset="recipe", overrides=[
        "train.steps=1", "train.ema_decay=0", "train.val_every=0", "train.sample_every=0",
        "train.device=cpu"])
    fit(cfg, tmp_path / "r", train_set=tiny.TinyClips(8))
    with pytest.raises(InputError, match="--weights model"):
        export_run(tmp_path / "r", "no-ema")
    path = export_run(tmp_path / "r", "no-ema", weights="model")
    assert path == models_dir / "no-ema.safetensors" and load_model("no-ema")[0] is not None


def test_a_bundled_id_is_replaced_only_in_the_bundled_folder(tiny, tmp_path, models_dir,
                                                             monkeypatch):
    from vid1d.models import registry
    from vid1d.train import export

    cfg = resolve_run_config("train-test-ae", preset="recipe", overrides=[
        "train.steps=1", "train.val_every=0", "train.sample_every=0", "train.device=cpu"])
    fit(cfg, tmp_path / "r", train_set=tiny.TinyClips(8))
    bundled = tmp_path / "bundled"
    bundled.mkdir()
    monkeypatch.setattr(registry, "BUNDLED_DIR", bundled)
    monkeypatch.setattr(export, "BUNDLED_DIR", bundled)
    export_run(tmp_path / "r", "shipped", models_dir=bundled)
    assert list_models()["shipped"].bundled
    with pytest.raises(InputError, match="bundled model id"):
        export_run(tmp_path / "r", "shipped")  # a user model may not shadow it
    assert not (models_dir / "shipped.safetensors").exists()
    export_run(tmp_path / "r", "shipped", models_dir=bundled, force=True)  # re-bundling


def test_half_precision_export_is_the_rounded_model(tiny, tmp_path, models_dir, capsys):
    cfg = resolve_run_config("train-test-ae", preset="recipe", overrides=[
        "model.dim=64", "train.steps=1", "train.val_every=0", "train.sample_every=0",
        "train.device=cpu"])
    fit(cfg, tmp_path / "r", train_set=tiny.TinyClips(8))
    full = export_run(tmp_path / "r", "ae-fp32")
    assert main(["export", str(tmp_path / "r"), "-o", "ae-fp16", "--dtype", "fp16"]) == 0
    half = models_dir / "ae-fp16.safetensors"
    assert half.stat().st_size < 0.6 * full.stat().st_size
    assert all(v.dtype == torch.float16 for v in load_file(half).values() if v.is_floating_point())
    m32, _ = load_model("ae-fp32")
    m16, ckpt = load_model("ae-fp16")
    assert ckpt.meta["card"]["dtype"] == "fp16"
    ref = m32.state_dict()
    for k, v in m16.state_dict().items():
        assert v.dtype == ref[k].dtype and torch.equal(v, ref[k].half().to(v.dtype)), k
    assert any(not torch.equal(v, ref[k]) for k, v in m16.state_dict().items())  # rounded


def test_half_precision_refuses_weights_it_cannot_hold():
    from vid1d.train.export import _round_to

    with pytest.raises(InputError, match="overflows"):
        _round_to({"w": torch.tensor([1.0, 1e6])}, torch.float16, "run")
    assert _round_to({"w": torch.tensor([1e6])}, torch.bfloat16, "run")["w"].isfinite().all()


def test_half_precision_codec_round_trips_exactly(tmp_path, models_dir, sample_video):
    from vid1d.codec import decode_video, encode_video

    cfg = resolve_run_config("gvc1d", preset="tiny", overrides=[
        "train.steps=1", "train.val_every=0", "train.sample_every=0", "train.device=cpu",
        "data.workers=0"])
    fit(cfg, tmp_path / "r")
    export_run(tmp_path / "r", "codec-fp16", dtype="fp16")
    # encoder and decoder each load the stored file: the decode reproduces the encoder's
    # reconstruction exactly
    enc, _ = load_model("codec-fp16")
    dec, _ = load_model("codec-fp16")
    recon, decoded = {}, {}
    encode_video(enc, sample_video, tmp_path / "a.v1d", model_id="codec-fp16", quality=5.0,
                 max_frames=2, on_frame=lambda t, x: recon.__setitem__(t, x))
    decode_video(tmp_path / "a.v1d", None, model=dec,
                 on_frame=lambda t, x: decoded.__setitem__(t, x))
    assert len(decoded) == 2 and all(torch.equal(recon[t], decoded[t]) for t in range(2))


def test_a_fine_tuned_export_counts_every_run_in_its_card(tiny, tmp_path, models_dir):
    def run(name: str, steps: int, init: str = "", resume: bool = False) -> None:
        cfg = resolve_run_config("train-test-ae", preset="recipe", overrides=[
            f"train.steps={steps}", "train.val_every=0", "train.sample_every=0",
            "train.device=cpu"] + ([f"train.init={init}"] if init else []))
        fit(cfg, tmp_path / name, train_set=tiny.TinyClips(8), resume=resume)

    run("a", 2)
    run("b", 1, init=str(tmp_path / "a"))
    card = load_model(export_run(tmp_path / "b", "ae-b").with_suffix(".json"))[1].meta["card"]
    assert [c["step"] for c in card["init_chain"]] == [2] and card["step"] == 1
    assert card["total_steps"] == 3
    a_seconds = card["init_chain"][0]["train_seconds"]
    assert card["total_train_seconds"] == pytest.approx(card["train_seconds"] + a_seconds)
    # from an exported model id: its card's totals carry on
    run("c", 3, init="ae-b")
    card = load_model(export_run(tmp_path / "c", "ae-c").with_suffix(".json"))[1].meta["card"]
    assert [(c["init"], c["step"]) for c in card["init_chain"]] == [("ae-b", 3)]
    assert card["total_steps"] == 6
    assert card["init_chain"][0]["sha256"] == load_model("ae-b")[1].meta["sha256"]
    # re-exported under the id it started from, twice (re-bundling: the second export
    # finds the id's card already replaced): the chain is what the run loaded, not the
    # id's new card (which would count the run twice)
    export_run(tmp_path / "c", "ae-b", force=True)
    card = load_model(export_run(tmp_path / "c", "ae-b", force=True).with_suffix(".json"))[1].meta["card"]
    assert [(c["init"], c["step"]) for c in card["init_chain"]] == [("ae-b", 3)]
    assert card["total_steps"] == 6
    # ... and a resumed run keeps that record
    run("c", 4, init="ae-b", resume=True)
    card = load_model(export_run(tmp_path / "c", "ae-c2").with_suffix(".json"))[1].meta["card"]
    assert [(c["init"], c["step"]) for c in card["init_chain"]] == [("ae-b", 3)]
    assert card["total_steps"] == 7
    # a scratch run has no chain
    assert "init_chain" not in load_model(export_run(tmp_path / "a", "ae-a").with_suffix(
        ".json"))[1].meta["card"]
