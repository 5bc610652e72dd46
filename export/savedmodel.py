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
from .parity import check_parity, keras_outputs

SERVING_DEFAULT = "serving_default"


def serving_functions(model) -> dict:
    """``{signature name: (model fn, its signature, wrapped fn, float32 signature)}`` incl. serving_default."""
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
    functions = {}
    for name, (fn, sig) in list(endpoints.items()) + [(SERVING_DEFAULT, endpoints[default])]:
        wrapped, specs = exported_fn(name, fn, sig)
        functions[name] = (fn, list(sig), wrapped, specs)
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


def write_savedmodel(model, base_dir: str, version: int = 1, batch_sizes=(1, 7, 64), atol: float = 1e-4) -> dict:
    """Export every serving endpoint of ``model`` to ``base_dir/<version>/`` and check it.

    Written to a hidden temp folder (TF Serving ignores non-numeric names), reloaded with
    ``tf.saved_model.load`` and compared with the Keras functions; published (renamed to the version
    folder, replacing an older copy of that version) only if every signature is within ``atol``.
    Returns the report section: path, signatures, per-signature parity, ``published``, ``passed``.
    """
    functions = serving_functions(model)
    os.makedirs(base_dir, exist_ok=True)
    final = os.path.join(base_dir, str(int(version)))
    tmp = os.path.join(base_dir, f".tmp-{int(version)}-{uuid.uuid4().hex[:8]}")
    try:
        archive = keras.export.ExportArchive()
        archive.track(model)
        for name, (_, _, wrapped, specs) in functions.items():
            archive.add_endpoint(name, wrapped, input_signature=specs)
        _write_archive(archive, tmp)
        loaded = tf.saved_model.load(tmp)
        signatures = describe_signatures(loaded)
        parity = {}
        for name, (fn, sig, _, specs) in functions.items():
            served = _signature_caller(loaded.signatures[name], specs)
            parity[name] = check_parity(functools.partial(keras_outputs, fn, sig), served, specs, batch_sizes, atol)
        del loaded
        passed = all(row["passed"] for rows in parity.values() for row in rows)
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
        "parity": parity,
        "max_abs_error": max(row["max_abs_error"] for rows in parity.values() for row in rows),
        "passed": passed,
    }
