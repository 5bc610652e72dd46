"""Synchronized batch normalization for an already-built model, without touching its builder.

Keras 3's ``BatchNormalization(synchronized=True)`` (TensorFlow backend) computes a training batch's
mean and variance over all replicas of the running strategy: each replica all-reduces its sum, sum of
squares and count (three small all-reduces per layer and step, and their gradients). Without it every
replica normalizes by its own share of the global batch and, under ``MirroredStrategy``, keeps its own
copy of the moving statistics (the copy read afterwards is the first replica's).

Keras 3.15 reads ``layer.synchronized`` when the layer is called (``BatchNormalization._moments`` passes
it to ``ops.moments``), not only in ``__init__``, and stores it in ``get_config``; so setting the
attribute on a built layer before its training function is traced is the same as building the layer
with ``synchronized=True``, and a model saved afterwards reloads with synchronized layers.
"""

from __future__ import annotations

import keras

from tfgm.layers.walk import sublayers


def batch_norm_layers(model) -> list:
    """Every ``keras.layers.BatchNormalization`` inside ``model`` (itself included), each once.

    The walk is ``tfgm.layers.walk.sublayers`` (Keras' own): nested Functional/Sequential models, wrapped
    layers, and the sub-models and layers that subclassed models hold as attributes.
    """
    return sublayers(model, keras.layers.BatchNormalization)


def synchronize_batch_norm(model, synchronized: bool = True) -> int:
    """Set ``synchronized`` on every ``BatchNormalization`` layer of the built ``model``; return their number.

    Call it after building the model (inside or outside the strategy scope) and before training: a
    training function Keras traced earlier is dropped so that the next ``fit`` retraces with the new
    setting. With one replica a synchronized layer computes exactly what an unsynchronized one does.
    ``synchronized=False`` turns it off again. TensorFlow backend only (as in Keras).
    """
    layers = batch_norm_layers(model)
    if synchronized and layers and keras.backend.backend() != "tensorflow":
        raise ValueError(f"synchronized batch normalization needs the TensorFlow backend, not "
                         f"{keras.backend.backend()!r}")
    for layer in layers:
        layer.synchronized = bool(synchronized)
    if layers:
        for attribute in ("train_function", "test_function", "predict_function"):
            if getattr(model, attribute, None) is not None:
                setattr(model, attribute, None)
    return len(layers)
