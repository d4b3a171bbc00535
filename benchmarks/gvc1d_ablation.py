"""GVC1D ablations (papers/gvc1d.txt Tables 2-3) at our scale, same training budget each.

    python benchmarks/gvc1d_ablation.py --preset small --steps 700 --jobs 2 \
        --data ../shared/data/videos --train-arg data.frames=3 --train-arg train.batch_size=4 \
        --eval-input src/vid1d/assets/carphone_pristine.mp4 --eval-input ../shared/data/videos/tree.avi \
        --eval-input /tmp/bigbuckbunny_320x180.y4m --frames 8 --precision float32 --seeds 1 \
        --runs runs/ablation-small --out docs/results/gvc1d_ablation_small

For every variant: ``vid1d train gvc1d`` with identical data, seed and steps (``--jobs``
runs in parallel, one torch thread each, logs in RUN.train.log), ``vid1d export``, then
an RD curve per evaluation clip from real bitstreams (``vid1d eval``, also ``--jobs`` at
a time, in ``--precision``; RD files in RUN/eval-*/, reused while newer than the
run's checkpoint), and against
the anchor (``--default``): BD-rate on PSNR and MS-SSIM (needs curves whose quality rises
strictly with rate and overlaps the anchor's) and BD-PSNR (needs only overlapping rates),
per clip and averaged over the clips where defined. Variants whose config equals an
earlier one's (at ``small``, ``16x8`` is the default) reuse its run.
``--seeds`` adds replicates of the anchor with other init and data seeds: their
figures are what training noise alone moves (any variant takes a ``-seedN`` suffix the
same way, e.g. ``--variants ar-no-mem-seed1``). Token-size variants are given as NxC; the paper's 16x32 ... 64x16 around its 32x16
default become, around ``small``'s 16x8: 8x16, 8x32, 16x8, 16x16, 32x8.
Writes OUT.{md,json} and one RD plot per clip, OUT_<clip>.png. Runs that have a
checkpoint are not trained again, so a second call only re-evaluates.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

from vid1d.codec import DEFAULT_PRECISION, PRECISIONS
from vid1d.errors import InputError
from vid1d.eval.plot import plot_rd
from vid1d.eval.provenance import machine_info, utc_now, write_result
from vid1d.eval.rd import load_rd
from vid1d.metrics import bd_psnr, bd_rate
from vid1d.models.gvc1d import PRESETS, ablation_variant
from vid1d.train.checkpoints import latest_step

TABLE2 = ["8x16", "8x32", "16x8", "16x16", "32x8"]
TABLE3 = ["no-ar", "ar-no-mem", "mem-2d", "mem-1d"]
BD_KEYS = ("bd_rate_psnr", "bd_rate_ms_ssim", "bd_psnr")


def overrides(preset: str, variant: str) -> list[str]:
    """The run's config overrides; a ``-seedN`` suffix (a replicate) sets the init and
    data seeds."""
    name, seed = re.fullmatch(r"(.+?)(?:-seed(\d+))?", variant).groups()
    base, cfg = PRESETS[preset], ablation_variant(PRESETS[preset], name)
    return [f"model.{k}={v}" for k, v in asdict(cfg).items()
            if v != getattr(base, k) and not isinstance(v, tuple)] + \
        ([f"train.seed={seed}", f"data.seed={seed}"] if seed else [])


def plan_runs(preset: str, variants: list[str], anchor: str) -> dict[str, str]:
    """variant -> the variant whose run it uses: itself, or the anchor or first earlier
    variant with the same config."""
    first: dict[tuple, str] = {}
    uses = {v: first.setdefault(tuple(overrides(preset, v)), v) for v in [anchor, *variants]}
    return {v: uses[v] for v in variants}


def train_command(args, variant: str, run: Path) -> list[str]:
    cmd = [sys.executable, "-m", "vid1d", "train", "gvc1d", "--preset", args.preset,
           "--out", str(run), "--steps", str(args.steps), *overrides(args.preset, variant)]
    if args.data:
        cmd += ["--data", args.data, "data.kind=mixed", "data.synthetic_fraction=0.3"]
    return cmd + list(args.train_arg)


def finished_step(run: Path) -> int:
    """The step of the run's latest checkpoint (0 without one)."""
    return latest_step(run) or 0


def run_logged(cmd: list[str], log: str, env: dict, threads: int, what: str) -> None:
    """Run ``cmd`` on ``threads`` torch threads, output to ``log``; a failure stops the
    benchmark with one line that names the log."""
    with open(log, "a") as f:
        rc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT,
                            env={**env, "OMP_NUM_THREADS": str(threads)}).returncode
    if rc:
        raise SystemExit(f"[ablation] {what} failed (exit {rc}), see {log}")


def train_all(args, runs: list[str], env: dict) -> None:
    """Train (or resume) the runs not yet at ``args.steps``, ``args.jobs`` at a time."""
    todo = [v for v in runs if finished_step(Path(args.runs) / v) < args.steps]
    threads = max(1, (os.cpu_count() or 1) // max(1, min(args.jobs, len(todo))))

    def one(v: str) -> None:
        run = Path(args.runs) / v
        run.parent.mkdir(parents=True, exist_ok=True)
        cmd = ([sys.executable, "-m", "vid1d", "train", "--resume", str(run)]
               if finished_step(run) else train_command(args, v, run))
        print(f"[ablation] training {v}: {' '.join(cmd)}", flush=True)
        run_logged(cmd, f"{run}.train.log", env, threads, f"training {v}")
        print(f"[ablation] {v} done", flush=True)

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        list(pool.map(one, todo))


def evaluate_all(args, runs: list[str], inputs: list[str], env: dict) -> dict[str, list[dict]]:
    """Export each run and code every input with ``vid1d eval`` (real bitstreams),
    ``args.jobs`` runs at a time; returns run -> one RD record per input."""
    threads = max(1, (os.cpu_count() or 1) // args.jobs)

    def one(v: str) -> list[dict]:
        run, model_id = Path(args.runs) / v, f"ablation-{v}"
        out = run / f"eval-{args.frames}f-{args.precision}-q{args.qualities or 'default'}"
        files = [out / f"{Path(clip).stem}__{model_id}.json" for clip in inputs]
        ckpt = run / "checkpoints" / "latest"
        if not all(f.exists() and f.stat().st_mtime > ckpt.stat().st_mtime for f in files):
            run_logged([sys.executable, "-m", "vid1d", "export", str(run), "-o", model_id,
                        "--force"], f"{run}.eval.log", env, threads, f"exporting {v}")
            cmd = [sys.executable, "-m", "vid1d", "eval", *inputs, "--codecs", model_id,
                   "--anchor", model_id, "--frames", str(args.frames), "--no-vmaf",
                   "--precision", args.precision, "-o", str(out)]
            if args.qualities:
                cmd += ["--qualities", args.qualities]
            print(f"[ablation] evaluating {v}", flush=True)
            run_logged(cmd, f"{run}.eval.log", env, threads, f"evaluating {v}")
        return [load_rd(f) for f in files]

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        return dict(zip(runs, pool.map(one, runs), strict=True))


def compare(anchor: dict, rd: dict) -> dict:
    """BD figures of ``rd`` against ``anchor`` (same clip); a string says why one is undefined."""
    a, t = anchor["points"], rd["points"]
    out = {}
    for key, fn, metric in (("bd_rate_psnr", bd_rate, "psnr_rgb"),
                            ("bd_rate_ms_ssim", bd_rate, "ms_ssim"), ("bd_psnr", bd_psnr, "psnr_rgb")):
        try:
            out[key] = fn([p["bpp"] for p in a], [p[metric] for p in a],
                          [p["bpp"] for p in t], [p[metric] for p in t])
        except InputError as e:  # BD undefined (non-monotonic curve, no overlap)
            out[key] = f"n/a ({str(e).split(':')[0].split(' (')[0]})"
    return out


def mean_defined(values: list) -> tuple[float | None, int]:
    nums = [v for v in values if isinstance(v, float)]
    return (sum(nums) / len(nums) if nums else None), len(nums)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="small")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--data", default=None, help="training folder (default: synthetic clips)")
    ap.add_argument("--train-arg", action="append", default=[], metavar="KEY=VALUE",
                    help="extra `vid1d train` override for every variant (repeatable)")
    ap.add_argument("--jobs", type=int, default=1, help="variants trained at once")
    ap.add_argument("--eval-input", action="append", default=None,
                    help="evaluation clip (repeatable; default: the bundled carphone sample)")
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--precision", default=DEFAULT_PRECISION, choices=PRECISIONS,
                    help="coding precision of the RD points (see vid1d encode --help)")
    ap.add_argument("--qualities", default=None,
                    help="comma-separated qualities to code (default: the model's 5-point ladder)")
    ap.add_argument("--variants", default=",".join(TABLE2 + TABLE3))
    ap.add_argument("--default", default="mem-1d", help="the anchor variant")
    ap.add_argument("--seeds", default="",
                    help="comma-separated seeds of extra anchor runs (rows ANCHOR-seedN): how far "
                         "the figures move with the training seed alone")
    ap.add_argument("--runs", default="runs/ablation")
    ap.add_argument("--out", default="docs/results/gvc1d_ablation")
    args = ap.parse_args()
    if args.jobs < 1:
        ap.error("--jobs must be >= 1")
    inputs = args.eval_input or ["src/vid1d/assets/carphone_pristine.mp4"]
    variants = args.variants.split(",")
    if args.default not in variants:
        variants.append(args.default)
    variants += [f"{args.default}-seed{int(s)}" for s in args.seeds.split(",") if s]
    if args.preset not in PRESETS:
        ap.error(f"unknown preset {args.preset!r} (choose from {', '.join(PRESETS)})")
    try:
        uses = plan_runs(args.preset, variants, args.default)
    except (ValueError, AttributeError) as e:
        ap.error(f"bad --variants/--default: {e}")
    models = Path(args.runs) / "models"
    env = {**os.environ, "VID1D_MODELS": str(models)}
    runs = list(dict.fromkeys(uses.values()))  # each run once, in the variants' order
    train_all(args, runs, env)

    rds = evaluate_all(args, runs, inputs, env)
    anchor = rds[uses[args.default]]
    rows = []
    for v in variants:
        per_clip = []
        for clip, a, rd in zip(inputs, anchor, rds[uses[v]], strict=True):
            pts = [{k: p[k] for k in ("quality", "bpp", "psnr_rgb", "ms_ssim")} for p in rd["points"]]
            per_clip.append({"clip": Path(clip).stem, "points": pts, **compare(a, rd)})
        row = {"variant": v, "run": uses[v], "overrides": overrides(args.preset, v),
               "clips": per_clip}
        for key in BD_KEYS:
            row[key], row[key + "_clips"] = mean_defined([c[key] for c in per_clip])
        rows.append(row)
    for i, clip in enumerate(inputs):
        plot_rd([rds[r][i] for r in runs],
                f"{args.out}_{Path(clip).stem}.png",
                title=f"GVC1D ablations, {args.preset}, {args.steps} steps: {Path(clip).stem}")

    meta = {"command": "python " + " ".join(sys.argv), "date": utc_now(),
            "machine": machine_info(), "preset": args.preset, "steps": args.steps,
            "train_args": args.train_arg, "frames": args.frames, "precision": args.precision, "anchor": args.default,
            "inputs": inputs, "rows": rows}
    n = len(inputs)

    def fmt(row: dict, key: str, unit: str) -> str:
        if row[key] is None:
            return f"n/a ({row['clips'][0][key].removeprefix('n/a (').rstrip(')')})" if n == 1 \
                else "n/a"
        return f"{row[key]:+.1f}{unit}" + (f" ({row[key + '_clips']}/{n})" if n > 1 else "")

    def span(clip: dict, key: str, f: str) -> str:
        vals = [p[key] for p in clip["points"]]
        return f"{min(vals):{f}}–{max(vals):{f}}"

    lines = [f"# GVC1D ablations at preset `{args.preset}`, {args.steps} steps each", "",
             f"- Command: `{meta['command']}`", f"- Date: {meta['date']}; machine: "
             f"{meta['machine']['cpu']}, {meta['machine']['cpu_count']} CPUs",
             f"- Anchor: `{args.default}`; {args.frames} frames ({args.precision} coding) of: "
             + ", ".join(Path(c).stem for c in inputs),
             "- BD columns: mean over the clips where the figure is defined (count in brackets); "
             "BD-rate < 0 and BD-PSNR > 0 favour the variant. Plots: "
             + ", ".join(f"{Path(args.out).name}_{Path(c).stem}.png" for c in inputs), "",
             "| variant | config | BD-rate PSNR | BD-rate MS-SSIM | BD-PSNR (dB) |",
             "|---|---|---:|---:|---:|"]
    for r in rows:
        config = " ".join(o.removeprefix("model.") for o in r["overrides"]) or "(default)"
        if r["run"] != r["variant"]:
            config += f" — same run as `{r['run']}`"
        lines.append(f"| {r['variant']} | {config} | {fmt(r, 'bd_rate_psnr', '%')} | "
                     f"{fmt(r, 'bd_rate_ms_ssim', '%')} | {fmt(r, 'bd_psnr', '')} |")
    if n > 1:
        names = [Path(c).stem for c in inputs]
        lines += ["", "BD-PSNR (dB) per clip:", "", "| variant | " + " | ".join(names) + " |",
                  "|---|" + "---:|" * n]
        lines += [f"| {r['variant']} | " + " | ".join(
            f"{c['bd_psnr']:+.2f}" if isinstance(c["bd_psnr"], float) else c["bd_psnr"]
            for c in r["clips"]) + " |" for r in rows]
    lines += ["", "| variant | clip | bpp (qualities) | PSNR RGB (dB) | MS-SSIM |",
              "|---|---|---:|---:|---:|"]
    lines += [f"| {r['variant']} | {c['clip']} | {span(c, 'bpp', '.4f')} | "
              f"{span(c, 'psnr_rgb', '.2f')} | {span(c, 'ms_ssim', '.3f')} |"
              for r in rows if r["run"] == r["variant"] for c in r["clips"]]
    write_result(args.out, meta, lines)


if __name__ == "__main__":
    main()
