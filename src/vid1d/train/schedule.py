"""Learning-rate schedule: linear warmup, then half-cosine decay to ``min_lr``.

A pure function of the step (no scheduler object to save), so resuming is exact
by construction. ``step`` counts optimizer steps already taken: the first update
uses ``lr_at(0)``.
"""

from __future__ import annotations

import math

from vid1d.train.config import OptimConfig


def lr_at(step: int, cfg: OptimConfig, total_steps: int) -> float:
    """``lr·(step+1)/warmup`` during warmup, then cosine from ``lr`` (at ``warmup``) to
    ``min_lr`` (at ``total_steps``; Loshchilov & Hutter 2017, SGDR without restarts)."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    decay_steps = max(1, total_steps - cfg.warmup_steps)
    progress = min(1.0, (step - cfg.warmup_steps) / decay_steps)
    return cfg.min_lr + (cfg.lr - cfg.min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))
