"""Training infrastructure: strategies, run directories, resumable checkpoints, image grids, NaN guard,
synchronized batch normalization.

Works on any ``keras.Model`` (duck typing); never imports ``tfgm.models``, ``recipes`` or ``export``.
Names are loaded on first use, so ``from tfgm.training import quiet_tensorflow`` does not import
TensorFlow and ``quiet_tensorflow()`` can run before TensorFlow's first import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_EXPORTS = {
    "strategy": "distribution",
    "global_batch_size": "distribution",
    "RunDir": "run_dir",
    "RunLock": "run_lock",
    "RunLocked": "run_lock",
    "write_json_atomic": "atomic",
    "ResumableCheckpoint": "checkpoint",
    "DataEpoch": "epoch_shuffle",
    "shuffle_by_epoch": "epoch_shuffle",
    "skip_consumed": "epoch_shuffle",
    "data_epoch": "epoch_shuffle",
    "ImageGridCallback": "image_callback",
    "make_grid": "image_grid",
    "save_png": "image_grid",
    "labelled_image_rows": "figures",
    "grouped_bar_chart": "figures",
    "save_figure": "figures",
    "pyplot": "figures",
    "NaNGuard": "nan_guard",
    "TrainingDiverged": "nan_guard",
    "set_seed": "randomness",
    "replica_seed": "randomness",
    "quiet_tensorflow": "environment",
    "latent_model_panels": "panels",
    "PRECISIONS": "precision",
    "auto_precision": "precision",
    "resolve_precision": "precision",
    "set_precision": "precision",
    "current_precision": "precision",
    "loss_scale_optimizer": "precision",
    "is_chief": "multiworker",
    "task_info": "multiworker",
    "chief_run_dir": "multiworker",
    "auto_shard_data": "multiworker",
    "synchronize_batch_norm": "sync_batch_norm",
    "recompute_batch_norm_statistics": "batch_norm_statistics",
    "BatchNormRecalibration": "batch_norm_statistics",
    "batch_norm_layers": "sync_batch_norm",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from .atomic import write_json_atomic
    from .batch_norm_statistics import BatchNormRecalibration, recompute_batch_norm_statistics
    from .checkpoint import ResumableCheckpoint
    from .epoch_shuffle import DataEpoch, data_epoch, shuffle_by_epoch, skip_consumed
    from .distribution import global_batch_size, strategy
    from .environment import quiet_tensorflow
    from .image_callback import ImageGridCallback
    from .figures import grouped_bar_chart, labelled_image_rows, pyplot, save_figure
    from .image_grid import make_grid, save_png
    from .nan_guard import NaNGuard, TrainingDiverged
    from .run_lock import RunLock, RunLocked
    from .multiworker import auto_shard_data, chief_run_dir, is_chief, task_info
    from .panels import latent_model_panels
    from .precision import (PRECISIONS, auto_precision, current_precision, loss_scale_optimizer, resolve_precision,
                            set_precision)
    from .randomness import replica_seed, set_seed
    from .run_dir import RunDir
    from .sync_batch_norm import batch_norm_layers, synchronize_batch_norm


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
