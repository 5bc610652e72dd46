"""Endpoints as exported: float32 at the boundary, named inputs, shapes, sizes and values checked in the graph."""

from __future__ import annotations

import inspect

import numpy as np
import tensorflow as tf

from .limits import COUNT_INPUTS, FLAGS, MIN_VALUE, RequestLimits, count_input, is_batched


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


def _size_checks(endpoint: str, spec: tf.TensorSpec, x: tf.Tensor, limits: RequestLimits) -> list:
    """Assert ops bounding the request: batch <= max_batch; n in [0, max_n]; steps in [1, max_steps]."""
    checks = []
    where = f"signature {endpoint}, input {spec.name}"
    if is_batched(spec):
        batch = tf.shape(x)[0]
        message = (f"{where}: batch size must be at most max_batch = {limits.max_batch} (a limit set at export "
                   f"with {FLAGS['max_batch']}); split the request. Received batch size")
        checks.append(tf.debugging.Assert(batch <= limits.max_batch, [message, batch]))
    role = count_input(spec)
    if role:
        name = COUNT_INPUTS[role]
        low, high = MIN_VALUE[role], getattr(limits, name)
        message = (f"{where}: must be in [{low}, {high}] ({name} = {high} is a limit set at export with "
                   f"{FLAGS[name]}). Received")
        checks.append(tf.debugging.Assert(tf.logical_and(x >= low, x <= high), [message, x]))
    return checks


def _range_check(endpoint: str, spec: tf.TensorSpec, x: tf.Tensor, low: float, high: float):
    """An assert op: every value of ``x`` in [low, high] (e.g. images in [0, 1], not 8-bit pixels)."""
    lowest, highest = tf.reduce_min(x), tf.reduce_max(x)
    ok = tf.logical_or(tf.equal(tf.size(x), 0), tf.logical_and(lowest >= low, highest <= high))
    hint = " (8-bit pixels: divide by 255)" if spec.name == "images" and high == 1 else ""
    message = f"signature {endpoint}, input {spec.name}: values must be in [{low:g}, {high:g}]{hint}. Received min, max"
    return tf.debugging.Assert(ok, [message, lowest, highest])


def _finite(endpoint: str, spec: tf.TensorSpec, x: tf.Tensor) -> tf.Tensor:
    """``x``, failing the request if it holds NaN or inf (a message naming the signature and input)."""
    return tf.debugging.check_numerics(
        x, f"signature {endpoint}, input {spec.name}: NaN or inf values are refused (send finite values, or "
           "export with --allow-nonfinite to pass them through for debugging)")


def _at_least_one(spec: tf.TensorSpec, x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor | None]:
    """``(x', count)``: a zero ``n`` or an empty batch replaced by one (outputs are cut back to ``count``
    rows), since layers such as batch norm cannot broadcast over an empty batch; count None otherwise."""
    if count_input(spec) == "n":
        return tf.maximum(x, tf.ones_like(x)), x
    if is_batched(spec):
        batch = tf.shape(x)[0]
        padding = [[0, tf.maximum(1 - batch, 0)]] + [[0, 0]] * (spec.shape.rank - 1)
        return tf.pad(x, padding), batch
    return x, None


def exported_fn(name: str, fn, input_signature, check_shapes: bool = True, limits: RequestLimits | None = None,
                allow_nonfinite: bool = False, ranges: dict | None = None):
    """``(wrapped fn, float32 named signature)`` for endpoint ``name``.

    The wrapper checks input shapes (``check_shapes``) and, with ``limits``, guards the request before any
    work: batch, ``n`` and ``steps`` within ``limits``, floating inputs finite (unless ``allow_nonfinite``)
    and within ``ranges`` ({input name: (low, high)}, where declared), and ``n = 0`` or an empty batch
    answered with empty outputs. It casts float32 inputs to the dtype the model's signature asked for,
    requires a dict output and casts floating outputs to float32.
    """
    original = list(input_signature)
    specs = named_signature(fn, original)

    def wrapped(*args):
        inputs, checks = [], []
        for spec, x in zip(specs, args):
            if check_shapes:
                x = _checked(name, spec, x)
            if limits is not None:
                checks += _size_checks(name, spec, x, limits)
                if spec.dtype.is_floating and not allow_nonfinite:
                    x = _finite(name, spec, x)
                if spec.name in (ranges or {}):
                    checks.append(_range_check(name, spec, x, *ranges[spec.name]))
            inputs.append(x)
        count = None
        if limits is not None:
            with tf.control_dependencies(checks):
                inputs = [tf.identity(x) for x in inputs]
            for i, spec in enumerate(specs):
                inputs[i], rows = _at_least_one(spec, inputs[i])
                count = rows if count is None else count
        inputs = [tf.cast(x, orig.dtype) if orig.dtype != x.dtype else x for orig, x in zip(original, inputs)]
        outputs = fn(*inputs)
        if not isinstance(outputs, dict):
            raise TypeError(f"endpoint '{name}' must return a dict of tensors (a bare tensor would be "
                            f"served as 'output_0'), got {type(outputs).__name__}")
        outputs = {k: tf.cast(v, tf.float32) if v.dtype.is_floating else v for k, v in outputs.items()}
        if count is not None:
            outputs = {k: v[:count] if v.shape.rank else v for k, v in outputs.items()}
        return outputs

    wrapped.__name__ = name
    return wrapped, specs


def example_inputs(specs, batch_size: int, seed: int = 0, steps: int | None = None) -> list[np.ndarray]:
    """Deterministic inputs for ``specs`` with each unknown dim set to ``batch_size``.

    Floats: uniform in [0, 1). Integer scalars (``n``, ``seed``): ``batch_size``; ``steps``: ``steps`` if
    given, else ``batch_size``. Other integers: 0 or 1.
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
            value = steps if steps is not None and count_input(spec) == "steps" else batch_size
            arrays.append(np.asarray(value, dtype=dtype))
        elif spec.dtype.is_integer:
            arrays.append(rng.integers(0, 2, size=shape).astype(dtype))
        elif spec.dtype.is_bool:
            arrays.append(rng.random(shape) < 0.5)
        else:
            raise ValueError(f"input '{spec.name}': no example values for dtype {spec.dtype.name}")
    return arrays
