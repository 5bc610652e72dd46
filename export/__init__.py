"""Export trained runs for serving: SavedModel (TF Serving) and ONNX, with parity checks.

``python -m export RUN_DIR`` (see ``--help``) or ``export_run(run_dir)`` from a recipe. Export knows no
model class: a model declares ``serving_endpoints()``, ``serving_default`` and ``onnx_graphs()``, and
optionally ``serving_limits`` ({endpoint: {max_batch, max_n, max_steps}}) and ``serving_input_ranges``
({input name: (low, high)}); every signature is guarded in the graph (export/limits.py, endpoints.py).
Names load on first use, so ``python -m export`` can silence TensorFlow before importing it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import tfgm  # noqa: F401  (before TensorFlow: its oneDNN kernels on every x86 CPU)

_EXPORTS = {
    "export_run": "run",
    "export_model": "run",
    "load_models": "run",
    "write_savedmodel": "savedmodel",
    "export_onnx": "onnx_export",
    "check_onnx_ops": "onnx_export",
    "UnsupportedOpsError": "onnx_export",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from .onnx_export import UnsupportedOpsError, check_onnx_ops, export_onnx
    from .run import export_model, export_run, load_models
    from .savedmodel import write_savedmodel


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
