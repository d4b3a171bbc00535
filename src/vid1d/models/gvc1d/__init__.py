"""GVC1D — Generative Video Compression with One-Dimensional latent representation.

papers/gvc1d.txt. Components (one file each): ``windows`` (padding and windows
of patches), ``transformer`` (local/global transformer, 2D RoPE), ``encoder``,
``decoder``, ``ar_prior`` (autoregressive token entropy model), ``tables``
(integer coding tables), ``memory`` (long-term 1D memory), ``lmbda``
(variable-rate conditioning), ``model`` (the codec).
"""

from vid1d.data.config import DataConfig
from vid1d.models.gvc1d.config import PRESETS, GVC1DConfig, ablation_variant
from vid1d.models.gvc1d.model import GVC1D, CodingState, FrameCode
from vid1d.models.registry import register_model_type
from vid1d.train.config import OptimConfig, RunPreset, TrainConfig

# Training recipes (§4.1 at our scale): multi-frame clips so the recurrent context
# (short-term features, 1D memory) is trained; real clips mixed with synthetic
# camera motion (``--data DIR data.synthetic_fraction=0.3``; without --data the
# clips are synthetic only). ``small`` crops 64x128 (two windows, so the global
# layer sees a neighbour) to keep a CPU step around a second.
RECIPES = {
    "tiny": RunPreset(PRESETS["tiny"],
                      DataConfig(kind="synthetic-motion", frames=3, size=(32, 32)),
                      TrainConfig(steps=300, batch_size=4, optim=OptimConfig(lr=1e-3),
                                  val_every=100, sample_every=100, ckpt_every=100)),
    "small": RunPreset(PRESETS["small"],
                       DataConfig(kind="synthetic-motion", frames=3, size=(64, 128),
                                  scale=(1.0, 2.0)),
                       TrainConfig(steps=20_000, batch_size=8, optim=OptimConfig(lr=3e-4),
                                   val_every=500, sample_every=500, ckpt_every=250)),
    "paper": RunPreset(PRESETS["paper"],
                       DataConfig(kind="synthetic-motion", frames=5, size=(256, 256),
                                  scale=(1.0, 2.0)),
                       TrainConfig(steps=300_000, batch_size=32, optim=OptimConfig(lr=1e-4))),
}


@register_model_type("gvc1d", GVC1DConfig, presets=RECIPES)
def build_gvc1d(cfg: GVC1DConfig) -> GVC1D:
    return GVC1D(cfg)


__all__ = ["GVC1D", "PRESETS", "RECIPES", "CodingState", "FrameCode", "GVC1DConfig", "ablation_variant",
           "build_gvc1d"]
