"""Parity: the exported artefact against the Keras function, per output and batch size."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from .endpoints import example_inputs


def max_abs_error(reference: dict, candidate: dict) -> float:
    """Largest |reference − candidate| over all outputs; ``inf`` for NaN/inf differences.

    Raises ``ValueError`` if the output names or shapes differ.
    """
    if set(reference) != set(candidate):
        raise ValueError(f"outputs differ: expected {sorted(reference)}, got {sorted(candidate)}")
    worst = 0.0
    for key, ref in reference.items():
        ref, got = np.asarray(ref), np.asarray(candidate[key])
        if ref.shape != got.shape:
            raise ValueError(f"output '{key}': expected shape {ref.shape}, got {got.shape}")
        if ref.size:
            diff = np.abs(ref.astype(np.float64) - got.astype(np.float64))
            worst = max(worst, float(np.max(diff)) if np.all(np.isfinite(diff)) else float("inf"))
    return worst


def keras_outputs(fn, specs, arrays) -> dict:
    """Call the Keras-side fn eagerly on numpy inputs; {name: numpy}."""
    tensors = [tf.constant(a, dtype=s.dtype) for s, a in zip(specs, arrays)]
    return {k: np.asarray(v) for k, v in fn(*tensors).items()}


def check_parity(reference_fn, candidate_fn, specs, batch_sizes, atol: float) -> list[dict]:
    """``[{"batch_size", "max_abs_error", "passed"}]``; both fns take numpy inputs and return dicts."""
    rows = []
    for batch in batch_sizes:
        arrays = example_inputs(specs, batch)
        err = max_abs_error(reference_fn(arrays), candidate_fn(arrays))
        rows.append({"batch_size": int(batch), "max_abs_error": err, "passed": bool(err <= atol)})
    return rows
