"""Would the data loader bottleneck training? Clips/s of vid1d.data next to a training step.

Measured in one run, on one machine:

- ``videos``: the video-folder dataset over ../shared/data/videos (falls back to the
  bundled clip when that folder is absent; the report says which) at a training-like
  setting (8 frames of 128x128, scale 1-2 source px per output px, flips, batch 8),
  through ``torch.utils.data.DataLoader`` with 0, 1 and 2 workers. Worker start-up
  and the first batch are excluded; persistent workers.
- ``synthetic-motion`` / ``synthetic-shapes``: the same with 0 workers.
- the step time (forward + backward + AdamW) of a reference model on the same batch
  shape: a 5.6M-parameter ViT-style video autoencoder (tubelets 2x16x16 -> 256 tokens,
  dim 256, 6 layers), roughly the size the DESIGN notes measure on this CPU.
- end to end: that model trained on batches streamed from the loader (0, 1, 2 workers)
  vs on one batch held in memory. On a 2-core machine workers compete with the step for
  the same cores, so these are the numbers that say whether loading slows training.

    python benchmarks/bench_dataloader.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from einops import rearrange
from torch import nn
from torch.utils.data import DataLoader

from vid1d.data import DataConfig, build_dataset
from vid1d.utils.fs import atomic_write_text

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "videos"
BUNDLED = ROOT / "src" / "vid1d" / "assets"


class TinyVideoViT(nn.Module):
    """Tubelet embed -> transformer encoder -> linear unembed; MSE reconstruction."""

    def __init__(self, frames: int, size: int, dim: int = 256, depth: int = 6, heads: int = 4,
                 pt: int = 2, ps: int = 16) -> None:
        super().__init__()
        self.pt, self.ps = pt, ps
        n = (frames // pt) * (size // ps) ** 2
        self.embed = nn.Linear(3 * pt * ps * ps, dim)
        self.pos = nn.Parameter(torch.zeros(1, n, dim))
        layer = nn.TransformerEncoderLayer(dim, heads, 4 * dim, dropout=0.0, batch_first=True,
                                           norm_first=True, activation="gelu")
        self.blocks = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.out = nn.Linear(dim, 3 * pt * ps * ps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, T, H, W = x.shape
        p = rearrange(x, "b c (t pt) (h ph) (w pw) -> b (t h w) (c pt ph pw)",
                      pt=self.pt, ph=self.ps, pw=self.ps)  # (B, N, 3*pt*ps*ps)
        z = self.blocks(self.embed(p) + self.pos)  # (B, N, D)
        y = self.out(z)
        return rearrange(y, "b (t h w) (c pt ph pw) -> b c (t pt) (h ph) (w pw)",
                         t=T // self.pt, h=H // self.ps, c=C, pt=self.pt, ph=self.ps, pw=self.ps)


def loader_rate(ds, batch: int, workers: int, batches: int) -> dict:
    """Steady-state seconds per batch: total time of ``batches`` batches after warm-up.

    Warm-up = worker start-up and the first ``max(workers, 1)`` batches, which the
    workers prepare in parallel; counting them would overstate the steady rate.
    """
    dl = DataLoader(ds, batch_size=batch, num_workers=workers, persistent_workers=workers > 0,
                    prefetch_factor=2 if workers else None)
    it = iter(dl)
    t0 = time.perf_counter()
    for _ in range(max(workers, 1)):
        next(it)
    t1 = time.perf_counter()
    for _ in range(batches):
        next(it)
    per_batch = (time.perf_counter() - t1) / batches
    del it, dl
    return {"workers": workers, "batches": batches, "warmup_s": round(t1 - t0, 3),
            "batch_s": round(per_batch, 4), "clips_per_s": round(batch / per_batch, 2)}


def train_steps(model, opt, batches) -> tuple[float, float]:
    """(median, min) seconds per step (forward, backward, AdamW), including fetching the batch.

    Both, because on a shared 2-core machine a 2-thread step varies many-fold with
    other jobs' load: the minimum estimates a quiet machine, the median what we saw.
    """
    times = []
    t = time.perf_counter()
    for b in batches:
        x = b["video"]
        loss = nn.functional.mse_loss(model(x), x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t)
        t = time.perf_counter()
    return statistics.median(times), min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batches", type=int, default=6, help="timed batches per loader setting")
    ap.add_argument("--steps", type=int, default=5, help="timed training steps per setting")
    ap.add_argument("--out", default=str(ROOT / "docs" / "results" / "dataloader"),
                    help="output path without extension (.md and .json are written)")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite the .md from the existing .json without measuring")
    args = ap.parse_args()
    out = Path(args.out)
    if args.report_only:
        results = json.loads(out.with_suffix(".json").read_text())
        atomic_write_text(out.with_suffix(".md"), report(results))
        return 0

    root = SHARED if SHARED.is_dir() and any(SHARED.iterdir()) else BUNDLED
    which = "../shared/data/videos" if root == SHARED else "bundled carphone_pristine.mp4 only"
    print(f"videos from {root} ({which})", flush=True)
    load0 = os.getloadavg()[0]
    frames, size, batch = 8, 128, 8
    common = dict(frames=frames, size=(size, size), flip=True, val_fraction=0.0, seed=0)
    t = time.perf_counter()
    videos = build_dataset(DataConfig(kind="videos", root=str(root), scale=(1.0, 2.0), **common))
    index_s = time.perf_counter() - t
    print(f"indexed {len(videos.sources)} videos in {index_s:.2f} s", flush=True)

    results: dict = {"loader": {}, "model": {}}
    for w in (0, 1, 2):
        r = loader_rate(videos, batch, w, args.batches)
        results["loader"][f"videos/{w}w"] = r
        print(f"videos, {w} workers: {r['clips_per_s']:.1f} clips/s ({r['batch_s']:.3f} s/batch)",
              flush=True)
    for kind in ("synthetic-motion", "synthetic-shapes"):
        ds = build_dataset(DataConfig(kind=kind, **common))
        ds[0]  # load the still images once (cached per process)
        r = loader_rate(ds, batch, 0, args.batches)
        results["loader"][f"{kind}/0w"] = r
        print(f"{kind}, 0 workers: {r['clips_per_s']:.1f} clips/s", flush=True)

    torch.manual_seed(0)
    model = TinyVideoViT(frames, size)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    params = sum(p.numel() for p in model.parameters())
    fixed = next(iter(DataLoader(videos, batch_size=batch)))
    train_steps(model, opt, [fixed] * 2)  # warm-up
    step_s, step_min = train_steps(model, opt, [fixed] * args.steps)
    print(f"model {params / 1e6:.2f}M params: {step_s:.3f} s/step (min {step_min:.3f}) on a "
          "batch held in memory", flush=True)
    streamed = {}
    for w in (0, 1, 2):
        dl = DataLoader(videos, batch_size=batch, num_workers=w, persistent_workers=w > 0,
                        sampler=range(batch, batch * (args.steps + 3)))
        it = iter(dl)
        train_steps(model, opt, [next(it)])  # worker start-up, first batch
        med, low = train_steps(model, opt, (next(it) for _ in range(args.steps)))
        streamed[f"{w}w"] = {"median": round(med, 4), "min": round(low, 4)}
        del it, dl
        print(f"training streamed from {w} workers: {med:.3f} s/step (min {low:.3f})", flush=True)
    results["model"] = {
        "name": "TinyVideoViT(dim 256, depth 6, heads 4, tubelet 2x16x16, 256 tokens)",
        "params": params, "batch": batch, "step_s_in_memory_batch": round(step_s, 4),
        "step_s_in_memory_batch_min": round(step_min, 4),
        "step_s_streamed": streamed,
    }

    share = np.diff(np.concatenate([[0.0], videos._cum]))
    results["setting"] = {"frames": frames, "size": [size, size], "batch": batch,
                          "scale": [1.0, 2.0], "flip": True, "videos_root": which,
                          "videos": {s.key: {"frames": s.num_frames, "size": f"{s.width}x{s.height}",
                                             "clip_share": round(float(w), 3)}
                                     for s, w in zip(videos.sources, share, strict=True)},
                          "index_s": round(index_s, 3)}
    results["machine"] = {
        "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(), "python": sys.version.split()[0],
        "torch": torch.__version__, "load_avg_start": round(load0, 2),
        "load_avg_end": round(os.getloadavg()[0], 2),
    }
    results["date"] = dt.date.today().isoformat()
    results["steps"] = args.steps
    results["command"] = "python benchmarks/bench_dataloader.py" + "".join(
        f" {a}" for a in sys.argv[1:])
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out.with_suffix(".json"), json.dumps(results, indent=2) + "\n")
    atomic_write_text(out.with_suffix(".md"), report(results))
    print(f"wrote {out.with_suffix('.md')} and .json")
    return 0


def report(r: dict) -> str:
    m, s, mod = r["machine"], r["setting"], r["model"]
    step = mod["step_s_in_memory_batch"]
    quiet = min([mod["step_s_in_memory_batch_min"]] + [v["min"] for v in mod["step_s_streamed"].values()])
    lines = [
        "# Data loader throughput vs a training step",
        "",
        f"- Command: `{r['command']}`",
        f"- Date: {r['date']}",
        f"- Machine: {m['cpus']} CPUs (shared with other jobs; load average at start/end "
        f"{m['load_avg_start']} / {m['load_avg_end']}), {m['platform']}; Python {m['python']}, "
        f"torch {m['torch']} ({m['torch_threads']} threads in the main process)",
        f"- Setting: clips of {s['frames']} frames at {s['size'][0]}x{s['size'][1]}, batch "
        f"{s['batch']}, crops of 1-2 source px per output px (log-uniform), random flips.",
        f"- Videos: {s['videos_root']}, indexed in {s['index_s']} s; share of clips drawn "
        "from each (proportional to its length): " + ", ".join(
            f"{k} ({v['size']}, {v['frames']} frames) {100 * v['clip_share']:.0f}%"
            for k, v in s["videos"].items()) + ".",
        "",
        "Loader rows: steady state, total time of the timed batches after worker start-up and "
        "the first batch of each worker.",
        "",
        f"| dataset | workers | clips/s | s/batch | batch time / quiet step time ({quiet:.3f} s) |",
        "|---|---:|---:|---:|---:|",
    ]
    for key, v in r["loader"].items():
        kind = key.split("/")[0]
        lines.append(f"| {kind} | {v['workers']} | {v['clips_per_s']:.1f} | {v['batch_s']:.3f} | "
                     f"{v['batch_s'] / quiet:.2f} |")
    lines += [
        "",
        f"Reference step: {mod['name']}, {mod['params'] / 1e6:.2f}M parameters, forward + "
        f"backward + AdamW on a batch of {mod['batch']} ({r['steps']} timed steps each; the "
        "minimum estimates a quiet machine):",
        "",
        "| batches from | median s/step | min s/step |",
        "|---|---:|---:|",
        f"| one batch held in memory | {step:.3f} | {mod['step_s_in_memory_batch_min']:.3f} |",
    ]
    for k, v in mod["step_s_streamed"].items():
        lines.append(f"| video loader, {k[:-1]} workers | {v['median']:.3f} | {v['min']:.3f} |")
    lines += [
        "",
        "Reading the tables: the quiet step time is the fastest step seen in any setting "
        "(other jobs share these 2 cores, and a 2-thread torch step slows many-fold when "
        "they run, so medians mostly measure their load). A loader ratio below 1 means one "
        "loader delivers a batch faster than the model consumes one. With 0 workers the "
        "batch time adds to every step; workers overlap it with the step but take CPU from "
        "it on a 2-core machine, which the streamed step times show.",
        "",
        "Where the video loader's time goes: each clip opens its file, seeks to the keyframe "
        "before the clip and decodes forward from there, so files with sparse keyframes cost "
        "more (a file with a single keyframe is decoded from its start for every clip).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
