"""Checkpoints: safetensors weights + a JSON sidecar (model type, config, sha256).

``NAME.safetensors`` holds only tensors; ``NAME.json`` holds what is needed to
rebuild the module (``type``, ``config``) and the sha256 of the weights file,
checked on every load. Nothing here ever unpickles: files with pickle-based
extensions are refused outright.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from vid1d.errors import InputError
from vid1d.utils.fs import atomic_path, atomic_write_text

PICKLE_SUFFIXES = {".pt", ".pth", ".ckpt", ".bin", ".pkl", ".pickle", ".tar"}


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    state_dict: dict[str, torch.Tensor]
    meta: dict  # the JSON sidecar: type, config, sha256, ...
    weights_path: Path


def checkpoint_paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """(weights, sidecar) for a stem, a .safetensors path or a .json path."""
    p = Path(path)
    if p.suffix in PICKLE_SUFFIXES:
        raise InputError(f"{p}: refusing a pickle-based checkpoint; vid1d loads only "
                         ".safetensors + .json (never unpickles untrusted files)")
    stem = p.with_suffix("") if p.suffix in (".safetensors", ".json") else p
    if stem.name in ("", ".", ".."):
        raise InputError(f"{p}: not a checkpoint (give a model id or a .safetensors/.json path)")
    # with_name, not with_suffix: an id like "gvc1d-q1.0" has no suffix to replace
    return stem.with_name(stem.name + ".safetensors"), stem.with_name(stem.name + ".json")


def save_checkpoint(path: str | os.PathLike, state_dict: dict[str, torch.Tensor], *,
                    model_type: str, config: dict, extra: dict | None = None) -> Path:
    """Write weights then sidecar, both atomically; returns the weights path."""
    weights, sidecar = checkpoint_paths(path)
    tensors, seen = {}, set()
    for k, v in state_dict.items():
        t = v.detach().to("cpu").contiguous()
        # safetensors refuses tensors that share memory (e.g. a model and its EMA
        # holding the same integer buffer): such tensors are stored as copies.
        if t.numel() and t.untyped_storage().data_ptr() in seen:
            t = t.clone()
        seen.add(t.untyped_storage().data_ptr())
        tensors[k] = t
    from vid1d import __version__

    # The sidecar text is made (and can fail, e.g. on a value JSON cannot hold) before
    # the weights are renamed into place: a failure leaves neither file, not an orphan.
    with atomic_path(weights) as tmp:
        # One metadata key: safetensors writes its metadata map in hash order, which
        # varies between processes, so two keys made the same weights hash differently
        # from one export to the next. The model type lives in the sidecar.
        save_file(tensors, str(tmp), metadata={"format": "pt"})
        meta = {
            "type": model_type,
            "config": config,
            "sha256": sha256_file(tmp),
            "weights": weights.name,
            "vid1d_version": __version__,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            **(extra or {}),
        }
        text = json.dumps(meta, indent=2, sort_keys=True) + "\n"
    atomic_write_text(sidecar, text)
    return weights


def read_sidecar(path: str | os.PathLike) -> dict:
    _, sidecar = checkpoint_paths(path)
    try:
        meta = json.loads(Path(sidecar).read_text())
    except FileNotFoundError:
        raise InputError(f"{sidecar}: checkpoint config (JSON sidecar) not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{sidecar}: not valid JSON ({e})") from None
    if not isinstance(meta, dict) or not {"type", "config", "sha256"} <= set(meta):
        raise InputError(f"{sidecar}: missing keys (needs type, config, sha256)")
    return meta


def load_checkpoint(path: str | os.PathLike, *, expected_sha256: str | None = None,
                    device: str | torch.device = "cpu") -> Checkpoint:
    """Load and verify: sha256 of the weights must match the sidecar (and the registry)."""
    weights, _ = checkpoint_paths(path)
    meta = read_sidecar(path)
    if not weights.exists():
        raise InputError(f"{weights}: weights file not found")
    digest = sha256_file(weights)
    for want in filter(None, (meta["sha256"], expected_sha256)):
        if digest != want:
            raise InputError(f"{weights}: sha256 {digest[:12]}… does not match the recorded "
                             f"{want[:12]}… (corrupt or replaced weights)")
    try:
        state = load_file(str(weights), device=str(device))
    except (SafetensorError, OSError, ValueError) as e:
        raise InputError(f"{weights}: not a valid safetensors file ({e})") from None
    return Checkpoint(state, meta, weights)
