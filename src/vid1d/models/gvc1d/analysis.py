"""Attention "outflow" of the 1D latent tokens (papers/gvc1d.txt §3.3, Fig. 4–5).

Following FlowCut, for the attention map A of the last decoder layer (a global
layer over all windows' tokens), the outflow of 1D token j is where its
information goes: ``argmax_i A[i, j]`` over the image (mask) tokens i. We also
keep the whole column ``A[:, j]`` over the patches as a heat map. Across frames,
a token whose outflow stays on the same object tracks it (Fig. 4); when new
content appears, attention shifts to other tokens (Fig. 5).

The last decoder layer sees every window's tokens, so its map is
(N·S)² per head: run the analysis on small frames or crops (the CLI crops to
``--crop``, 256 px by default).
"""

from __future__ import annotations

import numpy as np
import torch

from vid1d.models.gvc1d.model import GVC1D
from vid1d.models.gvc1d.windows import from_windows


@torch.no_grad()
def token_attention_maps(model: GVC1D, video: torch.Tensor, quality: float) -> tuple[torch.Tensor, torch.Tensor]:
    """video (1, 3, T, H, W) -> (maps (T, N·Tk, h, w), x_hat (1, 3, T, H, W)).

    ``maps[t, n·Tk + j]`` is the head-averaged attention that the image tokens of
    frame t pay to 1D token j of window n, laid out on the patch grid.
    """
    cfg = model.cfg
    attn = model.decoder.transformer.glob[-1].attn
    captured: list[torch.Tensor] = []
    hook = attn.register_forward_hook(lambda mod, inp, out: captured.append(mod.last_weights))
    model.decoder.capture_attention = True
    try:
        out = model(video, model._quality(quality), training=False)
    finally:
        model.decoder.capture_attention = False
        hook.remove()
    _, _, T, H, W = video.shape
    nh, nw = model.grid(H, W)
    N, P, Tk = nh * nw, cfg.patches_per_window, cfg.tokens
    S = 2 * P + 2 * Tk
    maps = []
    for weights in captured:  # (1, heads, N·S, N·S)
        a = weights[0].mean(0).reshape(N, S, N, S)  # (query window, query pos, key window, key pos)
        a = a[:, :P, :, 2 * P : 2 * P + Tk]  # image tokens -> 1D tokens: (N, P, N, Tk)
        a = a.reshape(N, P, N * Tk)  # windowed grid of every token's column
        grid = from_windows(a, 1, nh, nw, cfg.window)[0]  # (h, w, N·Tk)
        maps.append(grid.permute(2, 0, 1))
    return torch.stack(maps), out["x_hat"]


def outflow_points(maps: torch.Tensor) -> np.ndarray:
    """(T, K, h, w) -> (T, K, 2) patch (row, col) of each token's maximum attention."""
    T, K, h, w = maps.shape
    flat = maps.reshape(T, K, h * w).argmax(-1)
    return torch.stack([flat // w, flat % w], dim=-1).numpy()


def plot_outflow(frames: torch.Tensor, maps: torch.Tensor, patch: int, out_png, *,
                 tokens: list[int] | None = None, title: str = "") -> None:
    """Fig. 4/5-style figure: outflow points linked across frames + per-token heat maps.

    frames (T, 3, H, W) in [0,1]; maps (T, K, h, w).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from vid1d.utils.fs import atomic_path

    T, K = maps.shape[:2]
    tokens = tokens if tokens is not None else list(range(min(K, 6)))
    pts = outflow_points(maps) * patch + patch / 2  # pixel centres
    H, W = frames.shape[-2:]
    fig, axes = plt.subplots(1 + len(tokens), T, figsize=(2.6 * T, 2.2 * (1 + len(tokens))),
                             squeeze=False)
    colors = plt.cm.tab20(np.linspace(0, 1, max(K, 2)))
    for t in range(T):
        ax = axes[0, t]
        ax.imshow(frames[t].permute(1, 2, 0).clamp(0, 1).numpy())
        ax.scatter(pts[t, :, 1], pts[t, :, 0], s=10, c=colors[:K])
        for k in tokens:
            ax.annotate(str(k), (pts[t, k, 1], pts[t, k, 0]), color="yellow", fontsize=6)
        if t + 1 < T:  # link each token's outflow to where it goes in the next frame
            for k in range(K):
                ax.plot([pts[t, k, 1], pts[t + 1, k, 1]], [pts[t, k, 0], pts[t + 1, k, 0]],
                        color=colors[k], lw=0.5, alpha=0.6)
        ax.set_title(f"frame {t}: outflow", fontsize=8)
        for r, k in enumerate(tokens, start=1):
            ax = axes[r, t]
            ax.imshow(frames[t].permute(1, 2, 0).clamp(0, 1).numpy())
            heat = maps[t, k].numpy()
            ax.imshow(heat, cmap="inferno", alpha=0.6, extent=(0, W, H, 0),
                      interpolation="nearest")
            ax.set_title(f"token {k}", fontsize=7)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title or "GVC1D 1D-token attention outflow (last decoder layer)", fontsize=9)
    fig.tight_layout()
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
