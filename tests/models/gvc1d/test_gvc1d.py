"""GVC1D: component invariants and bit-exact coding on random tiny models."""

from __future__ import annotations

import dataclasses
import struct
import zlib

import numpy as np
import pytest
import torch

from vid1d.bitstream import BitstreamReader, ChunkType, encode_stream
from vid1d.codec import PRECISIONS, coding_dtype, decode_video, encode_video, parse_extension
from vid1d.errors import BitstreamError
from vid1d.models.gvc1d import GVC1D, PRESETS, ablation_variant
from vid1d.models.gvc1d.windows import from_windows, pad_frame, padded_size, to_windows

TINY = PRESETS["tiny"]


def tiny_model(seed: int = 0, **overrides) -> GVC1D:
    torch.manual_seed(seed)
    model = GVC1D(dataclasses.replace(TINY, **overrides)).eval()
    # Random-init output layers start at zero; perturb them so the prior is not trivial.
    with torch.no_grad():
        model.prior.out.weight.normal_(0, 0.3)
        model.prior.out.bias.normal_(0, 0.5)
    return model


def lively_tiny_model(seed: int = 0, **overrides) -> GVC1D:
    """A tiny model with every zero-initialised layer (adaLN, output layers) randomised,
    so that the integer path has real work to mirror."""
    model = tiny_model(seed, **overrides)
    with torch.no_grad():
        for p in model.parameters():
            if not p.any():
                p.normal_(0, 0.1)
    return model


@pytest.mark.parametrize("size", [(1, 1), (7, 5), (16, 16), (17, 33), (40, 23)])
def test_any_frame_size_pads_to_windows_and_crops_back(size):
    H, W = size
    model = tiny_model()
    video = torch.rand(1, 3, 2, H, W)
    out = model(video, torch.tensor([2.0]))
    assert out["x_hat"].shape == video.shape
    Hp, Wp = padded_size(H, W, TINY.window_px)
    assert Hp % TINY.window_px == 0 and Wp % TINY.window_px == 0 and Hp >= H and Wp >= W
    nh, nw = model.grid(H, W)
    assert out["likelihoods"]["y"].shape == (1, 2, nh * nw, TINY.tokens, TINY.token_channels)
    x = pad_frame(video[:, :, 0], TINY.window_px)
    assert torch.equal(x[..., :H, :W], video[:, :, 0])


def test_windows_round_trip():
    grid = torch.randn(2, 8, 12, 5)
    w = to_windows(grid, 4)
    assert w.shape == (2 * 2 * 3, 16, 5)
    assert torch.equal(from_windows(w, 2, 2, 3, 4), grid)


def test_memory_state_has_fixed_size_over_time():
    model = tiny_model()
    frames = torch.rand(1, 3, 3, 20, 20)
    state, sizes = None, []
    for t in range(3):
        _, _, state = model.compress_frame(frames[:, :, t], state, 1.0)
        sizes.append(tuple(state.memory.shape))
    assert sizes == [sizes[0]] * 3
    assert sizes[0][1] == TINY.memory_tokens


def test_ar_prior_is_causal_and_incremental_matches_parallel():
    model = lively_tiny_model()
    n, T, C = 3, TINY.tokens, TINY.token_channels
    y = torch.randint(-3, 4, (n, T, C)).float()
    cond_w = torch.randn(n, TINY.cond_dim)
    mu, ls = model.prior(y, None, None, cond_w)
    # causality: changing tokens >= k leaves the parameters of tokens <= k unchanged
    k = 1
    y2 = y.clone()
    y2[:, k:] += 5
    mu2, ls2 = model.prior(y2, None, None, cond_w)
    torch.testing.assert_close(mu2[:, : k + 1], mu[:, : k + 1])
    torch.testing.assert_close(ls2[:, : k + 1], ls[:, : k + 1])
    assert not torch.allclose(mu2[:, k + 1 :], mu[:, k + 1 :])
    # the incremental (coding) path computes the same parameters as the parallel one
    state = model.prior.start(None, None, cond_w)
    prev, steps = None, []
    for i in range(T):
        steps.append(model.prior.step(state, prev))
        prev = y[:, i : i + 1]
    torch.testing.assert_close(torch.cat([s[0] for s in steps], 1), mu, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(torch.cat([s[1] for s in steps], 1), ls, atol=1e-5, rtol=1e-5)


def test_non_ar_prior_codes_all_tokens_at_once_as_in_training():
    # Until this test, the coding path stepped the non-AR prior token by token, each
    # query seeing only the earlier ones, while training let every query see all:
    # the codec coded with other parameters than the model was trained for.
    model = lively_tiny_model(ar=False, memory="none")
    y = torch.randint(-3, 4, (3, TINY.tokens, TINY.token_channels)).float()
    cond_w = torch.randn(3, TINY.cond_dim)
    with torch.no_grad():
        mu, ls = model.prior(y, None, None, cond_w)
        state = model.prior.start(None, None, cond_w)
        mu_c, ls_c = model.prior.step(state, None)
    assert state.position == TINY.tokens
    torch.testing.assert_close(mu_c, mu, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ls_c, ls, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("variant", ["mem-1d", "mem-2d", "ar-no-mem", "no-ar"])
def test_encode_decode_is_exact(variant):
    model = tiny_model(**dataclasses.asdict(ablation_variant(TINY, variant)))
    frames = torch.rand(1, 3, 4, 24, 40)
    enc_state = dec_state = None
    for t in range(4):
        code, x_enc, enc_state = model.compress_frame(frames[:, :, t], enc_state, 2.5)
        x_dec, symbols, dec_state = model.decompress_frame(code.data, dec_state, 2.5, 24, 40)
        assert torch.equal(x_enc, x_dec)
        assert np.array_equal(symbols, code.symbols)


def test_forward_in_eval_is_the_codec_and_can_skip_rounding():
    """forward(training=False) reconstructs what the codec codes; round_latents=False
    gives the quantization-free reconstruction (benchmarks/gvc1d_bottleneck.py)."""
    model = tiny_model()
    with torch.no_grad():  # zero-initialized layers would keep the latents from the output
        for p in model.parameters():
            if not p.any():
                p.normal_(0, 0.1)
    frames = torch.rand(1, 3, 3, 24, 40)
    quality = torch.tensor([2.5])
    rounded = model(frames, quality, training=False)["x_hat"].clamp(0, 1)
    unrounded = model(frames, quality, training=False, round_latents=False)["x_hat"].clamp(0, 1)
    state = None
    for t in range(3):
        _, x_enc, state = model.compress_frame(frames[:, :, t], state, 2.5)
        assert torch.allclose(rounded[:, :, t], x_enc, atol=1e-5)
    assert (unrounded - rounded).abs().max() > 1e-3
    with pytest.raises(ValueError, match="evaluation"):
        model(frames, quality, training=True, round_latents=False)


def test_real_bytes_match_estimated_bits():
    model = tiny_model()
    frames = torch.rand(1, 3, 2, 96, 128)
    state, real, est = None, 0, 0.0
    for t in range(2):
        code, _, state = model.compress_frame(frames[:, :, t], state, 7.0)
        real += 8 * len(code.data)
        est += code.estimated_bits
        # per frame: the ANS coder adds at most its final state (two 32-bit words)
        assert 8 * len(code.data) - code.estimated_bits <= 64 + 32
    assert est > 5000  # enough symbols for a meaningful relative check
    assert abs(real - est) / est < 0.01


def test_decode_identical_with_one_and_two_threads():
    model = tiny_model()
    frames = torch.rand(1, 3, 2, 24, 40)
    codes, state = [], None
    for t in range(2):
        code, _, state = model.compress_frame(frames[:, :, t], state, 4.0)
        codes.append(code.data)
    outs = []
    old = torch.get_num_threads()
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            state, decoded = None, []
            for data in codes:
                x, _, state = model.decompress_frame(data, state, 4.0, 24, 40)
                decoded.append(x)
            outs.append(torch.cat(decoded))
    finally:
        torch.set_num_threads(old)
    assert torch.equal(outs[0], outs[1])


@pytest.fixture()
def stream(tmp_path, sample_video):
    model = tiny_model()
    out = tmp_path / "a.v1d"
    recon = {}
    report = encode_video(model, sample_video, out, model_id="gvc1d-test", quality=3.0,
                          max_frames=3, intra_period=2, on_frame=lambda t, x: recon.__setitem__(t, x))
    return model, out, recon, report


def test_video_encode_decode_through_container(stream, tmp_path):
    model, out, recon, report = stream
    decoded = {}
    rep = decode_video(out, tmp_path / "rec.y4m", model=model,
                       on_frame=lambda t, x: decoded.__setitem__(t, x))
    assert rep.frames == report.frames == 3
    assert all(torch.equal(recon[t], decoded[t]) for t in range(3))
    assert (tmp_path / "rec.y4m").exists()
    header = BitstreamReader(out).header
    assert (header.width, header.height, header.intra_period) == (176, 144, 2)


def _rewrite_first_frame(data: bytes, edit) -> bytes:
    """Apply ``edit`` to the first FRAME chunk's payload and fix up that chunk's CRC."""
    reader = BitstreamReader(data)
    pos = reader._f.tell()
    ctype, flags, length = struct.unpack_from("<HHI", data, pos)
    assert ctype == ChunkType.FRAME
    payload = bytearray(data[pos + 8 : pos + 8 + length])
    edit(payload)
    head = struct.pack("<HHI", ctype, flags, len(payload))
    crc = struct.pack("<I", zlib.crc32(bytes(payload), zlib.crc32(head)))
    return data[:pos] + head + bytes(payload) + crc + data[pos + 12 + length :]


def test_corrupt_streams_raise_bitstream_error(stream, tmp_path):
    model, out, _, _ = stream
    data = out.read_bytes()
    bad = tmp_path / "bad.v1d"
    cases = {
        "truncated": data[: len(data) // 2],
        "bit flip": data[:60] + bytes([data[60] ^ 4]) + data[61:],
        # valid container, tampered entropy-coded bytes (CRC recomputed): caught by
        # the coder or by the symbol CRC
        "payload": _rewrite_first_frame(data, lambda p: p.__setitem__(-3, p[-3] ^ 0x10)),
        "symbol crc": _rewrite_first_frame(data, lambda p: p.__setitem__(5, p[5] ^ 1)),
    }
    for name, blob in cases.items():
        bad.write_bytes(blob)
        with pytest.raises(BitstreamError):
            decode_video(bad, None, model=model)
        assert name


def _with_extension(data: bytes, extension: bytes) -> bytes:
    """The same stream with another header extension."""
    reader = BitstreamReader(data)
    chunks = [(c.type, c.payload) for c in reader]
    return encode_stream(dataclasses.replace(reader.header, extension=extension), chunks)


@pytest.mark.parametrize("precision", ["float32", "float64", "int"])
def test_stream_records_its_precision_and_decodes_in_it(precision, tmp_path, sample_video):
    model = tiny_model()
    out, recon, decoded = tmp_path / "p.v1d", {}, {}
    encode_video(model, sample_video, out, model_id="gvc1d-test", quality=3.0, max_frames=2,
                 precision=precision, on_frame=lambda t, x: recon.__setitem__(t, x))
    assert parse_extension(BitstreamReader(out).header.extension) == {
        "precision": precision, "device": "cpu"}
    assert model.lmbda.embed.dtype == torch.float32  # the caller's model is cast back
    decode_video(out, None, model=model, on_frame=lambda t, x: decoded.__setitem__(t, x))
    assert model.lmbda.embed.dtype == torch.float32
    assert recon[0].dtype == decoded[0].dtype == PRECISIONS[precision]  # "int": float32 pixels
    assert all(torch.equal(recon[t], decoded[t]) for t in range(2))


def test_coding_dtype_casts_and_restores_each_tensor():
    m = torch.nn.Linear(3, 2)
    m.register_buffer("f64", torch.zeros(2, dtype=torch.float64))
    m.register_buffer("idx", torch.arange(3))
    weight = m.weight
    with coding_dtype(m, torch.float64):
        assert m.weight.dtype == m.bias.dtype == torch.float64 and m.idx.dtype == torch.int64
    assert m.weight is weight and m.weight.dtype == torch.float32
    assert m.f64.dtype == torch.float64 and m.idx.dtype == torch.int64


def test_stream_without_extension_is_float32(tmp_path, sample_video):
    # Streams written before the field have an empty extension: float32 coding.
    model = tiny_model()
    out = tmp_path / "a.v1d"
    encode_video(model, sample_video, out, model_id="gvc1d-test", quality=3.0, max_frames=2,
                 precision="float32")
    old = tmp_path / "old.v1d"
    old.write_bytes(_with_extension(out.read_bytes(), b""))
    assert decode_video(old, None, model=model).frames == 2
    for bad in (b"\xff", b"[1]", b'{"precision": "float16"}'):
        old.write_bytes(_with_extension(out.read_bytes(), bad))
        with pytest.raises(BitstreamError, match="extension"):
            decode_video(old, None, model=model)


def test_symbol_mismatch_names_the_encoders_device(stream, tmp_path):
    # A symbol CRC failure on a stream another kind of device encoded in float32 says so.
    model, out, _, _ = stream
    data = _with_extension(out.read_bytes(), b'{"device":"cuda","precision":"float32"}')
    bad = tmp_path / "bad.v1d"
    bad.write_bytes(_rewrite_first_frame(data, lambda p: p.__setitem__(5, p[5] ^ 1)))
    with pytest.raises(BitstreamError, match="encoded on cuda in float32 .* decode it on cuda"):
        decode_video(bad, None, model=model)


def test_other_weights_are_refused(stream):
    _, out, _, _ = stream
    with pytest.raises(BitstreamError, match="weights"):
        decode_video(out, None, model=tiny_model(seed=1))


def test_quality_changes_rate():
    model = tiny_model()
    with torch.no_grad():  # a unit Gaussian prior, and finer steps at higher quality
        model.prior.out.weight.zero_()
        model.prior.out.bias.zero_()
        model.encoder.to_latent.weight.mul_(10)
        model.lmbda.log_qstep.copy_(torch.linspace(1.0, -1.0, TINY.num_lmbdas))
    x = torch.rand(1, 3, 32, 32)
    low = model.compress_frame(x, None, 0.0)[0].estimated_bits
    high = model.compress_frame(x, None, 7.0)[0].estimated_bits
    assert high > low


def test_default_qstep_ladder_follows_lambda_to_the_minus_half():
    model = GVC1D(TINY)
    lm = model.lmbda.lmbdas
    qstep = model.lmbda.log_qstep.detach().exp()
    assert qstep[0].item() == pytest.approx(TINY.qstep_init)
    torch.testing.assert_close(qstep / qstep[0], (lm / lm[0]).pow(-TINY.qstep_slope))
    # so an untrained model already spends more bits at higher quality
    model = tiny_model()
    with torch.no_grad():
        model.prior.out.weight.zero_()
        model.prior.out.bias.zero_()
    x = torch.rand(1, 3, 32, 32)
    bits = [model.compress_frame(x, None, float(q))[0].estimated_bits for q in (0, 3, 7)]
    assert bits[0] < bits[1] < bits[2]
    with pytest.raises(ValueError, match="qstep"):
        dataclasses.replace(TINY, qstep_init=0.0)
    # the ablation without the ladder: every level starts at qstep_init
    flat = GVC1D(ablation_variant(TINY, "flat-qstep")).lmbda.log_qstep.detach().exp()
    torch.testing.assert_close(flat, torch.full_like(flat, TINY.qstep_init))


def test_attention_outflow_maps(tmp_path):
    from vid1d.models.gvc1d.analysis import outflow_points, plot_outflow, token_attention_maps

    model = tiny_model()
    video = torch.rand(1, 3, 2, 20, 36)
    maps, x_hat = token_attention_maps(model, video, 3.0)
    nh, nw = model.grid(20, 36)
    h, w = nh * TINY.window, nw * TINY.window
    assert maps.shape == (2, nh * nw * TINY.tokens, h, w)
    assert (maps >= 0).all() and (maps.sum(dim=(2, 3)) <= 1 + 1e-5).all()
    pts = outflow_points(maps)
    assert pts.shape == (2, nh * nw * TINY.tokens, 2) and (pts[..., 0] < h).all()
    # the hook must not change the reconstruction
    torch.testing.assert_close(x_hat, model(video, torch.tensor([3.0]), training=False)["x_hat"])
    out = tmp_path / "outflow.png"
    plot_outflow(video[0].transpose(0, 1), maps, TINY.patch, out, tokens=[0, 1])
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tiny_preset_loss_goes_down():
    from vid1d.train.testing import assert_loss_decreases

    torch.manual_seed(0)
    smooth = torch.nn.functional.interpolate(torch.rand(2, 3 * 2, 4, 4), size=(16, 16),
                                             mode="bilinear").reshape(2, 3, 2, 16, 16)
    torch.manual_seed(0)
    model = GVC1D(TINY)
    assert_loss_decreases(model, {"video": smooth}, steps=40, lr=3e-3, factor=0.5)


def test_perceptual_terms_need_weights_and_use_them(tmp_path, monkeypatch):
    from vid1d.errors import InputError
    from vid1d.metrics import LPIPS, save_metric_weights

    video = torch.rand(1, 3, 2, 32, 32)
    model = GVC1D(dataclasses.replace(TINY, lpips_weight=0.5))
    monkeypatch.delenv("VID1D_LPIPS_WEIGHTS", raising=False)
    with pytest.raises(InputError, match="VID1D_LPIPS_WEIGHTS"):
        model.training_losses({"video": video}, 0)
    torch.manual_seed(0)
    weights = tmp_path / "lpips.safetensors"
    save_metric_weights(LPIPS("alex"), weights, {"vid1d_format": "lpips", "net": "alex",
                                                 "version": "0.1"})
    monkeypatch.setenv("VID1D_LPIPS_WEIGHTS", str(weights))
    losses = model.training_losses({"video": video}, 0)
    assert torch.isfinite(losses["lpips"]) and losses["lpips"] != 0  # random heads: any sign
    losses["loss"].backward()
    assert not any(k.startswith("_perceptual") for k in model.state_dict())


def test_stlpips_term(no_stlpips_weights, request):
    from vid1d.errors import InputError

    video = torch.rand(1, 3, 2, 32, 32)
    model = GVC1D(dataclasses.replace(TINY, stlpips_weight=0.5))
    with pytest.raises(InputError, match="vid1d weights fetch stlpips-alex"):
        model.training_losses({"video": video}, 0)
    request.getfixturevalue("stlpips_weights")
    losses = model.training_losses({"video": video}, 0)
    assert float(losses["stlpips"]) > 0
    losses["loss"].backward()


# -- the integer coding path (fixed.py) ---------------------------------------------------
def _code(model, frames, quality=2.5):
    codes, recon, state = [], [], None
    for t in range(frames.shape[2]):
        code, x, state = model.compress_frame(frames[:, :, t], state, quality)
        codes.append(code)
        recon.append(x)
    return codes, recon


def _decode(model, codes, height, width, quality=2.5):
    out, state = [], None
    for code in codes:
        x, symbols, state = model.decompress_frame(code.data, state, quality, height, width)
        assert np.array_equal(symbols, code.symbols)
        out.append(x)
    return out


@pytest.mark.parametrize("variant", ["mem-1d", "mem-2d", "ar-no-mem", "no-ar"])
def test_integer_coding_is_exact_and_tracks_the_float_path(variant):
    model = lively_tiny_model(**dataclasses.asdict(ablation_variant(TINY, variant)))
    frames = torch.rand(1, 3, 3, 24, 40)
    float_codes, float_recon = _code(model, frames)
    with model.fixed_point():
        codes, recon = _code(model, frames)
        decoded = _decode(model, codes, 24, 40)
    assert all(torch.equal(a, b) for a, b in zip(recon, decoded, strict=True))
    # nearly the same tokens (the encoder is float in both; its context inputs and the
    # quantization step differ in their last bits), rate and pixels
    same = np.mean(np.concatenate([(a.symbols == b.symbols).ravel()
                                   for a, b in zip(codes, float_codes, strict=True)]))
    assert same > 0.95
    bits, float_bits = (sum(c.estimated_bits for c in cs) for cs in (codes, float_codes))
    assert abs(bits - float_bits) / float_bits < 0.02
    assert max(float((a - b).abs().max()) for a, b in zip(recon, float_recon, strict=True)) < 0.02
    assert model.__dict__.get("_fixed") is None  # dropped after the block


def test_integer_decode_does_not_depend_on_the_machines_arithmetic(monkeypatch):
    """The float path's decode is exact only on the kind of device that encoded
    (docs/results/cross_device.md); the integer path's is exact under any summation
    order. Here the decoder's matrix products are numpy integer loops, not BLAS."""
    from vid1d.nn import fixed

    model = lively_tiny_model()
    frames = torch.rand(1, 3, 3, 40, 56)
    with model.fixed_point():
        codes, recon = _code(model, frames)
    monkeypatch.setattr(fixed, "float64_matmul", lambda a, b: torch.from_numpy(
        np.matmul(a.long().numpy(), b.long().numpy())).double())
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        with model.fixed_point():
            decoded = _decode(model, codes, 40, 56)
    finally:
        torch.set_num_threads(old)
    assert all(torch.equal(a, b) for a, b in zip(recon, decoded, strict=True))


def test_int_precision_needs_an_integer_path(tmp_path, sample_video):
    from vid1d.errors import InputError
    from vid1d.models.refcodec.model import RefCodec, RefCodecConfig

    with pytest.raises(InputError, match="no integer coding path"):
        encode_video(RefCodec(RefCodecConfig()), sample_video, tmp_path / "r.v1d",
                     model_id="ref", quality=0.0, max_frames=1, precision="int")
    assert not (tmp_path / "r.v1d").exists()
