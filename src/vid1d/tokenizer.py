"""Tokenize videos into One-DVA latents and back, streaming over fixed-length clips.

A token file is one safetensors file (never pickle)::

    clip00000.struct  (hs·ws, C) float32     structural latent of clip 0
    clip00000.oned    (L_0, C)  float32      its kept 1D latents (L_0 may be 0)
    clip00001.struct ...
    metadata (strings): format="vid1d.tokens/2", model id, weights sha256, width,
        height, fps, frames (total), clip_frames, clips, channels (C), lengths
        (JSON list), length mode, sha256 (checksum of all the above and the tensors)

Only the kept 1D latents are stored, so the file size follows the adaptive
length. Safetensors has no checksum of its own, and a flipped bit in a latent
still decodes to a plausible (wrong) video, so the file carries one; readers
check it and every field against the tensors before decoding anything.

The video is read in clips of ``clip_frames`` (17 by default, the paper's
1 + 4·4); the last clip may be shorter (any T works). Memory is one clip at a
time in both directions.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from vid1d.data.datasets import resize_clip
from vid1d.errors import InputError
from vid1d.io.info import to_fraction
from vid1d.utils.fs import atomic_path, check_not_input
from vid1d.utils.progress import progress

FORMAT = "vid1d.tokens/2"
OLD_FORMATS = ("vid1d.tokens/1",)  # no checksum: refused, the user re-tokenizes
META_KEYS = frozenset({"format", "model", "weights_sha256", "width", "height", "fps", "frames",
                       "clip_frames", "clips", "channels", "lengths", "length_mode", "sha256"})
MAX_DIM = 1 << 15  # sanity limits on what a token file may declare
MAX_CLIPS = 1 << 20
MAX_SEED = 1 << 63  # torch.Generator.manual_seed takes a signed 64-bit seed
_SHA256 = re.compile(r"[0-9a-f]{64}")


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


def token_checksum(meta: dict[str, str], tensors: Iterable[tuple[str, torch.Tensor]]) -> str:
    """sha256 (hex) of every metadata field but ``sha256`` and of each tensor's name, shape
    and float32 little-endian bytes, in the order given (writers and readers sort by name).

    Names and shapes are hashed too, so a header bit flip that renames or reshapes a
    tensor fails as surely as one in the data."""
    h = hashlib.sha256(json.dumps({k: v for k, v in meta.items() if k != "sha256"},
                                  sort_keys=True).encode())
    for name, t in tensors:
        h.update(f"\n{name} {tuple(t.shape)}\n".encode())
        h.update(t.detach().cpu().float().contiguous().numpy().astype("<f4", copy=False).tobytes())
    return h.hexdigest()


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
            "channels": str(tensors["clip00000.struct"].shape[1]),
            "lengths": json.dumps(lengths), "length_mode": str(length)}
    meta["sha256"] = token_checksum(meta, sorted(tensors.items()))
    with atomic_path(out) as tmp:
        save_file(tensors, str(tmp), metadata=meta)
    report.seconds = time.perf_counter() - start
    return report


def _int(meta: dict, key: str, lo: int, hi: int, path) -> int:
    """A metadata int, written by us as canonical ASCII decimal: anything else (" 3", "+3",
    "3.0", non-ASCII digits) means the file was not written by ``tokenize_video``."""
    text = meta.get(key, "")
    if not (0 < len(text) <= 12 and text.isascii() and text.isdigit()) or str(int(text)) != text:
        raise InputError(f"{path}: token file lacks a valid {key!r} (got {text[:20]!r})")
    v = int(text)
    if not lo <= v <= hi:
        raise InputError(f"{path}: {key}={v} out of range [{lo}, {hi}]")
    return v


def _length_mode(text: str, path) -> str | float | int:
    """``length_mode`` back to what ``OneDVA.encode`` took: "adaptive", a budget or a fraction."""
    if text == "adaptive":
        return text
    if 0 < len(text) <= 12 and text.isascii() and text.isdigit() and str(int(text)) == text:
        return int(text)
    try:
        f = float(text)
    except ValueError:
        f = -1.0
    if not (0.0 <= f <= 1.0 and str(f) == text):
        raise InputError(f"{path}: token file has a bad length_mode {text[:20]!r}")
    return f


def _parse_meta(meta: dict[str, str], path) -> dict:
    """Every metadata field typed and range-checked (not yet against the tensors)."""
    if unknown := sorted(set(meta) - META_KEYS):
        raise InputError(f"{path}: token file has unknown metadata {unknown[0][:40]!r}")
    model = meta.get("model", "")
    if not (0 < len(model) <= 1024 and model.isprintable()) or Path(model).name in ("", ".."):
        raise InputError(f"{path}: token file names no valid model")
    if not _SHA256.fullmatch(meta.get("weights_sha256", "")):
        raise InputError(f"{path}: token file lacks a valid 'weights_sha256'")
    out = {"model": model, "weights_sha256": meta["weights_sha256"],
           "width": _int(meta, "width", 1, MAX_DIM, path),
           "height": _int(meta, "height", 1, MAX_DIM, path),
           "frames": _int(meta, "frames", 1, 1 << 30, path),
           "clip_frames": _int(meta, "clip_frames", 1, 1 << 12, path),
           "clips": _int(meta, "clips", 1, MAX_CLIPS, path),
           "channels": _int(meta, "channels", 1, 1 << 12, path),
           "length_mode": _length_mode(meta.get("length_mode", ""), path)}
    fps = meta.get("fps", "")
    out["fps"] = to_fraction(fps[:40], what=f"{path}: fps")
    if str(out["fps"]) != fps or out["fps"].denominator > 1 << 16:
        raise InputError(f"{path}: token file has a bad fps {fps[:40]!r}")
    try:
        lengths = json.loads(meta.get("lengths", ""))
    except (ValueError, RecursionError):
        lengths = None
    if not (isinstance(lengths, list) and all(type(n) is int and 0 <= n <= MAX_DIM for n in lengths)):
        raise InputError(f"{path}: token file has bad lengths (want a JSON list of ints)")
    out["lengths"] = lengths
    if len(lengths) != out["clips"]:
        raise InputError(f"{path}: {len(lengths)} lengths for {out['clips']} clips")
    if out["clips"] != -(-out["frames"] // out["clip_frames"]):
        raise InputError(f"{path}: {out['clips']} clips of {out['clip_frames']} frames "
                         f"cannot hold {out['frames']} frames")
    return out


def _check_tensors(f, meta: dict, path) -> int:
    """Names, dtypes and shapes from the header agree with the metadata (no data read);
    returns the structural latent count, the same for every clip."""
    names = [f"clip{i:05d}.{part}" for i in range(meta["clips"]) for part in ("struct", "oned")]
    keys = set(f.keys())
    if missing := [k for k in names if k not in keys]:
        raise InputError(f"{path}: tensor {missing[0]} is missing")
    if extra := sorted(keys - set(names)):
        raise InputError(f"{path}: token file has an unexpected tensor {extra[0][:40]!r}")
    C, ns = meta["channels"], None
    for i, n in enumerate(meta["lengths"]):
        for part, rows in (("struct", ns), ("oned", n)):
            sl = f.get_slice(f"clip{i:05d}.{part}")
            dtype, shape = sl.get_dtype(), list(sl.get_shape())
            if dtype != "F32":
                raise InputError(f"{path}: clip {i} {part} latents are {dtype}, not F32")
            if len(shape) != 2 or shape[1] != C or (rows is not None and shape[0] != rows):
                want = f"({'hs·ws' if rows is None else rows}, {C})"
                raise InputError(f"{path}: clip {i} {part} latents have shape {tuple(shape)}, "
                                 f"the metadata says {want}")
            ns = shape[0] if ns is None else ns  # one frame size: every clip has clip 0's count
    if not ns:
        raise InputError(f"{path}: token file has no structural latents")
    return ns


def read_token_meta(path: str | os.PathLike) -> dict:
    """Validated metadata of a token file (InputError on anything else).

    The checksum over metadata and tensors comes first (one tensor in memory at a
    time), so a flipped bit is reported as corruption; then every field is checked
    for type and range and against the tensors' names, dtypes and shapes, so that a
    hand-made file cannot lie either. A decoder never starts on a bad file."""
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = dict(f.metadata() or {})
            nonfinite = _verify_checksum(f, meta, path)
            out = _parse_meta(meta, path)
            out["struct_count"] = _check_tensors(f, out, path)
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except Exception as e:  # safetensors raises its own error types on malformed files
        raise InputError(f"{path}: not a readable token file ({type(e).__name__})") from None
    if nonfinite:
        raise InputError(f"{path}: tensor {nonfinite[0]} has non-finite latents")
    return out


def _verify_checksum(f, meta: dict[str, str], path) -> list[str]:
    """Format and checksum over metadata and tensors (read one at a time); returns the
    names of tensors holding NaN or inf, which are refused once the shapes are checked."""
    fmt = meta.get("format")
    if fmt in OLD_FORMATS or (fmt == FORMAT and "sha256" not in meta):
        raise InputError(f"{path}: token file without a checksum (format {fmt}); "
                         "re-tokenize the video with this vid1d")
    if fmt != FORMAT:
        raise InputError(f"{path}: not a vid1d token file (format {str(fmt)[:40]!r})")
    if not _SHA256.fullmatch(meta["sha256"]):
        raise InputError(f"{path}: token file has a malformed checksum; re-tokenize the video")
    nonfinite: list[str] = []

    def tensors() -> Iterable[tuple[str, torch.Tensor]]:
        for k in sorted(f.keys()):
            t = f.get_tensor(k)
            if not torch.isfinite(t).all():
                nonfinite.append(k)
            yield k, t

    if token_checksum(meta, tensors()) != meta["sha256"]:
        raise InputError(f"{path}: token file is corrupt (checksum mismatch); re-tokenize the video")
    return nonfinite


def _check_model(model, meta: dict, path) -> None:
    """The metadata fits this model: type, weights, channels, and per clip the structural
    count, the 1D count within the model's queries and the length its mode gives."""
    from vid1d.models.onedva import OneDVA
    from vid1d.models.onedva.length import inference_length

    if not isinstance(model, OneDVA):
        raise InputError(f"{path}: {meta['model']!r} is a {type(model).__name__}, "
                         "not a One-DVA tokenizer")
    if meta["weights_sha256"] != _weights_sha256(model):
        raise InputError(f"{path}: made by {meta['model']!r} with other weights than the "
                         "model given to decode it")
    if meta["channels"] != model.cfg.latent_channels:
        raise InputError(f"{path}: {meta['channels']}-channel latents, the model has "
                         f"{model.cfg.latent_channels}")
    W, H, cf, mode = meta["width"], meta["height"], meta["clip_frames"], meta["length_mode"]
    if (ns := model.latent_counts(1, H, W)[1]) != meta["struct_count"]:
        raise InputError(f"{path}: {meta['struct_count']} structural latents per clip, a "
                         f"{W}x{H} frame has {ns} for this model")
    for i, n in enumerate(meta["lengths"]):
        T = min(cf, meta["frames"] - i * cf)
        n1d, _ = model.latent_counts(T, H, W)
        if n1d > model.cfg.max_queries:
            raise InputError(f"{path}: a {T}x{H}x{W} clip needs {n1d} 1D latents, this model "
                             f"has {model.cfg.max_queries}")
        adaptive = mode == "adaptive"
        want = n1d if adaptive else inference_length(mode, n1d)
        if n > n1d or (not adaptive and n != want):
            raise InputError(f"{path}: clip {i} keeps {n} 1D latents; a {T}x{H}x{W} clip at "
                             f"length {mode} keeps {'at most ' if adaptive else ''}{want}")


@torch.no_grad()
def detokenize_video(model, tokens: str | os.PathLike, out: str | os.PathLike, *, steps: int = 1,
                     seed: int = 0, device: str = "cpu", meta: dict | None = None,
                     **writer_kw) -> TokenizeReport:
    """Decode a token file clip by clip into a video (written atomically).

    Clip ``i`` is sampled with seed ``(seed + i) mod 2**63``: the same tokens and seed give
    the same video. ``meta`` is :func:`read_token_meta` of ``tokens`` when the caller has
    it already (it reads every tensor for the checksum); None reads it here."""
    from vid1d.io import open_writer
    from vid1d.models.onedva import Latents

    if not 0 <= seed < MAX_SEED:
        raise InputError(f"seed must be in [0, 2**63), got {seed}")
    check_not_input(out, [tokens])
    meta = read_token_meta(tokens) if meta is None else meta
    _check_model(model, meta, tokens)
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
                if struct.shape != (ns, C) or oned.shape != (n, C):  # checked; unless replaced since
                    raise InputError(f"{tokens}: clip {i} changed while it was decoded")
                full = torch.zeros(1, n1d, C)
                full[0, :n] = oned
                lat = Latents(struct[None].to(device), full.to(device),
                              torch.tensor([n], device=device), (T, H, W))
                video = model.decode(lat, steps=steps, seed=(seed + i) % MAX_SEED)  # (1, 3, T, H, W)
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
