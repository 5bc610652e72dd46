"""Run directories: ``<root>/<recipe>/<name>/`` describing themselves (see DESIGN.md, "Run directories")."""

from __future__ import annotations

import dataclasses
import atexit
import datetime
import json
import os
import shutil
import tempfile
from typing import Any, Iterable

from .atomic import atomic_path, to_jsonable, write_json_atomic
from .environment import environment_info

RESUMABLE_FIELDS = frozenset({"epochs", "resume", "verbose", "out", "name", "export", "strategy"})
"""Config fields that may differ between a run and its ``--resume``."""


def _check_component(kind: str, value: str) -> str:
    if not isinstance(value, str) or not value or value in (".", "..") or "/" in value or os.sep in value:
        raise ValueError(f"{kind} must be a non-empty folder name without '/', got {value!r}")
    return value


class RunDir:
    """The folder of one run: ``<root>/<recipe>/<name>/``.

    ``name=None`` uses the local time ``YYYYmmdd-HHMMSS`` (``-2``, ``-3``, ... appended on a clash).
    ``resume=True`` needs an existing run folder (and an explicit ``name``); ``resume=False`` refuses
    a folder that exists and is not empty. The run folder is created at construction; its sub-folders
    (``models/``, ``checkpoints/``, ``logs/``, ``images/``, ``export/``) when first asked for.
    ``os.fspath(run_dir)`` and ``str(run_dir)`` give ``path``.

    ``is_chief=False`` (a non-chief worker of a multi-worker run; see ``tfgm.training.chief_run_dir``):
    nothing is written under ``<root>``. ``path`` is a fresh temporary folder that receives this worker's
    config, models, logs, images, metrics and exports and is removed by ``cleanup()`` (also at exit);
    ``shared_path`` is the chief's run folder and ``checkpoints_dir`` points into it (not created), so
    that ``ResumableCheckpoint.restore`` reads the chief's checkpoints (put ``root`` on storage every
    worker can read). ``resume=True`` then needs the chief's run folder to exist.
    """

    def __init__(self, root: str | os.PathLike, recipe: str, name: str | None = None, resume: bool = False,
                 is_chief: bool = True):
        self.root = os.fspath(root)
        self.recipe = _check_component("recipe", recipe)
        self.resume = bool(resume)
        self.is_chief = bool(is_chief)
        recipe_dir = os.path.join(self.root, recipe)
        if name is None:
            if resume:
                existing = sorted(os.listdir(recipe_dir)) if os.path.isdir(recipe_dir) else []
                raise ValueError(
                    f"--resume needs --name: which run of {recipe_dir} to continue? "
                    f"existing runs: {', '.join(existing[-10:]) or 'none'}"
                )
            name = self._fresh_name(recipe_dir)
        self.name = _check_component("run name", name)
        self.path = self.shared_path = os.path.join(recipe_dir, self.name)
        if not self.is_chief:
            if resume and not os.path.isdir(self.shared_path):
                raise FileNotFoundError(
                    f"cannot resume on this worker: the chief's run folder {self.shared_path} is not visible "
                    "here; --out must be storage every worker reads (a shared filesystem or bucket)"
                )
            self.path = tempfile.mkdtemp(prefix=f"tfgm-{self.recipe}-{self.name}-worker-")
            atexit.register(self.cleanup)
            return
        if resume:
            if not os.path.isdir(self.path):
                raise FileNotFoundError(
                    f"cannot resume: run folder {self.path} does not exist; check --out and --name, "
                    "or drop --resume to start a new run"
                )
        elif os.path.isdir(self.path) and os.listdir(self.path):
            raise FileExistsError(
                f"run folder {self.path} already exists and is not empty; pass --resume to continue it, "
                "or choose another --name"
            )
        os.makedirs(self.path, exist_ok=True)

    @staticmethod
    def _fresh_name(recipe_dir: str) -> str:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        name, n = stamp, 1
        while os.path.exists(os.path.join(recipe_dir, name)):
            n += 1
            name = f"{stamp}-{n}"
        return name

    def cleanup(self) -> None:
        """Remove a non-chief worker's temporary folder (nothing to do on the chief)."""
        if not self.is_chief:
            shutil.rmtree(self.path, ignore_errors=True)

    def __fspath__(self) -> str:
        return self.path

    def __str__(self) -> str:
        return self.path

    def __repr__(self) -> str:
        chief = "" if self.is_chief else f", is_chief=False, shared_path={self.shared_path!r}"
        return f"RunDir({self.path!r}, resume={self.resume}{chief})"

    def _sub(self, name: str) -> str:
        path = os.path.join(self.path, name)
        os.makedirs(path, exist_ok=True)
        return path

    @property
    def models_dir(self) -> str:
        return self._sub("models")

    @property
    def checkpoints_dir(self) -> str:
        if not self.is_chief:
            return os.path.join(self.shared_path, "checkpoints")
        return self._sub("checkpoints")

    @property
    def logs_dir(self) -> str:
        return self._sub("logs")

    @property
    def images_dir(self) -> str:
        return self._sub("images")

    @property
    def export_dir(self) -> str:
        return self._sub("export")

    @property
    def config_path(self) -> str:
        return os.path.join(self.path, "config.json")

    @property
    def environment_path(self) -> str:
        return os.path.join(self.path, "environment.json")

    @property
    def metrics_path(self) -> str:
        return os.path.join(self.path, "metrics.json")

    def write_config(self, config: dict[str, Any] | Any, mutable: Iterable[str] = ()) -> None:
        """Write ``config.json`` (every flag of the run; a dict or a dataclass instance).

        On resume, the saved config is compared with ``config`` first: a difference in any field
        outside ``RESUMABLE_FIELDS`` and ``mutable`` raises ``ValueError`` listing each field with its
        saved and new values, and nothing is written.
        """
        if dataclasses.is_dataclass(config) and not isinstance(config, type):
            config = dataclasses.asdict(config)
        if not isinstance(config, dict):
            raise TypeError(f"config must be a dict or a dataclass instance, got {type(config).__name__}")
        new = to_jsonable(config)
        if self.resume and os.path.exists(self.config_path):
            with open(self.config_path, encoding="utf-8") as f:
                saved = json.load(f)
            allowed = RESUMABLE_FIELDS | set(mutable)
            missing = object()
            changed = [
                f"{key}: saved {saved.get(key, '(absent)')!r}, now {new.get(key, '(absent)')!r}"
                for key in sorted(set(saved) | set(new))
                if key not in allowed and saved.get(key, missing) != new.get(key, missing)
            ]
            if changed:
                raise ValueError(
                    f"cannot resume {self.path} with a different configuration:\n  "
                    + "\n  ".join(changed)
                    + "\nrerun with the saved values (see config.json), or start a new run with another --name"
                )
        write_json_atomic(self.config_path, new)

    def write_environment(self, seed: int, strategy=None, changes: Iterable[str] = ()) -> None:
        """Write ``environment.json`` (versions, devices, seed, strategy, host, time, command line).

        On resume the first run's record is kept and this one is appended to its ``"resumes"`` list, with the
        flags accepted as changed (``changes``: one text per flag) under ``"changed_flags"``.
        """
        info = environment_info(seed, strategy)
        if changes:
            info["changed_flags"] = list(changes)
        if self.resume and os.path.exists(self.environment_path):
            with open(self.environment_path, encoding="utf-8") as f:
                first = json.load(f)
            first.setdefault("resumes", []).append(info)
            info = first
        write_json_atomic(self.environment_path, info)

    def read_metrics(self) -> dict[str, Any]:
        """The content of ``metrics.json``; ``{}`` if there is none yet."""
        if not os.path.exists(self.metrics_path):
            return {}
        with open(self.metrics_path, encoding="utf-8") as f:
            return json.load(f)

    def write_metrics(self, metrics: dict[str, Any]) -> None:
        """Merge ``metrics`` into ``metrics.json`` (top-level keys replaced) and write it atomically.

        Non-finite values are written as ``null``; give each number its protocol, e.g.
        ``{"fid": {"value": 31.2, "n_samples": 10000, "features": "inception_v3 pool3"}}``.
        """
        merged = self.read_metrics()
        merged.update(to_jsonable(dict(metrics)))
        write_json_atomic(self.metrics_path, merged)

    def write_summary(self, text: str) -> str:
        """Write the run's printed summary table to ``summary.txt`` atomically; return the path."""
        path = os.path.join(self.path, "summary.txt")
        with atomic_path(path, suffix=".txt") as tmp:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text.rstrip("\n") + "\n")
        return path

    def model_path(self, name: str) -> str:
        """``models/<name>.keras``."""
        return os.path.join(self.models_dir, f"{_check_component('model name', name)}.keras")

    def save_model(self, model, name: str) -> str:
        """Save ``model`` in Keras' native format to ``models/<name>.keras`` atomically; return the path."""
        path = self.model_path(name)
        with atomic_path(path, suffix=".keras") as tmp:
            model.save(tmp)
        return path
