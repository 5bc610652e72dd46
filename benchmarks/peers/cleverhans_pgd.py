"""CleverHans 4 (`cleverhans.tf2.attacks.projected_gradient_descent`) as a peer of tfgm's PGD-40: the MNIST CNN of
`tfgm.nets.fortified_nets.mnist_cnn` as a CleverHans user's Keras model has it — Keras' own `Conv2D` where tfgm
builds its `FastConv2D`, same config and weights (`net="tfgm"` attacks tfgm's net itself) —, batch, ε 0.1, step
0.01, 40 iterations, uniform random start, clip to [0, 1], called eagerly as CleverHans documents it (a Python loop
of `fast_gradient_method` calls, each with its own GradientTape). It does 40 forward+gradient passes and keeps the
last iterate (tfgm: one more forward, and the iterate of highest loss per example).

Needs `pip install cleverhans` (4.0.0 installs beside TensorFlow 2.21 without replacing it); compare.py skips this
peer, saying so, when it is missing.
"""

import numpy as np


def available():
    """'' when CleverHans' TF2 PGD imports, else the reason it does not."""
    try:
        from cleverhans.tf2.attacks.projected_gradient_descent import projected_gradient_descent  # noqa: F401
    except Exception as error:  # ImportError, or a CleverHans that fails against this TensorFlow
        return f"cleverhans not usable ({type(error).__name__}: {error}); pip install cleverhans"
    return ""


def plain_keras(net):
    """`net` with every tfgm.layers fast drop-in (FastConv2D, FastConv2DTranspose, FastLeakyReLU, the
    fast_leaky_relu activation) rebuilt as the Keras layer or activation it replaces (same config, same weights)."""
    import keras

    from tfgm.layers import FastConv2D, FastConv2DTranspose, FastLeakyReLU, fast_leaky_relu

    keras_class = {FastConv2D: keras.layers.Conv2D, FastConv2DTranspose: keras.layers.Conv2DTranspose,
                   FastLeakyReLU: keras.layers.LeakyReLU}

    def clone(layer):
        config = layer.get_config()
        if getattr(layer, "activation", None) is fast_leaky_relu:
            config["activation"] = "leaky_relu"
        return keras_class.get(type(layer), type(layer)).from_config(config)

    plain = keras.models.clone_model(net, clone_function=clone)
    plain.set_weights(net.get_weights())
    return plain


def pgd40(batch, eps=0.1, step_size=0.01, steps=40, net="keras"):
    """(attack, images per call, {"mnist_cnn": the Keras net}, FLOPs per call); `net`: "keras" (Keras' layers)
    or "tfgm" (tfgm's net as built)."""
    import tensorflow as tf
    from cleverhans.tf2.attacks.projected_gradient_descent import projected_gradient_descent

    from benchmarks import _models
    from benchmarks.train_step import graph_flops
    from tfgm.attacks import _common
    from tfgm.nets import fortified_nets

    net = fortified_nets.mnist_cnn() if net == "tfgm" else plain_keras(fortified_nets.mnist_cnn())
    data = _models.mnist_batch(batch)
    x, y = tf.constant(data["image"]), tf.constant(data["label"])
    per_step = graph_flops(tf.function(lambda: _common.loss_and_gradient(net, x, y)))

    def attack():
        return projected_gradient_descent(net, x, eps, step_size, steps, np.inf, clip_min=0.0, clip_max=1.0, y=y,
                                          rand_init=True, sanity_checks=False).numpy()

    return attack, batch, {"mnist_cnn": net}, (steps * per_step if per_step else None)
