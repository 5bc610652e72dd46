"""Image grids: tile a batch of images into one picture and write it as an 8-bit PNG."""

from __future__ import annotations

import io
import os

import numpy as np
from PIL import Image

from .atomic import atomic_path


def make_grid(images: np.ndarray, nrow: int | None = None, padding: int = 2, pad_value: float = 1.0) -> np.ndarray:
    """Tile images into one image.

    ``images``: ``[N, H, W, C]`` (any float range, C usually 1 or 3), or ``[R, K, H, W, C]`` meaning
    R rows of K images (e.g. originals above reconstructions, one interpolation per row).
    ``nrow``: images per row (the number of columns); default K for 5-D input, else ``ceil(sqrt(N))``.
    ``padding`` pixels of ``pad_value`` separate the images and frame the grid; empty cells of the last
    row are filled with ``pad_value``.
    Returns ``[rows * (H + padding) + padding, nrow * (W + padding) + padding, C]`` float32.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 5:
        nrow = images.shape[1] if nrow is None else nrow
        images = images.reshape((-1, *images.shape[2:]))
    if images.ndim != 4:
        raise ValueError(f"images must be [N, H, W, C] or [R, K, H, W, C], got shape {images.shape}")
    n, h, w, c = images.shape
    if n == 0:
        raise ValueError("make_grid got no images (N = 0)")
    if padding < 0:
        raise ValueError(f"padding must be >= 0, got {padding}")
    ncol = int(nrow) if nrow is not None else int(np.ceil(np.sqrt(n)))
    if ncol < 1:
        raise ValueError(f"nrow must be >= 1, got {nrow}")
    ncol = min(ncol, n)
    rows = -(-n // ncol)
    grid = np.full((rows * (h + padding) + padding, ncol * (w + padding) + padding, c), pad_value, np.float32)
    for i in range(n):
        top = padding + (i // ncol) * (h + padding)
        left = padding + (i % ncol) * (w + padding)
        grid[top : top + h, left : left + w] = images[i]
    return grid


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Float image in [0, 1] (values outside are clipped) -> uint8 in [0, 255], rounded; uint8 passes."""
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image
    image = image.astype(np.float32)
    if not np.all(np.isfinite(image)):
        raise ValueError("image contains NaN or infinite values; cannot write it as PNG")
    return np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def encode_png(image: np.ndarray) -> bytes:
    """Encode an ``[H, W, C]`` (C = 1 or 3) or ``[H, W]`` float image in [0, 1] as 8-bit PNG bytes."""
    pixels = to_uint8(image)
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[-1] != 3):
        raise ValueError(f"image must be [H, W, 1], [H, W, 3] or [H, W], got shape {np.shape(image)}")
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)


def save_png(path: str | os.PathLike, image: np.ndarray) -> None:
    """Write an ``[H, W, C]`` (C = 1 or 3) or ``[H, W]`` float image in [0, 1] (clipped; uint8 passes
    unchanged) as an 8-bit PNG, atomically; parent folders are created."""
    write_bytes_atomic(path, encode_png(image))
