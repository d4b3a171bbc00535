"""Where a training step's time goes, eager vs ``torch.compile`` (``train.compile=true``).

    python benchmarks/bench_train_step.py --model gvc1d --preset small

Builds the preset's model and times full steps (forward with the model's training
losses, backward, AdamW) on a random batch of the recipe's clip shape, first eager,
then compiled (``--no-compile`` skips that), and profiles one eager step to split its
time between matmuls, attention and everything else. Writes ``--out`` .md and .json
(default docs/results/train_step_<model>).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

from vid1d.eval.provenance import machine_info, utc_now
from vid1d.models.registry import get_model_type
from vid1d.train.distributed import LossModule
from vid1d.train.testing import fit_batch

GROUPS = {"matmul": ("aten::mm", "aten::addmm", "aten::bmm"),
          "attention": ("scaled_dot_product",),
          "convolution": ("convolution",)}


def timed_steps(fn, opt, batch, warmup: int, steps: int) -> tuple[float, float]:
    """(seconds for the first ``warmup`` steps, mean seconds per step after them)."""
    def run(n: int) -> float:
        t0 = time.perf_counter()
        fit_batch(fn, batch, opt, n)
        return time.perf_counter() - t0
    return run(warmup), run(steps) / steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="gvc1d")
    ap.add_argument("--preset", default="small")
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    if args.steps < 1 or args.threads < 0:
        ap.error("--steps must be >= 1 and --threads >= 0")
    if args.threads:
        torch.set_num_threads(args.threads)
    mt = get_model_type(args.model)
    if args.preset not in mt.presets:
        ap.error(f"{args.model} has no preset {args.preset!r} (known: {', '.join(mt.presets)})")
    rp = mt.presets[args.preset]
    size = rp.data.size
    shape = (rp.train.batch_size, 3, rp.data.frames, *size)
    res = {"date": utc_now(), "machine": machine_info(), "model": args.model, "preset": args.preset,
           "batch_shape": list(shape), "torch_threads": torch.get_num_threads(), "runs": {}}
    modes = ["eager"] if args.no_compile else ["eager", "compiled"]
    for mode in modes:
        torch.manual_seed(0)
        cfg = rp.model
        if hasattr(cfg, "perceptual"):  # no feature-network weights in a speed test
            cfg = dataclasses.replace(cfg, perceptual="", repa="")
        model = mt.build(cfg).train()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
        batch = {"video": torch.rand(*shape)}
        fn = LossModule(model)
        if mode == "compiled":
            fn = torch.compile(fn)
        first, per_step = timed_steps(fn, opt, batch, warmup=3, steps=args.steps)
        res["runs"][mode] = {"first_3_steps_s": first, "s_per_step": per_step}
        print(f"{mode}: {per_step:.3f} s/step (first 3 steps {first:.1f} s)", flush=True)
        if mode == "eager":
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                fit_batch(fn, batch, opt, 1)
            events = prof.key_averages()
            total = sum(e.self_cpu_time_total for e in events)
            share = {g: sum(e.self_cpu_time_total for e in events if any(k in e.key for k in keys)) / total
                     for g, keys in GROUPS.items()}
            share["other"] = 1 - sum(share.values())
            res["eager_time_share"] = share
            print("eager step: " + ", ".join(f"{g} {100 * v:.0f}%" for g, v in share.items()), flush=True)
    out = Path(args.out or f"docs/results/train_step_{args.model}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(res, indent=2))
    cmd = f"python benchmarks/bench_train_step.py --model {args.model} --preset {args.preset} --steps {args.steps}"
    if args.threads:
        cmd += f" --threads {args.threads}"
    if args.no_compile:
        cmd += " --no-compile"
    if args.out:
        cmd += f" --out {args.out}"
    m = res["machine"]
    lines = [f"# Training-step time: {args.model} `{args.preset}` ({res['date'][:10]})", "",
             f"Command: `{cmd}`  ",
             f"Machine: {m.get('cpu', '?')} ({m.get('cpu_count', '?')} cores), torch {m.get('torch', '?')}, "
             f"{res['torch_threads']} torch thread(s); batch {tuple(shape)} random clips.", "",
             "| mode | s/step | first 3 steps (s) |", "|---|---:|---:|"]
    for mode, r in res["runs"].items():
        lines.append(f"| {mode} | {r['s_per_step']:.3f} | {r['first_3_steps_s']:.1f} |")
    lines += ["", "Eager step, share of CPU time: "
              + ", ".join(f"{g} {100 * v:.0f}%" for g, v in res["eager_time_share"].items()) + "."]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out.with_suffix('.md')} and .json")


if __name__ == "__main__":
    main()
