"""Autoregressive transformer entropy model over the 1D tokens of a window (§3.1).

Per window, the tokens y_1..y_T (each ``token_channels`` wide) are modelled as

    p(ŷ | C) = Π_i Π_c N(μ_{i,c}, σ_{i,c}²) * U(-½, ½)   evaluated at ŷ_{i,c},
    (μ_i, σ_i) = f(ŷ_<i, C_l, C_s, λ)

by a transformer whose sequence is [context prefix ⊕ BOS ⊕ ŷ_1 … ŷ_{T-1}]: the
prefix (the window's long-term context C_l, T tokens, and its short-term context
C_s, P tokens) attends only to itself; position i attends to the prefix and to
positions ≤ i. Windows run in parallel (folded into the batch).

Two ways to compute the same parameters:

* :meth:`forward` — all positions at once with a block-causal mask (training);
* :meth:`start` + :meth:`step` — one token at a time with a KV cache. Encoder
  and decoder both code with this incremental path, so the probabilities the
  encoder uses are computed exactly as the decoder will compute them.

``ar=False`` is the ablation's non-autoregressive model: token queries are
learned embeddings only, so all tokens are predicted from the context at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vid1d.models.gvc1d.config import GVC1DConfig
from vid1d.models.gvc1d.windows import to_windows
from vid1d.nn import KVCache, TransformerBlock

LOG_SCALE_MIN, LOG_SCALE_MAX = -2.5, 4.0  # σ ∈ [0.08, 55]: the range the coding tables cover


@dataclass
class ARState:
    caches: list[KVCache]
    cond_w: torch.Tensor  # (B·N, cond_dim)
    position: int = 0


class ARTokenPrior(nn.Module):
    def __init__(self, cfg: GVC1DConfig):
        super().__init__()
        self.cfg = cfg
        a, T = cfg.ar_dim, cfg.tokens
        self.long_proj = nn.Sequential(nn.LayerNorm(cfg.dim), nn.Linear(cfg.dim, a))
        self.short_proj = nn.Sequential(nn.LayerNorm(cfg.dim), nn.Linear(cfg.dim, a))
        self.empty_long = nn.Parameter(torch.randn(T, a) * 0.02)
        self.empty_short = nn.Parameter(torch.zeros(a))
        self.prefix_pos = nn.Parameter(torch.randn(T + cfg.patches_per_window, a) * 0.02)
        self.in_proj = nn.Linear(cfg.token_channels, a)
        self.bos = nn.Parameter(torch.randn(a) * 0.02)
        self.token_pos = nn.Parameter(torch.randn(T, a) * 0.02)
        self.layers = nn.ModuleList(TransformerBlock(a, cfg.ar_heads, cfg.mlp_ratio,
                                                     cond_dim=cfg.cond_dim)
                                    for _ in range(cfg.ar_layers))
        self.norm = nn.LayerNorm(a)
        self.out = nn.Linear(a, 2 * cfg.token_channels)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    # -- pieces shared by both paths --------------------------------------------------
    def _prefix(self, short: torch.Tensor | None, long: torch.Tensor | None, n: int) -> torch.Tensor:
        """(B·N, T + P, A): the window's context tokens."""
        P = self.cfg.patches_per_window
        long_w = self.empty_long.expand(n, -1, -1) if long is None else self.long_proj(long)
        short_w = (self.empty_short.expand(n, P, -1) if short is None
                   else self.short_proj(to_windows(short, self.cfg.window)))
        return torch.cat([long_w, short_w], dim=1) + self.prefix_pos

    def _token_inputs(self, y_prev: torch.Tensor | None, start: int, n: int) -> torch.Tensor:
        """Inputs at token positions start.. : BOS/ŷ_{i-1} (AR) or nothing (non-AR)."""
        if not self.cfg.ar:  # every token at once, from its position embedding alone
            return self.token_pos.expand(n, -1, -1)
        pos = self.token_pos[start : start + (1 if y_prev is None else y_prev.shape[1])]
        if y_prev is None:  # position 0 sees BOS
            return (self.bos + pos).expand(n, -1, -1)
        return self.in_proj(y_prev) + pos

    def _params(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ, log σ), at least float32 (float64 when coding in float64); log σ clamped
        to the range the coding tables cover."""
        out = self.out(self.norm(h))
        if out.dtype in (torch.float16, torch.bfloat16):  # autocast training
            out = out.float()
        mu, log_sigma = out.chunk(2, dim=-1)
        return mu, log_sigma.clamp(LOG_SCALE_MIN, LOG_SCALE_MAX)

    # -- training path: all tokens in one pass -----------------------------------------
    def forward(self, y_hat: torch.Tensor, short: torch.Tensor | None, long: torch.Tensor | None,
                cond_w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """y_hat (B·N, T, C) -> (μ, log σ) each (B·N, T, C), token i conditioned on ŷ_<i."""
        n, T, _ = y_hat.shape
        prefix = self._prefix(short, long, n)  # (B·N, L, A)
        if self.cfg.ar:
            shifted = torch.cat([torch.zeros_like(y_hat[:, :1]), y_hat[:, :-1]], dim=1)
            tokens = self.in_proj(shifted) + self.token_pos
            tokens[:, 0] = self.bos + self.token_pos[0]
        else:
            tokens = self.token_pos.expand(n, -1, -1)
        x = torch.cat([prefix, tokens], dim=1)  # (B·N, L + T, A)
        mask = self.attention_mask(prefix.shape[1], T, x.device)
        for layer in self.layers:
            x = layer(x, cond_w, mask=mask)
        return self._params(x[:, -T:])

    def attention_mask(self, n_prefix: int, n_tokens: int, device: torch.device) -> torch.Tensor:
        """Bool (L+T, L+T), True = may attend: prefix↔prefix, tokens→prefix, tokens causal."""
        total = n_prefix + n_tokens
        mask = torch.zeros(total, total, dtype=torch.bool, device=device)
        mask[:, :n_prefix] = True
        causal = torch.ones(n_tokens, n_tokens, dtype=torch.bool, device=device).tril()
        mask[n_prefix:, n_prefix:] = causal if self.cfg.ar else True
        return mask

    # -- coding path: one token at a time ----------------------------------------------
    def start(self, short: torch.Tensor | None, long: torch.Tensor | None, cond_w: torch.Tensor,
              ) -> ARState:
        """Run the prefix once into per-layer KV caches."""
        n = cond_w.shape[0]
        x = self._prefix(short, long, n)
        caches = [KVCache() for _ in self.layers]
        for layer, cache in zip(self.layers, caches, strict=True):
            x = layer(x, cond_w, cache=cache)
        return ARState(caches, cond_w)

    def step(self, state: ARState, y_prev: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ, log σ) of token ``state.position`` (B·N, 1, C) given ŷ of the previous token.

        Non-AR models predict every token at the first step: (B·N, T, C).
        """
        n = state.cond_w.shape[0]
        x = self._token_inputs(y_prev, state.position, n)
        for layer, cache in zip(self.layers, state.caches, strict=True):
            x = layer(x, state.cond_w, cache=cache)
        state.position += x.shape[1]
        return self._params(x)


