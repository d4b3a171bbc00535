"""CPU encode/decode speed of a learned codec at 480p and 720p, next to x265 in the same run.

    python benchmarks/bench_codec_speed.py [--model gvc1d-small] [--frames 4]

Frames come from the bundled sample clip, resized (bilinear) to each resolution,
so both codecs code identical content. The learned codec is timed through the
real .v1d path (vid1d.codec.encode_video / decode_video), x265 through the
imageio-ffmpeg binary on a Y4M of the same frames (wall clock of the ffmpeg
process, so it includes its start-up). Writes docs/results/codec_speed.{md,json}.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from datetime import date
from pathlib import Path

import torch
import torch.nn.functional as F

from vid1d.codec import decode_video, encode_video
from vid1d.eval.provenance import write_result
from vid1d.io import open_video, open_writer
from vid1d.models.registry import load_model
from vid1d.utils.ffmpeg import ffmpeg_version, run_ffmpeg

SAMPLE = Path(__file__).resolve().parents[1] / "src" / "vid1d" / "assets" / "carphone_pristine.mp4"
SIZES = {"480p": (480, 854), "720p": (720, 1280)}


def make_clip(path: Path, size: tuple[int, int], frames: int, source: Path = SAMPLE) -> None:
    with open_video(source) as r:
        clip = r.read(frames)  # (3, T, H, W)
    clip = F.interpolate(clip.transpose(0, 1), size=size, mode="bilinear", align_corners=False)
    with open_writer(path, width=size[1], height=size[0], fps=30, format="y4m") as w:
        w.write(clip.transpose(0, 1).clamp(0, 1))


def time_x265(src: Path, work: Path, frames: int) -> tuple[float, float]:
    out = work / "x265.265"
    t0 = time.perf_counter()
    run_ffmpeg(["-loglevel", "error", "-i", src, "-frames:v", frames, "-c:v", "libx265",
                "-preset", "medium", "-qp", "32", "-x265-params",
                "keyint=-1:scenecut=0:bframes=0:log-level=error", "-f", "hevc", out])
    t1 = time.perf_counter()
    run_ffmpeg(["-loglevel", "error", "-i", out, "-f", "null", "-"])
    t2 = time.perf_counter()
    return frames / (t1 - t0), frames / (t2 - t1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="gvc1d-small")
    ap.add_argument("--frames", type=int, default=4)
    ap.add_argument("--precision", choices=("int", "float64", "float32"), default="int",
                    help="coding precision of the learned codec (vid1d.codec)")
    ap.add_argument("--out", default="docs/results/codec_speed")
    args = ap.parse_args()
    model, ckpt = load_model(args.model)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, size in SIZES.items():
            src = work / f"{name}.y4m"
            make_clip(src, size, args.frames)
            rep = encode_video(model, src, work / f"{name}.v1d", model_id=args.model,
                               quality=model.cfg.num_lmbdas - 1, precision=args.precision)
            dec = decode_video(work / f"{name}.v1d", None, model=model)
            x_enc, x_dec = time_x265(src, work, args.frames)
            rows.append({"resolution": name, "size": f"{size[1]}x{size[0]}", "frames": args.frames,
                         "learned_encode_fps": rep.fps, "learned_decode_fps": dec.fps,
                         "x265_encode_fps": x_enc, "x265_decode_fps": x_dec})
            print(rows[-1])
    meta = {"command": f"python benchmarks/bench_codec_speed.py --model {args.model} "
                       f"--frames {args.frames} --precision {args.precision}",
            "date": str(date.today()), "machine": f"{platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} CPUs, {platform.platform()}", "torch": torch.__version__,
            "threads": torch.get_num_threads(), "ffmpeg": ffmpeg_version(),
            "model": args.model, "model_sha256": ckpt.meta["sha256"][:12],
            "precision": args.precision, "rows": rows}
    lines = [f"# CPU coding speed: {args.model} vs x265 (medium, low delay)", "",
             f"- Command: `{meta['command']}`", f"- Date: {meta['date']}",
             f"- Machine: {meta['machine']}; torch {meta['torch']} ({meta['threads']} threads); "
             f"ffmpeg {meta['ffmpeg']}", f"- Coding precision: {meta['precision']}",
             "- Content: the bundled carphone clip resized to each size; learned codec through "
             "real .v1d files at its highest quality; x265 at QP 32, timed as whole ffmpeg "
             "processes.", "",
             "| resolution | frames | learned enc fps | learned dec fps | x265 enc fps | "
             "x265 dec fps | enc ratio x265/learned |", "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['size']} | {r['frames']} | {r['learned_encode_fps']:.3f} | "
                     f"{r['learned_decode_fps']:.3f} | {r['x265_encode_fps']:.2f} | "
                     f"{r['x265_decode_fps']:.2f} | "
                     f"{r['x265_encode_fps'] / r['learned_encode_fps']:.0f}× |")
    write_result(args.out, meta, lines)


if __name__ == "__main__":
    main()
