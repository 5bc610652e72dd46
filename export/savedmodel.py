"""SavedModel export in TF Serving's layout ``<base>/<version>/``, verified before it is published."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import uuid

import keras
import numpy as np
import tensorflow as tf

from .endpoints import exported_fn
from .limits import DEFAULT_LIMITS, applicable
from .parity import CHAIN_STEPS, check_chain_statistics, check_parity, is_chain, keras_outputs

SERVING_DEFAULT = "serving_default"


def endpoint_limits(model, name: str, overrides: dict | None = None):
    """The RequestLimits of endpoint ``name``: the defaults, then the model's ``serving_limits``
    ({endpoint: {limit: value}}, optional), then ``overrides`` ({limit: value or None}, the export flags)."""
    declared = dict(getattr(model, "serving_limits", None) or {})
    return DEFAULT_LIMITS.updated(declared.get(name)).updated(overrides)


def input_ranges(model) -> dict:
    """``{input name: (low, high)}`` the model declares for its served inputs (``serving_input_ranges``, e.g.
    images in [0, 1]); every signature with an input of that name refuses values outside it."""
    ranges = dict(getattr(model, "serving_input_ranges", None) or {})
    for key, bounds in ranges.items():
        if len(bounds) != 2 or not float(bounds[0]) < float(bounds[1]):
            raise ValueError(f"{type(model).__name__}.serving_input_ranges[{key!r}] must be (low, high) with "
                             f"low < high, got {bounds!r}")
    return {key: (float(low), float(high)) for key, (low, high) in ranges.items()}


def serving_functions(model, limits: dict | None = None, allow_nonfinite: bool = False) -> dict:
    """``{signature name: (model fn, its signature, wrapped fn, float32 signature, RequestLimits)}`` incl.
    serving_default (which has its endpoint's limits). ``limits``: overrides of every endpoint's limits."""
    for attr in ("serving_endpoints", "serving_default"):
        if not hasattr(model, attr):
            raise TypeError(f"{type(model).__name__} declares no `{attr}`: a model to export needs "
                            "serving_endpoints(), serving_default and onnx_graphs() (DESIGN.md, Export)")
    endpoints = dict(model.serving_endpoints())
    default = model.serving_default
    if SERVING_DEFAULT in endpoints:
        raise ValueError(f"{type(model).__name__}.serving_endpoints() must not define '{SERVING_DEFAULT}'; "
                         "name the main endpoint in the `serving_default` class attribute")
    if default not in endpoints:
        raise ValueError(f"{type(model).__name__}.serving_default = {default!r} is not one of its "
                         f"endpoints {sorted(endpoints)}")
    unknown = sorted(set(getattr(model, "serving_limits", None) or {}) - set(endpoints))
    if unknown:
        raise ValueError(f"{type(model).__name__}.serving_limits names no endpoint: {', '.join(unknown)}")
    functions = {}
    for name, (fn, sig) in list(endpoints.items()) + [(SERVING_DEFAULT, endpoints[default])]:
        bounds = endpoint_limits(model, default if name == SERVING_DEFAULT else name, limits)
        wrapped, specs = exported_fn(name, fn, sig, limits=bounds, allow_nonfinite=allow_nonfinite,
                                     ranges=input_ranges(model))
        functions[name] = (fn, list(sig), wrapped, specs, bounds)
    return functions


def _write_archive(archive, path: str) -> None:
    archive.write_out(path, verbose=False)


def _spec_dict(spec: tf.TensorSpec) -> dict:
    shape = None if spec.shape.rank is None else spec.shape.as_list()
    return {"shape": shape, "dtype": spec.dtype.name}


def describe_signatures(loaded) -> dict:
    """``{signature: {"inputs": {name: {shape, dtype}}, "outputs": {...}}}`` of a loaded SavedModel."""
    described = {}
    for name, fn in loaded.signatures.items():
        inputs = fn.structured_input_signature[1]
        described[name] = {
            "inputs": {k: _spec_dict(v) for k, v in inputs.items()},
            "outputs": {k: _spec_dict(v) for k, v in fn.structured_outputs.items()},
        }
    return described


def traced_signatures(model) -> dict:
    """What ``describe_signatures`` reports for ``model``'s export, from tracing its signatures (no write)."""
    described = {}
    for name, (_, _, wrapped, specs, _) in serving_functions(model).items():
        traced = tf.function(wrapped, input_signature=specs, autograph=False).get_concrete_function()
        outputs = traced.structured_outputs
        described[name] = {"inputs": {s.name: _spec_dict(s) for s in specs},
                           "outputs": {k: _spec_dict(tf.TensorSpec(v.shape, v.dtype)) for k, v in outputs.items()}}
    return described


def _signature_caller(signature, specs):
    def call(arrays):
        feeds = {s.name: tf.constant(a, dtype=s.dtype) for s, a in zip(specs, arrays)}
        return {k: np.asarray(v) for k, v in signature(**feeds).items()}

    return call


def _publish(tmp: str, final: str) -> bool:
    """Move ``tmp`` onto ``final``; an existing version is swapped out only once the new one is in place."""
    if not os.path.exists(final):
        os.rename(tmp, final)
        return False
    old = os.path.join(os.path.dirname(final), f".old-{os.path.basename(final)}-{uuid.uuid4().hex[:8]}")
    os.rename(final, old)
    try:
        os.rename(tmp, final)
    except BaseException:
        os.rename(old, final)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return True


def write_savedmodel(model, base_dir: str, version: int = 1, batch_sizes=(1, 7, 64), atol: float = 1e-4,
                     limits: dict | None = None, allow_nonfinite: bool = False) -> dict:
    """Export every serving endpoint of ``model`` to ``base_dir/<version>/`` and check it.

    Written to a hidden temp folder (TF Serving ignores non-numeric names), reloaded with
    ``tf.saved_model.load`` and compared with the Keras functions; published (renamed to the version
    folder, replacing an older copy of that version) only if every signature is within ``atol`` (a chain:
    after one step, plus its ``CHAIN_STEPS``-step statistics at the largest batch size). ``limits``
    ({max_batch, max_n, max_steps: int or None}) overrides every endpoint's request limits;
    ``allow_nonfinite`` lets NaN/inf inputs through. Returns the report section: path, signatures, their
    limits, per-signature parity (and ``chain_statistics``), ``published``, ``passed``.
    """
    functions = serving_functions(model, limits, allow_nonfinite)
    ranges = input_ranges(model)
    os.makedirs(base_dir, exist_ok=True)
    final = os.path.join(base_dir, str(int(version)))
    tmp = os.path.join(base_dir, f".tmp-{int(version)}-{uuid.uuid4().hex[:8]}")
    try:
        archive = keras.export.ExportArchive()
        archive.track(model)
        for name, (_, _, wrapped, specs, _) in functions.items():
            archive.add_endpoint(name, wrapped, input_signature=specs)
        _write_archive(archive, tmp)
        loaded = tf.saved_model.load(tmp)
        signatures = describe_signatures(loaded)
        parity, chains = {}, {}
        for name, (fn, sig, _, specs, bounds) in functions.items():
            served = _signature_caller(loaded.signatures[name], specs)
            reference = functools.partial(keras_outputs, fn, sig)
            parity[name] = check_parity(reference, served, specs, batch_sizes, atol)
            if is_chain(specs):
                chains[name] = check_chain_statistics(reference, served, specs, max(batch_sizes),
                                                      min(CHAIN_STEPS, bounds.max_steps), atol)
        del loaded
        passed = (all(row["passed"] for rows in parity.values() for row in rows)
                  and all(c["passed"] for c in chains.values()))
        replaced = _publish(tmp, final) if passed else False
    finally:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(tmp)
    return {
        "path": final,
        "version": int(version),
        "serving_default": model.serving_default,
        "published": passed,
        "replaced_existing_version": replaced,
        "signatures": signatures,
        "limits": {name: applicable(specs, bounds) for name, (_, _, _, specs, bounds) in functions.items()},
        "value_ranges": {name: {s.name: list(ranges[s.name]) for s in specs if s.name in ranges}
                         for name, (_, _, _, specs, _) in functions.items()},
        "allow_nonfinite": bool(allow_nonfinite),
        "parity": parity,
        "chain_statistics": chains,
        "max_abs_error": max(row["max_abs_error"] for rows in parity.values() for row in rows),
        "passed": passed,
    }
