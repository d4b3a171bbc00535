"""Validation PSNR clip by clip, for several models on one run's validation set.

    python benchmarks/val_per_clip.py --run docs/results/onedva_continuation_runs_1203/cnn3d-d \
        --models cnn3d-prev=runs/prev/cnn3d-prev.json,cnn3d-small,onedva-g=runs/models/onedva-g.json \
        --out docs/results/onedva_val_per_clip

A run's logged validation PSNR is one number over a mix of sources (held-out video crops
and synthetic camera motion over held-out stills). When it moves, this says on which
clips: it rebuilds the run's validation set from its config (``config.json``, or the
``config.yaml`` that the run logs in docs/results/ keep; same clips, same
order as the training loop's ``val_samples``), runs each model's own
``validation_metrics`` on every clip alone, and reports PSNR per clip and per source
(mean of per-clip PSNR, and PSNR of the mean MSE). Models: ids or ``name=path`` pairs.

Writes OUT.md and OUT.json.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from pathlib import Path

import torch

from vid1d.data.build import build_dataset
from vid1d.eval.provenance import machine_info, utc_now
from vid1d.models.registry import load_model
from vid1d.train.run_config import RunConfig, load_run_config, parse_yaml


def parse_models(spec: str) -> dict[str, str]:
    models = {}
    for item in spec.split(","):
        name, _, path = item.partition("=")
        models[name] = path or name
    return models


def source_of(item: dict) -> str:
    return str(item.get("source", "?"))


def load_val_set(run: Path):
    """The validation set of a run folder (config.json, or the config.yaml kept with a log)."""
    yaml_only = run / "config.yaml"
    cfg = (load_run_config(run) if (run / "config.json").exists() or not yaml_only.exists()
           else RunConfig.from_dict(parse_yaml(yaml_only.read_text(), where=str(yaml_only))))
    return cfg, build_dataset(cfg.data, "val")


def per_clip(models: dict, dataset, n: int) -> list[dict]:
    """Each model's ``validation_metrics`` PSNR on each of the first ``n`` clips alone."""
    clips = []
    for i in range(n):
        item = dataset[i]
        video = item["video"][None]
        row = {"index": i, "source": source_of(item), "shape": list(video.shape[2:]), "psnr": {}}
        for name, model in models.items():
            with torch.no_grad():
                row["psnr"][name] = float(model.validation_metrics({"video": video})["psnr"])
        clips.append(row)
        print(i, row["source"], row["shape"],
              " ".join(f"{k}={v:.2f}" for k, v in row["psnr"].items()), flush=True)
    return clips


def summarize(clips: list[dict]) -> dict:
    """{source or "all": {model: clips, mean per-clip PSNR, PSNR of the mean MSE}}. The
    training loop's logged figure sits between the two: it takes the PSNR of each batch's
    mean MSE and averages those."""
    by_source: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in clips:
        for name, p in row["psnr"].items():
            by_source[row["source"]][name].append(p)
            by_source["all"][name].append(p)
    return {
        src: {name: {"clips": len(v), "mean_psnr": sum(v) / len(v),
                     "psnr_of_mean_mse": -10 * math.log10(sum(10 ** (-p / 10) for p in v) / len(v))}
              for name, v in per_model.items()}
        for src, per_model in by_source.items()
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", type=Path, required=True,
                    help="run folder (config.json, or config.yaml alone) whose validation set to use")
    ap.add_argument("--models", required=True, help="comma list of ids or name=path")
    ap.add_argument("--samples", type=int, default=None, help="clips (default: the run's val_samples)")
    ap.add_argument("--out", type=Path, required=True, help="output stem (writes .md and .json)")
    args = ap.parse_args()

    cfg, val = load_val_set(args.run)
    n = min(args.samples or cfg.train.val_samples, len(val))
    models = {name: load_model(path)[0] for name, path in parse_models(args.models).items()}
    clips = per_clip(models, val, n)
    summary = summarize(clips)
    result = {"run": str(args.run), "models": parse_models(args.models), "clips": clips,
              "summary": summary, "machine": machine_info(), "date": utc_now()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")

    names = list(models)
    lines = [f"# Validation PSNR per clip: {args.run}", "",
             f"{n} clips of the run's validation set, each model's `validation_metrics` on one clip "
             f"at a time; {result['date']}.", "",
             "| source | clips | " + " | ".join(f"{m} (dB)" for m in names) + " |",
             "|---|---:|" + "---:|" * len(names)]
    for src in sorted(summary, key=lambda s: (s == "all", s)):  # sources, then all
        per_model = summary[src]
        cells = [f"{per_model[m]['mean_psnr']:.2f} ({per_model[m]['psnr_of_mean_mse']:.2f})" for m in names]
        lines.append(f"| {src} | {per_model[names[0]]['clips']} | " + " | ".join(cells) + " |")
    lines += ["", "Each cell: mean of per-clip PSNR (PSNR of the mean MSE).", "",
              "| clip | source | T×H×W | " + " | ".join(names) + " |",
              "|---:|---|---|" + "---:|" * len(names)]
    for row in clips:
        lines.append(f"| {row['index']} | {row['source']} | {'×'.join(map(str, row['shape']))} | "
                     + " | ".join(f"{row['psnr'][m]:.2f}" for m in names) + " |")
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out.with_suffix('.md')} and .json")


if __name__ == "__main__":
    main()
