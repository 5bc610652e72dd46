"""Built-in procedurally drawn handwritten-style digits 0-9 ("builtin_digits"), an MNIST stand-in.

For runs with no download: 28x28 grayscale, white strokes on black. Each digit is a polyline
template (arcs as short segments) in a unit box; per image the control points get a smooth random
displacement field plus small independent jitter (elastic-ish), then scale, aspect, slant, rotation
and translation; strokes are rendered anti-aliased with a random thickness and brightness from the
distance of each pixel to the nearest segment (vectorized numpy), then mild pixel noise is added.
Classes are balanced: each chunk of 250 holds every digit 25 times, in random order.

Deterministic from `seed`; each split uses its own derived random stream; example i of a split is
the same whatever the count (generation runs in fixed chunks), so `num_examples` may ask for fewer
or more than the defaults (train 10000, validation 1000, test 1000). Arrays are cached as uint8 .npz
under `$TFGM_CACHE/builtin_digits/` (default ~/.cache/tfgm), keyed by (version, seed, split, count).
"""


import numpy as np

from tfgm.data import _generated_cache
from tfgm.data._pipeline import check_split, from_arrays
from tfgm.data.registry import register

VERSION = 1
SIZE = 28
NUM_CLASSES = 10
SPLIT_SIZES = {"train": 10000, "validation": 1000, "test": 1000}
_CHUNK = 250  # a multiple of NUM_CLASSES: every full chunk is exactly balanced
_SPLIT_IDS = {"train": 0, "validation": 1, "test": 2}
_HALF_HEIGHT = 9.5  # pixels from the centre to the top of a digit at scale 1 (MNIST: 20-pixel box)


def _arc(cx, cy, rx, ry, start, stop, k):
    """k + 1 points on an ellipse from angle `start` to `stop` (degrees; 0 = right, 90 = down)."""
    t = np.radians(np.linspace(start, stop, k + 1))
    return [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in t]


# Strokes per digit: lists of (x, y) points, x in about [-0.55, 0.55], y in [-1, 1] (down).
_STROKES = {
    0: [_arc(0, 0, 0.55, 1.0, 0, 360, 14)],
    1: [[(-0.3, -0.65), (0.05, -1.0), (0.05, 1.0)]],
    2: [_arc(0, -0.42, 0.52, 0.56, 195, 380, 7) + [(-0.55, 1.0), (0.58, 1.0)]],
    3: [_arc(0, -0.5, 0.48, 0.5, 200, 450, 7), _arc(0, 0.5, 0.55, 0.5, 270, 520, 7)],
    4: [[(0.28, 1.0), (0.28, -1.0), (-0.58, 0.35), (0.58, 0.35)]],
    5: [[(0.52, -1.0), (-0.4, -1.0), (-0.45, -0.08)] + _arc(0, 0.4, 0.52, 0.6, 235, 510, 8)],
    6: [_arc(0.55, 0.45, 1.05, 1.4, 255, 180, 4), _arc(0, 0.45, 0.52, 0.55, 180, 540, 10)],
    7: [[(-0.58, -1.0), (0.58, -1.0), (-0.08, 1.0)]],
    8: [_arc(0, -0.5, 0.42, 0.5, 90, 450, 10), _arc(0, 0.48, 0.53, 0.52, -90, 270, 12)],
    9: [_arc(0, -0.45, 0.52, 0.55, 0, 360, 10), [(0.52, -0.45), (0.45, 0.3), (0.25, 1.0)]],
}


def _templates():
    """Points (10, P, 2), segments as point-index pairs (10, S, 2) and a segment mask (10, S)."""
    points, segments = [], []
    for digit in range(NUM_CLASSES):
        pts, segs = [], []
        for stroke in _STROKES[digit]:
            first = len(pts)
            pts.extend(stroke)
            segs.extend((first + j, first + j + 1) for j in range(len(stroke) - 1))
        points.append(pts)
        segments.append(segs)
    n_points = max(len(p) for p in points)
    n_segments = max(len(s) for s in segments)
    P = np.zeros((NUM_CLASSES, n_points, 2), np.float32)
    S = np.zeros((NUM_CLASSES, n_segments, 2), np.int64)
    mask = np.zeros((NUM_CLASSES, n_segments), bool)
    for d in range(NUM_CLASSES):
        P[d, : len(points[d])] = points[d]
        S[d, : len(segments[d])] = segments[d]
        mask[d, : len(segments[d])] = True
    return P, S, mask


_POINTS, _SEGMENTS, _SEGMENT_MASK = _templates()


def sample_labels(rng, n=_CHUNK):
    """int32 (n,) labels: a random order of every class n / 10 times (n a multiple of 10)."""
    return rng.permutation(np.arange(n) % NUM_CLASSES).astype(np.int32)


def sample_style(rng, n):
    """Per-image style parameters (dict of (n,)/(n, k) float32 arrays, and a noise seed)."""

    def uniform(lo, hi, shape=()):
        return rng.uniform(lo, hi, (n, *shape)).astype(np.float32)

    return {
        "scale": uniform(0.78, 1.05), "aspect": uniform(0.75, 1.25), "slant": uniform(-0.35, 0.35),
        "rotation": uniform(-0.2, 0.2), "dx": uniform(-2.0, 2.0), "dy": uniform(-1.5, 1.5),
        "warp_amp": uniform(0.0, 0.09, (2, 2)), "warp_freq": uniform(1.0, 3.0, (2, 2, 2)),
        "warp_phase": uniform(0.0, 6.3, (2, 2)),
        "jitter": (0.035 * rng.standard_normal((n, _POINTS.shape[1], 2))).astype(np.float32),
        "half_width": uniform(0.8, 1.9), "brightness": uniform(0.85, 1.0), "noise": uniform(0.0, 0.04),
        "noise_seed": rng.integers(0, 2**31 - 1, ()),
    }  # fmt: skip


def render(labels, style):
    """int (n,) digits + style dict -> uint8 (n, 28, 28, 1) images."""
    n = len(labels)
    p = _POINTS[labels] + style["jitter"]  # (n, P, 2)
    # smooth displacement field: two sinusoids per coordinate, evaluated at each control point
    arg = np.einsum("npc,nkdc->nkdp", p, style["warp_freq"]) + style["warp_phase"][..., None]
    p = p + np.einsum("nkd,nkdp->npd", style["warp_amp"], np.sin(arg))
    x, y = p[..., 0] * style["aspect"][:, None], p[..., 1]
    x = x - style["slant"][:, None] * y  # slant: the top leans right for positive values
    cos, sin = np.cos(style["rotation"])[:, None], np.sin(style["rotation"])[:, None]
    x, y = cos * x - sin * y, sin * x + cos * y
    pixels = _HALF_HEIGHT * style["scale"][:, None]
    x = SIZE / 2 + style["dx"][:, None] + pixels * x  # (n, P) in pixels
    y = SIZE / 2 + style["dy"][:, None] + pixels * y
    seg = _SEGMENTS[labels]  # (n, S, 2)

    def ends(end):
        return (np.take_along_axis(c, seg[..., end], axis=1)[..., None] for c in (x, y))  # (n, S, 1)

    (ax, ay), (bx, by) = ends(0), ends(1)
    grid = np.arange(SIZE, dtype=np.float32) + 0.5
    qx, qy = np.tile(grid, SIZE)[None, None], np.repeat(grid, SIZE)[None, None]  # (1, 1, H*W), row-major
    ux, uy = bx - ax, by - ay
    inv = 1.0 / np.maximum(ux * ux + uy * uy, np.float32(1e-6))
    vx, vy = qx - ax, qy - ay  # (n, S, H*W)
    t = np.clip((vx * ux + vy * uy) * inv, 0.0, 1.0)
    vx -= t * ux
    vy -= t * uy
    d2 = vx * vx + vy * vy
    d2[~_SEGMENT_MASK[labels]] = np.inf
    dist = np.sqrt(d2.min(axis=1)).reshape(n, SIZE, SIZE)
    ink = np.clip((style["half_width"][:, None, None] + 0.6 - dist) / 1.2, 0.0, 1.0)
    images = ink * style["brightness"][:, None, None]
    noise_rng = np.random.default_rng(int(style["noise_seed"]))
    noise = noise_rng.standard_normal((_CHUNK, SIZE, SIZE), dtype=np.float32)[:n]
    images = images + noise * style["noise"][:, None, None]
    return np.clip(np.rint(images * 255), 0, 255).astype(np.uint8)[..., None]


def generate(count, seed=0, split="train"):
    """(uint8 (count, 28, 28, 1), int32 (count,)) for `split`.

    Generated in chunks of 250 with a stream per (seed, split, chunk), so a prefix of a longer set
    equals a shorter set.
    """
    check_split(split, "builtin_digits")

    def make_chunk(rng, n):
        labels = sample_labels(rng)
        return render(labels[:n], _generated_cache.first(sample_style(rng, _CHUNK), n)), labels[:n]

    empty = (np.zeros((0, SIZE, SIZE, 1), np.uint8), np.zeros((0,), np.int32))
    return _generated_cache.in_chunks(count, _CHUNK, [VERSION, seed, _SPLIT_IDS[split]], make_chunk, empty)


def cache_dir():
    """$TFGM_CACHE/builtin_digits (default ~/.cache/tfgm/builtin_digits)."""
    return _generated_cache.cache_dir("builtin_digits")


def arrays(split="train", count=None, seed=0):
    """Cached `generate(count, seed, split)`; count defaults to SPLIT_SIZES[split]."""
    check_split(split, "builtin_digits")
    count = SPLIT_SIZES[split] if count is None else int(count)
    return _generated_cache.cached_arrays("builtin_digits", VERSION, split, count, seed, generate, "labels", np.int32)


def load(split="train", seed=0, num_examples=None):
    """Unbatched dataset of {"image": float32 28x28x1 in [0, 1], "label": int32 in 0..9}."""
    images, labels = arrays(split, num_examples, seed)
    return from_arrays(images, labels=labels)


register("builtin_digits", lambda split, seed=0, num_examples=None, **_: load(split, seed, num_examples))
