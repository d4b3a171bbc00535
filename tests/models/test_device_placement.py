"""Tensors a model creates inside its paths live on the model's device.

CI has no GPU, so the meta device stands in for CUDA: mixing a CPU tensor into a meta
computation raises, as mixing it into a CUDA one does. The first GPU run found this class
of bug in GVC1D (a quality tensor made on the CPU) and this test then found one in One-DVA
(sinusoidal frequencies made on the CPU).
"""

from __future__ import annotations

import pytest
import torch

from vid1d.models.gvc1d import GVC1D, PRESETS
from vid1d.models.registry import get_model_type


def _meta_model_and_clip(model_type: str):
    preset = get_model_type(model_type).presets["tiny"]
    model = get_model_type(model_type).build(preset.model).to("meta")
    video = torch.rand(2, 3, preset.data.frames, *preset.data.size, device="meta")
    return model, video


@pytest.mark.parametrize("model_type", ["gvc1d", "onedva", "cnn3d"])
def test_training_and_sampling_make_no_cpu_tensors(model_type):
    model, video = _meta_model_and_clip(model_type)
    losses = model.training_losses({"video": video}, 0)
    assert losses and all(v.device.type == "meta" for v in losses.values()
                          if isinstance(v, torch.Tensor))
    assert model.sample_images({"video": video}).device.type == "meta"


def test_gvc1d_quality_tensors_follow_the_model():
    # validation_metrics and lmbda_for_quality end in float(), which meta cannot do:
    # record the device of the quality each passes on instead.
    model = GVC1D(PRESETS["tiny"]).to("meta")
    seen = []

    class Stop(Exception):
        pass

    def record(quality):
        seen.append(quality.device.type)
        raise Stop

    model.lmbda.forward = record
    video = torch.rand(2, 3, 2, 32, 32, device="meta")
    for call in (lambda: model.validation_metrics({"video": video}),
                 lambda: model.lmbda_for_quality(3.0)):
        with pytest.raises(Stop):
            call()
    assert seen == ["meta", "meta"]


def test_onedva_encode_decode_make_no_cpu_tensors():
    model, video = _meta_model_and_clip("onedva")
    model.eval()
    out = model.decode(model.encode(video[:1], 0.5), steps=2)  # the Euler sampler too
    assert out.device.type == "meta"
