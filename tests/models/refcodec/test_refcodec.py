"""The reference codec: it learns, and its real bitstreams decode exactly."""

from __future__ import annotations

import numpy as np
import torch

from vid1d.codec import decode_video, encode_video
from vid1d.models.refcodec import RECIPES, RefCodec
from vid1d.train.testing import assert_loss_decreases


def tiny() -> RefCodec:
    torch.manual_seed(0)
    return RefCodec(RECIPES["tiny"].model)


def test_loss_goes_down():
    torch.manual_seed(0)
    smooth = torch.nn.functional.interpolate(torch.rand(4, 3, 4, 4), size=(32, 32), mode="bilinear")
    batch = {"video": smooth[:, :, None]}
    assert_loss_decreases(tiny(), batch, steps=60, lr=3e-3, factor=0.5)


def test_encode_decode_exact_and_rate_matches_estimate(tmp_path, sample_video):
    model = tiny()
    # fit the quantiles a little so the tables are representative
    with torch.no_grad():
        model.prior.quantiles.data[..., 0] = -8.0
        model.prior.quantiles.data[..., 2] = 8.0
    # A copy loaded from weights saved before any table was built: both sides build
    # their tables when coding starts, and the stream's weights hash must still match.
    decoder = tiny()
    decoder.load_state_dict(model.state_dict())
    assert not model.prior.tables_built
    recon, decoded = {}, {}
    rep = encode_video(model, sample_video, tmp_path / "r.v1d", model_id="refcodec-test",
                       quality=0.0, max_frames=3, on_frame=lambda t, x: recon.__setitem__(t, x))
    decode_video(tmp_path / "r.v1d", None, model=decoder,
                 on_frame=lambda t, x: decoded.__setitem__(t, x))
    assert all(torch.equal(recon[t], decoded[t]) for t in range(3))
    real = 8 * sum(rep.frame_bytes)
    est = sum(rep.estimated_bits)
    assert est > 5000 and abs(real - est) / est < 0.01
    assert np.isfinite(rep.psnr).all()
