"""KerasHub-style checks every tfgm model passes (DESIGN.md, Quality bar): one real train step, the `get_config`
round trip, the `.keras` round trip and the export round trip.

A model is registered as one `ModelCase` (a factory of a fresh tiny model, a batch, its compile) in
tests/models/test_harness.py. "Same outputs" means the model's serving endpoints (`serving_endpoints()`,
stateless in their seeds) on export's deterministic example inputs.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from export.endpoints import example_inputs, named_signature
from export.parity import keras_outputs, max_abs_error

ENDPOINT_BATCH = 2  # the batch size (and integer inputs: n, steps, seed) endpoints are checked at
SERVED_ATOL = 1e-4  # served vs Keras (export's default tolerance); a .keras reload must match exactly (to 1e-6)


def adam(model):
    """compile(Adam(1e-2)): models with one optimizer."""
    model.compile(keras.optimizers.Adam(1e-2))


def two_adams(model):
    """compile(d_optimizer, g_optimizer): adversarial models."""
    model.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2))


@dataclasses.dataclass(frozen=True)
class ModelCase:
    """name: the test id; factory() → a fresh, uncompiled model; batch() → one batch dict of numpy arrays
    (what `fit` sees); compile(model) compiles it (`adam` or `two_adams`)."""

    name: str
    factory: Callable[[], keras.Model]
    batch: Callable[[], dict]
    compile: Callable[[keras.Model], None] = adam

    def __str__(self):
        return self.name


def optimizers(model) -> list:
    """The model's compiled optimizers: `optimizer`, or `d_optimizer` and `g_optimizer`."""
    return [opt for opt in (getattr(model, name, None) for name in ("optimizer", "d_optimizer", "g_optimizer"))
            if opt is not None]


def train_one_step(case: ModelCase) -> keras.Model:
    """Compile a fresh model and `fit` it on the case's batch for one step: the logs name every tracker and are
    finite, every trainable variable moved, every optimizer counted one step. Returns the trained model."""
    model = case.factory()
    case.compile(model)
    before = [v.numpy().copy() for v in model.trainable_variables]
    history = model.fit(tf.data.Dataset.from_tensors(case.batch()), epochs=1, verbose=0).history
    assert set(history) == {m.name for m in model.metrics}, f"{case}: logs {sorted(history)}"
    assert all(np.isfinite(v[0]) for v in history.values()), f"{case}: non-finite logs {history}"
    still = [v.path for b, v in zip(before, model.trainable_variables) if np.array_equal(b, v.numpy())]
    assert not still, f"{case}: one train step left {still} unchanged"
    assert optimizers(model) and all(int(opt.iterations) == 1 for opt in optimizers(model))
    return model


def _json(config) -> str:
    """A config as the JSON text a `.keras` file holds (tuples read back as lists)."""
    return json.dumps(config, sort_keys=True)


def _assert_same_arguments(model, other) -> None:
    """Every named constructor argument is in `get_config`, and `other` holds the value `model` holds for each
    one the model keeps under its own name (sub-models aside)."""
    config = model.get_config()
    parameters = inspect.signature(type(model).__init__).parameters.values()
    named = [p.name for p in parameters if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    missing = sorted(set(named) - set(config))
    assert not missing, f"{type(model).__name__}.get_config() lacks constructor arguments {missing}"
    for name in named:
        value = getattr(model, name, None)
        if not isinstance(value, keras.layers.Layer):
            assert getattr(other, name, None) == value, f"{name}: {getattr(other, name, None)!r} != {value!r}"


def check_config_round_trip(model) -> None:
    """`from_config` of `get_config` rebuilds the same class with the same config, arguments and weights' shapes,
    also from the config's JSON text (what a `.keras` file stores)."""
    config = model.get_config()
    clone = type(model).from_config(config)
    assert type(clone) is type(model)
    assert clone.get_config() == config
    _assert_same_arguments(model, clone)
    revived = type(model).from_config(json.loads(json.dumps(config)))
    assert _json(revived.get_config()) == _json(config)
    for built in (clone, revived):
        assert [tuple(w.shape) for w in built.weights] == [tuple(w.shape) for w in model.weights]


def endpoint_outputs(model) -> dict:
    """{endpoint: {output: numpy}} of every serving endpoint on export's example inputs (batch ENDPOINT_BATCH)."""
    outputs = {}
    for name, (fn, signature) in model.serving_endpoints().items():
        arrays = example_inputs(named_signature(fn, signature), ENDPOINT_BATCH)
        outputs[name] = keras_outputs(fn, signature, arrays)
    return outputs


def _assert_close(expected: dict, actual: dict, atol: float, what: str) -> None:
    assert set(actual) == set(expected), f"{what}: endpoints {sorted(actual)} != {sorted(expected)}"
    for name, outputs in expected.items():
        error = max_abs_error(outputs, actual[name])
        assert error <= atol, f"{what}: endpoint {name} differs by {error} (> {atol})"


def check_keras_round_trip(model, folder) -> keras.Model:
    """`model.save` then `keras.saving.load_model` (safe mode): same class, config, weights, optimizer states and
    endpoint outputs. Returns the loaded model."""
    path = os.path.join(os.fspath(folder), "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model)
    assert _json(loaded.get_config()) == _json(model.get_config())
    _assert_same_arguments(model, loaded)
    for saved, restored in zip(model.weights, loaded.weights, strict=True):
        np.testing.assert_array_equal(restored.numpy(), saved.numpy(), err_msg=saved.path)
    for saved, restored in zip(optimizers(model), optimizers(loaded), strict=True):
        for a, b in zip(saved.variables, restored.variables, strict=True):
            np.testing.assert_array_equal(b.numpy(), a.numpy(), err_msg=f"optimizer {a.path}")
    _assert_close(endpoint_outputs(model), endpoint_outputs(loaded), 1e-6, ".keras round trip")
    return loaded


def check_export_round_trip(model, folder) -> None:
    """The project's export path: a run directory holding `models/model.keras`, `export_run` (SavedModel with its
    own parity checks; ONNX is tested in tests/export), then the published SavedModel reloaded with
    `tf.saved_model.load` serves what `model` computes, on every endpoint and `serving_default`."""
    from export import export_run

    run_dir = os.path.join(os.fspath(folder), "run")
    os.makedirs(os.path.join(run_dir, "models"))
    model.save(os.path.join(run_dir, "models", "model.keras"))
    report = export_run(run_dir, onnx=False, batch_sizes=(ENDPOINT_BATCH,))
    entry = report["models"]["model"]
    assert report["passed"], entry.get("traceback") or entry
    served = tf.saved_model.load(os.path.join(run_dir, "export", "savedmodel", "model", "1"))
    endpoints = model.serving_endpoints()
    expected = endpoint_outputs(model)
    expected["serving_default"] = expected[model.serving_default]
    actual = {}
    for name, signature in served.signatures.items():
        fn, declared = endpoints[model.serving_default if name == "serving_default" else name]
        specs = named_signature(fn, declared)
        feeds = {s.name: tf.constant(a, s.dtype) for s, a in zip(specs, example_inputs(specs, ENDPOINT_BATCH))}
        actual[name] = {k: v.numpy() for k, v in signature(**feeds).items()}
    _assert_close(expected, actual, SERVED_ATOL, "export round trip")
