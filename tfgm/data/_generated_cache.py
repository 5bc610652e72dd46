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


def in_chunks(count, chunk_size, stream, make_chunk, empty):
    """(images, targets) of `count` examples made `chunk_size` at a time by `make_chunk(rng, n)`.

    Chunk c draws from `np.random.default_rng([*stream, c])` and always samples a full chunk's parameters
    before keeping the first n, so a shorter set is a prefix of a longer one. `empty` is returned for count 0.
    """
    images, targets = [], []
    for chunk in range((count + chunk_size - 1) // chunk_size):
        n = min(chunk_size, count - chunk * chunk_size)
        chunk_images, chunk_targets = make_chunk(np.random.default_rng([*stream, chunk]), n)
        images.append(chunk_images)
        targets.append(chunk_targets)
    if not images:
        return empty
    return np.concatenate(images), np.concatenate(targets)


def first(params, n):
    """A dict of sampled parameters cut to its first n entries (scalars kept)."""
    return {k: v[:n] if np.ndim(v) else v for k, v in params.items()}
