"""Disk cache of the built-in generated datasets: uint8 .npz files under $TFGM_CACHE (default ~/.cache/tfgm)."""

import os
import tempfile

import numpy as np


def cache_dir(name):
    """$TFGM_CACHE/<name> (default ~/.cache/tfgm/<name>)."""
    root = os.environ.get("TFGM_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "tfgm")
    return os.path.join(root, name)


def cached_arrays(name, version, split, count, seed, generate, target_key, target_dtype):
    """(images uint8, targets) of `generate(count, seed, split)`, read from the cache when present.

    Targets are stored as uint8 under `target_key` and returned as `target_dtype`. A cache file is written
    to a temp file and renamed; an unreadable one is regenerated, an unwritable cache is skipped.
    """
    file = os.path.join(cache_dir(name), f"v{version}_seed{seed}_{split}_{count}.npz")
    if os.path.isfile(file):
        try:
            with np.load(file) as data:
                return data["images"], data[target_key].astype(target_dtype)
        except (OSError, ValueError, KeyError):
            pass
    images, targets = generate(count, seed, split)
    _write(file, images=images, **{target_key: targets.astype(np.uint8)})
    return images, targets


def _write(file, **arrays):
    tmp = None
    try:
        os.makedirs(os.path.dirname(file), exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".tmp", dir=os.path.dirname(file))
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, file)
    except OSError:
        if tmp and os.path.exists(tmp):
            os.remove(tmp)
