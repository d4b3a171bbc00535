"""A run's config: ``{model, data, train}`` plus the model type and preset name.

Resolution order (later wins), lingua style::

    dataclass defaults <- registry preset <- YAML files (--config) <- overrides (a.b=value)

Everything is merged as plain dicts, then rebuilt into the frozen dataclasses
with :func:`vid1d.utils.config.config_from_dict`, so a misspelt key anywhere is
a one-line :class:`~vid1d.errors.InputError`. The resolved config is written to
``RUN/config.yaml`` (for people) and ``RUN/config.json`` (read back on resume).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from vid1d.errors import InputError
from vid1d.models.registry import get_model_type
from vid1d.train.config import TrainConfig
from vid1d.train.data import data_config_cls
from vid1d.utils.config import config_from_dict, config_to_dict
from vid1d.utils.fs import atomic_write_text

SECTIONS = ("model", "data", "train")


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads ``3e-4`` as a float (YAML 1.1 wants ``3.0e-4``)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def parse_yaml(text: str, *, where: str = "") -> Any:
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: plain data only
    except yaml.YAMLError as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InputError(f"{where or 'YAML'}: cannot parse ({first})") from None


@dataclass(frozen=True)
class RunConfig:
    model_type: str
    preset: str | None
    model: Any  # the model type's Config dataclass
    data: Any  # vid1d.data DataConfig
    train: TrainConfig

    def to_dict(self) -> dict:
        return {"model_type": self.model_type, "preset": self.preset,
                **{s: config_to_dict(getattr(self, s)) for s in SECTIONS}}

    @classmethod
    def from_dict(cls, d: dict) -> RunConfig:
        if not isinstance(d, dict):
            raise InputError(f"run config: expected a mapping, got {type(d).__name__}")
        unknown = sorted(set(d) - {"model_type", "preset", *SECTIONS})
        if unknown or "model_type" not in d:
            raise InputError(f"run config: needs model_type and {'/'.join(SECTIONS)}"
                             + (f"; unknown key(s) {', '.join(unknown)}" if unknown else ""))
        mt = get_model_type(d["model_type"])
        return cls(
            model_type=mt.name,
            preset=d.get("preset"),
            model=config_from_dict(mt.config_cls, d.get("model", {}), where="model."),
            data=config_from_dict(data_config_cls(), d.get("data", {}), where="data."),
            train=config_from_dict(TrainConfig, d.get("train", {}), where="train."),
        )


def preset_sections(model_type: str, preset: str | None) -> dict:
    """The defaults a preset implies, as ``{model, data, train}`` dataclass instances.

    A preset is either a ``RunPreset``-like object (``.model``/``.data``/``.train``,
    the last two may be None) or just the model config.
    """
    mt = get_model_type(model_type)
    if preset is None:
        try:
            model = mt.config_cls()
        except TypeError:
            raise InputError(f"model type {model_type!r} needs --preset "
                             f"({', '.join(sorted(mt.presets)) or 'none defined'})") from None
        return {"model": model, "data": data_config_cls()(), "train": TrainConfig()}
    if preset not in mt.presets:
        known = ", ".join(sorted(mt.presets)) or "none"
        raise InputError(f"model type {model_type!r} has no preset {preset!r} (presets: {known})")
    p = mt.presets[preset]
    if hasattr(p, "model") and hasattr(p, "train"):
        return {"model": p.model, "data": getattr(p, "data", None) or data_config_cls()(),
                "train": p.train or TrainConfig()}
    return {"model": p, "data": data_config_cls()(), "train": TrainConfig()}


def merge(tree: dict, update: dict, where: str = "") -> None:
    """Deep-merge ``update`` into ``tree`` in place; keys must already exist in ``tree``."""
    if not isinstance(update, dict):
        raise InputError(f"config {where.rstrip('.') or 'file'}: expected a mapping, "
                         f"got {type(update).__name__}")
    for key, value in update.items():
        path = f"{where}{key}"
        if key not in tree:
            valid = ", ".join(sorted(map(str, tree)))
            raise InputError(f"unknown config key {path} (valid at this level: {valid})")
        if isinstance(tree[key], dict):
            if not isinstance(value, dict):
                raise InputError(f"config key {path} is a section; set its fields "
                                 f"({path}.<name>=...), not a {type(value).__name__}")
            merge(tree[key], value, path + ".")
        else:
            tree[key] = value


def parse_override(text: str) -> dict:
    """``"train.optim.lr=3e-4"`` -> ``{"train": {"optim": {"lr": 0.0003}}}`` (value as YAML)."""
    key, sep, value = text.partition("=")
    parts = key.strip().split(".")
    if not sep or not all(parts):
        raise InputError(f"override {text!r} must look like section.key=value "
                         "(e.g. model.dim=64 train.optim.lr=3e-4 data.frames=4)")
    nested: Any = parse_yaml(value, where=f"override {key}")
    for part in reversed(parts):
        nested = {part: nested}
    return nested


def resolve_run_config(model_type: str | None = None, *, preset: str | None = None,
                       files: Iterable[str | os.PathLike] = (),
                       overrides: Iterable[str | dict] = (),
                       base: RunConfig | None = None) -> RunConfig:
    """Merge defaults <- preset (or ``base``, when resuming) <- YAML ``files`` <- ``overrides``.

    ``overrides`` are ``"a.b=value"`` strings (value parsed as YAML) or nested dicts.
    """
    if base is not None:
        if model_type not in (None, base.model_type):
            raise InputError(f"the run was trained as {base.model_type!r}, not {model_type!r}")
        model_type, preset = base.model_type, base.preset
        sections = {s: getattr(base, s) for s in SECTIONS}
    elif model_type is None:
        raise InputError("a model type is needed (e.g. vid1d train gvc1d --preset tiny)")
    else:
        model_type = get_model_type(model_type).name
        sections = preset_sections(model_type, preset)
    tree = {"model_type": model_type, "preset": preset,
            **{s: config_to_dict(v) for s, v in sections.items()}}
    for f in files:
        path = Path(f)
        try:
            text = path.read_text()
        except OSError as e:
            raise InputError(f"{path}: cannot read config ({e.strerror})") from None
        update = parse_yaml(text, where=str(path)) or {}
        if not isinstance(update, dict):
            raise InputError(f"{path}: expected a mapping of model/data/train sections")
        if update.get("model_type", model_type) != model_type:
            raise InputError(f"{path}: written for model type {update['model_type']!r}, "
                             f"not {model_type!r}")
        update.pop("model_type", None)
        if update.get("preset") is not None and preset is None:
            tree["preset"] = update["preset"]
        update.pop("preset", None)
        merge(tree, update)
    for item in overrides:
        update = parse_override(item) if isinstance(item, str) else item
        if {"model_type", "preset"} & set(update):
            raise InputError(f"override {item!r}: set the model type and preset "
                             "on the command line")
        merge(tree, update)
    return RunConfig.from_dict(tree)


def save_run_config(run_dir: str | os.PathLike, cfg: RunConfig) -> None:
    d = cfg.to_dict()
    run_dir = Path(run_dir)
    atomic_write_text(run_dir / "config.yaml", yaml.safe_dump(d, sort_keys=False))
    atomic_write_text(run_dir / "config.json", json.dumps(d, indent=2) + "\n")


def load_run_config(run_dir: str | os.PathLike) -> RunConfig:
    path = Path(run_dir) / "config.json"
    try:
        return RunConfig.from_dict(json.loads(path.read_text()))
    except (FileNotFoundError, NotADirectoryError):
        raise InputError(f"{run_dir}: not a vid1d run folder (no config.json)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read ({getattr(e, 'strerror', None) or e})") from None
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: not valid JSON ({e})") from None
