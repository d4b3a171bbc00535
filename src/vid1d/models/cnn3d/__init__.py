"""The 3D causal-CNN video autoencoder baseline (Wan-VAE / HunyuanVideo kind), see model.py.

Components: ``layers`` (causal conv, per-frame GroupNorm, residual block, causal
down/upsampling), ``model`` (encoder, decoder, KL or FSQ bottleneck, losses).
"""

from vid1d.data.config import DataConfig
from vid1d.models.cnn3d.model import CNN3D, CNN3DConfig, latent_shape
from vid1d.models.registry import register_model_type
from vid1d.train.config import OptimConfig, RunPreset, TrainConfig

# ``small`` takes One-DVA small's clips (17 frames at 64×64, 64×112, 112×64, batches
# grouped by size), so the two autoencoders compare at the same data and compression.
# The discrete variant is the same recipe with ``model.bottleneck=fsq``.
RECIPES = {
    "tiny": RunPreset(CNN3DConfig(channels=8, channel_mult=(1, 1, 2, 2), norm_groups=4,
                                  latent_channels=8),
                      DataConfig(kind="synthetic-motion", frames=5, size=(32, 32)),
                      TrainConfig(steps=200, batch_size=4, optim=OptimConfig(lr=1e-3),
                                  val_every=100, sample_every=100, ckpt_every=100)),
    "small": RunPreset(CNN3DConfig(channels=16, channel_mult=(1, 2, 4, 8), latent_channels=16),
                       DataConfig(kind="synthetic-motion", frames=17, size=(64, 64),
                                  sizes=((64, 64), (64, 112), (112, 64)), size_group=4),
                       TrainConfig(steps=5000, batch_size=4, optim=OptimConfig(lr=3e-4),
                                   val_every=500, sample_every=500, ckpt_every=250)),
}


@register_model_type("cnn3d", CNN3DConfig, presets=RECIPES)
def build_cnn3d(cfg: CNN3DConfig) -> CNN3D:
    return CNN3D(cfg)


__all__ = ["CNN3D", "RECIPES", "CNN3DConfig", "build_cnn3d", "latent_shape"]
