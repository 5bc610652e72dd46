"""Mixed precision for the models with their own optimizers (GAN, ALI/GibbsNet, joint GibbsNet) and the fortified
classifier: every optimizer loss-scaled under float16, float32 logs and outputs, and one step ≈ the float32 step.

(The VAEs are covered in test_precision.py.)
"""

import numpy as np
import pytest
import tensorflow as tf

import keras
from tfgm.models import JointGibbsNet
from tfgm.models.fortify import fortify
from tfgm.models.gan import GAN
from tfgm.models.gibbsnet import GibbsNet
from tfgm.nets import ali_joint_nets, ali_nets, dcgan
from tfgm.training import set_precision

from .training_helpers import MIXED_STEP_TOLERANCE

rng = np.random.default_rng(5)
IMAGES = rng.random((8, 8, 8, 1)).astype("float32")
ATTRIBUTES = (rng.random((8, 4)) > 0.5).astype("float32")
POINTS = rng.normal(size=(8, 2)).astype("float32")
FEATURES = rng.random((8, 20)).astype("float32")
LABELS = rng.integers(0, 3, 8).astype("int32")
KINDS = ("gan", "gibbsnet", "joint", "fortified")
# MIXED_STEP_TOLERANCE: measured on these nets, float16 0.04–0.4%; bfloat16 0.5–1%, and 4.7% for the joint model
# (its discrete-BGAN importance weights).
pytestmark = pytest.mark.usefixtures("float32_afterwards")


def _build(kind, precision, weights=None):
    set_precision(precision)
    keras.utils.set_random_seed(0)
    if kind == "gan":
        model = GAN(dcgan.mlp_generator(3, 2, (8,)), dcgan.mlp_discriminator(2, (8,)))
        data = {"image": POINTS}
    elif kind == "gibbsnet":
        model = GibbsNet(*ali_nets.mlp_ali((8, 8, 1), 3, hidden=(16,), d_hidden=16, dropout=0.0), train_steps=2)
        data = {"image": IMAGES}
    elif kind == "joint":
        model = JointGibbsNet(*ali_joint_nets.mlp_joint((8, 8, 1), 4, 3, hidden=16), train_steps=2,
                              attribute_samples=3)
        data = {"image": IMAGES, "attributes": ATTRIBUTES}
    else:
        x_in = keras.Input((20,), name="x")
        h = keras.layers.Dense(12, activation="leaky_relu", name="h1")(x_in)
        net = keras.Model(x_in, keras.layers.Dense(3, name="logits")(h))
        model = fortify(net, ["h1"], hidden_units={"h1": 6}, seed=1, attack={"name": "fgsm", "eps": 0.1})
        data = {"image": FEATURES, "label": LABELS}
    if weights is not None:
        model.set_weights(weights)
    return model, tf.data.Dataset.from_tensor_slices(data).batch(8)


def _optimizers(kind, precision, initial_scale=2.0**4):
    """Two SGD optimizers (one for the fortified classifier), loss-scaled from a low initial scale under float16
    so that the compared step is applied (Keras' 2**15 start skips the first steps)."""
    made = []
    for _ in range(1 if kind == "fortified" else 2):
        opt = keras.optimizers.SGD(1e-2)
        if precision == "mixed_float16":
            opt = keras.optimizers.LossScaleOptimizer(opt, initial_scale=initial_scale)
        made.append(opt)
    return made


def _step(model, data, optimizers):
    before = [v.numpy().copy() for v in model.trainable_variables]
    model.compile(*optimizers)
    logs = model.fit(data, epochs=1, verbose=0).history
    delta = np.concatenate([(v.numpy() - b).ravel() for v, b in zip(model.trainable_variables, before)])
    return delta, {k: v[0] for k, v in logs.items()}


@pytest.mark.parametrize("kind", KINDS)
def test_every_optimizer_is_loss_scaled_under_float16_and_outputs_stay_float32(kind):
    model, data = _build(kind, "mixed_float16")
    model.compile(*([keras.optimizers.Adam(1e-3)] if kind == "fortified" else []))
    optimizers = [model.optimizer] if kind == "fortified" else [model.d_optimizer, model.g_optimizer]
    assert all(isinstance(o, keras.optimizers.LossScaleOptimizer) for o in optimizers)
    logs = model.fit(data, epochs=1, verbose=0).history
    assert all(np.isfinite(v[0]) for v in logs.values()), logs
    if kind == "fortified":
        assert model.network.get_layer("h1").compute_dtype == "float16"
        assert model(FEATURES).dtype == tf.float32
    else:
        out = model.sample(4, seed=1)
        assert out.dtype == tf.float32 and np.isfinite(out.numpy()).all()


@pytest.fixture(scope="module")
def float32_steps():
    """{kind: (initial weights, float32 step)}, each computed once for both mixed precisions."""
    return {}


def _float32_step(kind, cache):
    if kind not in cache:
        reference, data = _build(kind, "float32")
        weights = reference.get_weights()
        cache[kind] = weights, _step(reference, data, _optimizers(kind, "float32"))[0]
    return cache[kind]


@pytest.mark.parametrize("precision", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_mixed_precision_step_of_every_model_matches_its_float32_step(kind, precision, float32_steps):
    weights, expected = _float32_step(kind, float32_steps)
    model, data = _build(kind, precision, weights)
    delta, logs = _step(model, data, _optimizers(kind, precision))
    assert all(np.isfinite(v) for v in logs.values()), logs
    assert np.linalg.norm(expected) > 0
    error = np.linalg.norm(delta - expected) / np.linalg.norm(expected)
    assert error < MIXED_STEP_TOLERANCE[precision], error
