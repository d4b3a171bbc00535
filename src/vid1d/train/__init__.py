"""Training: one loop for every vid1d model, alone or under torchrun (DDP / FSDP2).

* :mod:`~vid1d.train.api` — what a trainable model implements;
* :mod:`~vid1d.train.config` / :mod:`~vid1d.train.run_config` — configs and their merging;
* :func:`fit` — the loop (:mod:`~vid1d.train.loop`); :func:`export_run` — run -> registry model;
* :mod:`~vid1d.train.testing` — ``assert_loss_decreases`` for model tests.

Names are loaded on first use, so a model package can import
``vid1d.train.config`` (for its ``RunPreset`` presets) without pulling in the loop.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "TrainableModel": "vid1d.train.api",
    "OptimConfig": "vid1d.train.config",
    "RunPreset": "vid1d.train.config",
    "TrainConfig": "vid1d.train.config",
    "export_run": "vid1d.train.export",
    "TrainResult": "vid1d.train.loop",
    "TrainingDiverged": "vid1d.train.loop",
    "fit": "vid1d.train.loop",
    "RunConfig": "vid1d.train.run_config",
    "load_run_config": "vid1d.train.run_config",
    "resolve_run_config": "vid1d.train.run_config",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'vid1d.train' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
