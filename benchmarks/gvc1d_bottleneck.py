"""Where does a GVC1D model lose its quality: in the quantizer or in the representation?

    python benchmarks/gvc1d_bottleneck.py [--model gvc1d-small] [--qualities 0,7] \
        [--frames 8] [VIDEO ...]

A learned codec's reconstruction can be limited by the rounding of its latents (then a
finer quantization step, i.e. more rate, buys quality) or by what its fixed number of
tokens per window can carry at all (then no rate helps, and the fix is more tokens, a
larger model or longer training). For every (model, clip, quality) this script runs
the model's own low-delay recurrence (frame 0 intra, then the recurrent context) twice
on the same frames, without writing a bitstream:

- rounded: the latents rounded to integers, exactly what the codec codes. Its rate is
  the entropy model's estimate (the real files are within 1% of it: tests/models/gvc1d);
- unrounded: the decoder, the entropy model's context and the memory get the
  unrounded latents. This is the model's quality with quantization taken away, the
  ceiling of its rate–distortion curve;
- thumbnail: a fixed linear reference with the same number of real values per frame as
  the model's latents (tokens × channels × windows, padding windows included): each
  frame area-downscaled to an RGB thumbnail of that many values, same aspect ratio,
  and upscaled back bicubic. A learned 1D code that does not beat it has capacity
  left that training has not used.

PSNR is RGB, per frame, averaged over the frames. Writes ``--out``.{md,json}.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from vid1d.eval.learned import load_learned
from vid1d.eval.provenance import machine_info, utc_now, write_result
from vid1d.io import open_video
from vid1d.metrics import psnr

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_VIDEOS = [ROOT / "src" / "vid1d" / "assets" / "carphone_pristine.mp4",
                  ROOT.parent / "shared" / "data" / "videos" / "tree.avi",
                  ROOT.parent / "shared" / "data" / "videos" / "bikes.mp4"]


def thumbnail_psnr(video: torch.Tensor, n_values: int) -> float:
    """Mean PSNR of video (3, T, H, W) through an RGB thumbnail of ``n_values`` values
    per frame (area down, bicubic up)."""
    _, _, H, W = video.shape
    h = max(1, round((n_values / 3 * H / W) ** 0.5))
    w = max(1, round(n_values / 3 / h))
    frames = video.transpose(0, 1)  # (T, 3, H, W)
    thumb = F.interpolate(frames, size=(h, w), mode="area")
    up = F.interpolate(thumb, size=(H, W), mode="bicubic", align_corners=False).clamp(0, 1)
    return float(psnr(up, frames).mean())


def latent_values(model: torch.nn.Module, height: int, width: int) -> int:
    """Real values the model's latents carry per frame of this size."""
    nh, nw = model.grid(height, width)
    return nh * nw * model.cfg.tokens * model.cfg.token_channels


@torch.no_grad()
def measure(model: torch.nn.Module, video: torch.Tensor, quality: float) -> dict:
    """video (3, T, H, W) in [0, 1] -> the row's figures for one quality."""
    x = video[None]
    _, _, T, H, W = x.shape
    q = torch.tensor([quality])
    row = {}
    for name, round_latents in (("rounded", True), ("unrounded", False)):
        out = model(x, q, training=False, round_latents=round_latents)
        rec = out["x_hat"][0].clamp(0, 1).transpose(0, 1)  # (T, 3, H, W)
        per_frame = psnr(rec, video.transpose(0, 1)).tolist()
        row[f"psnr_{name}"] = float(np.mean(per_frame))
        row[f"psnr_{name}_frames"] = per_frame
        if round_latents:
            bits = -torch.log2(out["likelihoods"]["y"]).sum()
            row["bpp_estimated"] = float(bits / (T * H * W))
    row["gap_db"] = row["psnr_unrounded"] - row["psnr_rounded"]
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("videos", nargs="*", default=[str(v) for v in DEFAULT_VIDEOS])
    ap.add_argument("--model", default="gvc1d-small", help="comma-separated registry ids or paths")
    ap.add_argument("--qualities", default="0,7", help="comma-separated quality indices")
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--out", default="docs/results/gvc1d_bottleneck")
    args = ap.parse_args()
    qualities = [float(q) for q in args.qualities.split(",")]
    clips = {}
    for video in args.videos:
        with open_video(video) as reader:
            clips[Path(video).stem] = reader.read(args.frames)
    rows = []
    for model_ref in args.model.split(","):
        model, ckpt, qs = load_learned(model_ref, qualities)
        model.eval()
        model_id = ckpt.meta.get("id", model_ref)
        for clip, frames in clips.items():
            for q in qs:
                n_values = latent_values(model, *frames.shape[-2:])
                row = measure(model, frames, q)
                rows.append({"model": model_id, "clip": clip, "quality": q,
                             "size": f"{frames.shape[-1]}x{frames.shape[-2]}",
                             "latent_values": n_values,
                             "psnr_thumbnail": thumbnail_psnr(frames, n_values), **row})
                print(f"{model_id} {clip} q{q:g}: {row['bpp_estimated']:.4f} bpp, "
                      f"{row['psnr_rounded']:.2f} dB rounded, {row['psnr_unrounded']:.2f} unrounded",
                      flush=True)
    meta = {"command": "python benchmarks/gvc1d_bottleneck.py " + " ".join(
                f"--{k} {v}" for k, v in (("model", args.model), ("qualities", args.qualities),
                                          ("frames", args.frames), ("out", args.out)))
            + " " + " ".join(os.path.relpath(v) for v in args.videos),
            "date": utc_now(), "machine": machine_info(), "threads": torch.get_num_threads(),
            "rows": rows}
    lines = [f"# GVC1D: quality with and without latent rounding ({args.frames} frames, low delay)",
             "", f"- Command: `{meta['command']}`", f"- Date: {meta['date']}", "",
             "| model | clip | quality | bpp (estimated) | PSNR rounded (dB) | PSNR unrounded (dB) "
             "| gap (dB) | latent values / frame | thumbnail PSNR (dB) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['model']} | {r['clip']} {r['size']} | {r['quality']:g} | {r['bpp_estimated']:.4f} | "
              f"{r['psnr_rounded']:.2f} | {r['psnr_unrounded']:.2f} | {r['gap_db']:+.2f} | "
              f"{r['latent_values']} | {r['psnr_thumbnail']:.2f} |" for r in rows]
    write_result(args.out, meta, lines)


if __name__ == "__main__":
    main()
