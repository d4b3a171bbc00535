"""End-to-end check of the platform with the reference codec (issue: training infrastructure).

    python benchmarks/refcodec_e2e.py --data ../shared/data/videos --steps 400

1. ``vid1d train refcodec --preset small`` on real clips for a few minutes;
2. ``vid1d export`` of the EMA weights into the model registry;
3. ``encode_video`` of a real clip into a .v1d file and ``decode_video`` back;
4. checks: the decoded frames equal the encoder's reconstructions, the PSNR
   measured on the decoded file equals the encoder's estimate, and the real
   bytes of the coded frames are within 1% of the estimated bits.
Writes docs/results/refcodec.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import torch

from vid1d.codec import decode_video, encode_video
from vid1d.eval.compare import compare_videos
from vid1d.models.registry import load_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="../shared/data/videos")
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--clip", default="src/vid1d/assets/carphone_pristine.mp4")
    ap.add_argument("--frames", type=int, default=30)
    ap.add_argument("--run", default="runs/refcodec-small")
    ap.add_argument("--model-id", default="refcodec-small")
    ap.add_argument("--out", default="docs/results/refcodec")
    args = ap.parse_args()
    if not (Path(args.run) / "checkpoints" / "latest").exists():
        subprocess.run([sys.executable, "-m", "vid1d", "train", "refcodec", "--preset", "small",
                        "--data", args.data, "--out", args.run, "--steps", str(args.steps),
                        "data.frames=1", "data.workers=1", "train.val_every=200",
                        "train.sample_every=200", "train.ckpt_every=200"], check=True)
    subprocess.run([sys.executable, "-m", "vid1d", "export", args.run, "-o", args.model_id,
                    "--force"], check=True)
    model, ckpt = load_model(args.model_id)
    last = [json.loads(x) for x in (Path(args.run) / "metrics.jsonl").read_text().splitlines()]
    val = [r for r in last if r.get("split") == "val"]
    train_minutes = max(r.get("time", 0) for r in last) / 60  # the loop's own wall clock
    with tempfile.TemporaryDirectory() as tmp:
        stream, decoded = Path(tmp) / "clip.v1d", Path(tmp) / "clip.mkv"
        recon, dec = {}, {}
        rep = encode_video(model, args.clip, stream, model_id=args.model_id, quality=0.0,
                           max_frames=args.frames, on_frame=lambda t, x: recon.__setitem__(t, x))
        decode_video(stream, decoded, model=model, lossless=True,
                     on_frame=lambda t, x: dec.__setitem__(t, x))
        identical = all(torch.equal(recon[t], dec[t]) for t in recon)
        cmp = compare_videos(args.clip, decoded, metrics=("psnr",), max_frames=args.frames)
    real_bits = 8 * sum(rep.frame_bytes)
    est_bits = sum(rep.estimated_bits)
    res = {
        "command": "python " + " ".join(sys.argv), "date": str(date.today()),
        "machine": f"{os.cpu_count()} CPUs, {platform.platform()}, torch {torch.__version__}",
        "train_steps": args.steps, "train_minutes": round(train_minutes, 1),
        "data": args.data, "model_sha256": ckpt.meta["sha256"][:12],
        "final_val": val[-1] if val else None, "clip": args.clip, "frames": rep.frames,
        "decoded_equals_encoder_reconstruction": identical,
        "encoder_psnr_rgb": float(np.mean(rep.psnr)), "decoded_psnr_rgb": cmp["mean"]["psnr_rgb"],
        "file_bytes": rep.file_bytes, "bpp_file": rep.bpp,
        "frame_payload_bits": real_bits, "estimated_bits": est_bits,
        "payload_vs_estimate_percent": 100 * (real_bits - est_bits) / est_bits,
    }
    Path(args.out + ".json").write_text(json.dumps(res, indent=1) + "\n")
    md = [f"# Reference codec end to end ({args.model_id})", "",
          f"- Command: `{res['command']}`", f"- Date: {res['date']}; machine: {res['machine']}",
          f"- Training: `vid1d train refcodec --preset small --data {args.data}`, {args.steps} "
          f"steps, {res['train_minutes']} min (shared 2-core CPU); final validation "
          f"{res['final_val']}", "",
          "| check | value |", "|---|---|",
          f"| clip | {args.clip}, {rep.frames} frames |",
          f"| decoded frames == encoder reconstructions | {identical} |",
          f"| PSNR RGB, encoder estimate | {res['encoder_psnr_rgb']:.3f} dB |",
          f"| PSNR RGB, measured on the decoded file | {res['decoded_psnr_rgb']:.3f} dB |",
          f"| file size | {rep.file_bytes} bytes ({rep.bpp:.4f} bpp incl. header and chunk framing) |",
          f"| entropy-coded payload vs estimated bits | {real_bits} vs {est_bits:.0f} "
          f"({res['payload_vs_estimate_percent']:+.3f}%) |"]
    Path(args.out + ".md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    assert identical and abs(res["payload_vs_estimate_percent"]) < 1.0
    assert abs(res["encoder_psnr_rgb"] - res["decoded_psnr_rgb"]) < 0.05


if __name__ == "__main__":
    main()
