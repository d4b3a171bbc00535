"""Rate-distortion curves of learned codecs from REAL bitstreams, as ``vid1d.rd/1``.

For each quality value::

    input --prepare_source--> source.y4m (the same file the classic anchors code)
      source.y4m --encode_video--> q.v1d        rate = file size (header + chunks)
      q.v1d --decode_video--> decoded.mkv       (lossless RGB, FFV1)
      compare_videos(source.y4m, decoded.mkv)   -> PSNR RGB, MS-SSIM, VMAF

The learned codec reads source.y4m with the conversion the metrics use for the
reference (``PreparedSource.matrix/full_range``), so its input RGB is exactly
the reference RGB. Besides the real rate, each point records the model's own
estimate (ideal bits under its integer tables) and the PSNR the encoder saw, so a
gap between the two is visible (CompressAI's practice).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from vid1d.baselines.source import prepare_source
from vid1d.codec import (
    check_quality,
    decode_video,
    encode_video,
    load_codec,
    resolve_precision,
)
from vid1d.errors import InputError
from vid1d.eval.compare import compare_videos
from vid1d.eval.provenance import machine_info, utc_now
from vid1d.eval.rd import SCHEMA, validate_rd
from vid1d.models.checkpoint import Checkpoint
from vid1d.utils.fs import atomic_path, check_not_input, make_folder
from vid1d.utils.progress import progress

LEARNED_METRICS = ("psnr", "ms_ssim", "vmaf")


def macs_per_pixel(model: torch.nn.Module, height: int, width: int, quality: float) -> float:
    """Multiply-accumulates per pixel of one inter frame's encode (FLOPs / 2 / pixels)."""
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.rand(1, 3, height, width)
    _, _, state = model.compress_frame(x, None, quality)
    # The counter's module tracker hooks every module input that requires grad, and under
    # no_grad a view of a parameter (the non-AR prior's position embeddings) still does,
    # with no grad_fn to hook: count with the parameters frozen.
    frozen = [p for p in model.parameters() if p.requires_grad]
    try:
        for p in frozen:
            p.requires_grad_(False)
        with FlopCounterMode(display=False) as counter:
            model.compress_frame(x, state, quality)
    finally:
        for p in frozen:
            p.requires_grad_(True)
    return counter.get_total_flops() / 2 / (height * width)


def default_qualities(model: torch.nn.Module, n: int = 5) -> list[float]:
    top = model.cfg.num_lmbdas - 1
    return [round(float(q), 3) for q in np.linspace(0, top, n)]


def load_learned(model_ref: str | os.PathLike, qualities: Sequence[float] | None = None,
                 device: str = "cpu") -> tuple[torch.nn.Module, Checkpoint, list[float]]:
    """The codec behind ``model_ref`` and the qualities of its RD points (default:
    :func:`default_qualities`), checked against its range before anything is coded.

    Returns ``(model, checkpoint, qualities)``; InputError for a model that is not a
    codec, an unavailable device or a quality out of range.
    """
    model, ckpt = load_codec(model_ref, device=device)
    if qualities is None:
        return model, ckpt, default_qualities(model)
    qualities = [check_quality(model, q, f"{model_ref}: quality") for q in qualities]
    if not qualities:
        raise InputError(f"{model_ref}: no qualities given")
    return model, ckpt, qualities


def run_learned(model_ref: str | os.PathLike, input: str | os.PathLike, *,
                qualities: Sequence[float] | None = None, frames: int | None = None,
                intra_period: int = -1, metrics: Sequence[str] = LEARNED_METRICS,
                keep_dir: str | os.PathLike | None = None, device: str = "cpu",
                precision: str | None = None, size=None, pix_fmt=None, fps=None,
                complexity: bool = True) -> dict:
    """One learned codec's RD curve on one input, from real .v1d files coded in
    ``precision`` (vid1d.codec; None: the model's default)."""
    from vid1d import __version__

    model, ckpt, qualities = load_learned(model_ref, qualities, device)
    precision = resolve_precision(model, precision)
    model_id = ckpt.meta.get("id", str(model_ref))
    keep = make_folder(keep_dir, "bitstream folder") if keep_dir is not None else None
    points = []
    with tempfile.TemporaryDirectory(prefix="vid1d-learned-") as tmp:
        work = Path(tmp)
        src = prepare_source(input, work / "source.y4m", frames=frames, size=size,
                             pix_fmt=pix_fmt, fps=fps)
        rec = src.record
        pixels = rec["width"] * rec["height"] * rec["frames"]
        versions = {}
        for q in progress(qualities, desc=f"{model_id} RD", unit="point"):
            stream, decoded = work / f"q{q}.v1d", work / f"q{q}.mkv"
            enc = encode_video(model, src.y4m, stream, model_id=model_id, quality=q,
                               intra_period=intra_period, device=device, precision=precision,
                               matrix=src.matrix, full_range=src.full_range)
            t0 = time.perf_counter()
            decode_video(stream, decoded, model=model, device=device, lossless=True)
            dec_seconds = time.perf_counter() - t0
            cmp = compare_videos(src.y4m, decoded, metrics=metrics, matrix=src.matrix,
                                 full_range=src.full_range, device=device)
            versions = cmp["metric_versions"]
            size_bytes = stream.stat().st_size
            kept = None
            if keep is not None:
                kept = keep / f"{Path(rec['name']).stem}_{model_id}_q{q}.v1d"
                check_not_input(kept, [input])
                with atomic_path(kept) as tmp:
                    shutil.copyfile(stream, tmp)
            points.append({
                "quality": {"param": "quality", "value": q,
                            "lambda": model.lmbda_for_quality(q)},
                "bytes": size_bytes,
                "bpp": size_bytes * 8 / pixels,
                "kbps": size_bytes * 8 / (rec["frames"] / rec["fps"]) / 1000,
                "frames": cmp["frames"],
                **{k: v for k, v in cmp["mean"].items()},
                "per_frame": cmp["per_frame"],
                # entropy-coded bytes of each frame, container and frame headers excluded
                "frame_coded_bytes": enc.frame_bytes,
                "estimated_bpp": sum(enc.estimated_bits) / pixels,
                "encoder_psnr_rgb": float(np.mean(enc.psnr)),
                "encode_seconds": round(enc.seconds, 4),
                "decode_seconds": round(dec_seconds, 4),
                "command": {"encode": f"vid1d encode SOURCE.y4m -o OUT.v1d --model {model_id} "
                                      f"--quality {q} --intra-period {intra_period} "
                                      f"--precision {precision}",
                            "decode": "vid1d decode OUT.v1d -o DECODED.mkv"},
                "bitstream": None if kept is None else str(kept),
            })
        complexity_info = None
        if complexity:
            h, w = rec["height"], rec["width"]
            complexity_info = {
                "macs_per_pixel": macs_per_pixel(model, h, w, qualities[-1]),
                "encode_fps": rec["frames"] / float(np.mean([p["encode_seconds"] for p in points])),
                "decode_fps": rec["frames"] / float(np.mean([p["decode_seconds"] for p in points])),
                "device": device,
                "precision": precision,
                "threads": torch.get_num_threads(),
            }
    rd = {
        "schema": SCHEMA,
        "source": rec,
        "codec": {
            "name": model_id, "label": model_id, "kind": "learned",
            "standard": None, "implementation": f"vid1d {__version__} ({ckpt.meta['type']})",
            "version": ckpt.meta["sha256"][:12], "preset": None,
            "config": "low-delay" if intra_period == -1 else "low-delay-intra-refresh",
            "intra_period": intra_period, "gop": None, "quality_param": "quality",
            "container": "vid1d .v1d (docs/bitstream.md)",
            "model_card": ckpt.meta.get("card", {}),
        },
        "points": points,
        "complexity": complexity_info,
        "metric_versions": versions,
        "machine": machine_info(),
        "date": utc_now(),
        "vid1d_version": __version__,
    }
    return validate_rd(rd, f"{model_id} result")


def side_by_side(path: str | os.PathLike, frames: list[torch.Tensor], titles: list[str]) -> Path:
    """Frames (3, H, W) in [0,1] next to each other, with titles, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    H, W = frames[0].shape[-2:]
    fig, axes = plt.subplots(1, len(frames), figsize=(len(frames) * W / 60, H / 60 + 0.5),
                             squeeze=False)
    for ax, f, t in zip(axes[0], frames, titles, strict=True):
        ax.imshow(f.permute(1, 2, 0).clamp(0, 1).numpy(), interpolation="nearest")
        ax.set_title(t, fontsize=8)
        ax.axis("off")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return Path(path)


