"""Atomic file writes: write to a temporary file in the target's folder, then ``os.replace``."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import pathlib
import re
import shutil
import uuid
from typing import Any, Iterator

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[str]:
    """Yield a temporary path next to ``path``; on success move it onto ``path``, else delete it.

    ``suffix`` is appended to the temporary name (some writers need the extension, e.g. ``.keras``).
    Readers never see a half-written ``path``: they see the old file or the complete new one.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex[:12]}.tmp{suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


_STALE = (
    re.compile(r"^\..+\.[0-9a-f]{12}\.tmp.*$"),  # atomic_path's temporary files
    re.compile(r"^\.tmp-\d+-[0-9a-f]{8}$"),  # export's unpublished SavedModel versions
    re.compile(r"^ckpt-\d+_temp$"),  # TensorFlow's shards of an unfinished checkpoint save ("ckpt-N_temp/")
)


def remove_stale_temporaries(folder: str | os.PathLike) -> tuple[int, int]:
    """Remove what killed writers left under ``folder``: atomic_path's temporaries, export's unpublished
    SavedModel folders and TensorFlow's ``<checkpoint>_temp`` folders. Call it only while no other process
    writes there (a run holds its ``RunLock``). Returns (entries removed, bytes freed)."""
    removed, freed = 0, 0
    for root, dirs, files in os.walk(os.fspath(folder)):
        for name in list(dirs) + files:
            if not any(pattern.match(name) for pattern in _STALE):
                continue
            path = os.path.join(root, name)
            if os.path.isdir(path):
                freed += sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(path) for f in fs)
                shutil.rmtree(path, ignore_errors=True)
                dirs.remove(name)
            else:
                freed += os.path.getsize(path)
                os.remove(path)
            removed += 1
    return removed, freed


def to_jsonable(obj: Any, where: str = "$") -> Any:
    """Convert ``obj`` to plain JSON types.

    Numpy/TF scalars and arrays become numbers/lists, tuples and sets lists, paths strings,
    dataclasses dicts; non-finite floats (NaN, ±inf) become ``None`` (JSON ``null``).
    Raises ``TypeError`` naming the offending key path for anything else.
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item(), where)
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist(), where)
    if hasattr(obj, "numpy") and callable(obj.numpy):
        return to_jsonable(np.asarray(obj.numpy()), where)
    if isinstance(obj, pathlib.PurePath):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(dataclasses.asdict(obj), where)
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v, f"{where}.{k}") for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, (set, frozenset)):
        return [to_jsonable(v, f"{where}[]") for v in sorted(obj, key=repr)]
    raise TypeError(
        f"cannot write {type(obj).__name__} at {where} to JSON; convert it to a number, string, list or dict"
    )


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically (see ``to_jsonable`` for conversions).

    The object is converted before anything is written, so a conversion error leaves ``path`` untouched.
    """
    text = json.dumps(to_jsonable(obj), indent=2, sort_keys=False, allow_nan=False) + "\n"
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
