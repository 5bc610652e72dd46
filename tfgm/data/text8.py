"""text8 character data ("text8") from a local text8.zip, and token arrays from .npz files.

text8 (Mahoney) is the first 10⁸ characters of cleaned English Wikipedia: lowercase a–z and single
spaces. It is not in TFDS; pass the text8.zip that mattmahoney.net/dc/text8.zip distributes (one member,
`text8`). Symbols: 27, id 0 = space, ids 1..26 = a..z (`ALPHABET`). Splits: the standard 90M / 5M / 5M
characters (train / validation / test); a file of another length is split in the same proportions
(first 90 %, next 5 %, last 5 %).

`read_split(path, split)` gives the ids of a split (uint8 [n]); `load(path, split)` a dataset of
{"tokens": int32 [sequence_length]}, consecutive non-overlapping windows (default 180 characters).
`read_npz(path, split)` reads token ids from an .npz (`x` 1-D ids, or `x_train`/`x_validation`/`x_test`).
"""

import os
import zipfile

import numpy as np
import tensorflow as tf

from tfgm.data._pipeline import check_split
from tfgm.data.errors import DataError
from tfgm.data.registry import register

ALPHABET = " abcdefghijklmnopqrstuvwxyz"
VOCAB_SIZE = len(ALPHABET)
SPLIT_FRACTIONS = {"train": (0.0, 0.9), "validation": (0.9, 0.95), "test": (0.95, 1.0)}
SEQUENCE_LENGTH = 180
MEMBER = "text8"

_LOOKUP = np.full(256, 255, np.uint8)
_LOOKUP[np.frombuffer(ALPHABET.encode("ascii"), np.uint8)] = np.arange(VOCAB_SIZE, dtype=np.uint8)
_cache = {}


def encode(text):
    """str of ALPHABET characters → uint8 ids [len(text)]; DataError naming the first other character."""
    raw = np.frombuffer(text.encode("latin-1", errors="replace"), np.uint8)
    return _to_ids(raw, "the text")


def decode(ids):
    """Ids (any int array, values in 0..26) → str."""
    return "".join(ALPHABET[int(i)] for i in np.asarray(ids).ravel())


def _to_ids(raw, where):
    ids = _LOOKUP[raw]
    bad = np.flatnonzero(ids == 255)
    if bad.size:
        at = int(bad[0])
        raise DataError(f"{where} has the character {bytes([raw[at]])!r} at offset {at}; text8 holds only "
                        "lowercase a-z and spaces (27 symbols). Pass the original text8.zip "
                        "(mattmahoney.net/dc/text8.zip) or clean the text first.")
    return ids


def _read_all(file):
    stat = os.stat(file)
    key = (os.path.abspath(file), stat.st_size, stat.st_mtime_ns)
    if key in _cache:
        return _cache[key]
    try:
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
            member = MEMBER if MEMBER in names else (names[0] if len(names) == 1 else None)
            if member is None:
                raise DataError(f"{file} has no member '{MEMBER}' (members: {names[:10]}); pass the text8.zip "
                                "from mattmahoney.net/dc/text8.zip, which holds the single file 'text8'.")
            raw = np.frombuffer(archive.read(member), np.uint8)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"cannot read {file} as a zip archive ({exc}); pass the text8.zip from "
                        "mattmahoney.net/dc/text8.zip (not unpacked).") from exc
    ids = _to_ids(raw, f"{file}:{member}")
    if ids.size < 100:
        raise DataError(f"{file}:{member} holds only {ids.size} characters; text8 has 100,000,000.")
    _cache.clear()
    _cache[key] = ids
    return ids


def _check_file(path):
    if path is None:
        raise DataError("the text8 source needs path=text8.zip (recipes: --text8 PATH); download "
                        "mattmahoney.net/dc/text8.zip once and pass its local path.")
    file = os.fspath(path)
    if not os.path.isfile(file):
        raise DataError(f"text8 file {file} does not exist; download mattmahoney.net/dc/text8.zip and pass its "
                        "path (recipes: --text8 PATH, or --quick for the built-in corpus).")
    return file


def split_bounds(n, split):
    """(start, stop) character offsets of `split` in a text of n characters (90/5/5 %)."""
    check_split(split, "text8")
    lo, hi = SPLIT_FRACTIONS[split]
    return int(round(n * lo)), int(round(n * hi))


def read_split(path, split="train"):
    """Ids uint8 [n] (0 = space, 1..26 = a..z) of `split` of the text8.zip at `path`."""
    ids = _read_all(_check_file(path))
    start, stop = split_bounds(ids.size, split)
    return ids[start:stop]


def read_npz(path, split="train"):
    """Ids uint8 [n] of `split` from an .npz: per-split `x_train`/`x_validation`/`x_test`, or one `x` split
    90/5/5 % like text8. Arrays: 1-D integers in 0..26."""
    check_split(split, "npz")
    if path is None or not os.path.isfile(os.fspath(path)):
        raise DataError(f"npz file {path} does not exist; save token ids with np.savez(FILE, x=ids) "
                        "(1-D ints, 0 = space, 1..26 = a..z).")
    file = os.fspath(path)
    try:
        with np.load(file, allow_pickle=False) as data:
            keys = set(data.files)
            key = f"x_{split}" if f"x_{split}" in keys else ("x" if "x" in keys else None)
            if key is None:
                raise DataError(f"{file} has no 'x' or 'x_{split}' array (keys: {sorted(keys)}); save 1-D token "
                                "ids with np.savez(FILE, x=ids).")
            x = data[key]
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"cannot read {file} as .npz ({exc}); write it with np.savez.") from exc
    if x.ndim != 1 or not np.issubdtype(x.dtype, np.integer) or x.size == 0:
        raise DataError(f"{file}: '{key}' has shape {x.shape} and dtype {x.dtype}; expected non-empty 1-D "
                        "integer token ids.")
    if int(x.min()) < 0 or int(x.max()) >= VOCAB_SIZE:
        raise DataError(f"{file}: '{key}' has ids in [{int(x.min())}, {int(x.max())}]; text ids must be in "
                        f"0..{VOCAB_SIZE - 1} (0 = space, 1..26 = a..z).")
    x = x.astype(np.uint8)
    if key == "x":
        start, stop = split_bounds(x.size, split)
        x = x[start:stop]
    return x


def windows(ids, sequence_length=SEQUENCE_LENGTH, num_examples=None):
    """Consecutive non-overlapping windows of `ids`: int32 [n, sequence_length] (the tail is dropped)."""
    count = len(ids) // int(sequence_length)
    if num_examples is not None:
        count = min(count, int(num_examples))
    if count == 0:
        raise DataError(f"the split has {len(ids)} characters, fewer than one window of {sequence_length}.")
    return np.asarray(ids[:count * sequence_length], np.int32).reshape(count, int(sequence_length))


def load(path, split="train", sequence_length=SEQUENCE_LENGTH, num_examples=None):
    """Unbatched dataset of {"tokens": int32 [sequence_length]} from the text8.zip at `path`."""
    tokens = windows(read_split(path, split), sequence_length, num_examples).astype(np.uint8)
    return tf.data.Dataset.from_tensor_slices(tokens).map(lambda t: {"tokens": tf.cast(t, tf.int32)})


register("text8", lambda split, path=None, num_examples=None, **_: load(path, split, num_examples=num_examples))
