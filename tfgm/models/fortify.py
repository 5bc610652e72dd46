"""`fortify`: insert fortified layers into an existing Keras classifier, keeping its layers and weights;
`fortify_identity`: the same classifier with a frozen identity in that place (its undefended baseline)."""

import keras
import numpy as np

from tfgm.layers import FortifiedConv2D, FortifiedDense
from tfgm.models.fortified import FortifiedClassifier

# Default DAE widths when `hidden_units` is None: 256 for vectors (the release's MNIST CNN and MLP DAE);
# for feature maps, as many filters as the fortified map has channels.
DEFAULT_DENSE_UNITS = 256


def fortified_name(layer):
    """Name of the fortified layer `fortify` inserts after the layer named `layer`."""
    return f"fortified_{layer}"


def _functional(model):
    if isinstance(model, keras.Sequential):
        if not model.built or not model.inputs:
            raise ValueError("fortify: the Sequential model must be built with a known input "
                             "(start it with keras.Input(shape) or call model.build(input_shape))")
        return keras.Model(model.inputs, model.outputs, name=model.name)
    if not isinstance(model, keras.Model) or not any(isinstance(l, keras.layers.InputLayer) for l in model.layers):
        raise TypeError(f"fortify needs a Functional or Sequential Keras model, got {type(model).__name__} "
                        "(subclassed models have no layer graph to rebuild)")
    return model


def _make_layer(name, shape, hidden_units, conv, noise_stddev, activation, noise_at_inference, kernel_size, seed):
    rank = len(shape)
    use_conv = (rank == 4) if conv == "auto" else bool(conv)
    if use_conv and rank != 4:
        raise ValueError(f"fortify: layer '{name}' outputs shape {shape}; a convolutional DAE needs [B, H, W, C]")
    units = hidden_units.get(name) if isinstance(hidden_units, dict) else hidden_units
    common = {"noise_stddev": noise_stddev, "activation": activation, "noise_at_inference": noise_at_inference,
              "seed": seed, "name": fortified_name(name)}
    if use_conv:
        return FortifiedConv2D(int(units or shape[-1]), kernel_size=kernel_size, **common)
    return FortifiedDense(int(units or DEFAULT_DENSE_UNITS), **common)


def fortify(model, layers, hidden_units=None, noise_stddev=0.1, conv="auto", activation="leaky_relu",
            noise_at_inference=False, kernel_size=5, seed=None, **classifier_kwargs):
    """Return a `FortifiedClassifier` whose network is `model` with a fortified layer after each named layer.

    model: built Functional or Sequential Keras classifier, one input → logits. Its layer objects are
        reused (not copied): the original weights are kept and shared with `model`.
    layers: names of the layers to fortify (an input layer's name fortifies the input itself).
    hidden_units: None (256 for vectors, the input's channels for feature maps), an int, or {name: int}.
    conv: "auto" (FortifiedConv2D on [B, H, W, C] outputs, FortifiedDense otherwise), True or False.
    noise_stddev, activation, noise_at_inference, kernel_size: passed to every fortified layer.
    seed: an int seeds the classifier's attack (its `seed`) and each layer's noise (seed + position);
        None: layer noise seeds drawn at random, classifier seed from `classifier_kwargs` or 0.
    classifier_kwargs: FortifiedClassifier arguments (attack, lambda_rec, lambda_adv, rec_reduction, score,
        label_smoothing, ...).
    """
    if isinstance(layers, str):
        layers = [layers]
    names = list(dict.fromkeys(layers))
    if not names:
        raise ValueError("fortify: name at least one layer to fortify")
    if conv not in ("auto", True, False):
        raise ValueError(f"fortify: conv must be 'auto', True or False, got {conv!r}")
    functional = _functional(model)
    if len(functional.inputs) != 1 or len(functional.outputs) != 1:
        raise ValueError("fortify: the classifier must have exactly one input and one output (logits)")
    known = {layer.name for layer in functional.layers}
    missing = [n for n in names if n not in known]
    if missing:
        raise ValueError(f"fortify: no layer named {missing} in model '{model.name}'; layers: {sorted(known)}")
    if isinstance(hidden_units, dict) and set(hidden_units) - set(names):
        raise ValueError(f"fortify: hidden_units names {sorted(set(hidden_units) - set(names))} are not fortified")

    made = set()

    def dae_for(name, tensor):
        if name in made:
            raise ValueError(f"fortify: layer '{name}' is called more than once in the model (a shared layer); "
                             "fortify a layer that is used once")
        made.add(name)
        layer_seed = None if seed is None else int(seed) + names.index(name)
        return _make_layer(name, tuple(tensor.shape), hidden_units, conv, noise_stddev, activation,
                           noise_at_inference, kernel_size, layer_seed)(tensor)

    old_input = functional.inputs[0]
    new_input = keras.Input(batch_shape=old_input.shape, dtype=old_input.dtype, name=old_input.name)
    input_name = next(l.name for l in functional.layers if isinstance(l, keras.layers.InputLayer))
    entry = dae_for(input_name, new_input) if input_name in names else new_input

    def call_function(layer, *args, **kwargs):
        args = keras.tree.map_structure(lambda a: entry if a is new_input else a, args)
        out = layer(*args, **kwargs)
        return dae_for(layer.name, out) if layer.name in names else out

    inputs = keras.tree.map_structure(lambda _: new_input, functional.input)
    clone = keras.models.clone_model(functional, input_tensors=inputs, clone_function=lambda layer: layer,
                                     call_function=call_function)
    network = keras.Model(new_input, clone.outputs, name=f"fortified_{model.name}")
    if seed is not None:
        classifier_kwargs.setdefault("seed", int(seed))
    return FortifiedClassifier(network, **classifier_kwargs)


def fortify_identity(model, layer, **classifier_kwargs):
    """A `FortifiedClassifier` that defends nothing: `model` with a frozen identity after the layer named
    `layer` (a linear tied autoencoder on the last axis, kernel I [D, D], zero biases, no noise),
    λ_rec = λ_adv = 0 and the raw score (identically 0).

    Its train step is the fortified one without the reconstruction terms, so with the same attack it is
    plain adversarial training of `model` (CE on clean + CE on adversarial inputs), and it saves, serves and
    exports like a fortified model: the baseline of the Fortified Networks tables.
    classifier_kwargs: FortifiedClassifier arguments besides λ and score (attack, label_smoothing, seed, name, ...).
    """
    width = int(model.get_layer(layer).output.shape[-1])
    classifier = fortify(model, [layer], hidden_units=width, conv=False, activation="linear", noise_stddev=0.0,
                         lambda_rec=0.0, lambda_adv=0.0, score="raw", **classifier_kwargs)
    identity = classifier.network.get_layer(fortified_name(layer))
    identity.kernel.assign(np.eye(width, dtype="float32"))
    identity.trainable = False
    return classifier
