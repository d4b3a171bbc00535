"""One-DVA configuration and presets (papers/onedva.txt §3, Appendix A)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OneDVAConfig:
    """Encoder/decoder sizes, the latent layout, the length dropout and the loss.

    Latent layout for a T×H×W clip (``latent_t = 4``, ``latent_s = 16``):
    1D latents = the first ⌈(T−1)/4⌉·⌈H/16⌉·⌈W/16⌉ of ``max_queries`` queries,
    structural latent = 1·⌈H/16⌉·⌈W/16⌉ vectors; both ``latent_channels`` wide.
    """

    # patchifiers (Appendix A): encoder 4×8×8, decoder 2×8×8
    enc_patch_t: int = 4
    dec_patch_t: int = 2
    patch_s: int = 8
    # compression of the latent layout (4×16×16)
    latent_t: int = 4
    latent_s: int = 16
    latent_channels: int = 16
    max_queries: int = 112  # N_max over the training resolutions
    # Initial posterior log σ² (the bias of the moments layer). At 0 (σ = 1) the
    # latents start as pure noise to a decoder that cannot read them yet; the
    # structural latent, spatially aligned, gets used first and the 1D path stays
    # collapsed: the first bundled onedva-small ended with 1D σ ≈ 1.8 (structural
    # 0.7) and the log σ² bias still at 0 after 1300 steps (at w_kl = 1e-4 nothing
    # moves it); see docs/results/onedva.md. σ = e^−3 ≈ 0.05 starts the bottleneck as
    # an autoencoder; training then sets σ.
    logvar_init: float = -6.0
    # transformers
    dim: int = 192
    heads: int = 4
    enc_depth: int = 4
    dec_depth: int = 4
    mlp_ratio: float = 4.0
    head_hidden: int = 16  # channels after the unpatchifier's pixel shuffle
    # training stage: 1 = deterministic (t ≡ 1, no dropout), 2 = stochastic
    # (logit-normal t, length dropout), 3 = stage 2 + latent self-alignment (§3.5)
    stage: int = 1
    t_mean: float = 0.0
    t_std: float = 1.0
    t_p_max: float = 0.1  # share of t = 1 in stage 2 (thick tail)
    p_full: float = 0.1  # share of full-length 1D latents in the dropout
    p_struct_only: float = 0.1  # share of structural-only latents
    motion_ema: float = 0.99  # EMA of the raw motion score's mean and variance
    # loss weights (Appendix A): λ1 diffusion, λ2 perceptual, λ3 KL, λ4 REPA; §3.5 alignment
    w_diff: float = 10.0
    w_perceptual: float = 0.1
    w_kl: float = 1e-4
    w_repa: float = 0.1
    w_align: float = 0.01
    # pluggable feature networks (weights from a file; absent -> the term is off, logged)
    # "lpips" (VGG LPIPS, $VID1D_LPIPS_WEIGHTS) | "stlpips" (ST-LPIPS, the file that
    # `vid1d weights fetch stlpips-alex` writes, or $VID1D_STLPIPS_WEIGHTS) | "" (off)
    perceptual: str = "lpips"
    repa: str = "lpips-vgg"  # "lpips-vgg": VGG16 relu3_3 features of the LPIPS file | "" (off)
    repa_depth: int = 2  # decoder block whose noisy-position features are aligned
    val_steps: int = 1  # Euler steps used by validation_metrics / sample_images

    def __post_init__(self) -> None:
        if self.latent_s % self.patch_s or self.latent_t % self.dec_patch_t:
            raise ValueError("latent_s must be a multiple of patch_s and latent_t of dec_patch_t")
        if self.dim % self.heads or self.dim % 6:
            raise ValueError(f"dim must be divisible by heads and by 6, got {self.dim}")
        if self.stage not in (1, 2, 3):
            raise ValueError(f"stage must be 1, 2 or 3, got {self.stage}")
        if not (0 <= self.p_full and 0 <= self.p_struct_only and self.p_full + self.p_struct_only <= 1):
            raise ValueError("p_full and p_struct_only must be >= 0 and sum to at most 1")
        if not -30.0 <= self.logvar_init <= 20.0:
            raise ValueError(f"logvar_init must be in [-30, 20], got {self.logvar_init}")
        if self.max_queries < 1 or self.enc_depth < 1 or self.dec_depth < 1:
            raise ValueError("max_queries, enc_depth and dec_depth must be >= 1")
        if not 0 <= self.repa_depth < self.dec_depth:
            raise ValueError(f"repa_depth must be in [0, dec_depth), got {self.repa_depth}")
        if self.perceptual not in ("", "lpips", "stlpips") or self.repa not in ("", "lpips-vgg"):
            raise ValueError("perceptual must be '', 'lpips' or 'stlpips'; "
                             "repa must be '' or 'lpips-vgg'")


def _queries(frames: int, sizes: list[tuple[int, int]], latent_t: int = 4, latent_s: int = 16) -> int:
    """N_max: the largest 1D latent count over the training resolutions."""
    return max(-(-(frames - 1) // latent_t) * -(-h // latent_s) * -(-w // latent_s) for h, w in sizes)


PRESETS = {
    # tests: seconds on a CPU
    "tiny": OneDVAConfig(latent_channels=4, max_queries=_queries(5, [(32, 32)]), dim=48, heads=2,
                         enc_depth=1, dec_depth=2, repa_depth=1, head_hidden=8),
    # CPU-trainable: 17×64×64, 17×64×112, 17×112×64 (the paper's three shapes, scaled)
    "small": OneDVAConfig(latent_channels=16, max_queries=_queries(17, [(64, 112), (112, 64)]),
                          dim=192, heads=4, enc_depth=4, dec_depth=4),
    # Appendix A: 1152 wide, 24 blocks, 16 heads, 64 latent channels, 1938 queries
    "paper": OneDVAConfig(latent_channels=64, max_queries=1938, dim=1152, heads=16,
                          enc_depth=24, dec_depth=24, repa_depth=8, head_hidden=32),
}
