"""Endpoints as exported: float32 at the boundary, named inputs, shapes checked inside the graph."""

from __future__ import annotations

import inspect

import numpy as np
import tensorflow as tf


def _float32(dtype: tf.DType) -> tf.DType:
    return tf.float32 if dtype.is_floating else dtype


def named_signature(fn, input_signature) -> list[tf.TensorSpec]:
    """The input signature as float32 (floating inputs) TensorSpecs, each named (spec name or parameter name)."""
    try:
        params = [p.name for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    specs = []
    for i, spec in enumerate(input_signature):
        if not isinstance(spec, tf.TensorSpec):
            raise TypeError(f"input {i}: export needs a flat list of tf.TensorSpec, got {spec!r}")
        name = spec.name or (params[i] if i < len(params) else f"input_{i}")
        specs.append(tf.TensorSpec(spec.shape, _float32(spec.dtype), name=name))
    return specs


def shape_text(shape: tf.TensorShape) -> str:
    """``[?, 6]`` style, as TF prints shapes in its errors."""
    if shape.rank is None:
        return "<unknown rank>"
    return "[" + ", ".join("?" if d is None else str(d) for d in shape.as_list()) + "]"


def _checked(endpoint: str, spec: tf.TensorSpec, x: tf.Tensor) -> tf.Tensor:
    """``x`` after a run-time check of its shape against ``spec``, failing with a message naming both.

    TF Serving's C++ session does not validate feeds against the placeholder's shape, while tf.debugging
    (at trace time) and Grappler (at run time, seeing through PlaceholderWithDefault) fold the rank and
    known dims of that static shape to constants. So the shape is read from a serialize/parse round trip
    of the input (one copy of the request, opaque to shape inference); ``tf.ensure_shape`` backs it up.
    """
    if spec.shape.rank is None:
        return x
    rank = spec.shape.rank
    shape = tf.shape(tf.io.parse_tensor(tf.io.serialize_tensor(x), out_type=x.dtype))
    ok = tf.equal(tf.size(shape), rank)
    known = [(i, d) for i, d in enumerate(spec.shape.as_list()) if d is not None]
    if known:
        padded = tf.concat([shape, tf.fill([rank], -1)], axis=0)
        dims = tf.gather(padded, [i for i, _ in known])
        ok = tf.logical_and(ok, tf.reduce_all(tf.equal(dims, [d for _, d in known])))
    message = (f"signature {endpoint}, input {spec.name}: expected shape {shape_text(spec.shape)} "
               f"({spec.dtype.name}), received shape")
    check = tf.debugging.Assert(ok, [message, shape], summarize=16)
    with tf.control_dependencies([check]):
        return tf.ensure_shape(tf.identity(x), spec.shape)


def exported_fn(name: str, fn, input_signature, check_shapes: bool = True):
    """``(wrapped fn, float32 named signature)`` for endpoint ``name``.

    The wrapper checks input shapes (``check_shapes``), casts float32 inputs to the dtype the model's
    signature asked for, requires a dict output and casts floating outputs to float32.
    """
    original = list(input_signature)
    specs = named_signature(fn, original)

    def wrapped(*args):
        inputs = []
        for spec, orig, x in zip(specs, original, args):
            if check_shapes:
                x = _checked(name, spec, x)
            inputs.append(tf.cast(x, orig.dtype) if orig.dtype != x.dtype else x)
        outputs = fn(*inputs)
        if not isinstance(outputs, dict):
            raise TypeError(f"endpoint '{name}' must return a dict of tensors (a bare tensor would be "
                            f"served as 'output_0'), got {type(outputs).__name__}")
        return {k: tf.cast(v, tf.float32) if v.dtype.is_floating else v for k, v in outputs.items()}

    wrapped.__name__ = name
    return wrapped, specs


def example_inputs(specs, batch_size: int, seed: int = 0) -> list[np.ndarray]:
    """Deterministic inputs for ``specs`` with each unknown dim set to ``batch_size``.

    Floats: uniform in [0, 1). Integer scalars (``n``, ``seed``): ``batch_size``. Other integers: 0 or 1.
    """
    rng = np.random.default_rng(seed + 1000 * batch_size)
    arrays = []
    for spec in specs:
        if spec.shape.rank is None:
            raise ValueError(f"input '{spec.name}' has unknown rank; give it a shape to check parity")
        shape = [batch_size if d is None else d for d in spec.shape.as_list()]
        dtype = spec.dtype.as_numpy_dtype
        if spec.dtype.is_floating:
            arrays.append(rng.random(shape).astype(dtype))
        elif spec.dtype.is_integer and not shape:
            arrays.append(np.asarray(batch_size, dtype=dtype))
        elif spec.dtype.is_integer:
            arrays.append(rng.integers(0, 2, size=shape).astype(dtype))
        elif spec.dtype.is_bool:
            arrays.append(rng.random(shape) < 0.5)
        else:
            raise ValueError(f"input '{spec.name}': no example values for dtype {spec.dtype.name}")
    return arrays
