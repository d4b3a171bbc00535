"""DataConfig validation and round trip; splits by source key."""

from __future__ import annotations

import pytest

from vid1d.data.config import DataConfig
from vid1d.data.split import derive_seed, key_fraction, split_keys
from vid1d.errors import InputError
from vid1d.utils.config import config_from_dict, config_to_dict


def test_config_round_trips_through_a_dict():
    cfg = DataConfig(kind="mixed", root="/data", frames=4, stride=2, size=(32, 48),
                     sizes=((32, 48), (64, 64)), size_group=8, scale=(1.0, 2.0),
                     synthetic_fraction=0.25, seed=3)
    d = config_to_dict(cfg)
    assert d["sizes"] == [[32, 48], [64, 64]]
    assert config_from_dict(DataConfig, d) == cfg
    assert cfg.all_sizes == ((32, 48), (64, 64))
    assert DataConfig(size=(16, 24)).all_sizes == ((16, 24),)


@pytest.mark.parametrize("kw, msg", [
    ({"kind": "webcam"}, "kind"),
    ({"kind": "videos"}, "needs data.root"),
    ({"frames": 0}, "frames"),
    ({"stride": 1.5}, "stride"),
    ({"size": (0, 8)}, "size"),
    ({"size": (8,)}, "size"),
    ({"sizes": ((8, 8), (8, -1))}, "sizes"),
    ({"scale": (2.0, 1.0)}, "scale"),
    ({"val_fraction": 1.0}, "val_fraction"),
    ({"kind": "synthetic-shapes", "synthetic_fraction": 0.5}, "only to data.kind 'mixed'"),
    ({"workers": -1}, "workers"),
])
def test_bad_config_is_one_line_input_error(kw, msg):
    with pytest.raises(InputError, match=msg) as e:
        DataConfig(**kw)
    assert "\n" not in str(e.value)


def test_unknown_config_key_rejected():
    with pytest.raises(InputError, match="unknown config key"):
        config_from_dict(DataConfig, {"framez": 3})


def test_split_is_disjoint_covering_and_stable():
    keys = [f"clip{i:03d}.mp4" for i in range(200)]
    train, val = split_keys(keys, 0.2, "train"), split_keys(keys, 0.2, "val")
    assert set(train).isdisjoint(val) and set(train) | set(val) == set(range(200))
    assert 20 <= len(val) <= 60  # about 40
    # adding sources never moves an existing one across the split
    more = keys + [f"new{i}.mp4" for i in range(50)]
    val_more = {more[i] for i in split_keys(more, 0.2, "val")}
    assert {keys[i] for i in val} == val_more & set(keys)
    # the assignment is by key, not by position
    rev = keys[::-1]
    assert {rev[i] for i in split_keys(rev, 0.2, "val")} == {keys[i] for i in val}


def test_split_small_folders_and_errors():
    keys = ["a.mp4", "b.mp4"]
    v, t = split_keys(keys, 0.01, "val"), split_keys(keys, 0.01, "train")
    assert len(v) == 1 and len(t) == 1 and set(v) != set(t)
    t = split_keys(keys, 0.99, "train")
    assert len(t) == 1
    assert split_keys(keys, 0.0, "train") == [0, 1]
    with pytest.raises(InputError, match="val_fraction is 0"):
        split_keys(keys, 0.0, "val")
    with pytest.raises(InputError, match="at least 2 sources"):
        split_keys(["only.mp4"], 0.1, "val")
    with pytest.raises(InputError, match="split"):
        split_keys(keys, 0.1, "test")


def test_hash_helpers_are_stable():
    assert 0 <= key_fraction("x") < 1 and key_fraction("x") == key_fraction("x")
    assert derive_seed(0, "val") == derive_seed(0, "val") != derive_seed(1, "val")
    assert derive_seed(0, "val") != derive_seed(0, "real")
