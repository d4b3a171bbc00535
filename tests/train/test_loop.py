"""The loop: gradient accumulation, bit-identical resume, logging, loss going down."""

from __future__ import annotations

import importlib.util
import json

import pytest
import torch
from safetensors.torch import load_file

from vid1d.errors import InputError
from vid1d.models.checkpoint import sha256_file
from vid1d.train import TrainingDiverged, fit, resolve_run_config
from vid1d.train.testing import assert_loss_decreases

QUIET = ["train.val_every=0", "train.sample_every=0", "train.ckpt_every=0", "data.workers=0",
         "train.device=cpu"]


def cfg_for(*overrides: str):
    return resolve_run_config("train-test-ae", preset="recipe", overrides=[*QUIET, *overrides])


def run(tiny, cfg, path, **kw):
    return fit(cfg, path, train_set=tiny.TinyClips(32), val_set=tiny.TinyClips(8, seed=1), **kw)


def weights(result) -> dict[str, torch.Tensor]:
    return load_file(result.checkpoint)


def test_grad_accumulation_matches_the_large_batch(tiny, tmp_path):
    a = run(tiny, cfg_for("train.steps=3", "train.batch_size=4"), tmp_path / "a")
    b = run(tiny, cfg_for("train.steps=3", "train.batch_size=4", "train.accum_steps=2"),
            tmp_path / "b")
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    for k in wa:  # same samples and the same mean gradient, summed in another order
        torch.testing.assert_close(wa[k], wb[k], rtol=0, atol=1e-6, msg=k)
    assert abs(a.metrics["loss"] - b.metrics["loss"]) < 1e-6


@pytest.mark.parametrize("workers", [0, 2])
def test_resume_is_bit_identical(tiny, tmp_path, workers):
    # Latent noise draws from the torch RNG; validation runs mid-way on forked streams.
    over = ["train.steps=6", "model.noise=0.1", f"data.workers={workers}", "train.val_every=2",
            "train.log_every=1", "train.accum_steps=2"]
    cfg = cfg_for(*over)
    full = run(tiny, cfg, tmp_path / "full")
    first = run(tiny, cfg, tmp_path / "cut", until=3)
    assert first.step == 3 and first.checkpoint.name == "step_000003.safetensors"
    with open(tmp_path / "cut" / "metrics.jsonl", "a") as f:  # a line the crash left behind
        f.write('{"step": 4, "loss": 1.0}\n{"step": 5, "lo')
    resumed = run(tiny, cfg, tmp_path / "cut", resume=True)
    assert resumed.step == 6
    wf, wr = weights(full), weights(resumed)
    assert wf.keys() == wr.keys() and any(k.startswith("ema.") for k in wf)
    for k in wf:
        assert torch.equal(wf[k], wr[k]), k
    opt_f = torch.load(full.checkpoint.with_name("step_000006.state.pt"), weights_only=True)
    opt_r = torch.load(resumed.checkpoint.with_name("step_000006.state.pt"), weights_only=True)
    for i, s in opt_f["optimizer"]["state"].items():
        for k, v in s.items():
            assert torch.equal(v, opt_r["optimizer"]["state"][i][k]), (i, k)

    def lines(path):
        out = []
        for line in (path / "metrics.jsonl").read_text().splitlines():
            rec = json.loads(line)
            out.append({k: v for k, v in rec.items() if k not in ("samples_per_s", "time")})
        return out

    assert lines(tmp_path / "cut") == lines(tmp_path / "full")
    assert [r["step"] for r in lines(tmp_path / "full") if r.get("split") == "val"] == [2, 4, 6]


def test_run_folder_contents_and_checkpoint_pruning(tiny, tmp_path):
    cfg = cfg_for("train.steps=6", "train.ckpt_every=1", "train.keep_checkpoints=2",
                  "train.val_every=3", "train.sample_every=3", "train.precision=bf16",
                  "train.tensorboard=true")
    result = run(tiny, cfg, tmp_path / "r")
    ckpts = tmp_path / "r" / "checkpoints"
    assert sorted(p.name for p in ckpts.iterdir()) == [
        "latest", "step_000005.json", "step_000005.safetensors", "step_000005.state.pt",
        "step_000006.json", "step_000006.safetensors", "step_000006.state.pt"]
    assert (ckpts / "latest").read_text().strip() == "step_000006"
    meta = json.loads((ckpts / "step_000006.json").read_text())
    assert meta["type"] == "train-test-ae" and meta["step"] == 6
    assert meta["run_config"]["train"]["steps"] == 6 and meta["val"]["step"] == 6
    assert result.val["mse"] > 0 and {"loss", "mse", "psnr", "lr", "grad_norm", "samples_per_s",
                                      "time"} <= set(result.metrics)
    samples = tmp_path / "r" / "samples"
    png = (samples / "step_000006.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and (samples / "step_000003.png").exists()
    notes = (tmp_path / "r" / "train.log").read_text()
    assert "bf16 ignored on CPU" in notes
    if importlib.util.find_spec("tensorboard") is None:
        assert "tensorboard package is not installed" in notes
    else:
        assert any((tmp_path / "r" / "tb").iterdir())
    assert (tmp_path / "r" / "config.yaml").exists() and (tmp_path / "r" / "config.json").exists()


def test_refuses_to_overwrite_a_run_and_untrainable_models(tiny, tmp_path):
    cfg = cfg_for("train.steps=1")
    run(tiny, cfg, tmp_path / "r")
    with pytest.raises(InputError, match="already holds a run"):
        run(tiny, cfg, tmp_path / "r")
    with pytest.raises(InputError, match="not trainable"):
        fit(cfg, tmp_path / "s", model=torch.nn.Linear(2, 2), train_set=tiny.TinyClips(4))


def test_diverging_loss_is_reported(tiny, tmp_path):
    class Exploding(tiny.TinyAE):
        def training_losses(self, batch, step):
            out = super().training_losses(batch, step)
            return {**out, "loss": out["loss"] * (float("nan") if step >= 1 else 1.0)}

    cfg = cfg_for("train.steps=4", "train.log_every=2")
    with pytest.raises(TrainingDiverged, match="loss is nan at step 2"):
        fit(cfg, tmp_path / "r", model=Exploding(cfg.model), train_set=tiny.TinyClips(8))


def test_assert_loss_decreases(tiny):
    torch.manual_seed(0)
    batch = {"video": torch.stack([tiny.TinyClips(4)[i]["video"] for i in range(4)])}
    losses = assert_loss_decreases(tiny.TinyAE(tiny.TinyAEConfig()), batch, steps=30, lr=1e-2)
    assert len(losses) == 30

    class Stuck(tiny.TinyAE):  # the loss ignores the parameters' effect
        def training_losses(self, batch, step):
            out = super().training_losses(batch, step)
            return {"loss": out["loss"] * 0 + 0.3 + 0 * sum(p.sum() for p in self.parameters())}

    with pytest.raises(AssertionError, match="not by the factor"):
        assert_loss_decreases(Stuck(tiny.TinyAEConfig()), batch, steps=3)


def test_init_runs_read_a_fresh_stretch_of_the_data_and_resume_exactly(tiny, tmp_path,
                                                                       models_dir):
    # Every run reads the data stream from position 0 on: a continuation must not replay,
    # clip for clip, what the runs behind its weights trained on.
    from vid1d.train.export import export_run
    from vid1d.train.loop import init_data_offset
    from vid1d.train.sampler import StepBatchSampler

    first = run(tiny, cfg_for("train.steps=2", "train.ckpt_every=1"), tmp_path / "a")
    export_run(tmp_path / "a", "tiny-init")

    def state(res) -> dict:  # the checkpoint's record of the data stream
        path = res.checkpoint.with_name(res.checkpoint.name.replace(".safetensors", ".state.pt"))
        return torch.load(path, weights_only=True)["data"]

    assert state(first)["offset_steps"] == 0
    sha = json.loads((models_dir / "tiny-init.json").read_text())["sha256"]
    offset = init_data_offset(sha)
    assert offset > 0 and offset % (1 << 16) == 0 and offset == init_data_offset(sha)
    # a fresh run and a continuation read different clips
    fresh = list(StepBatchSampler(32, batch_size=8, stop_step=4))
    assert list(StepBatchSampler(32, batch_size=8, stop_step=4, offset_steps=offset)) != fresh

    cfg = cfg_for("train.steps=4", "train.init=tiny-init", "model.noise=0.1")
    full = run(tiny, cfg, tmp_path / "full")
    assert state(full)["offset_steps"] == offset
    assert f"training clips from step {offset}" in (tmp_path / "full" / "train.log").read_text()
    run(tiny, cfg, tmp_path / "cut", until=2)
    resumed = run(tiny, cfg, tmp_path / "cut", resume=True)  # keeps the offset
    assert state(resumed)["offset_steps"] == offset
    wf, wr = weights(full), weights(resumed)
    for k in wf:
        assert torch.equal(wf[k], wr[k]), k
    # the same init from a run folder: its checkpoint's sha picks the stretch
    from_run = run(tiny, cfg_for("train.steps=1", f"train.init={tmp_path / 'a'}"), tmp_path / "r")
    assert state(from_run)["offset_steps"] == init_data_offset(sha256_file(first.checkpoint))


def test_init_from_a_run_or_an_export_starts_from_its_weights(tiny, tmp_path, models_dir):
    from vid1d.models.registry import build_model
    from vid1d.train.export import export_run

    first = run(tiny, cfg_for("train.steps=3"), tmp_path / "a")
    ema = {k[len("ema."):]: v for k, v in weights(first).items() if k.startswith("ema.")}
    export_run(tmp_path / "a", "tiny-init")
    for spec in (str(tmp_path / "a"), "tiny-init"):
        # one step at lr 1e-12: the weights stay those it was initialized from
        out = tmp_path / f"b{len(spec)}"
        res = run(tiny, cfg_for("train.steps=1", "train.optim.lr=1e-12", "train.optim.min_lr=0",
                                "train.optim.weight_decay=0", f"train.init={spec}"), out)
        got = {k[len("model."):]: v for k, v in weights(res).items() if k.startswith("model.")}
        assert got.keys() == ema.keys()
        for k in ema:
            torch.testing.assert_close(got[k], ema[k].to(got[k].dtype), rtol=0, atol=1e-6, msg=k)
        assert f"initialized from {spec}" in (out / "train.log").read_text()
    fresh = build_model("train-test-ae", cfg_for().model).state_dict()
    assert any((fresh[k] - ema[k].to(fresh[k].dtype)).abs().max() > 1e-3 for k in ema)
    with pytest.raises(InputError, match="do not fit"):
        run(tiny, cfg_for("train.steps=1", "model.dim=5", f"train.init={tmp_path / 'a'}"),
            tmp_path / "c")
