"""Training: one loop for every vid1d model, alone or under torchrun (DDP / FSDP2).

* :mod:`~vid1d.train.api` — what a trainable model implements;
* :mod:`~vid1d.train.config` / :mod:`~vid1d.train.run_config` — configs and their merging;
* :func:`fit` — the loop (:mod:`~vid1d.train.loop`); :func:`export_run` — run -> registry model;
* :mod:`~vid1d.train.testing` — ``assert_loss_decreases`` for model tests.

Names are loaded on first use, so a model package can import
``vid1d.train.config`` (for its ``RunPreset`` presets) without pulling in the loop.
"""

from __future__ import annotations

from vid1d.utils.lazy import lazy_exports

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


__getattr__, __dir__ = lazy_exports("vid1d.train", _EXPORTS, globals())
