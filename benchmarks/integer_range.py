"""How much of the integer coding path's activation range a clip uses.

Every fixed-point activation is saturated to ±ACT_MAX (±256 at 2^-12,
``vid1d.nn.fixed``). This script counts, while coding a clip in ``--precision int``,
the values that reach the saturation and the largest magnitude seen, to tell clipping
apart from rounding when int and float64 coding differ.

    python benchmarks/integer_range.py ../shared/data/videos/bikes.mp4 \
        src/vid1d/assets/carphone_pristine.mp4 --frames 2 --out docs/results/integer_range
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import vid1d.models.gvc1d.fixed as gvc1d_fixed
import vid1d.nn.fixed as fx
from vid1d.codec import encode_video
from vid1d.eval.provenance import machine_info, utc_now
from vid1d.models.registry import load_model


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("videos", nargs="+")
    ap.add_argument("--model", default="gvc1d-small")
    ap.add_argument("--frames", type=int, default=2)
    ap.add_argument("--quality", type=float, default=3.5)
    ap.add_argument("--out", default="docs/results/integer_range")
    args = ap.parse_args()
    stats = {"values": 0, "clipped": 0, "peak": 0}
    saturate = fx.saturate

    def counting(x):
        stats["values"] += x.numel()
        stats["clipped"] += int((x.abs() > fx.ACT_MAX).sum())
        stats["peak"] = max(stats["peak"], int(x.abs().max()) if x.numel() else 0)
        return saturate(x)

    fx.saturate = gvc1d_fixed.saturate = counting  # every call site of the coding path
    model, _ = load_model(args.model)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for video in args.videos:
            stats.update(values=0, clipped=0, peak=0)
            encode_video(model, video, Path(tmp) / "x.v1d", model_id=args.model,
                         quality=args.quality, max_frames=args.frames, precision="int")
            rows.append({"clip": Path(video).name, **stats,
                         "peak_real": stats["peak"] / 2**fx.FRAC,
                         "range_real": fx.ACT_MAX / 2**fx.FRAC})
    cmd = ("python benchmarks/integer_range.py " + " ".join(args.videos)
           + f" --frames {args.frames} --out {args.out}")
    lines = ["# Activation range of the integer coding path", "",
             f"Command: `{cmd}`  ", f"Date: {utc_now()}; model {args.model}, quality "
             f"{args.quality}, {args.frames} frames, int coding", "",
             "| clip | saturated values | clipped | largest abs value | range |",
             "|---|---:|---:|---:|---:|"]
    lines += [f"| {r['clip']} | {r['values']:,} | {r['clipped']} | {r['peak_real']:.1f} | "
              f"±{r['range_real']:.0f} |" for r in rows]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    out.with_suffix(".json").write_text(json.dumps({"machine": machine_info(), "rows": rows},
                                                   indent=1) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
