"""Parity: the exported artefact against the Keras function, per output and batch size.

Deterministic endpoints must match value by value. A chain (an endpoint with a ``steps`` input) amplifies
the last-bit differences between two correct graphs (the Keras one and the SavedModel one, or two CPUs)
into different trajectories after a few steps, so its values are compared after one step with the same
stateless noise (deterministic), and its longer chains by their statistics (mean and spread of each output).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from .endpoints import example_inputs
from .limits import count_input

CHAIN_STEPS = 10
CHAIN_TOLERANCE = 0.1


def max_abs_error(reference: dict, candidate: dict) -> float:
    """Largest |reference − candidate| over all outputs; ``inf`` for NaN/inf differences.

    Raises ``ValueError`` if the output names or shapes differ.
    """
    _same_layout(reference, candidate)
    worst = 0.0
    for key, ref in reference.items():
        ref, got = np.asarray(ref), np.asarray(candidate[key])
        if ref.size:
            diff = np.abs(ref.astype(np.float64) - got.astype(np.float64))
            worst = max(worst, float(np.max(diff)) if np.all(np.isfinite(diff)) else float("inf"))
    return worst


def _same_layout(reference: dict, candidate: dict) -> None:
    if set(reference) != set(candidate):
        raise ValueError(f"outputs differ: expected {sorted(reference)}, got {sorted(candidate)}")
    for key, ref in reference.items():
        if np.shape(ref) != np.shape(candidate[key]):
            raise ValueError(f"output '{key}': expected shape {np.shape(ref)}, got {np.shape(candidate[key])}")


def keras_outputs(fn, specs, arrays) -> dict:
    """Call the Keras-side fn eagerly on numpy inputs; {name: numpy}."""
    tensors = [tf.constant(a, dtype=s.dtype) for s, a in zip(specs, arrays)]
    return {k: np.asarray(v) for k, v in fn(*tensors).items()}


def is_chain(specs) -> bool:
    """True for an endpoint with a ``steps`` input (a stochastic chain)."""
    return any(count_input(s) == "steps" for s in specs)


def check_parity(reference_fn, candidate_fn, specs, batch_sizes, atol: float) -> list[dict]:
    """``[{"batch_size", "max_abs_error", "passed"}]`` (chains also ``"steps": 1``); both fns take numpy
    inputs and return dicts. A chain is compared after one step: the deterministic part."""
    steps = 1 if is_chain(specs) else None
    rows = []
    for batch in batch_sizes:
        arrays = example_inputs(specs, batch, steps=steps)
        err = max_abs_error(reference_fn(arrays), candidate_fn(arrays))
        row = {"batch_size": int(batch), "max_abs_error": err, "passed": bool(err <= atol)}
        rows.append(row if steps is None else {**row, "steps": steps})
    return rows


def check_chain_statistics(reference_fn, candidate_fn, specs, batch_size: int, steps: int = CHAIN_STEPS,
                           atol: float = 1e-4, tolerance: float = CHAIN_TOLERANCE) -> dict:
    """Compare ``steps``-step chains by each output's mean and standard deviation over all its values.

    Passes when both differ by at most ``tolerance`` × the reference's standard deviation + ``atol``:
    a few chains of the batch taking another path pass, a broken chain (wrong step, NaN, stuck) does not.
    Returns ``{"batch_size", "steps", "mean_error", "std_error", "passed"}`` (errors relative to that bound).
    """
    arrays = example_inputs(specs, batch_size, steps=steps)
    reference, candidate = reference_fn(arrays), candidate_fn(arrays)
    _same_layout(reference, candidate)
    mean_error = std_error = 0.0
    for key, ref in reference.items():
        ref, got = np.asarray(ref, np.float64), np.asarray(candidate[key], np.float64)
        if not ref.size:
            continue
        if not (np.all(np.isfinite(ref)) and np.all(np.isfinite(got))):
            mean_error = std_error = float("inf")
            continue
        bound = tolerance * float(np.std(ref)) + atol
        mean_error = max(mean_error, abs(float(np.mean(ref) - np.mean(got))) / bound)
        std_error = max(std_error, abs(float(np.std(ref) - np.std(got))) / bound)
    return {"batch_size": int(batch_size), "steps": int(steps), "mean_error": mean_error, "std_error": std_error,
            "passed": bool(mean_error <= 1 and std_error <= 1)}
