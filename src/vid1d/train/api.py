"""The contract between a model and the one training loop (:func:`vid1d.train.fit`).

The loop knows nothing about codecs, tokenizers or generators: it feeds batches,
asks the model for its losses, steps the optimizer, and logs whatever terms the
model reports. Anything model-specific (λ sampling for variable-rate codecs,
auxiliary losses, noise schedules, two-stage switches driven by ``step``) lives
in the model.

A batch is the default-collated output of a ``vid1d.data`` dataset::

    {"video": (B, C, T, H, W) float32 in [0, 1],   # on the training device
     "label": (B,) int64,
     "source": list[str]}                           # stays on the CPU
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from torch import Tensor

Batch = dict  # str -> Tensor (moved to the device) or list (left as collated)


@runtime_checkable
class TrainableModel(Protocol):
    """What ``vid1d train`` needs from an ``nn.Module``.

    Required:

    ``training_losses(batch, step) -> dict[str, Tensor]``
        One forward pass in training mode. Returns 0-dim tensors: the total
        objective under ``"loss"`` (the loop calls ``backward`` on it) plus any
        named terms worth logging (``"bpp"``, ``"mse"``, ``"psnr"``, ``"kl"``…),
        which the loop detaches and averages (every rank must return the same
        keys at a given step). ``"loss"`` must be a *mean* over
        the batch so that gradient accumulation and data parallelism (which
        average micro-batch and per-rank losses) reproduce the large-batch
        gradient. ``step`` is the number of optimizer steps already taken, for
        schedules that live in the model (annealing, stage switches).

    Optional (detected with ``hasattr``):

    ``validation_metrics(batch) -> dict[str, float]``
        Called under ``torch.no_grad()`` in eval mode (on the EMA weights when
        ``train.val_ema``), on the validation split; the loop averages every key
        over samples and ranks and logs it as ``val/<key>``.

    ``sample_images(batch) -> Tensor``
        ``(N, 3, H, W)`` in [0, 1] (e.g. input and reconstruction frames side by
        side); the loop tiles them into ``samples/step_XXXXXX.png``.

    ``no_weight_decay() -> set[str]``
        Parameter names (as in ``named_parameters()``) to exclude from weight
        decay beyond the default rule (biases, norms, embeddings; see
        :func:`vid1d.train.optim.param_groups`).

    ``fsdp_units() -> list[nn.Module]``
        Sub-modules to shard as separate FSDP2 units (usually the transformer
        blocks); default: the members of every ``nn.ModuleList``.
    """

    def training_losses(self, batch: Batch, step: int) -> dict[str, Tensor]: ...
