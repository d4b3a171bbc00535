"""Frozen-dataclass configs <-> plain dicts (JSON/YAML), rejecting unknown keys.

Configs are nested frozen dataclasses owned by the module that consumes them
(lingua style). This is the one place that turns them into JSON-able dicts and
back, so a checkpoint's config round-trips exactly and a typo is an error.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, TypeVar

from vid1d.errors import InputError

T = TypeVar("T")


def config_to_dict(cfg: Any) -> dict:
    """A dataclass instance as nested plain dicts/lists (tuples become lists)."""
    if not dataclasses.is_dataclass(cfg):
        raise TypeError(f"{cfg!r} is not a dataclass instance")
    return _plain(dataclasses.asdict(cfg))


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def config_from_dict(cls: type[T], data: dict, *, where: str = "") -> T:
    """Build dataclass ``cls`` from ``data``; unknown keys are an InputError."""
    if not isinstance(data, dict):
        raise InputError(f"config{where or ''}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise InputError(f"unknown config key(s) {', '.join(where + k for k in unknown)} "
                         f"(valid: {', '.join(sorted(names))})")
    kwargs = {k: _coerce(hints[k], v, f"{where}{k}") for k, v in data.items()}
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise InputError(f"invalid config{' ' + where if where else ''}: {e}") from None


def _coerce(tp: Any, v: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(v, dict):
        return config_from_dict(tp, v, where=where + ".")
    if origin is tuple and isinstance(v, (list, tuple)):
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], x, where) for x in v)
        return tuple(v)
    if origin in (typing.Union, types.UnionType):
        return v
    if tp is float and isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    if tp in (int, float, str, bool) and not isinstance(v, tp):
        raise InputError(f"config key {where}: expected {tp.__name__}, got {v!r}")
    return v
