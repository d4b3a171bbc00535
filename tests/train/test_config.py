"""Run configs: merge precedence, YAML/CLI value parsing, unknown keys, round trips."""

from __future__ import annotations

import pytest

from vid1d.data.config import DataConfig
from vid1d.errors import InputError
from vid1d.train import OptimConfig, TrainConfig, load_run_config, resolve_run_config
from vid1d.train.run_config import parse_override, save_run_config


def test_precedence_defaults_preset_yaml_overrides(tiny, tmp_path):
    yml = tmp_path / "a.yaml"
    yml.write_text("model: {dim: 7, latent: 3}\n"
                   "train:\n  steps: 9\n  optim: {lr: 1e-3, betas: [0.8, 0.9]}\n")
    yml2 = tmp_path / "b.yaml"
    yml2.write_text("train: {steps: 11}\n")
    cfg = resolve_run_config("train-test-ae", preset="recipe", files=[yml, yml2],
                             overrides=["model.dim=8", "data.frames=3", "train.compile=true"])
    assert cfg.model == tiny.TinyAEConfig(dim=8, latent=3)  # override > YAML > preset
    assert cfg.train.steps == 11  # the later YAML file wins
    assert cfg.train.optim.lr == 1e-3 and isinstance(cfg.train.optim.lr, float)
    assert cfg.train.optim.betas == (0.8, 0.9)  # lists become the declared tuple
    assert cfg.train.optim.min_lr == tiny.TINY_TRAIN.optim.min_lr  # preset, untouched
    assert cfg.train.batch_size == 4 and cfg.train.compile is True
    assert cfg.data.frames == 3 and cfg.data.size == (16, 16)  # preset's data section
    assert cfg.train.keep_checkpoints == TrainConfig().keep_checkpoints  # default
    assert (cfg.model_type, cfg.preset) == ("train-test-ae", "recipe")


def test_bare_model_preset_and_no_preset_use_defaults(tiny):
    cfg = resolve_run_config("train-test-ae", preset="tiny")
    assert cfg.model == tiny.TinyAEConfig()
    assert cfg.data == DataConfig() and cfg.train == TrainConfig()
    assert resolve_run_config("train-test-ae").model == tiny.TinyAEConfig()


@pytest.mark.parametrize("text, value", [
    ("train.optim.lr=3e-4", 3e-4), ("train.optim.lr=0.5", 0.5), ("train.optim.lr=2", 2.0),
    ("train.steps=12", 12), ("train.fsdp=true", True), ("train.device=cpu", "cpu"),
    ("data.root=null", None), ("data.size=[32, 48]", (32, 48)),
])
def test_override_values_are_yaml(tiny, text, value):
    cfg = resolve_run_config("train-test-ae", preset="tiny", overrides=[text])
    section, *path = text.split("=")[0].split(".")
    got = getattr(cfg, section)
    for p in path:
        got = getattr(got, p)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize("overrides, message", [
    (["model.dimm=3"], "unknown config key model.dimm"),
    (["optim.lr=3"], "unknown config key optim"),
    (["train.optim.lrr=3"], "unknown config key train.optim.lrr"),
    (["train.steps=abc"], "expected int"),
    (["train.optim=3"], "is a section"),
    (["train.steps"], "must look like section.key=value"),
    (["train.optim.lr=-1"], "lr > 0"),
    (["data.kind=nonsense"], "data.kind"),
    (["model_type=other"], "on the command line"),
    # once accepted: NaN/inf options trained, crashed in AdamW or silently ran on the CPU
    (["train.optim.eps=.nan"], "eps must be a finite number"),
    (["train.optim.lr=.inf"], "lr must be a finite number"),
    (["train.optim.weight_decay=.nan"], "weight_decay must be a finite number"),
    (["train.optim.grad_clip=.inf"], "grad_clip must be a finite number"),
    (["train.optim.eps=0"], "eps must be > 0"),
    (["train.optim.betas=0.9"], "betas must be two numbers"),
    (["train.steps=true"], "steps must be an integer"),
    (["train.device=cpux"], "device must be auto, cpu or cuda"),
    (["train.device=cuda:x"], "device must be auto, cpu or cuda"),
])
def test_bad_overrides_are_one_line_input_errors(tiny, overrides, message):
    with pytest.raises(InputError, match=message) as e:
        resolve_run_config("train-test-ae", preset="tiny", overrides=overrides)
    assert "\n" not in str(e.value)


def test_bad_yaml_files(tiny, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("optimizer: {lr: 1}\n")
    with pytest.raises(InputError, match="unknown config key optimizer"):
        resolve_run_config("train-test-ae", files=[bad])
    bad.write_text("train: [1, 2\n")
    with pytest.raises(InputError, match="cannot parse"):
        resolve_run_config("train-test-ae", files=[bad])
    bad.write_text("model_type: gvc1d\n")
    with pytest.raises(InputError, match="written for model type"):
        resolve_run_config("train-test-ae", files=[bad])
    with pytest.raises(InputError, match="cannot read"):
        resolve_run_config("train-test-ae", files=[tmp_path / "missing.yaml"])


def test_unknown_preset_and_model_type(tiny):
    with pytest.raises(InputError, match="no preset 'huge'.*recipe, tiny"):
        resolve_run_config("train-test-ae", preset="huge")
    with pytest.raises(InputError, match="unknown model type"):
        resolve_run_config("no-such-model")


def test_saved_config_round_trips_and_is_a_valid_config_file(tiny, tmp_path):
    cfg = resolve_run_config("train-test-ae", preset="recipe", overrides=["train.optim.lr=1e-2"])
    save_run_config(tmp_path, cfg)
    assert load_run_config(tmp_path) == cfg
    again = resolve_run_config("train-test-ae", files=[tmp_path / "config.yaml"])
    assert again.model == cfg.model and again.data == cfg.data and again.train == cfg.train
    assert again.preset == "recipe"


def test_resume_base_keeps_the_run_and_rejects_another_model(tiny):
    base = resolve_run_config("train-test-ae", preset="recipe", overrides=["model.dim=5"])
    cfg = resolve_run_config(base=base, overrides=["train.steps=50"])
    assert cfg.model.dim == 5 and cfg.train.steps == 50 and cfg.preset == "recipe"
    with pytest.raises(InputError, match="trained as"):
        resolve_run_config("test-tiny", base=base)


def test_parse_override_nesting_and_config_validation():
    assert parse_override("a.b.c=[1, 2]") == {"a": {"b": {"c": [1, 2]}}}
    with pytest.raises(ValueError, match="not divisible"):
        TrainConfig(batch_size=6, accum_steps=4).micro_batch(1)
    assert TrainConfig(batch_size=8, accum_steps=2).micro_batch(2) == 2
    with pytest.raises(ValueError, match="betas"):
        OptimConfig(betas=(0.9, 1.0))
