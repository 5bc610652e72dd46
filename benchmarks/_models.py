"""Compiled models and batches shared by the benchmarks (train_step.py, scaling.py): one definition each.

Builders import TensorFlow/Keras lazily (scaling.py configures logical devices before TensorFlow starts) and
build in the caller's strategy scope, under the current dtype policy.
"""


def images(n, shape, seed=0):
    """n float32 images in [0, 1) of `shape`, as a NumPy array [n, *shape]."""
    import numpy as np

    return np.random.default_rng(seed).random((n,) + shape, dtype=np.float32)


def mnist_batch(n):
    """{"image": [n, 28, 28, 1], "label": [n] int32 cycling 0..9} as NumPy arrays."""
    import numpy as np

    return {"image": images(n, (28, 28, 1)), "label": (np.arange(n) % 10).astype("int32")}


def discreg_model(vae_width=1.0):
    """DiscRegVAE, the paper's CelebA 64×64 nets (METHODS.md §1; VAE channels × vae_width), Adam 0.002."""
    import keras

    from tfgm.models import DiscRegVAE
    from tfgm.nets import discgen

    model = DiscRegVAE(*discgen.celeba_vae_nets(width=vae_width),
                       discgen.feature_extractor(discgen.celeba_classifier()))
    model.compile(keras.optimizers.Adam(0.002))
    return model


def vae_model(vae_width=1.0):
    """Plain VAE on the same nets (channels × vae_width), Adam 0.002."""
    import keras

    from tfgm.models import VAE
    from tfgm.nets import discgen

    model = VAE(*discgen.celeba_vae_nets(width=vae_width))
    model.compile(keras.optimizers.Adam(0.002))
    return model


def fortified_mnist_model(attack):
    """The fortified MNIST CNN (METHODS.md §2) with the training `attack` config (None, "pgd", {...}), Adam 1e-3."""
    import keras

    from tfgm.models import FortifiedClassifier, fortify
    from tfgm.nets import fortified_nets

    model = fortify(fortified_nets.mnist_cnn(), layers=[fortified_nets.FORTIFY_AT["mnist_cnn"]], attack=attack)
    model.compile(keras.optimizers.Adam(1e-3))
    assert isinstance(model, FortifiedClassifier)
    return model


def rbm_model(visible=784, hidden=500, cd_steps=1, batch=100):
    """tfgm's binary RBM trained by CD-k (SGD 0.05, momentum 0.5: rbm_mnist's settings), weights N(0, 0.01²)."""
    import keras

    from tfgm.models import RBM

    model = RBM(visible, hidden, cd_steps=cd_steps, chains=batch, seed=0)
    model.compile(keras.optimizers.SGD(0.05, momentum=0.5))
    return model
