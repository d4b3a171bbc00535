"""AdamW with the usual no-decay groups (nanoGPT/timm convention).

Weight decay pulls weights toward zero; on biases, normalization gains,
embeddings, positional encodings and learned query/latent tokens it only hurts
(they set offsets and scales, not capacity), so they get ``weight_decay=0``.
"""

from __future__ import annotations

import torch
from torch import nn

from vid1d.train.config import OptimConfig

# A bare nn.Parameter (not a Linear/Conv weight) whose own name contains one of
# these is an embedding-like table: positional encodings, 1D latent queries,
# mask/padding tokens.
NO_DECAY_NAME_PARTS = ("embed", "pos", "token", "quer", "mask")


def no_decay(name: str, param: torch.Tensor, embedding_ids: set[int], extra: set[str]) -> bool:
    leaf = name.rsplit(".", 1)[-1]
    return (param.ndim < 2  # biases, LayerNorm/GroupNorm/RMSNorm gains
            or id(param) in embedding_ids  # nn.Embedding tables
            or name in extra  # model.no_weight_decay()
            or (leaf not in ("weight", "bias") and any(p in leaf for p in NO_DECAY_NAME_PARTS)))


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two AdamW groups: decayed matrices/kernels and everything else (decay 0)."""
    extra = set(model.no_weight_decay()) if hasattr(model, "no_weight_decay") else set()
    embedding_ids = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    decay, keep = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (keep if no_decay(name, p, embedding_ids, extra) else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": keep, "weight_decay": 0.0}]


def build_optimizer(model: nn.Module, cfg: OptimConfig) -> torch.optim.AdamW:
    """AdamW (Loshchilov & Hutter 2019) over ``model``'s trainable parameters."""
    return torch.optim.AdamW(param_groups(model, cfg.weight_decay), lr=cfg.lr,
                             betas=tuple(cfg.betas), eps=cfg.eps)
