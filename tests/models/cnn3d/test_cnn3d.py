"""The 3D causal-CNN autoencoder: shapes at any size, causality, both bottlenecks learn."""

from __future__ import annotations

import dataclasses

import pytest
import torch

import vid1d.cli.main as cli
from vid1d.errors import InputError
from vid1d.models.cnn3d import CNN3D, RECIPES, CNN3DConfig, latent_shape
from vid1d.models.registry import build_model
from vid1d.train.testing import assert_loss_decreases

TINY = RECIPES["tiny"].model


def tiny(bottleneck: str = "kl", seed: int = 0, **overrides) -> CNN3D:
    torch.manual_seed(seed)
    return CNN3D(dataclasses.replace(TINY, bottleneck=bottleneck, **overrides)).eval()


def _smooth_clips(frames: int = 5) -> torch.Tensor:
    """Two clips of slowly drifting colour: little enough content for the tiny latent."""
    torch.manual_seed(0)
    return torch.nn.functional.interpolate(torch.rand(2, 3, 2, 2, 2), size=(frames, 32, 32),
                                           mode="trilinear")


@pytest.mark.parametrize("bottleneck", ["kl", "fsq"])
@pytest.mark.parametrize("T,H,W", [(1, 17, 33), (5, 32, 32), (7, 40, 17), (17, 33, 40)])
def test_latent_and_output_shapes_at_any_size(bottleneck, T, H, W):
    m = tiny(bottleneck)
    video = torch.rand(2, 3, T, H, W)
    t, h, w = 1 + -(-(T - 1) // 4), -(-H // 16), -(-W // 16)
    assert latent_shape(T, H, W) == (t, h, w)
    with torch.no_grad():
        out = m(video)
        latent = m.encode(video)
    dim = len(TINY.fsq_levels) if bottleneck == "fsq" else TINY.latent_channels
    assert out["latent"].shape == latent.shape == (2, dim, t, h, w)
    assert out["x_hat"].shape == video.shape
    assert m.decode(latent, T, H, W).shape == video.shape
    with pytest.raises(InputError, match="needs a latent"):
        m.decode(latent, T + 4, H, W)


@pytest.mark.parametrize("bottleneck", ["kl", "fsq"])
def test_encoder_is_causal_in_time(bottleneck):
    """Latent frame j sees frames <= 4j: changing frames after 4k keeps latents 0..k."""
    m = tiny(bottleneck)
    torch.manual_seed(1)
    video = torch.rand(1, 3, 17, 32, 32)
    # kl: the encoder's features (the mean and log-variance); fsq: the codes themselves
    def latents(x):
        return m.encode(x) if bottleneck == "fsq" else m.encoder(m._pad(x))

    with torch.no_grad():
        ref = latents(video)
        for k in range(4):
            changed = video.clone()
            changed[:, :, 4 * k + 1:] = torch.rand_like(changed[:, :, 4 * k + 1:])
            new = latents(changed)
            torch.testing.assert_close(new[:, :, : k + 1], ref[:, :, : k + 1], rtol=0, atol=1e-5)
            if bottleneck == "kl":  # codes may round to the same grid point; features do not
                assert not torch.allclose(new[:, :, k + 1], ref[:, :, k + 1], atol=1e-4)
        # frames not a multiple of 4 after the first: the padding replicates future frames only
        short = latents(video[:, :, :7])
        torch.testing.assert_close(short[:, :, :2], ref[:, :, :2], rtol=0, atol=1e-5)


def test_decoder_is_causal_in_time():
    """Decoded frame f sees latent frames <= ceil(f/4); latent 0 alone makes frame 0."""
    m = tiny("kl")
    torch.manual_seed(2)
    latent = torch.randn(1, TINY.latent_channels, 5, 2, 2)
    with torch.no_grad():
        old = m._synthesis(latent, 17, 32, 32)  # unclamped: no value hides at 0 or 1
        for k in range(4):
            changed = latent.clone()
            changed[:, :, k + 1:] = torch.randn_like(changed[:, :, k + 1:])
            new = m._synthesis(changed, 17, 32, 32)
            torch.testing.assert_close(new[:, :, : 4 * k + 1], old[:, :, : 4 * k + 1], rtol=0,
                                       atol=1e-5)
            assert not torch.allclose(new[:, :, 4 * k + 1], old[:, :, 4 * k + 1], atol=1e-4)
        # an image is a one-frame video: latent frame 0 decodes alone to frame 0
        one = m._synthesis(latent[:, :, :1], 1, 32, 32)
        torch.testing.assert_close(one, old[:, :, :1], rtol=0, atol=1e-5)


def test_kl_encode_is_the_deterministic_posterior_mean():
    m = tiny("kl")
    video = torch.rand(2, 3, 5, 32, 32)
    with torch.no_grad():
        mean = m.encode(video)
        assert torch.equal(m.encode(video), mean)
        out = m.eval()(video)
        assert torch.equal(out["latent"], mean) and torch.equal(out["mean"], mean)
        sampled = m.train()(video)
    assert torch.allclose(sampled["mean"], mean, atol=1e-6)
    assert not torch.allclose(sampled["latent"], mean, atol=1e-3)  # a reparameterized sample
    assert sampled["kl"].shape == (2,) and torch.all(sampled["kl"] >= 0)


def test_fsq_latents_are_codes_and_tokens_round_trip():
    m = tiny("fsq")
    video = torch.rand(2, 3, 9, 32, 48)
    with torch.no_grad():
        codes = m.encode(video)  # (2, 6, 3, 2, 3)
        half = torch.tensor(TINY.fsq_levels).view(1, -1, 1, 1, 1) // 2
        assert torch.equal(codes * half, (codes * half).round())
        indices = m.codes_to_indices(codes)
        assert indices.shape == (2, 3, 2, 3) and indices.dtype == torch.int64
        assert 0 <= indices.min() and indices.max() < m.codebook_size == 64_000
        assert torch.equal(m.indices_to_codes(indices), codes)
        assert torch.equal(m.decode(m.indices_to_codes(indices), 9, 32, 48),
                           m.decode(codes, 9, 32, 48))
        out = m(video)
        assert torch.equal(out["indices"], indices) and "kl" not in out
    with pytest.raises(InputError, match="bottleneck=fsq"):
        tiny("kl").codes_to_indices(codes)


@pytest.mark.parametrize("bottleneck", ["kl", "fsq"])
def test_tiny_preset_loss_goes_down(bottleneck):
    torch.manual_seed(0)
    m = CNN3D(dataclasses.replace(TINY, bottleneck=bottleneck))
    losses = m.training_losses({"video": _smooth_clips()}, 0)
    assert ("kl" in losses) == (bottleneck == "kl") and {"loss", "mse", "psnr"} <= set(losses)
    assert_loss_decreases(m, {"video": _smooth_clips()}, steps=40, lr=3e-3, factor=0.5)


def test_train_loop_hooks():
    m = tiny("fsq")
    batch = {"video": torch.rand(3, 3, 5, 32, 48)}
    metrics = m.validation_metrics(batch)
    assert isinstance(metrics["psnr"], float) and 0 < metrics["code_usage"] <= 1
    images = m.sample_images(batch)
    assert images.shape == (4, 3, 32, 48)
    assert torch.equal(images[:2], batch["video"][:2, :, 2])  # originals (middle frame) first
    assert images.min() >= 0 and images.max() <= 1


def test_l1_and_lpips_terms(tmp_path, monkeypatch):
    from vid1d.metrics import LPIPS, save_metric_weights

    video = torch.rand(1, 3, 5, 32, 32)
    m = tiny("kl", l1_weight=0.5, lpips_weight=0.5).train()
    monkeypatch.delenv("VID1D_LPIPS_WEIGHTS", raising=False)
    with pytest.raises(InputError, match="VID1D_LPIPS_WEIGHTS"):
        m.training_losses({"video": video}, 0)
    torch.manual_seed(0)
    weights = tmp_path / "lpips.safetensors"
    save_metric_weights(LPIPS("alex"), weights, {"vid1d_format": "lpips", "net": "alex",
                                                 "version": "0.1"})
    monkeypatch.setenv("VID1D_LPIPS_WEIGHTS", str(weights))
    losses = m.training_losses({"video": video}, 0)
    assert torch.isfinite(losses["lpips"]) and losses["lpips"] != 0 and losses["l1"] > 0
    losses["loss"].backward()
    assert not any(k.startswith("_perceptual") for k in m.state_dict())


def test_stlpips_term(no_stlpips_weights, request):
    video = torch.rand(1, 3, 5, 32, 32)
    m = tiny("kl", stlpips_weight=0.5).train()
    with pytest.raises(InputError, match="vid1d weights fetch stlpips-alex"):
        m.training_losses({"video": video}, 0)
    request.getfixturevalue("stlpips_weights")
    losses = m.training_losses({"video": video}, 0)
    assert float(losses["stlpips"]) > 0 and "lpips" not in losses
    losses["loss"].backward()


def test_registry_builds_it_and_configs_are_validated():
    m = build_model("cnn3d", {"channels": 8, "channel_mult": [1, 1, 2, 2], "norm_groups": 4,
                              "latent_channels": 4, "bottleneck": "fsq", "fsq_levels": [5, 5, 3]})
    assert isinstance(m, CNN3D) and m.latent_dim == 3 and m.codebook_size == 75
    assert RECIPES["small"].data.frames == 17 and RECIPES["tiny"].data.frames == 5
    for bad in ({"channel_mult": (1, 2, 4)}, {"norm_groups": 3}, {"bottleneck": "vq"},
                {"fsq_levels": (8, 1)}, {"kl_weight": -1.0}, {"latent_channels": 0}):
        with pytest.raises(ValueError):
            dataclasses.replace(CNN3DConfig(), **bad)
    with pytest.raises(InputError, match=r"\(B, 3, T, H, W\)"):
        m(torch.rand(1, 3, 32, 32))


def test_train_cli_writes_a_checkpoint(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "SUBCOMMANDS", ["train"])  # the real entry point, our subcommand only
    run = tmp_path / "run"
    rc = cli.main(["train", "cnn3d", "--preset", "tiny", "--out", str(run), "train.steps=3",
                   "train.device=cpu", "data.workers=0", "model.bottleneck=fsq"])
    assert rc == 0, capsys.readouterr().err
    assert (run / "checkpoints" / "latest").read_text().strip() == "step_000003"
    assert (run / "checkpoints" / "step_000003.safetensors").exists()
    assert "bottleneck: fsq" in (run / "config.yaml").read_text()
