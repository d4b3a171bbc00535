"""One-DVA — One-Dimensional Diffusion Video Autoencoder (papers/onedva.txt).

Components (one file each): ``layers`` (3D patchify/padding, positional codes,
special tokens, unpatchifier), ``encoder`` (query-based ViT, KL bottleneck,
hybrid latent), ``length`` (motion score and variable-length tail dropout),
``decoder`` (pixel-space DiT), ``model`` (losses, stages, tokenize/detokenize).
The rectified flow itself is ``vid1d.flow``.
"""

from vid1d.data.config import DataConfig
from vid1d.models.onedva.config import PRESETS, OneDVAConfig
from vid1d.models.onedva.model import Latents, OneDVA, alignment_loss, alignment_similarities
from vid1d.models.registry import register_model_type
from vid1d.train.config import OptimConfig, RunPreset, TrainConfig

# Training recipes (Appendix A at our scale). Stage 1 by default; stage 2 (then 3) is a
# new run initialized from the stage-1 run: ``train.init=RUN1 model.stage=2``.
# ``small`` trains on 17-frame clips at the paper's three aspect shapes, scaled
# (64×64, 64×112, 112×64), batches grouped by size.
RECIPES = {
    "tiny": RunPreset(PRESETS["tiny"],
                      DataConfig(kind="synthetic-motion", frames=5, size=(32, 32)),
                      TrainConfig(steps=200, batch_size=4, optim=OptimConfig(lr=1e-3),
                                  val_every=100, sample_every=100, ckpt_every=100)),
    "small": RunPreset(PRESETS["small"],
                       DataConfig(kind="synthetic-motion", frames=17, size=(64, 64),
                                  sizes=((64, 64), (64, 112), (112, 64)), size_group=4),
                       TrainConfig(steps=5000, batch_size=4, optim=OptimConfig(lr=3e-4),
                                   val_every=500, sample_every=500, ckpt_every=250)),
    "paper": RunPreset(PRESETS["paper"],
                       DataConfig(kind="synthetic-motion", frames=17, size=(256, 256),
                                  sizes=((256, 256), (256, 456), (456, 256)), size_group=8),
                       TrainConfig(steps=415_000, batch_size=32,
                                   optim=OptimConfig(lr=5e-5, betas=(0.9, 0.999),
                                                     weight_decay=1e-4))),
}


@register_model_type("onedva", OneDVAConfig, presets=RECIPES)
def build_onedva(cfg: OneDVAConfig) -> OneDVA:
    return OneDVA(cfg)


__all__ = ["PRESETS", "RECIPES", "Latents", "OneDVA", "OneDVAConfig", "alignment_loss", "alignment_similarities",
           "build_onedva"]
