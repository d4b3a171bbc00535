"""Synthetic clips: camera motion really moves (and stays in the picture); shapes match labels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vid1d.data import DataConfig, build_dataset
from vid1d.data.synthetic import (
    CAMERA_MOTIONS,
    SHAPE_CLASSES,
    STILLS,
    CameraMotionClips,
    MovingShapes,
    camera_view,
    load_still,
    render_camera,
)
from vid1d.errors import InputError


@pytest.fixture(scope="module")
def motion_items():
    ds = CameraMotionClips(frames=8, sizes=((48, 64),), seed=5)
    return [ds[i] for i in range(60)]


def best_shift(a: torch.Tensor, b: torch.Tensor, axis: int, max_shift: int = 18) -> int:
    """d minimising |b(x) - a(x + d)| along ``axis`` (-1 = x, -2 = y)."""
    n = a.shape[axis]
    errs = {}
    for d in range(-max_shift, max_shift + 1):
        lo, hi = max(0, -d), min(n, n - d)
        errs[d] = float((b.narrow(axis, lo, hi - lo) - a.narrow(axis, lo + d, hi - lo)).abs().mean())
    return min(errs, key=errs.get)


def test_labels_captions_and_ranges(motion_items):
    seen = set()
    for it in motion_items:
        motion = CAMERA_MOTIONS[int(it["label"])]
        seen.add(motion)
        v = it["video"]
        assert v.shape == (3, 8, 48, 64) and v.dtype == torch.float32
        assert 0 <= float(v.min()) and float(v.max()) <= 1
        assert it["source"].removeprefix("skimage:") in STILLS
        word = {"static": "still", "pan-left": "left", "pan-right": "right", "pan-up": "up",
                "pan-down": "down", "zoom-in": "zooms in", "zoom-out": "zooms out",
                "rotate-cw": " clockwise", "rotate-ccw": "counter-clockwise"}[motion]
        assert word in it["caption"]
    assert seen == set(CAMERA_MOTIONS)


def test_static_is_still_and_everything_else_moves(motion_items):
    for it in motion_items:
        v = it["video"]
        diff = float((v[:, 1:] - v[:, :-1]).abs().mean())
        if CAMERA_MOTIONS[int(it["label"])] == "static":
            assert diff == 0.0
        else:
            assert diff > 1e-3, it["caption"]


def test_pans_move_the_scene_the_opposite_way(motion_items):
    # camera pans right -> the scene moves left: last(x) = first(x + d), d > 0
    expected = {"pan-right": (-1, 1), "pan-left": (-1, -1), "pan-down": (-2, 1), "pan-up": (-2, -1)}
    checked = 0
    for it in motion_items:
        motion = CAMERA_MOTIONS[int(it["label"])]
        if motion in expected:
            axis, sign = expected[motion]
            v = it["video"]
            d = best_shift(v[:, 0], v[:, -1], axis)
            assert np.sign(d) == sign and abs(d) >= 2, (motion, d)
            checked += 1
    assert checked >= 4


def test_rolls_and_zooms_go_the_named_way(motion_items):
    # last(o) = first(z R(a) o) about the output centre: try both directions.
    def err(v, angle, zoom):
        first, last = v[:, 0], v[:, -1]
        H, W = first.shape[-2:]
        pred = render_camera(first, (H, W), np.array([W / 2, H / 2]), np.zeros((1, 2)),
                             np.array([zoom]), np.array([angle]))[:, 0]
        m = 10  # ignore the borders, where the prediction samples outside the first frame
        return float((pred - last)[:, m:-m, m:-m].abs().mean())

    angles = np.radians([3.0, 5.0, 7.0, 10.0])
    zooms = [1.15, 1.3, 1.45, 1.6]
    cw = [(x, 1.0) for x in angles]
    ccw = [(-x, 1.0) for x in angles]
    grow, shrink = [(0.0, z) for z in zooms], [(0.0, 1 / z) for z in zooms]
    # (directions that match the name, directions that do not)
    tests = {"rotate-cw": (cw, ccw), "rotate-ccw": (ccw, cw),
             "zoom-in": (shrink, grow), "zoom-out": (grow, shrink)}
    checked = 0
    for it in motion_items:
        motion = CAMERA_MOTIONS[int(it["label"])]
        if motion in tests:
            right, wrong = tests[motion]
            v = it["video"]
            assert min(err(v, *p) for p in right) < min(err(v, *p) for p in wrong), motion
            checked += 1
    assert checked >= 4


@pytest.mark.parametrize("motion", CAMERA_MOTIONS)
def test_camera_path_never_leaves_the_image(motion):
    rng = np.random.default_rng(0)
    for hw, size, T in [((300, 451), (64, 64), 8), ((172, 448), (128, 96), 16), ((512, 512), (200, 300), 4)]:
        for _ in range(20):
            c, disp, scale, angle = camera_view(motion, rng, hw, size, T)
            H, W = size
            corners = np.array([[-W / 2, -H / 2], [W / 2, -H / 2], [-W / 2, H / 2], [W / 2, H / 2]])
            for t in range(T):
                rot = np.array([[np.cos(angle[t]), -np.sin(angle[t])], [np.sin(angle[t]), np.cos(angle[t])]])
                pts = c + disp[t] + scale[t] * corners @ rot.T
                assert np.all(pts >= -1e-6) and np.all(pts[:, 0] <= hw[1] + 1e-6)
                assert np.all(pts[:, 1] <= hw[0] + 1e-6)


def test_motion_split_is_by_still_image():
    cfg = DataConfig(kind="synthetic-motion", frames=2, size=(16, 16), val_fraction=0.2)
    train, val = build_dataset(cfg, "train"), build_dataset(cfg, "val")
    assert set(train.images).isdisjoint(val.images) and len(val.images) >= 1
    assert set(train.images) | set(val.images) == set(STILLS)
    assert {val[i]["source"] for i in range(20)} <= {f"skimage:{n}" for n in val.images}


def test_validation_stills_are_not_degenerate():
    # A held-out near-black still (hubble) once made every model's val PSNR meaningless.
    cfg = DataConfig(kind="synthetic-motion", frames=2, size=(16, 16))  # val_fraction 0.1
    val = build_dataset(cfg, "val")
    assert len(val.images) == 1
    for name in val.images:
        img = load_still(name).astype(np.float64) / 255
        assert 0.2 < img.mean() < 0.8 and img.std() > 0.15, name


def test_stills_load_offline_as_rgb():
    for name in STILLS:
        img = load_still(name)
        assert img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.uint8 and min(img.shape[:2]) >= 150
    with pytest.raises(InputError, match="unknown still"):
        CameraMotionClips(["nope"], frames=2)


def shape_mask(frame: torch.Tensor) -> torch.Tensor:
    bg = frame.flatten(1).median(dim=1).values.view(3, 1, 1)
    return (frame - bg).abs().amax(0) > 0.25


def test_shapes_match_their_labels_and_captions():
    ds = MovingShapes(frames=6, sizes=((64, 80),), seed=2)
    fill_ranges = {"circle": (0.70, 0.88), "square": (0.95, 1.0), "triangle": (0.40, 0.66)}
    seen = set()
    for i in range(48):
        it = ds[i]
        shape, motion = SHAPE_CLASSES[int(it["label"])].split("-")
        seen.add((shape, motion))
        assert shape in it["caption"] and (("bouncing" in it["caption"]) == (motion == "bounce"))
        centroids = []
        for t in range(6):
            m = shape_mask(it["video"][:, t])
            ys, xs = torch.nonzero(m, as_tuple=True)
            box = (int(ys.max() - ys.min()) + 1) * (int(xs.max() - xs.min()) + 1)
            lo, hi = fill_ranges[shape]
            assert lo <= float(m.sum()) / box <= hi, (shape, float(m.sum()) / box)
            centroids.append((float(xs.float().mean()), float(ys.float().mean())))
        (x0, y0), (x1, y1) = centroids[0], centroids[-1]
        if motion == "linear":
            direction = it["caption"].rsplit(" ", 1)[1]
            dx, dy = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}[direction]
            assert (x1 - x0) * dx + (y1 - y0) * dy > 1.0
            assert abs((x1 - x0) * dy) + abs((y1 - y0) * dx) < 1.0  # straight along the axis
    assert len(seen) == len(SHAPE_CLASSES)


def test_synthetic_items_are_reproducible():
    for cls in (MovingShapes, CameraMotionClips):
        a, b = cls(frames=3, seed=4), cls(frames=3, seed=4)
        assert torch.equal(a[11]["video"], b[11]["video"]) and a[11]["caption"] == b[11]["caption"]
        assert not torch.equal(a[11]["video"], a[12]["video"])
    cfg = DataConfig(kind="synthetic-shapes", frames=3, size=(16, 16))
    tr, va = build_dataset(cfg, "train"), build_dataset(cfg, "val")
    assert tr.seed != va.seed and not torch.equal(tr[0]["video"], va[0]["video"])
