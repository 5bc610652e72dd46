"""User arrays from a .npz file ("npz").

Keys: `x` images, uint8 (or any integer type) in [0, 255] or float in [0, 1] (not boolean), shape NxHxWxC
(C = 1 or 3) or NxHxW (a channel axis is added); optional `y`: shape (N,) -> int32 "label",
shape (N, K) -> float32 "attributes", each 0 or 1 (1: the attribute is present).
Images smaller than the size a recipe asks for (`image_size`) are refused rather than upscaled; larger ones are
resized down by the loader. Per-split files must agree: every split with labels (or none), one K.
Splits: if the file has per-split keys (`x_train`, `x_test`, `x_validation` or `x_val`, with matching
`y_*`), those are used; a missing validation split is then the last 10% of `x_train` (and "train"
the first 90%). Otherwise `x` is split by index: i % 10 == 8 -> validation, 9 -> test, else train.
"""

import os
import zipfile

import numpy as np

from tfgm.data._pipeline import check_split, from_arrays, interleaved_split
from tfgm.data.errors import DataError
from tfgm.data.registry import register

_SPLIT_KEYS = {"train": ("train",), "validation": ("validation", "val", "valid"), "test": ("test",)}


def _find(keys, stem, split):
    for suffix in _SPLIT_KEYS[split]:
        if f"{stem}_{suffix}" in keys:
            return f"{stem}_{suffix}"
    return None


def _select(file, keys, split):
    """(x key, y key or None, index selection or None) for `split`."""
    if not any(k.startswith("x_") for k in keys):
        if "x" not in keys:
            raise DataError(
                f"{file} has no 'x' array (keys: {sorted(keys)}); save images as "
                "np.savez(path, x=images, y=labels) or with x_train/x_test keys."
            )
        return "x", ("y" if "y" in keys else None), lambda n: interleaved_split(n, split)
    carve = split in ("train", "validation") and "x_train" in keys and _find(keys, "x", "validation") is None
    x_key = "x_train" if carve else _find(keys, "x", split)
    if x_key is None:
        raise DataError(
            f"{file} has per-split keys but none for the {split!r} split (keys: {sorted(keys)}); "
            f"add x_{split} (and y_{split}) or use a single 'x' array."
        )
    def rows(n):
        cut = n - n // 10
        return np.arange(cut) if split == "train" else np.arange(cut, n)

    y_key = "y" + x_key[1:]
    return x_key, (y_key if y_key in keys else None), rows if carve else None


def _check_images(file, key, x):
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise DataError(
            f"{file}: '{key}' has shape {x.shape}; expected NxHxW or NxHxWxC with C = 1 or 3."
        )
    if np.issubdtype(x.dtype, np.floating):
        if not np.isfinite(x).all():
            raise DataError(f"{file}: '{key}' contains NaN or infinite values; clean or drop those images.")
        lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)
        if lo < 0.0 or hi > 1.0:
            raise DataError(
                f"{file}: float '{key}' has values in [{lo:g}, {hi:g}] but must be in [0, 1]; "
                "if they are 0..255 pixel values, divide by 255 (or store them as uint8)."
            )
        return x.astype(np.float32, copy=False)
    if x.dtype == np.bool_:
        raise DataError(
            f"{file}: '{key}' is boolean (True/False); store pixels as uint8 0..255 "
            f"({key}.astype(np.uint8) * 255) or float 0..1 ({key}.astype(np.float32))."
        )
    if np.issubdtype(x.dtype, np.integer):
        if x.size and (int(x.min()) < 0 or int(x.max()) > 255):
            raise DataError(
                f"{file}: integer '{key}' has values outside 0..255; store uint8 0..255 or float 0..1."
            )
        return x.astype(np.uint8, copy=False)
    raise DataError(f"{file}: '{key}' has dtype {x.dtype}; store uint8 0..255 or float 0..1.")


def _check_targets(file, key, y, n):
    if len(y) != n:
        raise DataError(f"{file}: '{key}' has {len(y)} entries but the images have {n}; they must match.")
    if y.ndim not in (1, 2):
        raise DataError(f"{file}: '{key}' has shape {y.shape}; expected (N,) labels or (N, K) attributes.")
    if not (np.issubdtype(y.dtype, np.number) or y.dtype == np.bool_):
        raise DataError(f"{file}: '{key}' has dtype {y.dtype}; store numbers.")
    values = y.astype(np.float64)
    if not np.isfinite(values).all():
        raise DataError(f"{file}: '{key}' contains NaN or infinite values.")
    if y.ndim == 1:
        if np.any(values != np.round(values)):
            raise DataError(
                f"{file}: labels '{key}' must be integers; for per-example vectors use shape (N, K)."
            )
        return {"labels": y.astype(np.int32)}
    odd = np.unique(values[(values != 0) & (values != 1)])
    if odd.size:
        fix = ("map them with (y + 1) / 2" if set(np.unique(values)) <= {-1.0, 1.0}
               else "store 1 where an attribute is present and 0 where it is not")
        raise DataError(
            f"{file}: attributes '{key}' must be 0 or 1, found {', '.join(f'{v:g}' for v in odd[:5])}; {fix}."
        )
    return {"attributes": y.astype(np.float32)}


def _check_size(file, key, x, image_size):
    """Refuse images smaller than `image_size` (H, W): upscaling them would invent detail without a word."""
    if image_size is None:
        return
    height, width = x.shape[1:3]
    if height < image_size[0] or width < image_size[1]:
        raise DataError(
            f"{file}: '{key}' holds {height}×{width} images but {image_size[0]}×{image_size[1]} are needed; "
            "upscaling would blur them silently: store images of at least that size, or choose a recipe (or an "
            "image-size flag) made for this size."
        )


def _check_splits_agree(file, data, keys):
    """Per-split files: labels for every split or none, and one shape of labels/attributes (K) for all."""
    x_keys = sorted(k for k in keys if k.startswith("x_"))
    shapes = {x: data["y" + x[1:]].shape[1:] if "y" + x[1:] in keys else None for x in x_keys}
    with_y = [x for x, shape in shapes.items() if shape is not None]
    if with_y and len(with_y) != len(x_keys):
        missing = ", ".join("y" + x[1:] for x in x_keys if shapes[x] is None)
        raise DataError(f"{file}: {', '.join('y' + x[1:] for x in with_y)} given but not {missing}; every split "
                        "needs its labels (or attributes), or drop them all.")
    if len({shapes[x] for x in with_y}) > 1:
        listed = ", ".join(f"{'y' + x[1:]} {('(N, ' + str(shapes[x][0]) + ')') if shapes[x] else '(N,)'}"
                           for x in with_y)
        raise DataError(f"{file}: the splits' targets differ in shape ({listed}); store the same labels or K "
                        "attributes for every split.")


def load(path, split="train", image_size=None):
    """Unbatched dataset of {"image": float32 HxWxC in [0, 1], "label" | "attributes"} from a .npz; `image_size`
    (H, W): the size the caller will resize to (smaller images are refused)."""
    check_split(split, "npz")
    if path is None:
        raise DataError(
            "the npz source needs path=FILE.npz (arrays saved with np.savez(FILE, x=..., y=...))."
        )
    file = os.fspath(path)
    if not os.path.isfile(file):
        raise DataError(
            f"npz file {file} does not exist; check the path (np.savez(FILE, x=..., y=...) makes one)."
        )
    try:
        with np.load(file, allow_pickle=False) as data:
            keys = set(data.files)
            x_key, y_key, rows = _select(file, keys, split)
            _check_splits_agree(file, data, keys)
            x = data[x_key]
            y = data[y_key] if y_key else None
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        if isinstance(exc, DataError):
            raise
        message = f"cannot read {file} as .npz ({exc}); write it with np.savez or np.savez_compressed."
        raise DataError(message) from exc
    x = _check_images(file, x_key, x)
    _check_size(file, x_key, x, image_size)
    targets = _check_targets(file, y_key, y, len(x)) if y is not None else {}
    if rows is not None:
        index = rows(len(x))
        x = x[index]
        targets = {k: v[index] for k, v in targets.items()}
    if len(x) == 0:
        raise DataError(f"{file}: the {split!r} split is empty; store more examples or per-split keys.")
    return from_arrays(x, **targets)


register("npz", lambda split, path=None, image_size=None, **_: load(path, split, image_size))
