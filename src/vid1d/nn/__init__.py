"""Neural-network building blocks: dimensions in, no experiment configs."""

from vid1d.nn.attention import Attention, KVCache
from vid1d.nn.gdn import GDN
from vid1d.nn.patch import ConvHead2d, PatchEmbed2d
from vid1d.nn.rope import apply_rope, rope_angles, rope_nd
from vid1d.nn.transformer import Mlp, TransformerBlock, modulate

__all__ = ["GDN", "Attention", "ConvHead2d", "KVCache", "Mlp", "PatchEmbed2d", "TransformerBlock",
           "apply_rope", "modulate", "rope_angles", "rope_nd"]
