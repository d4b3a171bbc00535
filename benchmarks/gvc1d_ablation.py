"""GVC1D ablations (papers/gvc1d.txt Tables 2-3) at our scale, same training budget each.

    python benchmarks/gvc1d_ablation.py --preset small --steps 2000 --data ../shared/data/videos \
        --eval-input src/vid1d/assets/carphone_pristine.mp4 --frames 16

For every variant: ``vid1d train gvc1d`` with identical data, seed and steps,
``vid1d export``, then an RD curve from real bitstreams (vid1d.eval.learned) and
the BD-rate against the default configuration (PSNR and MS-SSIM, PCHIP).
Token-size variants are given as NxC; the paper's 16x32 ... 64x16 around its
32x16 default become, around ``small``'s 16x8: 8x16, 8x32, 16x8, 16x16, 32x8.
Writes docs/results/gvc1d_ablation.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path

from vid1d.eval.learned import run_learned
from vid1d.metrics import bd_rate
from vid1d.models.gvc1d import PRESETS, ablation_variant

TABLE2 = ["8x16", "8x32", "16x8", "16x16", "32x8"]
TABLE3 = ["no-ar", "ar-no-mem", "mem-2d", "mem-1d"]


def overrides(preset: str, variant: str) -> list[str]:
    base, cfg = PRESETS[preset], ablation_variant(PRESETS[preset], variant)
    return [f"model.{k}={v}" for k, v in asdict(cfg).items()
            if v != getattr(base, k) and not isinstance(v, tuple)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="small")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--data", default=None, help="training folder (default: synthetic clips)")
    ap.add_argument("--eval-input", default="src/vid1d/assets/carphone_pristine.mp4")
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--variants", default=",".join(TABLE2 + TABLE3))
    ap.add_argument("--default", default="mem-1d", help="the anchor variant")
    ap.add_argument("--runs", default="runs/ablation")
    ap.add_argument("--out", default="docs/results/gvc1d_ablation")
    args = ap.parse_args()
    variants = args.variants.split(",")
    models = Path(args.runs) / "models"
    env = {**os.environ, "VID1D_MODELS": str(models)}
    rds = {}
    for v in variants:
        run = Path(args.runs) / v
        if not (run / "checkpoints" / "latest").exists():
            cmd = [sys.executable, "-m", "vid1d", "train", "gvc1d", "--preset", args.preset,
                   "--out", str(run), "--steps", str(args.steps), *overrides(args.preset, v)]
            if args.data:
                cmd += ["--data", args.data, "data.synthetic_fraction=0.3"]
            subprocess.run(cmd, check=True, env=env)
        model_id = f"ablation-{v}"
        subprocess.run([sys.executable, "-m", "vid1d", "export", str(run), "-o", model_id,
                        "--force"], check=True, env=env)
        os.environ["VID1D_MODELS"] = str(models)
        rds[v] = run_learned(model_id, args.eval_input, frames=args.frames,
                             metrics=("psnr", "ms_ssim"), complexity=False)
    anchor = rds[args.default]
    rows = []
    for v, rd in rds.items():
        pts = rd["points"]
        row = {"variant": v, "points": [{k: p[k] for k in ("quality", "bpp", "psnr_rgb", "ms_ssim")}
                                        for p in pts]}
        for m in ("psnr_rgb", "ms_ssim"):
            try:
                row[m] = bd_rate([p["bpp"] for p in anchor["points"]],
                                 [p[m] for p in anchor["points"]],
                                 [p["bpp"] for p in pts], [p[m] for p in pts])
            except Exception as e:  # BD undefined (non-monotonic curve, no overlap)
                row[m] = f"n/a ({str(e).split(':')[0]})"
        rows.append(row)
    cmd = " ".join(sys.argv)
    meta = {"command": f"python {cmd}", "date": str(date.today()),
            "machine": f"{os.cpu_count()} CPUs, {platform.platform()}", "rows": rows,
            "steps": args.steps, "preset": args.preset}
    Path(args.out + ".json").write_text(json.dumps(meta, indent=1) + "\n")
    fmt = lambda x: f"{x:+.1f}%" if isinstance(x, float) else x  # noqa: E731
    lines = [f"# GVC1D ablations at preset `{args.preset}`, {args.steps} steps each", "",
             f"- Command: `{meta['command']}`", f"- Date: {meta['date']}; machine: {meta['machine']}",
             f"- BD-rate vs `{args.default}` on {args.eval_input} ({args.frames} frames)", "",
             "| variant | bpp (5 qualities) | PSNR RGB (dB) | MS-SSIM | BD-rate PSNR | BD-rate MS-SSIM |",
             "|---|---:|---:|---:|---:|---:|"]

    def span(r: dict, key: str, f: str) -> str:
        vals = [p[key] for p in r["points"]]
        return f"{min(vals):{f}}–{max(vals):{f}}"

    lines += [f"| {r['variant']} | {span(r, 'bpp', '.4f')} | {span(r, 'psnr_rgb', '.2f')} | "
              f"{span(r, 'ms_ssim', '.3f')} | {fmt(r['psnr_rgb'])} | {fmt(r['ms_ssim'])} |"
              for r in rows]
    Path(args.out + ".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
