"""Clip datasets: determinism, shapes, DataLoader workers, splits by source, errors."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader

from vid1d.data import DataConfig, build_dataset
from vid1d.data.datasets import FolderClips, sample_window
from vid1d.data.sources import scan_videos
from vid1d.errors import InputError


def check_item(item, frames, size, num_classes):
    v = item["video"]
    assert v.shape == (3, frames, *size) and v.dtype == torch.float32 and v.is_contiguous()
    assert 0.0 <= float(v.min()) and float(v.max()) <= 1.0
    assert item["label"].dtype == torch.int64 and item["label"].ndim == 0
    assert 0 <= int(item["label"]) < num_classes
    assert isinstance(item["source"], str)


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        torch.equal(a[k], b[k]) if isinstance(a[k], torch.Tensor) else a[k] == b[k] for k in a)


def test_videos_dataset_is_deterministic_and_well_formed(videos_root):
    cfg = DataConfig(kind="videos", root=str(videos_root), frames=4, stride=2, size=(32, 48),
                     scale=(0.8, 2.0), val_fraction=0.0, seed=7)
    ds = build_dataset(cfg)
    again = build_dataset(cfg)
    assert len(ds) == 10_000 and ds.class_names == ("moving", "real")
    items = [ds[i] for i in range(6)]
    for i, item in enumerate(items):
        check_item(item, 4, (32, 48), 2)
        assert same(item, again[i])  # a fresh dataset object: pure function of (seed, index)
        assert same(item, ds[i])
        assert item["label"] == ds.class_names.index(item["source"].split("/")[0].split(".")[0])
    assert not torch.equal(items[0]["video"], items[1]["video"])
    other = build_dataset(DataConfig(**{**cfg.__dict__, "seed": 8}))
    assert not torch.equal(other[0]["video"], items[0]["video"])
    assert same(ds[123_456], ds[123_456])  # past len(): still valid and deterministic
    with pytest.raises(IndexError):
        ds[-1]


def test_dataloader_workers_do_not_change_batches(videos_root):
    cfg = DataConfig(kind="videos", root=str(videos_root), frames=3, size=(24, 24),
                     epoch_size=12, val_fraction=0.0)
    ds = build_dataset(cfg)

    def batches(workers):
        dl = DataLoader(ds, batch_size=4, num_workers=workers, shuffle=False)
        return list(dl)

    b0, b2 = batches(0), batches(2)
    assert len(b0) == 3
    for x, y in zip(b0, b2, strict=True):
        assert x["video"].shape == (4, 3, 3, 24, 24)
        assert torch.equal(x["video"], y["video"]) and torch.equal(x["label"], y["label"])
        assert x["source"] == y["source"]


def test_train_and_val_never_share_a_source(frames_root):
    cfg = DataConfig(kind="frames", root=str(frames_root), frames=3, size=(16, 16),
                     val_fraction=0.3, epoch_size=64, val_size=32)
    train, val = build_dataset(cfg, "train"), build_dataset(cfg, "val")
    tr, va = {s.key for s in train.sources}, {s.key for s in val.sources}
    assert tr and va and tr.isdisjoint(va) and len(tr | va) == 9
    assert train.class_names == val.class_names == ("00001", "00002", "00003")
    seen_train = {train[i]["source"] for i in range(64)}
    seen_val = {val[i]["source"] for i in range(32)}
    assert seen_train <= tr and seen_val <= va
    assert not val.flip and len(val) == 32


def test_yuv_dataset_and_upscaling_small_frames(yuv_root):
    cfg = DataConfig(kind="yuv", root=str(yuv_root), frames=5, size=(40, 40), val_fraction=0.0)
    ds = build_dataset(cfg)
    assert ds.class_names == ("Bar_32x24_25", "Foo_64x48_30")
    for i in range(8):
        check_item(ds[i], 5, (40, 40), 2)
    # Foo has 6 frames, Bar 9: a 7-frame clip can only come from Bar
    ds7 = build_dataset(DataConfig(**{**cfg.__dict__, "frames": 7}))
    assert {ds7[i]["source"] for i in range(10)} == {"Bar_32x24_25.yuv"}
    with pytest.raises(InputError, match="longer than every video"):
        build_dataset(DataConfig(**{**cfg.__dict__, "frames": 5, "stride": 3}))


def test_sample_window_fits_and_upscales():
    import numpy as np

    rng = np.random.default_rng(0)
    for _ in range(200):
        top, left, h, w = sample_window(rng, (24, 32), (40, 40), (0.5, 3.0))
        assert 0 <= top and top + h <= 24 and 0 <= left and left + w <= 32
        assert h <= 24 and w <= 24  # frame smaller than the output: the crop is upscaled
    assert sample_window(rng, (100, 100), (20, 30), (1.0, 1.0))[2:] == (20, 30)


def test_flip_mirrors_the_same_clip(videos_root):
    srcs = scan_videos(videos_root)
    kw = dict(frames=2, sizes=((20, 20),), seed=1)
    flipping, plain = FolderClips(srcs, flip=True, **kw), FolderClips(srcs, flip=False, **kw)
    flipped = 0
    for i in range(12):
        a, b = flipping[i]["video"], plain[i]["video"]
        if not torch.equal(a, b):
            assert torch.equal(a, b.flip(-1))
            flipped += 1
    assert 0 < flipped < 12


def test_multi_resolution_groups_share_a_size():
    cfg = DataConfig(kind="synthetic-shapes", frames=2, sizes=((16, 16), (24, 32), (8, 40)),
                     size_group=4)
    ds = build_dataset(cfg)
    shapes = [tuple(ds[i]["video"].shape[-2:]) for i in range(40)]
    for g in range(10):
        assert len(set(shapes[4 * g:4 * g + 4])) == 1
    assert len(set(shapes)) > 1
    batch = next(iter(DataLoader(ds, batch_size=4)))
    assert batch["video"].shape[:3] == (4, 3, 2)


def test_mixed_dataset_labels_and_keys(videos_root):
    cfg = DataConfig(kind="mixed", root=str(videos_root), frames=3, size=(24, 24),
                     synthetic_fraction=0.5, val_fraction=0.0)
    ds = build_dataset(cfg)
    assert ds.num_classes == 2 + 9 and ds.class_names[2] == "static"
    items = [ds[i] for i in range(16)]
    is_synth = [it["source"].startswith("skimage:") for it in items]
    assert 0 < sum(is_synth) < 16
    assert all((int(it["label"]) >= 2) == s for it, s in zip(items, is_synth, strict=True))
    assert all("caption" not in it for it in items)  # same keys in every item for collate
    batch = next(iter(DataLoader(ds, batch_size=8)))
    assert batch["video"].shape == (8, 3, 3, 24, 24)


def test_folder_datasets_fail_cleanly(tmp_path):
    (tmp_path / "empty").mkdir()
    for kind in ("videos", "frames", "yuv", "mixed"):
        with pytest.raises(InputError, match="no "):
            build_dataset(DataConfig(kind=kind, root=str(tmp_path / "empty")))
    with pytest.raises(InputError, match="does not exist"):
        build_dataset(DataConfig(kind="videos", root=str(tmp_path / "nope")))
    with pytest.raises(InputError, match="split"):
        build_dataset(DataConfig(), "test")
    with pytest.raises(InputError, match="val_fraction is 0"):
        build_dataset(DataConfig(kind="synthetic-motion", val_fraction=0.0), "val")


def test_datasets_pickle_for_spawned_workers(videos_root):
    """Spawned workers (macOS/Windows) get a pickled copy: it must hold no open handles."""
    import pickle

    for cfg in (DataConfig(kind="mixed", root=str(videos_root), frames=2, size=(16, 16),
                           synthetic_fraction=0.5, val_fraction=0.0),
                DataConfig(kind="synthetic-shapes", frames=2, size=(16, 16))):
        ds = build_dataset(cfg)
        ds[0]
        copy = pickle.loads(pickle.dumps(ds))
        assert all(same(ds[i], copy[i]) for i in range(4))


def test_importing_vid1d_data_is_cheap():
    import subprocess
    import sys

    code = ("import sys, vid1d.data; from vid1d.data import DataConfig; "
            "print(sorted(m for m in ('torch', 'av', 'skimage', 'PIL') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
