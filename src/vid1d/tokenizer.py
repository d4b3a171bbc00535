"""Tokenize videos into One-DVA latents and back, streaming over fixed-length clips.

A token file is one safetensors file (never pickle)::

    clip00000.struct  (hs·ws, C) float32     structural latent of clip 0
    clip00000.oned    (L_0, C)  float32      its kept 1D latents (L_0 may be 0)
    clip00001.struct ...
    metadata (strings): format="vid1d.tokens/1", model id, weights sha256, width,
        height, fps, frames (total), clip_frames, clips, lengths (JSON list),
        length mode

Only the kept 1D latents are stored, so the file size follows the adaptive
length. The video is read in clips of ``clip_frames`` (17 by default, the
paper's 1 + 4·4); the last clip may be shorter (any T works). Memory is one
clip at a time in both directions.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from vid1d.data.datasets import resize_clip
from vid1d.errors import InputError
from vid1d.utils.fs import atomic_path, check_not_input
from vid1d.utils.progress import progress

FORMAT = "vid1d.tokens/1"
MAX_DIM = 1 << 15  # sanity limits on what a token file may declare
MAX_CLIPS = 1 << 20


@dataclass
class TokenizeReport:
    clips: int = 0
    frames: int = 0
    width: int = 0
    height: int = 0
    tokens_1d: int = 0  # kept 1D latents over all clips
    tokens_1d_max: int = 0  # what full length would have kept
    tokens_struct: int = 0
    seconds: float = 0.0

    @property
    def fraction_1d(self) -> float:
        return self.tokens_1d / self.tokens_1d_max if self.tokens_1d_max else 0.0


def _weights_sha256(model: torch.nn.Module) -> str:
    from vid1d.codec import weights_sha256

    return weights_sha256(model).hex()


def parse_length(text: str | None, budget: int | None) -> str | float | int:
    """CLI ``--length adaptive|F`` / ``--budget N`` -> ``OneDVA.encode``'s ``length``."""
    if budget is not None:
        if text is not None:
            raise InputError("give --length or --budget, not both")
        if budget < 0:
            raise InputError(f"--budget must be >= 0, got {budget}")
        return int(budget)
    if text is None or text == "adaptive":
        return "adaptive" if text else 1.0
    try:
        f = float(text)
    except ValueError:
        raise InputError(f"--length must be 'adaptive' or a fraction in [0, 1], got {text!r}") from None
    if not 0.0 <= f <= 1.0:
        raise InputError(f"--length fraction must be in [0, 1], got {f}")
    return f


@torch.no_grad()
def tokenize_video(model, src: str | os.PathLike, out: str | os.PathLike, *, model_id: str,
                   length: str | float | int = 1.0, clip_frames: int = 17,
                   max_frames: int | None = None, device: str = "cpu",
                   resize: tuple[int, int] | None = None, **open_kw) -> TokenizeReport:
    """Encode ``src`` clip by clip into a token file (written atomically).

    ``resize=(W, H)`` rescales every frame first (antialiased bilinear), for models
    whose query count only covers small frames (the ``small`` preset: 64×112)."""
    from vid1d.io import open_video

    check_not_input(out, [src])
    if clip_frames < 1:
        raise InputError(f"clip length must be >= 1, got {clip_frames}")
    model = model.to(device).eval()
    report, tensors, lengths = TokenizeReport(), {}, []
    start = time.perf_counter()
    with open_video(src, **open_kw) as reader:
        info = reader.info
        report.width, report.height = resize or (info.width, info.height)
        total = info.num_frames if max_frames is None else min(info.num_frames or max_frames, max_frames)
        bar = progress(total=total, desc=f"tokenize {Path(src).name}", unit="frame")
        for chunk in reader.chunks(clip_frames, max_frames):  # (3, T, H, W)
            if resize is not None:
                chunk = resize_clip(chunk.float(), (resize[1], resize[0]))
            lat = model.encode(chunk[None].to(device), length)
            n = int(lat.length[0])
            key = f"clip{report.clips:05d}"
            tensors[f"{key}.struct"] = lat.struct[0].float().cpu().contiguous()
            tensors[f"{key}.oned"] = lat.oned[0, :n].float().cpu().contiguous()
            lengths.append(n)
            report.clips += 1
            report.frames += chunk.shape[1]
            report.tokens_1d += n
            report.tokens_1d_max += lat.oned.shape[1]
            report.tokens_struct += lat.struct.shape[1]
            bar.update(chunk.shape[1])
        bar.close()
    if report.clips == 0:
        raise InputError(f"{src}: no frames to tokenize")
    meta = {"format": FORMAT, "model": model_id, "weights_sha256": _weights_sha256(model),
            "width": str(report.width), "height": str(report.height),
            "fps": str(Fraction(info.fps).limit_denominator(1 << 16)), "frames": str(report.frames),
            "clip_frames": str(clip_frames), "clips": str(report.clips),
            "lengths": json.dumps(lengths), "length_mode": str(length)}
    with atomic_path(out) as tmp:
        save_file(tensors, str(tmp), metadata=meta)
    report.seconds = time.perf_counter() - start
    return report


def _int(meta: dict, key: str, lo: int, hi: int, path) -> int:
    try:
        v = int(meta[key])
    except (KeyError, ValueError):
        raise InputError(f"{path}: token file lacks a valid {key!r}") from None
    if not lo <= v <= hi:
        raise InputError(f"{path}: {key}={v} out of range [{lo}, {hi}]")
    return v


def read_token_meta(path: str | os.PathLike) -> dict:
    """Validated metadata of a token file (InputError on anything else)."""
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = dict(f.metadata() or {})
            keys = set(f.keys())
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except Exception as e:  # safetensors raises its own error types on malformed files
        raise InputError(f"{path}: not a readable token file ({type(e).__name__})") from None
    if meta.get("format") != FORMAT:
        raise InputError(f"{path}: not a vid1d token file (format {meta.get('format')!r})")
    out = {"model": meta.get("model", ""), "weights_sha256": meta.get("weights_sha256", ""),
           "width": _int(meta, "width", 1, MAX_DIM, path),
           "height": _int(meta, "height", 1, MAX_DIM, path),
           "frames": _int(meta, "frames", 1, 1 << 30, path),
           "clip_frames": _int(meta, "clip_frames", 1, 1 << 12, path),
           "clips": _int(meta, "clips", 1, MAX_CLIPS, path)}
    try:
        out["fps"] = Fraction(meta["fps"])
        out["lengths"] = [int(x) for x in json.loads(meta["lengths"])]
    except (KeyError, ValueError, TypeError, ZeroDivisionError):
        raise InputError(f"{path}: token file has bad fps or lengths") from None
    if len(out["lengths"]) != out["clips"] or out["fps"] <= 0:
        raise InputError(f"{path}: token file metadata is inconsistent")
    expected = -(-out["frames"] // out["clip_frames"])
    if out["clips"] != expected:
        raise InputError(f"{path}: {out['clips']} clips cannot hold {out['frames']} frames")
    for i in range(out["clips"]):
        if {f"clip{i:05d}.struct", f"clip{i:05d}.oned"} - keys:
            raise InputError(f"{path}: clip {i} is missing")
    return out


@torch.no_grad()
def detokenize_video(model, tokens: str | os.PathLike, out: str | os.PathLike, *, steps: int = 1,
                     seed: int = 0, device: str = "cpu", **writer_kw) -> TokenizeReport:
    """Decode a token file clip by clip into a video (written atomically)."""
    from vid1d.io import open_writer
    from vid1d.models.onedva import Latents

    check_not_input(out, [tokens])
    meta = read_token_meta(tokens)
    if meta["weights_sha256"] and meta["weights_sha256"] != _weights_sha256(model):
        raise InputError(f"{tokens}: made by other weights than this {meta['model']!r} model's")
    model = model.to(device).eval()
    W, H, cf = meta["width"], meta["height"], meta["clip_frames"]
    report = TokenizeReport(width=W, height=H)
    start = time.perf_counter()
    C = model.cfg.latent_channels
    writer = open_writer(out, width=W, height=H, fps=meta["fps"], **writer_kw)
    bar = progress(total=meta["frames"], desc=f"detokenize {Path(tokens).name}", unit="frame")
    try:
        with safe_open(str(tokens), framework="pt") as f:
            for i in range(meta["clips"]):
                T = min(cf, meta["frames"] - i * cf)
                n1d, ns = model.latent_counts(T, H, W)
                struct = f.get_tensor(f"clip{i:05d}.struct")
                oned = f.get_tensor(f"clip{i:05d}.oned")
                n = meta["lengths"][i]
                if struct.shape != (ns, C) or oned.shape != (n, C) or n > n1d:
                    raise InputError(f"{tokens}: clip {i} has latents of the wrong shape for "
                                     f"a {T}x{H}x{W} clip and this model")
                if not (torch.isfinite(struct).all() and torch.isfinite(oned).all()):
                    raise InputError(f"{tokens}: clip {i} has non-finite latents")
                full = torch.zeros(1, n1d, C)
                full[0, :n] = oned
                lat = Latents(struct[None].to(device), full.to(device),
                              torch.tensor([n], device=device), (T, H, W))
                video = model.decode(lat, steps=steps, seed=seed + i)  # (1, 3, T, H, W)
                writer.write(video[0].cpu())
                report.clips += 1
                report.frames += T
                report.tokens_1d += n
                report.tokens_1d_max += n1d
                report.tokens_struct += ns
                bar.update(T)
    except BaseException:
        writer.abort()
        raise
    finally:
        bar.close()
    writer.close()
    report.seconds = time.perf_counter() - start
    return report
