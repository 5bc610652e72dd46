"""Built-in procedurally drawn objects on varied backgrounds ("builtin_objects"), a CIFAR-10/SVHN stand-in.

For runs with no download: 32x32 RGB, 10 classes (CLASS_NAMES), one object per image drawn with
vectorized numpy: each class is an implicit shape in object coordinates (a norm-like function that
is 1 on the outline), so the mask is anti-aliased from the distance to the outline in pixels.
Nuisance variation: object size, position and rotation (+-20 degrees, so square / diamond and
horizontal / vertical bars stay distinct; free for the star), object colour (kept away from the
background), background colour pair with a gradient in a random direction, a low-frequency
background texture, a soft shading across the object, and pixel noise.
Classes are balanced: each chunk of 250 holds every class 25 times, in random order.

Deterministic from `seed`; each split uses its own derived random stream; example i of a split is
the same whatever the count (generation runs in fixed chunks), so `num_examples` may ask for fewer
or more than the defaults (train 10000, validation 1000, test 1000). Arrays are cached as uint8 .npz
under `$TFGM_CACHE/builtin_objects/` (default ~/.cache/tfgm), keyed by (version, seed, split, count).
"""


import numpy as np

from tfgm.data import _generated_cache
from tfgm.data._pipeline import check_split, from_arrays
from tfgm.data.registry import register

VERSION = 1
SIZE = 32
CLASS_NAMES = (
    "circle", "square", "triangle", "ring", "cross", "horizontal_bars", "vertical_bars", "checker",
    "diamond", "star",
)  # fmt: skip
NUM_CLASSES = len(CLASS_NAMES)
SPLIT_SIZES = {"train": 10000, "validation": 1000, "test": 1000}
_CHUNK = 250  # a multiple of NUM_CLASSES: every full chunk is exactly balanced
_SPLIT_IDS = {"train": 0, "validation": 1, "test": 2}
(CIRCLE, SQUARE, TRIANGLE, RING, CROSS, H_BARS, V_BARS, CHECKER, DIAMOND, STAR) = range(NUM_CLASSES)


def sample_labels(rng, n=_CHUNK):
    """int32 (n,) labels: a random order of every class n / 10 times (n a multiple of 10)."""
    return rng.permutation(np.arange(n) % NUM_CLASSES).astype(np.int32)


def sample_nuisance(rng, n):
    """Per-image nuisance parameters (dict of (n,)/(n, k) float32 arrays, and a noise seed)."""

    def uniform(lo, hi, shape=()):
        return rng.uniform(lo, hi, (n, *shape)).astype(np.float32)

    return {
        "cx": uniform(13.0, 19.0), "cy": uniform(13.0, 19.0), "radius": uniform(7.0, 11.5),
        "rotation": uniform(-0.35, 0.35), "star_phase": uniform(0.0, 2 * np.pi), "stripes": uniform(2.2, 3.2),
        "cells": rng.integers(3, 6, n).astype(np.float32),
        "color": uniform(0.0, 1.0, (3,)), "bg1": uniform(0.0, 1.0, (3,)), "bg2": uniform(0.0, 1.0, (3,)),
        "bg_angle": uniform(0.0, 2 * np.pi), "texture_amp": uniform(0.0, 0.08),
        "texture_freq": uniform(0.1, 0.45, (2,)), "texture_phase": uniform(0.0, 2 * np.pi, (2,)),
        "shade": uniform(-0.25, 0.25, (2,)), "noise": uniform(0.005, 0.04),
        "noise_seed": rng.integers(0, 2**31 - 1, ()),
    }  # fmt: skip


def _level(labels, u, v, nz):
    """Norm-like level (n, H, W): < 1 inside the object, 1 on its outline; u, v in radius units."""
    rho = np.sqrt(u * u + v * v)
    box = np.maximum(np.abs(u), np.abs(v))
    level = np.empty_like(u)

    def put(k, value):
        rows = labels == k
        level[rows] = value[rows] if np.ndim(value) else value

    put(CIRCLE, rho)
    put(SQUARE, box * 1.15)
    # equilateral triangle pointing up: the largest of three edge-normal projections (inradius 0.55)
    edges = [np.cos(a) * u + np.sin(a) * v for a in np.radians([90.0, 210.0, 330.0])]
    put(TRIANGLE, (np.maximum(np.maximum(edges[0], edges[1]), edges[2]) - 0.12) / 0.55)
    put(RING, np.abs(rho - 0.72) / 0.28)
    arm = 0.32
    put(CROSS, np.minimum(np.maximum(np.abs(u), np.abs(v) / arm), np.maximum(np.abs(u) / arm, np.abs(v))))
    # bars / checker: inside a square, the "off" half of a square wave is pushed outside
    freq = nz["stripes"] * np.pi
    h_wave, v_wave = np.cos(freq * v), np.cos(freq * u)
    put(H_BARS, np.maximum(box * 1.05, 1.0 - 0.5 * h_wave))
    put(V_BARS, np.maximum(box * 1.05, 1.0 - 0.5 * v_wave))
    cell = nz["cells"] * (0.5 * 1.05 * np.pi)  # 3-5 whole cells across the square
    put(CHECKER, np.maximum(box * 1.05, 1.0 - np.cos(cell * u) * np.cos(cell * v)))
    put(DIAMOND, (np.abs(u) + np.abs(v)) / 1.25)
    theta = np.arctan2(v, u) + nz["star_phase"]
    put(STAR, rho / (0.62 + 0.38 * np.cos(5 * theta)))
    return level


def render(labels, nuisance):
    """int (n,) classes + nuisance dict -> uint8 (n, 32, 32, 3) images."""
    n = len(labels)
    nz = {k: (v[:, None, None] if np.ndim(v) == 1 else v) for k, v in nuisance.items()}
    grid = np.arange(SIZE, dtype=np.float32) + 0.5
    X, Y = grid[None, None, :], grid[None, :, None]
    r = nz["radius"]
    cos, sin = np.cos(nz["rotation"]), np.sin(nz["rotation"])
    du, dv = (X - nz["cx"]) / r, (Y - nz["cy"]) / r
    u, v = cos * du + sin * dv, -sin * du + cos * dv
    level = _level(labels, u, v, nz)
    # the level is about distance / radius near the outline: scale to pixels for a 1-pixel soft edge
    mask = np.clip(0.5 + (1.0 - level) * r * 0.8, 0.0, 1.0)[..., None]  # (n, H, W, 1)

    angle = nz["bg_angle"]
    ramp = (np.cos(angle) * (X - SIZE / 2) + np.sin(angle) * (Y - SIZE / 2)) / SIZE + 0.5
    bg1, bg2 = nuisance["bg1"][:, None, None, :], nuisance["bg2"][:, None, None, :]
    background = bg1 + np.clip(ramp, 0, 1)[..., None] * (bg2 - bg1)
    tf_, tp = nuisance["texture_freq"], nuisance["texture_phase"]
    texture = np.sin(tf_[:, 0, None, None] * X + tp[:, 0, None, None]) * np.sin(
        tf_[:, 1, None, None] * Y + tp[:, 1, None, None]
    )
    background = background + (nz["texture_amp"] * texture)[..., None]
    # object colour: far enough from the background's mean colour to be seen
    color = nuisance["color"]
    bg_mean = 0.5 * (nuisance["bg1"] + nuisance["bg2"])
    close = np.linalg.norm(color - bg_mean, axis=1, keepdims=True) < 0.45
    color = np.where(close, (bg_mean + 0.5) % 1.0, color)[:, None, None, :]
    shade = 1.0 + nuisance["shade"][:, 0, None, None] * du + nuisance["shade"][:, 1, None, None] * dv
    foreground = color * np.clip(shade, 0.6, 1.4)[..., None]
    images = background + mask * (foreground - background)
    noise_rng = np.random.default_rng(int(nuisance["noise_seed"]))
    noise = noise_rng.standard_normal((_CHUNK, SIZE, SIZE, 3), dtype=np.float32)[:n]
    images = images + noise * nz["noise"][..., None]
    return np.clip(np.rint(images * 255), 0, 255).astype(np.uint8)


def generate(count, seed=0, split="train"):
    """(uint8 (count, 32, 32, 3), int32 (count,)) for `split`.

    Generated in chunks of 250 with a stream per (seed, split, chunk), so a prefix of a longer set
    equals a shorter set.
    """
    check_split(split, "builtin_objects")

    def make_chunk(rng, n):
        labels = sample_labels(rng)
        return render(labels[:n], _generated_cache.first(sample_nuisance(rng, _CHUNK), n)), labels[:n]

    empty = (np.zeros((0, SIZE, SIZE, 3), np.uint8), np.zeros((0,), np.int32))
    return _generated_cache.in_chunks(count, _CHUNK, [VERSION, seed, _SPLIT_IDS[split]], make_chunk, empty)


def cache_dir():
    """$TFGM_CACHE/builtin_objects (default ~/.cache/tfgm/builtin_objects)."""
    return _generated_cache.cache_dir("builtin_objects")


def arrays(split="train", count=None, seed=0):
    """Cached `generate(count, seed, split)`; count defaults to SPLIT_SIZES[split]."""
    check_split(split, "builtin_objects")
    count = SPLIT_SIZES[split] if count is None else int(count)
    return _generated_cache.cached_arrays("builtin_objects", VERSION, split, count, seed, generate, "labels", np.int32)


def load(split="train", seed=0, num_examples=None):
    """Unbatched dataset of {"image": float32 32x32x3 in [0, 1], "label": int32 in 0..9}."""
    images, labels = arrays(split, num_examples, seed)
    return from_arrays(images, labels=labels)


register("builtin_objects", lambda split, seed=0, num_examples=None, **_: load(split, seed, num_examples))
