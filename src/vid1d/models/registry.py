"""Model registry: stable string ids -> (model type, config, verified weights).

Two tables:

* **model types** (``register_model_type``): a type name such as ``"gvc1d"``
  maps to its frozen Config dataclass and a builder ``Config -> nn.Module``.
* **model ids** (``list_models``): every ``<id>.json`` + ``<id>.safetensors`` pair
  found in the bundled ``vid1d/assets/models`` folder, then in the user's model
  folder (``$VID1D_MODELS``, default ``~/.cache/vid1d/models``, where
  ``vid1d export`` writes). Ids are explicit strings stored in the sidecar, never
  derived from positions, so adding a model renumbers nothing. Bundled ids are
  also pinned with their sha256 in ``assets/models/registry.json``.

``load_model`` accepts an id or a path to a checkpoint and refuses anything that
is not safetensors + JSON with a matching sha256.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vid1d.errors import InputError
from vid1d.models.checkpoint import Checkpoint, load_checkpoint, read_sidecar
from vid1d.utils.config import config_from_dict
from vid1d.utils.device import check_device  # noqa: F401  (re-exported: load_model checks it)

BUNDLED_DIR = Path(__file__).resolve().parents[1] / "assets" / "models"


@dataclass(frozen=True)
class ModelType:
    name: str
    config_cls: type
    build: Callable[[Any], nn.Module]
    presets: dict[str, Any]  # preset name ("tiny", "small", "paper") -> config instance


MODEL_TYPES: dict[str, ModelType] = {}


def register_model_type(name: str, config_cls: type,
                        presets: dict[str, Any] | None = None) -> Callable:
    """Decorator for a builder ``(config) -> nn.Module`` under a stable type name.

    ``presets`` maps preset names (``tiny``/``small``/``paper``) to config instances.
    """

    def deco(build: Callable[[Any], nn.Module]) -> Callable[[Any], nn.Module]:
        if name in MODEL_TYPES and MODEL_TYPES[name].build is not build:
            raise ValueError(f"model type {name!r} registered twice")
        MODEL_TYPES[name] = ModelType(name, config_cls, build, dict(presets or {}))
        return build

    return deco


def get_model_type(name: str) -> ModelType:
    """The registered type ``name`` (importing the model packages on first use)."""
    if name not in MODEL_TYPES:
        _import_model_packages()
    if name not in MODEL_TYPES:
        raise InputError(f"unknown model type {name!r} (known: {', '.join(sorted(MODEL_TYPES))})")
    return MODEL_TYPES[name]


def user_models_dir() -> Path:
    return Path(os.environ.get("VID1D_MODELS", Path.home() / ".cache" / "vid1d" / "models"))


def _pinned() -> dict[str, str]:
    index = BUNDLED_DIR / "registry.json"
    if not index.exists():
        return {}
    return {k: v["sha256"] for k, v in json.loads(index.read_text()).items()}


@dataclass(frozen=True)
class ModelEntry:
    model_id: str
    path: Path  # the .json sidecar
    type: str
    sha256: str
    bundled: bool
    card: dict


def list_models() -> dict[str, ModelEntry]:
    """All registered ids; a user model may not shadow a bundled id."""
    entries: dict[str, ModelEntry] = {}
    for folder, bundled in ((BUNDLED_DIR, True), (user_models_dir(), False)):
        if not folder.is_dir():
            continue
        for sidecar in sorted(folder.glob("*.json")):
            if sidecar.name == "registry.json":
                continue
            try:
                meta = read_sidecar(sidecar)
            except InputError:
                continue
            model_id = meta.get("id", sidecar.stem)
            if model_id in entries:
                continue
            entries[model_id] = ModelEntry(model_id, sidecar, meta["type"], meta["sha256"],
                                           bundled, meta.get("card", {}))
    return entries


def resolve(model: str | os.PathLike) -> tuple[Path, str | None]:
    """An id or a checkpoint path -> (sidecar path, pinned sha256 or None)."""
    p = Path(model)
    if p.suffix in (".json", ".safetensors") or p.exists() or os.sep in str(model):
        return p, None
    entries = list_models()
    if str(model) not in entries:
        known = ", ".join(sorted(entries)) or "none"
        raise InputError(f"unknown model id {model!r} (known: {known})")
    entry = entries[str(model)]
    return entry.path, _pinned().get(entry.model_id) if entry.bundled else None


def build_model(model_type: str, config: dict | Any) -> nn.Module:
    mt = get_model_type(model_type)
    cfg = config if isinstance(config, mt.config_cls) else config_from_dict(mt.config_cls, config)
    return mt.build(cfg)


def load_model(model: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[nn.Module, Checkpoint]:
    """Build the module from its sidecar config and load verified weights (strict)."""
    check_device(device)
    sidecar, pinned = resolve(model)
    ckpt = load_checkpoint(sidecar, expected_sha256=pinned, device=device)
    module = build_model(ckpt.meta["type"], ckpt.meta["config"])
    try:
        missing, unexpected = module.load_state_dict(ckpt.state_dict, strict=False)
    except RuntimeError as e:  # same names, other shapes
        raise InputError(f"{ckpt.weights_path}: weights do not fit a {ckpt.meta['type']} model "
                         f"({str(e).splitlines()[-1].strip()})") from None
    if missing or unexpected:
        raise InputError(f"{ckpt.weights_path}: weights do not fit a {ckpt.meta['type']} model "
                         f"(missing {list(missing)[:3]}, unexpected {list(unexpected)[:3]})")
    return module.to(device).eval(), ckpt


def _import_model_packages() -> None:
    """Importing a model package registers its types (no import-time work beyond that)."""
    import importlib
    import pkgutil

    import vid1d.models as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if info.ispkg:
            importlib.import_module(f"vid1d.models.{info.name}")
