"""What the integer coding path costs: rate, quality and speed of ``--precision int``
against float64 coding, same model, same clips, same run.

    python benchmarks/integer_coding.py [VIDEO ...] [--model gvc1d-small] [--frames 8]
        [--qualities 0,3.5,7]

For each clip and quality, encodes in float64 and in int, decodes each stream, and
checks that the decoder's frames equal the encoder's reconstruction. The int streams
are decoded a second time with every matrix product of the integer networks summed in
reverse order (``vid1d.nn.fixed.float64_matmul`` swapped): another machine's
arithmetic, which must give the same frames. Writes docs/results/integer_coding.{md,json}.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from vid1d.codec import decode_video, encode_video
from vid1d.eval.learned import load_learned
from vid1d.eval.provenance import machine_info, utc_now, write_result
from vid1d.nn import fixed

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_VIDEOS = [ROOT / "src/vid1d/assets/carphone_pristine.mp4",
                  ROOT.parent / "shared/data/videos/tree.avi"]


def display_path(path: str) -> str:
    """Relative to here inside the repository and its ../shared, else absolute."""
    rel = os.path.relpath(path)
    return os.path.abspath(path) if rel.startswith(os.path.join("..", "..")) else rel


def reversed_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.matmul(a.flip(-1), b.flip(-2))


def code_once(model, model_id: str, video: str, quality: float, precision: str, frames: int,
              tmp: Path) -> dict:
    stream = tmp / f"{precision}.v1d"
    recon: dict[int, torch.Tensor] = {}
    enc = encode_video(model, video, stream, model_id=model_id, quality=quality,
                       max_frames=frames, precision=precision,
                       on_frame=lambda t, x: recon.__setitem__(t, x.cpu()))

    def decode() -> tuple[bool, float]:
        out: dict[int, torch.Tensor] = {}
        t0 = time.perf_counter()
        decode_video(stream, None, model=model, on_frame=lambda t, x: out.__setitem__(t, x.cpu()))
        seconds = time.perf_counter() - t0
        return all(torch.equal(out[t], recon[t]) for t in recon), seconds

    exact, dec_seconds = decode()
    row = {"precision": precision, "bpp": 8 * enc.file_bytes / (enc.frames * enc.width * enc.height),
           "psnr": float(np.mean(enc.psnr)), "encode_s": enc.seconds, "decode_s": dec_seconds,
           "decode_exact": exact, "size": f"{enc.width}x{enc.height}", "frames": enc.frames}
    if precision == "int":
        saved = fixed.float64_matmul
        fixed.float64_matmul = reversed_matmul
        try:
            row["reversed_order_exact"], _ = decode()
        finally:
            fixed.float64_matmul = saved
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("videos", nargs="*", default=[str(v) for v in DEFAULT_VIDEOS])
    ap.add_argument("--model", default="gvc1d-small")
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--qualities", default="0,3.5,7")
    ap.add_argument("--out", default="docs/results/integer_coding")
    args = ap.parse_args()
    qualities = [float(q) for q in args.qualities.split(",")]
    model, ckpt, qualities = load_learned(args.model, qualities)
    model_id = ckpt.meta.get("id", args.model)
    rows = []
    with tempfile.TemporaryDirectory(prefix="vid1d-intcoding-") as tmp:
        for video in args.videos:
            for q in qualities:
                for precision in ("float64", "int"):
                    row = {"clip": Path(video).stem, "quality": q,
                           **code_once(model, model_id, video, q, precision, args.frames,
                                       Path(tmp))}
                    rows.append(row)
                    print(row, flush=True)
    command = ("python benchmarks/integer_coding.py "
               + " ".join(display_path(v) for v in args.videos)
               + f" --model {args.model} --frames {args.frames} --qualities {args.qualities}"
               + f" --out {args.out}")
    meta = {"command": command, "date": utc_now(), "machine": machine_info(),
            "threads": torch.get_num_threads(), "model": model_id,
            "model_sha256": ckpt.meta.get("sha256", "")[:12], "rows": rows}
    m = meta["machine"]
    lines = ["# Integer coding path vs float64 coding", "", f"- Command: `{command}`",
             f"- Date: {meta['date']}; machine: {m.get('cpu', '?')}, {meta['threads']} threads",
             f"- Model: {model_id}; {args.frames} frames per clip, low delay",
             "- exact: the decoder's frames equal the encoder's reconstruction; reversed: the "
             "int stream decoded again with every integer matrix product summed in reverse order",
             "", "| clip | size | quality | float64 bpp | int bpp | Δ rate | float64 PSNR | "
             "int PSNR | Δ PSNR (dB) | encode s f64 / int | decode s f64 / int | exact | reversed |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for f, i in zip(rows[::2], rows[1::2], strict=True):
        lines.append(
            f"| {f['clip']} | {f['size']} | {f['quality']:g} | {f['bpp']:.4f} | {i['bpp']:.4f} | "
            f"{100 * (i['bpp'] / f['bpp'] - 1):+.2f}% | {f['psnr']:.3f} | {i['psnr']:.3f} | "
            f"{i['psnr'] - f['psnr']:+.3f} | {f['encode_s']:.1f} / {i['encode_s']:.1f} | "
            f"{f['decode_s']:.1f} / {i['decode_s']:.1f} | "
            f"{'yes' if f['decode_exact'] and i['decode_exact'] else 'NO'} | "
            f"{'yes' if i['reversed_order_exact'] else 'NO'} |")
    write_result(args.out, meta, lines)


if __name__ == "__main__":
    main()
