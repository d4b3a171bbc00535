"""The models shipped in the package: pinned, loadable, and usable with no flags."""

from __future__ import annotations

import json

import numpy as np
import torch

from vid1d.cli.main import main
from vid1d.io import open_video
from vid1d.models.registry import BUNDLED_DIR, list_models, load_model

PINNED = json.loads((BUNDLED_DIR / "registry.json").read_text()) if (
    BUNDLED_DIR / "registry.json").exists() else {}


def test_every_bundled_model_is_pinned_and_loads():
    bundled = {k: e for k, e in list_models().items() if e.bundled}
    assert set(bundled) == set(PINNED)  # nothing unpinned ships, no pin without a model
    for model_id, entry in bundled.items():
        assert entry.sha256 == PINNED[model_id]["sha256"]
        module, ckpt = load_model(model_id)
        assert ckpt.meta["id"] == model_id
        assert all(torch.isfinite(p).all() for p in module.parameters())
        card = ckpt.meta["card"]
        for key in ("data", "hardware", "step", "train_seconds", "results"):
            assert card.get(key), f"{model_id}: model card lacks {key!r}"


def test_encode_with_no_flags_uses_the_bundled_codec(tmp_path, sample_video, capsys):
    stream, rec = tmp_path / "a.v1d", tmp_path / "rec.y4m"
    assert main(["encode", str(sample_video), "-o", str(stream), "--frames", "2"]) == 0
    assert main(["info", str(stream)]) == 0
    assert "gvc1d-small" in capsys.readouterr().out
    assert main(["decode", str(stream), "-o", str(rec)]) == 0
    with open_video(rec) as r:
        frames = r.read(10)
    assert frames.shape[1:] == (2, 144, 176) and np.isfinite(frames.numpy()).all()
