"""One-DVA: shapes and padding, the latent count formula, length dropout, stages."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from vid1d.errors import InputError
from vid1d.models.onedva import PRESETS, RECIPES, OneDVA, alignment_loss, alignment_similarities
from vid1d.models.onedva.layers import pad_video, patchify
from vid1d.models.onedva.length import (
    MotionScore,
    inference_length,
    keep_mask,
    raw_motion_score,
    training_lengths,
)
from vid1d.models.registry import build_model
from vid1d.train.testing import assert_loss_decreases, fit_batch


def tiny(**kw) -> OneDVA:
    """A random tiny model whose decoder already uses its inputs (adaLN-Zero gates and
    the output head start at zero/identity, so a fresh decoder ignores the latents)."""
    torch.manual_seed(0)
    cfg = dataclasses.replace(PRESETS["tiny"], max_queries=64, perceptual="", repa="", **kw)
    m = OneDVA(cfg).eval()
    with torch.no_grad():
        for blk in m.decoder.blocks:
            blk.ada[-1].weight.normal_(0, 0.05)
    return m


def test_pad_is_zero_in_space_and_replicate_in_time():
    v = torch.rand(1, 3, 5, 9, 10)
    p = pad_video(v, 4, 8)
    assert p.shape == (1, 3, 8, 16, 16)
    assert torch.equal(p[:, :, :5, :9, :10], v)
    assert torch.all(p[:, :, :, 9:] == 0) and torch.all(p[:, :, :, :, 10:] == 0)
    assert torch.equal(p[:, :, 5:, :9, :10], v[:, :, -1:].expand(-1, -1, 3, -1, -1))
    assert patchify(p, 4, 8).shape == (1, 2 * 2 * 2, 3 * 4 * 8 * 8)


@pytest.mark.parametrize("T,H,W", [(1, 16, 16), (5, 32, 32), (7, 17, 33), (17, 40, 24), (2, 9, 50)])
def test_latent_counts_and_shapes_at_odd_sizes(T, H, W):
    m = tiny()
    v = torch.rand(1, 3, T, H, W)
    lat = m.encode(v)
    hs, ws = -(-H // 16), -(-W // 16)
    assert lat.struct.shape == (1, hs * ws, 4)
    assert lat.oned.shape == (1, -(-(T - 1) // 4) * hs * ws, 4)  # ⌈(T−1)/4⌉·⌈H/16⌉·⌈W/16⌉
    assert m.latent_counts(T, H, W) == (lat.oned.shape[1], lat.struct.shape[1])
    rec = m.decode(lat, steps=2)
    assert rec.shape == v.shape and rec.min() >= 0 and rec.max() <= 1


def test_too_many_latents_is_an_input_error():
    m = tiny()
    m.encode(torch.rand(1, 3, 17, 64, 64))  # 4·4·4 = 64 queries: fits exactly
    with pytest.raises(InputError, match="queries"):
        m.encode(torch.rand(1, 3, 17, 64, 65))  # one more latent column does not
    with pytest.raises(InputError):
        m.encode(torch.rand(1, 3, 21, 64, 64))


def test_special_tokens_make_encoding_resolution_aware():
    """The same content at a different declared size must change the latents only
    through the size tokens: identical pixels, different H -> different struct latent."""
    m = tiny()
    v = torch.rand(1, 3, 5, 32, 32)
    a = m.encoder(v * 2 - 1).struct_mean
    b = m.encoder(torch.nn.functional.pad(v, (0, 0, 0, 1)) * 2 - 1).struct_mean  # H 32 -> 33
    assert a.shape[1] < b.shape[1]


def test_motion_score_and_adaptive_length():
    torch.manual_seed(0)
    static = torch.rand(1, 3, 1, 32, 32).expand(-1, -1, 9, -1, -1).contiguous()
    moving = torch.rand(1, 3, 9, 32, 32)
    assert raw_motion_score(static).item() == 0
    assert raw_motion_score(moving).item() > 0.1
    ms = MotionScore(decay=0.5)
    assert ms.normalized(torch.tensor([0.3])).item() == 1.0  # no statistics yet: full length
    ms.update(torch.tensor([0.1, 0.2, 0.3]))
    mu, sd = torch.tensor([0.1, 0.2, 0.3]).mean(), torch.tensor([0.1, 0.2, 0.3]).std(unbiased=False)
    torch.testing.assert_close(ms.normalized(torch.tensor([0.2])), 0.2 / (mu + 3 * sd)[None])
    m = tiny()
    m.motion.update(torch.cat([raw_motion_score(moving), raw_motion_score(static)]))
    n_static = m.encode(static, "adaptive").length.item()
    n_moving = m.encode(moving, "adaptive").length.item()
    assert n_static < n_moving  # a static clip gets fewer tokens than a moving one
    assert n_static == 0


def test_training_lengths_follow_the_dropout_rule():
    g = torch.Generator().manual_seed(0)
    n, N = 20_000, 40
    score = torch.full((n,), 0.5)
    lengths = training_lengths(score, N, p_full=0.1, p_struct_only=0.1, generator=g)
    full = (lengths == N).float().mean().item()
    zero = (lengths == 0).float().mean().item()
    # 10% forced full and 10% forced structural-only (+ the rare η draws that land there)
    assert 0.09 <= full < 0.125 and 0.09 <= zero < 0.11
    free = lengths[(lengths > 0) & (lengths < N)].float()
    assert abs(free.median().item() - 0.5 * N) <= 1  # η = 2·sigmoid(z) is centred at 1
    low = training_lengths(torch.full((n,), 0.1), N, p_full=0.0, p_struct_only=0.0, generator=g)
    assert low.float().mean() < lengths.float().mean()  # less motion, shorter latents
    assert keep_mask(torch.tensor([0, 2]), 3).tolist() == [[False, False, False], [True, True, False]]
    assert inference_length(0.5, 10) == 5 and inference_length(7, 5) == 5
    assert inference_length("adaptive", 10, 0.33) == 3
    for bad in (1.5, -1, "fixed", True):
        with pytest.raises(ValueError):
            inference_length(bad, 10)


def test_dropped_tokens_do_not_reach_the_decoder():
    """With length l, the 1D latents beyond l are replaced by the padding token:
    changing them must not change the decoded video."""
    m = tiny()
    v = torch.rand(1, 3, 9, 32, 32)
    lat = m.encode(v, 3)
    out1 = m.decode(lat, steps=2)
    lat.oned[:, 3:] += 5.0
    assert torch.equal(m.decode(lat, steps=2), out1)
    lat.oned[:, :3] += 5.0
    assert not torch.equal(m.decode(lat, steps=2), out1)


def test_decode_is_deterministic_and_seeded():
    m = tiny()
    lat = m.encode(torch.rand(1, 3, 5, 32, 32))
    a, b = m.decode(lat, steps=1), m.decode(lat, steps=1)
    assert torch.equal(a, b)
    assert not torch.equal(m.decode(lat, steps=1, seed=1), a)


def test_stage1_uses_pure_noise_and_no_dropout(monkeypatch):
    m = tiny(stage=1)
    seen = {}
    real = m.decoder.forward

    def spy(x_t, t, struct, oned, keep=None, **kw):
        seen["t"], seen["keep"] = t.clone(), keep
        return real(x_t, t, struct, oned, keep, **kw)

    monkeypatch.setattr(m.decoder, "forward", spy)
    m.train().training_losses({"video": torch.rand(3, 3, 5, 32, 32)}, 0)
    assert torch.all(seen["t"] == 1) and seen["keep"] is None
    m2 = tiny(stage=2)
    monkeypatch.setattr(m2.decoder, "forward", spy)
    torch.manual_seed(3)
    m2.train().training_losses({"video": torch.rand(8, 3, 5, 32, 32)}, 0)
    assert seen["keep"] is not None and not torch.all(seen["t"] == 1)
    assert m2.motion.count.item() == 1  # the EMA statistics were updated


def test_alignment_loss_is_zero_when_1d_latents_copy_structural_ones():
    s = torch.randn(2, 6, 8)
    assert torch.allclose(alignment_loss(s[:, [0, 0, 3, 3]], s), torch.zeros(2), atol=1e-6)
    assert torch.all(alignment_loss(torch.randn(2, 4, 8), s) > 0.1)
    m = tiny(stage=3)
    out = m.train().training_losses({"video": torch.rand(2, 3, 5, 32, 32)}, 0)
    assert "align" in out and out["align"] > 0


def test_alignment_similarities_on_known_vectors():
    e = torch.eye(4)[None]  # structural latents: the axes e0..e3
    oned = torch.tensor([[[1.0, 1, 0, 0], [0, 0, 0, 2], [0, 0, 0, -1]]])
    to_struct, nearest = alignment_similarities(oned, e)
    assert torch.allclose(to_struct, torch.tensor([[2**-0.5, 1.0, 0.0]]))  # best axis, any length
    assert torch.allclose(nearest, torch.tensor([[0.0, 0.0, 0.0]]))  # best other 1D latent
    assert alignment_similarities(oned[:, :1], e)[1] is None


def _smooth_clips() -> torch.Tensor:
    """Two clips of slowly drifting colour: little enough content for a tiny latent."""
    torch.manual_seed(0)
    return torch.nn.functional.interpolate(torch.rand(2, 3, 2, 2, 2), size=(5, 32, 32),
                                           mode="trilinear")


def _fit(m: OneDVA, clips: torch.Tensor, steps: int, lr: float = 3e-3) -> list[float]:
    """Train ``m`` on one fixed batch with AdamW (no weight decay); the loss per step."""
    opt = torch.optim.AdamW(m.parameters(), lr=lr, weight_decay=0.0)
    return fit_batch(m.training_losses, {"video": clips}, opt, steps)


def test_stage1_loss_goes_down():
    torch.manual_seed(0)
    m = OneDVA(dataclasses.replace(PRESETS["tiny"], perceptual="", repa="", stage=1))
    assert_loss_decreases(m, {"video": _smooth_clips()}, steps=60, lr=3e-3, factor=0.85)


def test_stage2_loss_goes_down_on_average():
    """Stage 2 draws a new t every step, so compare the mean of the first and last 20."""
    torch.manual_seed(0)
    m = OneDVA(dataclasses.replace(PRESETS["tiny"], perceptual="", repa="", stage=2)).train()
    losses = _fit(m, _smooth_clips(), steps=100)
    first, last = sum(losses[:20]) / 20, sum(losses[-20:]) / 20
    assert last < 0.8 * first, (first, last)


def test_registry_builds_presets_and_rejects_bad_configs():
    m = build_model("onedva", {"dim": 48, "heads": 2, "enc_depth": 1, "dec_depth": 1,
                               "repa_depth": 0, "latent_channels": 4, "max_queries": 8})
    assert isinstance(m, OneDVA)
    assert RECIPES["small"].data.frames == 17
    for bad in ({"dim": 50}, {"stage": 4}, {"p_full": 0.6, "p_struct_only": 0.6}, {"repa": "siglip"},
                {"logvar_init": 40.0}):
        with pytest.raises(ValueError):
            dataclasses.replace(PRESETS["tiny"], **bad)


def test_posterior_starts_with_the_configured_small_sigma():
    """A fresh encoder's latents are informative (σ = e^(logvar_init/2)), not drowned in
    σ = 1 noise that a decoder which cannot yet read them would learn to ignore."""
    v = torch.rand(2, 3, 5, 32, 32)
    for logvar in (-6.0, 0.0):
        post = tiny(logvar_init=logvar).encoder(v * 2 - 1)
        for lv in (post.struct_logvar, post.oned_logvar):
            sigma = (0.5 * lv).exp()
            # the weights add a small spread around the bias
            assert sigma.median().item() == pytest.approx(float(torch.tensor(logvar / 2).exp()), rel=0.5)


def test_stage1_fits_two_clips_through_their_latents():
    """Capacity check (benchmarks/onedva_diagnose.py part 2 at the tiny preset): stage 1
    learns two clips from pure-noise decoder input well past a flat frame of each clip's
    mean colour, and each reconstruction comes from that clip's own latents."""
    torch.manual_seed(0)
    m = OneDVA(dataclasses.replace(PRESETS["tiny"], perceptual="", repa="", stage=1)).train()
    clips = _smooth_clips()
    _fit(m, clips, steps=600)  # about 20 s on one core
    m.eval()

    def db(a, b):
        return float(-10 * torch.log10((a - b).pow(2).mean()))

    lat = m.encode(clips, 1.0)
    rec = m.decode(lat, steps=1)
    swapped = m.decode(dataclasses.replace(lat, struct=lat.struct.flip(0), oned=lat.oned.flip(0)), steps=1)
    for i in range(2):
        flat = clips[i].mean(dim=(1, 2, 3), keepdim=True).expand_as(clips[i])
        assert db(rec[i], clips[i]) > db(flat, clips[i]) + 8, i
        assert db(rec[i], clips[i]) > db(swapped[i], clips[i]) + 8, i


def test_stlpips_perceptual_term(no_stlpips_weights, request, caplog):
    """model.perceptual=stlpips: the weighted term is added to the loss and its gradient
    reaches the decoder; without weights it is off and the log says so."""
    torch.manual_seed(0)
    clips = torch.rand(2, 3, 5, 24, 24)
    cfg = dataclasses.replace(PRESETS["tiny"], max_queries=64, perceptual="stlpips", repa="",
                              stage=2)
    with caplog.at_level("WARNING"):
        terms = OneDVA(cfg).training_losses({"video": clips}, 0)
    assert "perceptual" not in terms and "perceptual term is OFF" in caplog.text
    request.getfixturevalue("stlpips_weights")
    m = OneDVA(cfg)
    m0 = OneDVA(dataclasses.replace(cfg, perceptual=""))
    m0.load_state_dict(m.state_dict())
    torch.manual_seed(1)
    terms = m.training_losses({"video": clips}, 0)
    torch.manual_seed(1)
    base = m0.training_losses({"video": clips}, 0)
    assert "perceptual" not in base and float(terms["perceptual"]) > 0
    # same draw of t, noise and frame: the losses differ by exactly the weighted term
    torch.testing.assert_close(terms["loss"] - base["loss"],
                               cfg.w_perceptual * terms["perceptual"], rtol=1e-5, atol=1e-6)
    terms["loss"].backward()
    assert any(float(p.grad.abs().sum()) > 0 for p in m.decoder.parameters() if p.grad is not None)
