"""Fixed-batch training helpers (tests, capacity checks, step timing): does the model learn at all?"""

from __future__ import annotations

import torch
from torch import nn

from vid1d.train.config import OptimConfig
from vid1d.train.optim import build_optimizer


def fit_batch(losses_fn, batch: dict, opt: torch.optim.Optimizer, steps: int,
              on_step=None) -> list[float]:
    """Take ``steps`` optimizer steps on one fixed batch; the loss before each step.

    ``losses_fn(batch, step)`` returns the model's loss dict (``model.training_losses``,
    or a ``LossModule``, compiled or not). ``on_step(step)`` (1-based) runs after each
    update. A non-finite loss stops with the curve so far.
    """
    losses: list[float] = []
    for step in range(steps):
        loss = losses_fn(batch, step)["loss"]
        if not torch.isfinite(loss):
            raise AssertionError(f"loss became {loss.item()} at step {step}: {losses}")
        losses.append(loss.item())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if on_step is not None:
            on_step(step + 1)
    return losses


def assert_loss_decreases(model: nn.Module, batch: dict, *, steps: int = 30, lr: float = 1e-2,
                          factor: float = 0.5) -> list[float]:
    """Overfit one fixed batch with AdamW; assert ``loss[-1] <= factor · loss[0]``.

    The cheapest end-to-end check that a model's ``training_losses`` is wired to
    its parameters (gradients flow, no detached branch, a sane scale). Fails
    with the whole loss curve in the message. Returns the losses. No wall-clock
    bound: speed is measured by benchmarks, and a hang by CI's time limit.
    """
    opt = build_optimizer(model, OptimConfig(lr=lr, min_lr=lr, warmup_steps=0, weight_decay=0.0))
    model.train()
    losses = fit_batch(model.training_losses, batch, opt, steps)
    curve = ", ".join(f"{x:.4g}" for x in losses)
    assert losses[-1] <= factor * losses[0], (
        f"loss fell from {losses[0]:.4g} to {losses[-1]:.4g} in {steps} steps, not by the "
        f"factor {factor}: [{curve}]")
    return losses
