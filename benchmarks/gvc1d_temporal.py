"""How much does a GVC1D model use its temporal context? Rate and quality per frame.

    python benchmarks/gvc1d_temporal.py [--model gvc1d-small] [--quality 7] [--frames 16] \
        [VIDEO ...]

A conditional codec that uses its context well spends far fewer bits on an inter
frame than on the intra frame, and on a static scene its quality climbs over the
first frames as each inter frame adds detail to what the decoder already holds.
For every (model, clip) this script codes the clip in low delay (one intra frame)
through a real .v1d file and records each frame's coded bytes and its PSNR (RGB, of
the reconstruction the decoder reproduces exactly, before 8-bit rounding), then
reports

- inter / intra: mean bytes of an inter frame over the intra frame's bytes;
- PSNR of frame 0, of frames 1-3 and of the last 4 frames.

Writes ``--out``.{md,json} and ``--out``.png (PSNR and bytes against the frame index).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from vid1d.codec import DEFAULT_PRECISION, PRECISIONS, encode_video
from vid1d.eval.learned import load_learned
from vid1d.eval.provenance import machine_info, utc_now, write_result
from vid1d.utils.fs import atomic_path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_VIDEOS = [ROOT / "src" / "vid1d" / "assets" / "carphone_pristine.mp4",
                  ROOT.parent / "shared" / "data" / "videos" / "tree.avi",
                  ROOT.parent / "shared" / "data" / "videos" / "bikes.mp4"]


def summarize(frame_bytes: list[int], psnr: list[float]) -> dict:
    """The per-clip figures of the table (needs at least 2 frames)."""
    if len(frame_bytes) < 2:
        raise ValueError("need at least one inter frame")
    inter = frame_bytes[1:]
    return {"intra_bytes": frame_bytes[0], "inter_bytes_mean": float(np.mean(inter)),
            "inter_over_intra": float(np.mean(inter)) / frame_bytes[0],
            "psnr_frame0": psnr[0], "psnr_frames1_3": float(np.mean(psnr[1:4])),
            "psnr_last4": float(np.mean(psnr[-4:]))}


def plot(rows: list[dict], out_png: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 6.5), constrained_layout=True)
    ax_q, ax_r = fig.subplots(2, 1, sharex=True)
    for r in rows:
        label = f"{r['model']} · {r['clip']}"
        t = np.arange(len(r["frame_bytes"]))
        ax_q.plot(t, r["psnr"], marker="o", ms=3, label=label)
        ax_r.plot(t, 8 * np.asarray(r["frame_bytes"]) / r["pixels"], marker="o", ms=3, label=label)
    ax_q.set_ylabel("PSNR RGB (dB)")
    ax_r.set_ylabel("bits per pixel of the frame")
    ax_r.set_xlabel("frame (0 = intra, then inter)")
    ax_q.set_title("GVC1D per frame, low delay: does the context pay?")
    for ax in (ax_q, ax_r):
        ax.grid(alpha=0.3)
    ax_q.legend(fontsize=7)
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, dpi=110, format="png")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("videos", nargs="*", default=[str(v) for v in DEFAULT_VIDEOS])
    ap.add_argument("--model", default="gvc1d-small", help="comma-separated registry ids or paths")
    ap.add_argument("--quality", type=float, default=7.0)
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--precision", default=DEFAULT_PRECISION, choices=PRECISIONS)
    ap.add_argument("--out", default="docs/results/gvc1d_temporal")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="vid1d-temporal-") as tmp:
        for model_ref in args.model.split(","):
            model, ckpt, (quality,) = load_learned(model_ref, [args.quality])
            model_id = ckpt.meta.get("id", model_ref)
            for video in args.videos:
                stream = Path(tmp) / "clip.v1d"
                rep = encode_video(model, video, stream, model_id=model_id, quality=quality,
                                   max_frames=args.frames, precision=args.precision)
                rows.append({"model": model_id, "clip": Path(video).stem,
                             "size": f"{rep.width}x{rep.height}", "pixels": rep.width * rep.height,
                             "frame_bytes": rep.frame_bytes, "psnr": rep.psnr,
                             **summarize(rep.frame_bytes, rep.psnr)})
    meta = {"command": "python benchmarks/gvc1d_temporal.py " + " ".join(
                f"--{k} {v}" for k, v in (("model", args.model), ("quality", args.quality),
                                          ("frames", args.frames), ("precision", args.precision),
                                          ("out", args.out)))
            + " " + " ".join(os.path.relpath(v) for v in args.videos),
            "date": utc_now(), "machine": machine_info(), "threads": torch.get_num_threads(),
            "rows": rows}
    lines = [f"# GVC1D per-frame rate and quality (quality {args.quality}, {args.frames} frames, "
             "low delay)", "", f"- Command: `{meta['command']}`", f"- Date: {meta['date']}",
             f"- Plot: {Path(args.out).name}.png", "",
             "| model | clip | intra bytes | inter bytes (mean) | inter / intra | PSNR frame 0 | "
             "frames 1–3 | last 4 frames |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['model']} | {r['clip']} {r['size']} | {r['intra_bytes']} | "
              f"{r['inter_bytes_mean']:.0f} | {r['inter_over_intra']:.2f} | {r['psnr_frame0']:.2f} | "
              f"{r['psnr_frames1_3']:.2f} | {r['psnr_last4']:.2f} |" for r in rows]
    write_result(args.out, meta, lines)
    plot(rows, Path(args.out + ".png"))


if __name__ == "__main__":
    main()
