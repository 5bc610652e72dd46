"""The classifier `recipes.robustness_eval` attacks, as images [B, H, W, C] in [0, 1] → logits [B, K]: loaded from a
SavedModel signature or a .keras file, probabilities turned into log-probabilities, and its test data."""

from recipes._robustness_targets import TargetError

PROBABILITY_FLOOR = 1e-30  # log(p) of probabilities below it is log(floor)


def _image_shape(shape):
    """[B, H, W, C] (a TensorShape or list; B, H, W may be None) → (H, W, C) or None if not an image batch."""
    dims = None if shape is None else list(shape)
    if dims is None or len(dims) != 4 or dims[3] is None:
        return None
    return tuple(None if d is None else int(d) for d in dims[1:])


def _first_line(exc):
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _float_spec(spec):
    import tensorflow as tf

    return isinstance(spec, tf.TensorSpec) and spec.dtype.is_floating


def _pick_output(outputs):
    """The output key of a signature's {name: TensorSpec}: float [B, K]; *logit* first, then *prob*, then the only
    one; None if there is none or the choice is ambiguous."""
    candidates = [k for k, s in outputs.items() if _float_spec(s) and s.shape.rank == 2]
    for word in ("logit", "prob"):
        named = [k for k in candidates if word in k.lower()]
        if named:
            return named[0]
    return candidates[0] if len(candidates) == 1 else None


def _describe_signature(fn):
    """"(name shape, ...) -> (name shape, ...)" of a signature."""
    def text(specs):
        if not isinstance(specs, dict):
            return "?"
        return ", ".join(f"{k} {getattr(v, 'shape', '?')}" for k, v in specs.items())

    return f"({text(fn.structured_input_signature[1])}) -> ({text(fn.structured_outputs)})"


def load_savedmodel(path):
    """(images [B, H, W, C] → [B, K] callable, description) from a SavedModel's first image signature."""
    import tensorflow as tf

    try:
        loaded = tf.saved_model.load(path)
    except Exception as exc:  # noqa: BLE001 - any load failure is a bad target
        raise TargetError(f"cannot load the SavedModel {path}: {_first_line(exc)}") from None
    names = sorted(loaded.signatures, key=lambda n: (n != "serving_default", n))
    for name in names:
        fn = loaded.signatures[name]
        inputs, outputs = fn.structured_input_signature[1], fn.structured_outputs
        if len(inputs) != 1 or not isinstance(outputs, dict):
            continue
        (key, spec), = inputs.items()
        out = _pick_output(outputs)
        if not _float_spec(spec) or _image_shape(spec.shape) is None or out is None:
            continue

        def call(x, fn=fn, key=key, out=out, dtype=spec.dtype):
            return fn(**{key: tf.cast(x, dtype)})[out]

        call.owner = loaded  # the signature's variables live as long as the callable
        return call, {"format": "SavedModel", "signature": name, "input": key, "output": out,
                      "input_shape": list(_image_shape(spec.shape))}
    found = "; ".join(f"{n}{_describe_signature(loaded.signatures[n])}" for n in names) or "none"
    raise TargetError(f"the SavedModel {path} has no image classifier signature (one float input [B, H, W, C], a "
                      f"float output [B, K] of logits or probabilities); its signatures: {found}")


def load_keras(path):
    """(images [B, H, W, C] → [B, K] callable, description) of a .keras model."""
    import keras

    import tfgm.models  # noqa: F401 - registers tfgm's classes for safe-mode loading

    try:
        model = keras.saving.load_model(path)
    except Exception as exc:  # noqa: BLE001 - any load failure is a bad target
        raise TargetError(f"cannot load the Keras model {path}: {_first_line(exc)}") from None
    try:
        shape = _image_shape(model.inputs[0].shape) if len(model.inputs) == 1 else None
    except (AttributeError, ValueError, TypeError):
        endpoints = getattr(model, "serving_endpoints", None)
        shape = _image_shape(next(iter(endpoints().values()))[1][0].shape) if endpoints else None
    if shape is None:
        raise TargetError(f"the Keras model {path} does not take one image input [B, H, W, C]")
    return (lambda x: model(x, training=False)), {"format": "keras", "class": type(model).__name__,
                                                  "input_shape": list(shape)}


def load_data(info, shape, points):
    """(x float32 [n, H, W, C] in [0, 1], y int32 [n]): the first `points` test examples; a run directory's are
    converted to the model's (H, W, C) like the recipe did, others must already have the model's shape."""
    import numpy as np

    from tfgm.data import load

    height, width, channels = shape
    convert = info["resize"] and None not in shape
    ds = load(info["data"], "test", data_dir=info["data_dir"] or None, path=info["data_path"] or None,
              image_size=(height, width) if convert else None, channels=channels if convert else None,
              num_examples=points)
    if "label" not in ds.element_spec:
        raise TargetError(f"--data {info['data']} has no class labels: robust accuracy needs them (an npz with y)")
    xs, ys = [], []
    for batch in ds.batch(1000):
        xs.append(batch["image"].numpy())
        ys.append(batch["label"].numpy())
    if not xs:
        raise TargetError(f"--data {info['data']}: the test split yielded no examples")
    x, y = np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.int32).reshape(-1)
    given = x.shape[1:]
    if len(given) != 3 or any(m is not None and m != g for m, g in zip(shape, given)):
        raise TargetError(f"wrong input shape: the model takes images [B, {', '.join(map(str, shape))}] and --data "
                          f"{info['data']} gives [B, {', '.join(map(str, given))}]; give data of the model's shape")
    return x, y


def as_logits(model, x, batch_size):
    """`model` unchanged when it returns logits, else log(p) (softmax(log p) = p): (callable, "logits" |
    "probabilities"). Raises TargetError for outputs other than [B, K] with K ≥ 2."""
    import numpy as np
    import tensorflow as tf

    try:
        out = np.asarray(model(tf.constant(x[:batch_size])), np.float64)
    except (ValueError, TypeError, tf.errors.InvalidArgumentError) as exc:
        raise TargetError(f"the model fails on images {list(x.shape[1:])}: {_first_line(exc)}") from None
    if out.ndim != 2 or out.shape[1] < 2:
        raise TargetError(f"the model must return [B, K] logits or probabilities (K >= 2); it returns {out.shape}")
    if out.min() >= -1e-6 and np.allclose(out.sum(-1), 1.0, atol=1e-4):
        return (lambda z: tf.math.log(tf.maximum(tf.cast(model(z), tf.float32), PROBABILITY_FLOOR))), "probabilities"
    return model, "logits"
