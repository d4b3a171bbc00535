"""Cross-device decoding check and per-device coding speed of a learned codec.

    python benchmarks/cross_device.py [--model gvc1d-small] [--devices cpu,cuda] \
        [--sizes sample,480p,720p] [--frames 8]

For every content size and every ordered pair of devices (A, B): encode on A
into a real .v1d file, then decode that file on A and on B. A decode whose
entropy-model parameters land on other integer table indices than the
encoder's fails the per-frame symbol CRC (``BitstreamError``); that is recorded
as a mismatch, never as video. For each decode it records whether the symbols
matched (the CRC passed), whether the reconstruction equals the encoder's
bit for bit, and its largest absolute difference from it (the synthesis
transform runs in floating point on each device, so a cross-device
reconstruction may differ in the last bits even when every symbol matches).
Encode and decode fps per device come from the same runs (one warm-up frame
first; each decoded frame is copied to the host, so GPU times include that).

Content: the bundled carphone clip at its own size (``sample``) or resized
(bilinear) to 480p / 720p. Writes docs/results/cross_device.{md,json}.
Meant for the GPU machine; ``--devices cpu,cpu`` runs the same path on a CPU.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from vid1d.codec import decode_video, encode_video
from vid1d.errors import BitstreamError
from vid1d.eval.provenance import machine_info, utc_now, write_result
from vid1d.models.registry import load_model

SAMPLE = Path(__file__).resolve().parents[1] / "src" / "vid1d" / "assets" / "carphone_pristine.mp4"
SIZES = {"480p": (480, 854), "720p": (720, 1280)}


def make_source(work: Path, name: str, frames: int, sample: Path) -> Path:
    if name == "sample":
        return sample
    from bench_codec_speed import make_clip

    src = work / f"{name}.y4m"
    make_clip(src, SIZES[name], frames, source=sample)
    return src


def encode_on(model, device: str, src: Path, out: Path, args) -> tuple[dict, float]:
    recon = {}  # copying each frame to the host also synchronizes the device
    rep = encode_video(model, src, out, model_id=args.model, quality=args.quality,
                       max_frames=args.frames, device=device, precision=args.precision,
                       on_frame=lambda t, x: recon.__setitem__(t, x.cpu()))
    return recon, rep.frames / rep.seconds


def decode_on(model, device: str, stream: Path, recon: dict) -> dict:
    frames = {}
    t0 = time.perf_counter()
    try:
        decode_video(stream, None, model=model, device=device,
                     on_frame=lambda t, x: frames.__setitem__(t, x.cpu()))
    except BitstreamError as e:
        return {"symbols_match": False, "error": str(e)}
    seconds = time.perf_counter() - t0
    diffs = [float((frames[t] - recon[t]).abs().max()) for t in sorted(recon)]
    return {"symbols_match": True, "frames": len(frames),
            "identical": all(torch.equal(frames[t], recon[t]) for t in recon),
            "max_abs_diff": max(diffs), "fps": len(frames) / seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="gvc1d-small")
    ap.add_argument("--devices", default="cpu,cuda")
    ap.add_argument("--sizes", default="sample,480p,720p")
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--quality", type=float, default=7.0)
    ap.add_argument("--precision", choices=("int", "float64", "float32"), default="int",
                    help="coding precision (vid1d.codec); float32 is what failed across devices, "
                         "int is exact on any device by construction")
    ap.add_argument("--sample", default=str(SAMPLE),
                    help="source clip (a .y4m needs no PyAV: see the GPU checks in gvc1d.md)")
    ap.add_argument("--out", default="docs/results/cross_device")
    args = ap.parse_args()
    devices = list(dict.fromkeys(args.devices.split(",")))  # in order, each once
    if any(d.startswith("cuda") for d in devices) and not torch.cuda.is_available():
        raise SystemExit("cross_device: no CUDA device here (use --devices cpu,cpu to try the "
                         "script on a CPU)")
    models = {d: load_model(args.model, device=d) for d in devices}
    sha = models[devices[0]][1].meta["sha256"][:12]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for size in args.sizes.split(","):
            src = make_source(work, size, args.frames, Path(args.sample))
            for d in devices:  # warm-up: one frame each way
                encode_video(models[d][0], src, work / "warm.v1d", model_id=args.model,
                             quality=args.quality, max_frames=1, device=d,
                             precision=args.precision)
                decode_video(work / "warm.v1d", None, model=models[d][0], device=d)
            for enc_dev in devices:
                stream = work / f"{size}-{enc_dev}.v1d"
                recon, enc_fps = encode_on(models[enc_dev][0], enc_dev, src, stream, args)
                h, w = recon[0].shape[-2:]
                for dec_dev in devices:
                    row = {"content": size, "size": f"{w}x{h}", "frames": len(recon),
                           "encode_device": enc_dev, "decode_device": dec_dev,
                           "encode_fps": enc_fps, "bytes": stream.stat().st_size,
                           **decode_on(models[dec_dev][0], dec_dev, stream, recon)}
                    rows.append(row)
                    print(row, flush=True)
    command = (f"python benchmarks/cross_device.py --model {args.model} --devices "
               f"{args.devices} --sizes {args.sizes} --frames {args.frames} "
               f"--quality {args.quality} --precision {args.precision} --sample {args.sample}")
    meta = {"command": command, "date": utc_now(), "machine": machine_info(),
            "threads": torch.get_num_threads(), "model": args.model, "model_sha256": sha, "precision": args.precision,
            "tf32": {"matmul": torch.backends.cuda.matmul.allow_tf32,
                     "cudnn": torch.backends.cudnn.allow_tf32},
            "rows": rows}
    m = meta["machine"]
    lines = [f"# Cross-device decoding and coding speed: {args.model}", "",
             f"- Command: `{meta['command']}`", f"- Date: {meta['date']}",
             f"- Machine: {m['cpu']} ({m['cpu_count']} cores), {m['os']}; GPU: "
             f"{m.get('gpu', 'none')}; torch {m['torch']} ({meta['threads']} CPU threads); TF32 matmul {meta['tf32']['matmul']}, "
             f"cuDNN {meta['tf32']['cudnn']}", f"- Coding precision: {meta['precision']}", "",
             "| content | size | frames | encode on | decode on | symbols match | "
             "recon identical | max abs diff | enc fps | dec fps |",
             "|---|---|---:|---|---|---|---|---:|---:|---:|"]
    for r in rows:
        if r["symbols_match"]:
            tail = (f"yes | {'yes' if r['identical'] else 'no'} | {r['max_abs_diff']:.2e} | "
                    f"{r['encode_fps']:.2f} | {r['fps']:.2f} |")
        else:
            tail = f"**no** ({r['error']}) | – | – | {r['encode_fps']:.2f} | – |"
        lines.append(f"| {r['content']} | {r['size']} | {r['frames']} | {r['encode_device']} | "
                     f"{r['decode_device']} | {tail}")
    write_result(args.out, meta, lines)


if __name__ == "__main__":
    main()
