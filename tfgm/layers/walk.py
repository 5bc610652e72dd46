"""The one layer walk of tfgm: every layer inside a model, found the way Keras finds them."""

import keras


def sublayers(model, kind=None) -> list:
    """Every layer inside `model` (itself included), each once, in Keras' order; only instances of `kind`
    (a class or tuple of classes) when given.

    Keras' own walk (`_flatten_layers`, deduplicated): nested Functional/Sequential models, wrapped layers
    (`keras.layers.Wrapper.layer`), the sub-models and layers a subclassed model holds as attributes, and
    layers shared between sub-models.
    """
    if not isinstance(model, keras.layers.Layer):
        raise TypeError(f"sublayers needs a Keras layer or model, got {type(model).__name__}")
    layers = model._flatten_layers(include_self=True, recursive=True)
    return [layer for layer in layers if kind is None or isinstance(layer, kind)]
