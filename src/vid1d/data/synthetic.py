"""Synthetic clips: camera motion over still photographs, and procedurally moving shapes.

Both are reproducible from ``(seed, index)`` (see :mod:`vid1d.data.base`), render at
any size, need no files beyond scikit-image's bundled photographs, and come with
class labels and captions for conditional generation.

**Camera motion** (:class:`CameraMotionClips`): a virtual camera looks at a still
image and moves along an affine path over time: each output pixel ``o`` (offset from
the output centre, in output pixels) of frame ``t`` samples the image at
``u = c + d(t) + s(t) R(a(t)) o`` with bilinear :func:`torch.nn.functional.grid_sample`
(sub-pixel, smooth). Motion classes (the label):

* ``static``: constant view (every frame identical);
* ``pan-left|right|up|down``: the view centre moves at a constant 0.4-2 output px/frame
  (the scene moves the opposite way across the frame);
* ``zoom-in|out``: the view scale changes geometrically by a total factor of 1.15-1.6;
* ``rotate-cw|ccw``: the camera rolls by a total of 3-10 degrees.

The base scale is drawn so the whole path stays inside the image (no border is ever
sampled); images are first box-downsampled by an integer factor when the view is
larger than the output, so the bilinear sampling does not alias. ``flip`` mirrors the
photograph before the motion (labels are unaffected).

**Moving shapes** (:class:`MovingShapes`): one anti-aliased shape (a signed
distance field with a one-pixel soft edge) of a named colour on a dark background.
Class = shape x motion: ``circle|square|triangle`` x ``linear|bounce``, six classes.
``linear`` moves at constant speed in one of four directions, staying inside the
frame; ``bounce`` moves diagonally and reflects off the borders. The caption names
colour, shape and motion ("a red circle moving left", "a blue square bouncing around").

The temporal ``stride`` of real datasets has no meaning here; speeds are per frame.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from einops import rearrange

from vid1d.data.base import ClipDataset, label_tensor
from vid1d.errors import InputError

# name -> (skimage.data function, caption subject)
STILLS: dict[str, tuple[str, str]] = {
    "astronaut": ("astronaut", "an astronaut"),
    "brick": ("brick", "a brick wall"),
    "camera": ("camera", "a man with a camera"),
    "cat": ("cat", "a cat"),
    "coffee": ("coffee", "a cup of coffee"),
    "coins": ("coins", "old coins"),
    "grass": ("grass", "grass"),
    "gravel": ("gravel", "gravel"),
    "hubble": ("hubble_deep_field", "distant galaxies"),
    "ihc": ("immunohistochemistry", "a stained tissue sample"),
    "moon": ("moon", "the surface of the moon"),
    "motorcycle": ("stereo_motorcycle", "a motorcycle"),
    "retina": ("retina", "a retina"),
    "rocket": ("rocket", "a rocket on its launch pad"),
}

# Validation stills, in the order they are held out (data.val_fraction of the 14):
# natural photographs with full-range content.
VAL_STILLS = ("coffee", "motorcycle", "astronaut", "rocket", "cat")

CAMERA_MOTIONS = ("static", "pan-left", "pan-right", "pan-up", "pan-down",
                  "zoom-in", "zoom-out", "rotate-cw", "rotate-ccw")
_CAMERA_VERBS = {
    "static": "a still shot of {}", "pan-left": "the camera pans left across {}",
    "pan-right": "the camera pans right across {}", "pan-up": "the camera tilts up over {}",
    "pan-down": "the camera tilts down over {}", "zoom-in": "the camera zooms in on {}",
    "zoom-out": "the camera zooms out from {}", "rotate-cw": "the camera rolls clockwise over {}",
    "rotate-ccw": "the camera rolls counter-clockwise over {}",
}
_PAN_DIRECTIONS = {"pan-left": (-1, 0), "pan-right": (1, 0), "pan-up": (0, -1), "pan-down": (0, 1)}


@functools.cache
def load_still(name: str) -> np.ndarray:
    """A bundled scikit-image photograph as (H, W, 3) uint8 (greyscale replicated).

    Cached per process: the 14 photographs are ~12 MB in all and decoding one takes
    up to 50 ms, longer than rendering a clip from it.
    """
    if name not in STILLS:
        raise InputError(f"unknown still image {name!r} (choices: {', '.join(STILLS)})")
    import skimage.data

    img = getattr(skimage.data, STILLS[name][0])()
    if isinstance(img, tuple):  # stereo_motorcycle -> (left, right, disparity)
        img = img[0]
    img = np.asarray(img)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    img = img[..., :3]
    if img.dtype != np.uint8:
        img = (np.clip(img.astype(np.float64), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return np.ascontiguousarray(img)


def camera_path(motion: str, rng: np.random.Generator, T: int) -> tuple[np.ndarray, ...]:
    """Per-frame (displacement (T, 2) per unit base scale, relative scale (T,), angle (T,)).

    Displacement is in source pixels for base scale 1 (so it scales with the view).
    """
    t = np.linspace(0.0, 1.0, T) if T > 1 else np.zeros(1)
    disp = np.zeros((T, 2))
    rel = np.ones(T)
    angle = np.zeros(T)
    if motion in _PAN_DIRECTIONS:
        speed = rng.uniform(0.4, 2.0)  # output px per frame
        disp = np.outer(t * speed * max(T - 1, 0), _PAN_DIRECTIONS[motion])
    elif motion in ("zoom-in", "zoom-out"):
        total = rng.uniform(1.15, 1.6)
        rel = total ** (-t if motion == "zoom-in" else t - 1.0)  # largest view first / last
    elif motion in ("rotate-cw", "rotate-ccw"):
        total = math.radians(rng.uniform(3.0, 10.0))
        # Image y points down: a positive angle turns the view clockwise on screen,
        # so the camera rolling clockwise turns the view clockwise.
        angle = t * total * (1.0 if motion == "rotate-cw" else -1.0)
    elif motion != "static":
        raise InputError(f"unknown camera motion {motion!r} (choices: {', '.join(CAMERA_MOTIONS)})")
    return disp, rel, angle


def camera_view(motion: str, rng: np.random.Generator, image_hw: tuple[int, int],
                size: tuple[int, int], T: int) -> tuple[np.ndarray, ...]:
    """A camera path that stays inside the image: (centre (2,), displacement (T, 2),
    scale (T,), angle (T,)), all in source pixels (see :func:`render_camera`)."""
    disp, rel, angle = camera_path(motion, rng, T)
    Hi, Wi = image_hw
    H, W = size
    # Half-extents of the rotated view per unit base scale, per frame.
    ex = rel * (np.abs(np.cos(angle)) * W + np.abs(np.sin(angle)) * H) / 2
    ey = rel * (np.abs(np.sin(angle)) * W + np.abs(np.cos(angle)) * H) / 2
    # Everything scales linearly with the base scale s0, so the largest s0 whose path
    # fits inside the image is a ratio; draw s0 below it to leave room to move.
    span_x = np.max(disp[:, 0] + ex) - np.min(disp[:, 0] - ex)
    span_y = np.max(disp[:, 1] + ey) - np.min(disp[:, 1] - ey)
    s0 = min(Wi / span_x, Hi / span_y) * rng.uniform(0.6, 1.0)
    lo = np.array([np.max(ex - disp[:, 0]), np.max(ey - disp[:, 1])]) * s0
    hi = np.array([Wi - np.max(ex + disp[:, 0]) * s0, Hi - np.max(ey + disp[:, 1]) * s0])
    center = lo + rng.random(2) * np.maximum(hi - lo, 0.0)
    return center, disp * s0, rel * s0, angle


def render_camera(img: torch.Tensor, size: tuple[int, int], center: np.ndarray, disp: np.ndarray,
                  scale: np.ndarray, angle: np.ndarray) -> torch.Tensor:
    """Sample (3, T, H, W) from ``img`` (3, Hi, Wi) along the path (see module docstring)."""
    H, W = size
    Hi, Wi = img.shape[-2:]
    T = len(scale)
    # Output pixel centres as offsets from the output centre, in output pixels.
    oy, ox = torch.meshgrid(torch.arange(H, dtype=torch.float64) + 0.5 - H / 2,
                            torch.arange(W, dtype=torch.float64) + 0.5 - W / 2, indexing="ij")
    cos = torch.from_numpy(np.cos(angle) * scale)[:, None, None]  # (T, 1, 1)
    sin = torch.from_numpy(np.sin(angle) * scale)[:, None, None]
    pos = torch.from_numpy(center[None] + disp)  # (T, 2) source pixels
    ux = pos[:, 0, None, None] + cos * ox - sin * oy  # (T, H, W)
    uy = pos[:, 1, None, None] + sin * ox + cos * oy
    # Pixel-edge coordinates -> grid_sample's [-1, 1] with align_corners=False.
    grid = torch.stack([2 * ux / Wi - 1, 2 * uy / Hi - 1], dim=-1).float()  # (T, H, W, 2)
    out = F.grid_sample(img.expand(T, -1, -1, -1), grid, mode="bilinear",
                        padding_mode="border", align_corners=False)  # (T, 3, H, W)
    return rearrange(out, "t c h w -> c t h w").clamp_(0.0, 1.0).contiguous()


class CameraMotionClips(ClipDataset):
    """Camera motion over still photographs (see the module docstring)."""

    class_names = CAMERA_MOTIONS
    has_captions = True

    def __init__(self, images: Sequence[str] = tuple(STILLS), *, frames: int,
                 sizes: Sequence[tuple[int, int]] = ((64, 64),), size_group: int = 1,
                 flip: bool = True, epoch_size: int = 10_000, seed: int = 0) -> None:
        super().__init__(frames=frames, sizes=sizes, size_group=size_group,
                         epoch_size=epoch_size, seed=seed)
        if not images:
            raise InputError("CameraMotionClips needs at least one still image")
        for name in images:
            if name not in STILLS:
                raise InputError(f"unknown still image {name!r} (choices: {', '.join(STILLS)})")
        self.images = tuple(images)
        self.flip = bool(flip)

    def sample(self, index: int, size: tuple[int, int]) -> dict:
        rng = self.rng(index)
        name = self.images[int(rng.integers(len(self.images)))]
        label = int(rng.integers(len(CAMERA_MOTIONS)))
        motion = CAMERA_MOTIONS[label]
        flip = rng.random() < 0.5 and self.flip
        arr = load_still(name)
        center, disp, scale, angle = camera_view(motion, rng, arr.shape[:2], size, self.frames)

        img = torch.from_numpy(arr).permute(2, 0, 1).float().div_(255.0)  # (3, Hi, Wi)
        if flip:
            img = img.flip(-1)
        k = int(scale.min())  # box-downsample so bilinear sampling steps < 2 source px
        if k >= 2:
            img = F.avg_pool2d(img[None], k)[0]
            center, disp, scale = center / k, disp / k, scale / k
        video = render_camera(img, size, center, disp, scale, angle)
        return {"video": video, "label": label_tensor(label), "source": f"skimage:{name}",
                "caption": _CAMERA_VERBS[motion].format(STILLS[name][1])}


SHAPES = ("circle", "square", "triangle")
SHAPE_MOTIONS = ("linear", "bounce")
SHAPE_CLASSES = tuple(f"{s}-{m}" for s in SHAPES for m in SHAPE_MOTIONS)
COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (0.90, 0.12, 0.10), "green": (0.15, 0.80, 0.20), "blue": (0.15, 0.35, 0.95),
    "yellow": (0.95, 0.85, 0.10), "cyan": (0.10, 0.85, 0.90), "magenta": (0.90, 0.15, 0.85),
    "orange": (0.98, 0.55, 0.05), "white": (0.95, 0.95, 0.95),
}
_DIRECTIONS = {"left": (-1.0, 0.0), "right": (1.0, 0.0), "up": (0.0, -1.0), "down": (0.0, 1.0)}


def shape_sdf(shape: str, px: torch.Tensor, py: torch.Tensor, r: float) -> torch.Tensor:
    """Signed distance (pixels, < 0 inside) to a shape of half-size ``r`` centred at 0.

    Triangle: equilateral with half-side ``r``, pointing up (I. Quilez's
    ``sdEquilateralTriangle`` with the image y axis flipped).
    """
    if shape == "circle":
        return torch.sqrt(px * px + py * py) - r
    if shape == "square":
        qx, qy = px.abs() - r, py.abs() - r
        outside = torch.sqrt(qx.clamp(min=0) ** 2 + qy.clamp(min=0) ** 2)
        return outside + torch.maximum(qx, qy).clamp(max=0)
    if shape == "triangle":
        k = math.sqrt(3.0)
        x = px.abs() - r
        y = -py + r / k
        fold = x + k * y > 0
        x, y = torch.where(fold, (x - k * y) / 2, x), torch.where(fold, (-k * x - y) / 2, y)
        x = x - x.clamp(-2 * r, 0.0)
        return -torch.sqrt(x * x + y * y) * torch.sign(y)
    raise InputError(f"unknown shape {shape!r} (choices: {', '.join(SHAPES)})")


def _reflect(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Positions bouncing between lo and hi (a triangle wave)."""
    if hi <= lo:
        return np.full_like(x, (lo + hi) / 2)
    period = 2 * (hi - lo)
    y = np.mod(x - lo, period)
    return lo + np.where(y > hi - lo, period - y, y)


class MovingShapes(ClipDataset):
    """One moving anti-aliased shape per clip, labelled shape x motion (see module docstring)."""

    class_names = SHAPE_CLASSES
    has_captions = True

    def __init__(self, *, frames: int, sizes: Sequence[tuple[int, int]] = ((64, 64),),
                 size_group: int = 1, epoch_size: int = 10_000, seed: int = 0) -> None:
        super().__init__(frames=frames, sizes=sizes, size_group=size_group,
                         epoch_size=epoch_size, seed=seed)

    def sample(self, index: int, size: tuple[int, int]) -> dict:
        rng = self.rng(index)
        label = int(rng.integers(len(SHAPE_CLASSES)))
        shape, motion = SHAPES[label // len(SHAPE_MOTIONS)], SHAPE_MOTIONS[label % len(SHAPE_MOTIONS)]
        colour = list(COLOURS)[int(rng.integers(len(COLOURS)))]
        background = rng.uniform(0.0, 0.25, size=3)
        H, W = size
        T = self.frames
        r = rng.uniform(0.10, 0.22) * min(H, W)
        t = np.arange(T, dtype=np.float64)
        if motion == "linear":
            direction = list(_DIRECTIONS)[int(rng.integers(4))]
            dx, dy = _DIRECTIONS[direction]
            room = (W if dx else H) - 2 * r  # travel available along the motion axis
            speed = min(rng.uniform(0.02, 0.06) * min(H, W), room / max(T - 1, 1))
            travel = speed * (T - 1)
            # Start so that the whole path stays inside the frame.
            x0 = rng.uniform(r + max(-dx, 0) * travel, W - r - max(dx, 0) * travel)
            y0 = rng.uniform(r + max(-dy, 0) * travel, H - r - max(dy, 0) * travel)
            xs, ys = x0 + dx * speed * t, y0 + dy * speed * t
            caption = f"a {colour} {shape} moving {direction}"
        else:
            theta = rng.uniform(0, 2 * math.pi)
            speed = rng.uniform(0.03, 0.08) * min(H, W)
            x0, y0 = rng.uniform(r, W - r), rng.uniform(r, H - r)
            xs = _reflect(x0 + speed * math.cos(theta) * t, r, W - r)
            ys = _reflect(y0 + speed * math.sin(theta) * t, r, H - r)
            caption = f"a {colour} {shape} bouncing around"
        py, px = torch.meshgrid(torch.arange(H, dtype=torch.float32) + 0.5,
                                torch.arange(W, dtype=torch.float32) + 0.5, indexing="ij")
        cx = torch.from_numpy(xs).float()[:, None, None]
        cy = torch.from_numpy(ys).float()[:, None, None]
        coverage = (0.5 - shape_sdf(shape, px - cx, py - cy, r)).clamp_(0.0, 1.0)  # (T, H, W)
        fg = torch.tensor(COLOURS[colour]).view(3, 1, 1, 1)
        bg = torch.from_numpy(background).float().view(3, 1, 1, 1)
        video = bg + (fg - bg) * coverage[None]  # (3, T, H, W)
        return {"video": video.contiguous(), "label": label_tensor(label),
                "source": "shapes", "caption": caption}
