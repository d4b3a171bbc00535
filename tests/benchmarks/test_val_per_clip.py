"""benchmarks/val_per_clip.py: per-clip validation PSNR of several models on a run's set."""

from __future__ import annotations

import math

import torch


class _ConstantModel:
    """validation_metrics -> PSNR of a fixed grey reconstruction, as the real models report."""

    def __init__(self, grey: float):
        self.grey = grey

    def validation_metrics(self, batch: dict) -> dict[str, float]:
        mse = (batch["video"] - self.grey).pow(2).mean()
        return {"psnr": float(-10 * torch.log10(mse)), "mse": float(mse)}


def test_per_clip_and_per_source_summaries(load_benchmark):
    vpc = load_benchmark("val_per_clip")
    data = [{"video": torch.full((3, 2, 4, 4), v), "source": src}
            for v, src in [(0.5, "a"), (0.7, "a"), (0.1, "b")]]
    clips = vpc.per_clip({"mid": _ConstantModel(0.5), "dark": _ConstantModel(0.0)}, data, n=3)
    assert [c["source"] for c in clips] == ["a", "a", "b"] and clips[1]["shape"] == [2, 4, 4]
    assert abs(clips[1]["psnr"]["mid"] - (-10 * math.log10(0.04))) < 1e-4
    s = vpc.summarize(clips[1:])  # clip 0 is exact for "mid" (infinite PSNR): left out
    # source b is one clip: mean PSNR and PSNR of the mean MSE agree
    assert abs(s["b"]["dark"]["mean_psnr"] - s["b"]["dark"]["psnr_of_mean_mse"]) < 1e-9
    # over both, MSE 0.04 and 0.16 for "mid": PSNR of the mean MSE (0.1) is below the mean PSNR
    assert s["all"]["mid"]["clips"] == 2
    assert abs(s["all"]["mid"]["psnr_of_mean_mse"] - 10.0) < 1e-4
    assert s["all"]["mid"]["mean_psnr"] > s["all"]["mid"]["psnr_of_mean_mse"]


def test_models_spec_names_ids_and_paths(load_benchmark):
    vpc = load_benchmark("val_per_clip")
    assert vpc.parse_models("cnn3d-small,old=runs/prev/x.json") == {
        "cnn3d-small": "cnn3d-small", "old": "runs/prev/x.json"}


def test_a_logged_runs_config_yaml_alone_gives_its_validation_set(load_benchmark, tmp_path):
    from vid1d.train.run_config import resolve_run_config, save_run_config

    vpc = load_benchmark("val_per_clip")
    cfg = resolve_run_config("cnn3d", preset="tiny", overrides=["data.kind=synthetic-motion"])
    save_run_config(tmp_path, cfg)
    (tmp_path / "config.json").unlink()  # docs/results/ keeps only config.yaml
    loaded, val = vpc.load_val_set(tmp_path)
    assert loaded.to_dict() == cfg.to_dict()
    assert len(val) > 0 and val[0]["video"].ndim == 4
