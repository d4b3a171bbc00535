"""vid1d.eval.learned: the MAC count of a coded frame, for every model variant."""

from __future__ import annotations

import pytest
import torch

from vid1d.eval.learned import macs_per_pixel
from vid1d.models.gvc1d import GVC1D, PRESETS, ablation_variant


@pytest.mark.parametrize("variant", ["mem-1d", "no-ar"])
def test_macs_per_pixel_counts_every_variant_and_leaves_the_model_trainable(variant):
    torch.manual_seed(0)
    model = GVC1D(ablation_variant(PRESETS["tiny"], variant)).eval()
    macs = macs_per_pixel(model, 32, 48, 2.0)  # the non-AR prior used to crash the counter
    assert 0 < macs < 1e7
    assert all(p.requires_grad for p in model.parameters())
    # no AR prior and no memory: less work per pixel than the full model
    if variant == "no-ar":
        assert macs < macs_per_pixel(GVC1D(PRESETS["tiny"]).eval(), 32, 48, 2.0)
