"""Training configs: optimizer/schedule (:class:`OptimConfig`) and loop (:class:`TrainConfig`).

Frozen dataclasses owned by ``vid1d.train``; the data config is owned by
``vid1d.data`` and the model config by the model package. A run combines the
three (:mod:`vid1d.train.run_config`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_finite(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


@dataclass(frozen=True)
class OptimConfig:
    """AdamW with linear warmup then cosine decay to ``min_lr`` (Loshchilov & Hutter 2019)."""

    lr: float = 3e-4
    min_lr: float = 3e-5
    warmup_steps: int = 100
    betas: tuple[float, float] = (0.9, 0.95)
    eps: float = 1e-8
    weight_decay: float = 0.05  # never applied to biases, norms or embeddings
    grad_clip: float = 1.0  # max global L2 norm; 0 disables clipping

    def __post_init__(self) -> None:
        for name in ("lr", "min_lr", "eps", "weight_decay", "grad_clip"):
            if not _is_finite(getattr(self, name)):
                raise ValueError(f"{name} must be a finite number, got {getattr(self, name)!r}")
        if not (self.lr > 0 and 0 <= self.min_lr <= self.lr):
            raise ValueError(f"need lr > 0 and 0 <= min_lr <= lr "
                             f"(lr={self.lr}, min_lr={self.min_lr})")
        if not _is_int(self.warmup_steps) or self.warmup_steps < 0 or self.grad_clip < 0 \
                or self.weight_decay < 0:
            raise ValueError("warmup_steps (an integer), grad_clip and weight_decay must be >= 0")
        if self.eps <= 0:
            raise ValueError(f"eps must be > 0, got {self.eps}")
        if not (isinstance(self.betas, tuple | list) and len(self.betas) == 2
                and all(_is_finite(b) and 0 <= b < 1 for b in self.betas)):
            raise ValueError(f"betas must be two numbers in [0, 1), got {self.betas!r}")


@dataclass(frozen=True)
class TrainConfig:
    """The loop. ``batch_size`` is the *global* batch of one optimizer step.

    Each of ``world_size`` ranks processes ``batch_size / world_size`` samples per
    step, in ``accum_steps`` micro-batches, so the optimization does not depend on
    how many GPUs run it. DataLoader workers are ``data.workers`` (per rank).
    """

    steps: int = 1000
    batch_size: int = 8
    accum_steps: int = 1
    optim: OptimConfig = field(default_factory=OptimConfig)
    ema_decay: float = 0.999  # 0 disables the EMA (the exported weights are then the raw ones)
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    precision: str = "fp32"  # fp32 | bf16 (autocast; CUDA only, ignored with a note on CPU)
    compile: bool = False  # torch.compile the training forward
    fsdp: bool = False  # FSDP2 (fully_shard) instead of DDP; for large presets
    ddp_find_unused: bool = False  # DDP: let some parameters get no gradient in a step (slower)
    log_every: int = 10
    val_every: int = 500  # 0 disables validation
    val_samples: int = 32
    val_ema: bool = True  # validate and sample with the EMA weights
    sample_every: int = 500  # 0 disables sample images
    sample_count: int = 4
    ckpt_every: int = 500  # a checkpoint is also written at the last step
    keep_checkpoints: int = 3
    tensorboard: bool = False  # also log to RUN/tb if the tensorboard package is installed
    # Start from trained weights instead of a fresh initialization (fine-tuning, e.g.
    # One-DVA stage 2 from stage 1): a model id, an exported checkpoint (.json /
    # .safetensors) or a run folder (its latest EMA weights). Same model type and
    # parameter shapes; model.* options that change no shape (stage, losses) may differ.
    # Optimizer, schedule and step start fresh; the training clips come from a stretch of
    # the data stream picked by the init weights (vid1d.train.loop.init_data_offset), not
    # the one the runs behind them read. Ignored on --resume.
    init: str = ""

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "accum_steps", "seed", "log_every", "val_every",
                     "val_samples", "sample_every", "sample_count", "ckpt_every",
                     "keep_checkpoints"):
            if not _is_int(getattr(self, name)):  # YAML `true` is no step count
                raise ValueError(f"{name} must be an integer, got {getattr(self, name)!r}")
        if self.steps < 1 or self.batch_size < 1 or self.accum_steps < 1:
            raise ValueError("steps, batch_size and accum_steps must be >= 1")
        if not (_is_finite(self.ema_decay) and 0 <= self.ema_decay < 1):
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if self.precision not in ("fp32", "bf16"):
            raise ValueError(f"precision must be fp32 or bf16, got {self.precision!r}")
        if not (isinstance(self.device, str) and re.fullmatch(r"auto|cpu|cuda(:\d+)?", self.device)):
            raise ValueError(f"device must be auto, cpu or cuda[:N], got {self.device!r}")
        for name in ("log_every", "val_every", "val_samples", "sample_every",
                     "sample_count", "ckpt_every"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.keep_checkpoints < 1:
            raise ValueError("keep_checkpoints must be >= 1")

    def micro_batch(self, world_size: int) -> int:
        """Samples per rank per forward pass; the global batch must split evenly."""
        per_step = world_size * self.accum_steps
        if self.batch_size % per_step:
            raise ValueError(f"batch_size {self.batch_size} is not divisible by world_size "
                             f"{world_size} x accum_steps {self.accum_steps}")
        return self.batch_size // per_step


@dataclass(frozen=True)
class RunPreset:
    """A model family's full recipe for one preset name (``ModelType.presets[name]``).

    ``data``/``train`` left as ``None`` take their defaults. A preset may also be
    just the model config; :func:`vid1d.train.run_config.resolve_run_config`
    accepts both.
    """

    model: Any
    data: Any = None
    train: TrainConfig | None = None
