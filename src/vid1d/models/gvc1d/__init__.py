"""GVC1D — Generative Video Compression with One-Dimensional latent representation.

papers/gvc1d.txt. Components (one file each): ``windows`` (padding and windows
of patches), ``transformer`` (local/global transformer, 2D RoPE), ``encoder``,
``decoder``, ``ar_prior`` (autoregressive token entropy model), ``tables``
(integer coding tables), ``memory`` (long-term 1D memory), ``lmbda``
(variable-rate conditioning), ``model`` (the codec).
"""

from vid1d.models.gvc1d.config import PRESETS, GVC1DConfig, ablation_variant
from vid1d.models.gvc1d.model import GVC1D, CodingState, FrameCode
from vid1d.models.registry import register_model_type


@register_model_type("gvc1d", GVC1DConfig, presets=PRESETS)
def build_gvc1d(cfg: GVC1DConfig) -> GVC1D:
    return GVC1D(cfg)


__all__ = ["GVC1D", "PRESETS", "CodingState", "FrameCode", "GVC1DConfig", "ablation_variant",
           "build_gvc1d"]
