"""GVC1D configuration and presets (papers/gvc1d.txt §3, §4.1).

A window is ``window × window`` patches of ``patch × patch`` pixels (paper: 16×16
patches of 16 px = 256 px) and is coded as ``tokens`` 1D latent tokens of
``token_channels`` channels (paper: 32 × 16). The paper does not give widths and
depths; ``paper`` below is a ViT-B-like guess at its scale, ``small`` is what
we train on CPU/one GPU, ``tiny`` is for tests.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class GVC1DConfig:
    # geometry
    patch: int = 16  # pixels per patch side
    window: int = 16  # patches per window side
    tokens: int = 32  # 1D latent tokens per window
    token_channels: int = 16  # channels per token (C)
    # transformer widths/depths
    dim: int = 768
    heads: int = 12
    mlp_ratio: float = 4.0
    enc_blocks: int = 4  # M_e
    enc_local_layers: int = 2  # N_e (each block: N_e local layers + 1 global layer)
    dec_blocks: int = 4
    dec_local_layers: int = 2
    head_hidden: int = 64  # channels of the convolutional output head
    # entropy model
    ar: bool = True  # autoregressive over tokens (False: context-only, the ablation)
    ar_dim: int = 384
    ar_layers: int = 4
    ar_heads: int = 6
    # long-term memory (§3.2): "1d" (paper), "2d" (from short-term features), "none"
    memory: str = "1d"
    memory_tokens: int = 64  # fixed memory size per window
    memory_layers: int = 2  # D_m update layers
    readout_layers: int = 1
    # variable rate (§4.1): λ at 8 log-spaced points of [lmbda_min, lmbda_max]
    lmbda_min: float = 0.07
    lmbda_max: float = 1.5
    num_lmbdas: int = 8
    distortion_scale: float = 1000.0  # D = scale · MSE on [0,1] pixels (see lmbda.py)
    # Initial quantization step per level: qstep_init · (λ/λ_min)^(−qstep_slope)
    # (see lmbda.py). Learned afterwards.
    qstep_init: float = 1.0
    qstep_slope: float = 0.5
    msssim_weight: float = 0.0  # D mixes in scale · w · (1 - MS-SSIM) when > 0
    # Perceptual terms (the paper's generative setting), added to D when > 0. Their
    # networks load weights from $VID1D_LPIPS_WEIGHTS / $VID1D_DISTS_WEIGHTS / the
    # ST-LPIPS file of `vid1d weights fetch stlpips-alex`; a weight > 0 without the
    # file stops training with a message saying so.
    lpips_weight: float = 0.0
    dists_weight: float = 0.0
    stlpips_weight: float = 0.0
    cond_dim: int = 128
    # What the decoder sees in training: "noise" (ŷ = y + U(-½,½), the smooth proxy
    # that lets information through while |y| is still small) or "ste" (rounded
    # values, straight-through gradient, as at coding time). The prior and the
    # memory always see the rounded tokens, as when coding.
    train_quant: str = "noise"

    def __post_init__(self) -> None:
        if self.train_quant not in ("noise", "ste"):
            raise ValueError(f"train_quant must be 'noise' or 'ste', got {self.train_quant!r}")
        if self.memory not in ("1d", "2d", "none"):
            raise ValueError(f"memory must be '1d', '2d' or 'none', got {self.memory!r}")
        if min(self.patch, self.window, self.tokens, self.token_channels, self.dim) < 1:
            raise ValueError("sizes must be positive")
        if self.dim % self.heads or self.ar_dim % self.ar_heads:
            raise ValueError("dims must be divisible by heads")
        if self.qstep_init <= 0 or self.qstep_slope < 0:
            raise ValueError("need qstep_init > 0 and qstep_slope >= 0")
        if self.num_lmbdas < 1 or not 0 < self.lmbda_min <= self.lmbda_max:
            raise ValueError("need 0 < lmbda_min <= lmbda_max and num_lmbdas >= 1")

    @property
    def window_px(self) -> int:
        return self.patch * self.window

    @property
    def patches_per_window(self) -> int:
        return self.window * self.window


PRESETS: dict[str, GVC1DConfig] = {
    "paper": GVC1DConfig(),
    "small": GVC1DConfig(patch=8, window=8, tokens=16, token_channels=8, dim=128, heads=4,
                         enc_blocks=2, enc_local_layers=2, dec_blocks=2, dec_local_layers=2,
                         head_hidden=32, ar_dim=128, ar_layers=2, ar_heads=4, memory_tokens=32,
                         memory_layers=1, readout_layers=1, cond_dim=64),
    "tiny": GVC1DConfig(patch=4, window=4, tokens=4, token_channels=4, dim=32, heads=2,
                        mlp_ratio=2.0, enc_blocks=1, enc_local_layers=1, dec_blocks=1,
                        dec_local_layers=1, head_hidden=8, ar_dim=32, ar_layers=1, ar_heads=2,
                        memory_tokens=4, memory_layers=1, readout_layers=1, cond_dim=16),
}


def ablation_variant(base: GVC1DConfig, name: str) -> GVC1DConfig:
    """Configs for the paper's Tables 2-3: token sizes 'NxC', 'no-ar', 'ar-no-mem', 'mem-2d',
    'mem-1d' (the default); and ours: 'flat-qstep', every λ level's quantization step
    starting at ``qstep_init`` (no λ^(-1/2) ladder, see ``lmbda.py``)."""
    if "x" in name:
        n, c = (int(v) for v in name.split("x"))
        return replace(base, tokens=n, token_channels=c)
    variants = {"no-ar": dict(ar=False, memory="none"), "ar-no-mem": dict(memory="none"),
                "mem-2d": dict(memory="2d"), "mem-1d": {}, "flat-qstep": dict(qstep_slope=0.0)}
    if name not in variants:
        raise ValueError(f"unknown ablation variant {name!r}")
    return replace(base, **variants[name])


