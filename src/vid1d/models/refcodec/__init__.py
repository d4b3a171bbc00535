"""The reference learned codec (conv autoencoder + factorized prior), see model.py."""

from vid1d.data.config import DataConfig
from vid1d.models.refcodec.model import RefCodec, RefCodecConfig
from vid1d.models.registry import register_model_type
from vid1d.train.config import OptimConfig, RunPreset, TrainConfig

RECIPES = {
    "tiny": RunPreset(RefCodecConfig(channels=16, latent_channels=16),
                      DataConfig(kind="synthetic-motion", frames=1, size=(32, 32)),
                      TrainConfig(steps=200, batch_size=8, optim=OptimConfig(lr=1e-3))),
    "small": RunPreset(RefCodecConfig(),
                       DataConfig(kind="synthetic-motion", frames=1, size=(128, 128)),
                       TrainConfig(steps=2000, batch_size=8, optim=OptimConfig(lr=1e-3),
                                   val_every=250, sample_every=250, ckpt_every=250)),
}


@register_model_type("refcodec", RefCodecConfig, presets=RECIPES)
def build_refcodec(cfg: RefCodecConfig) -> RefCodec:
    return RefCodec(cfg)


__all__ = ["RECIPES", "RefCodec", "RefCodecConfig", "build_refcodec"]
