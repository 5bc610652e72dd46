"""`fortify_identity`: the undefended baseline — the same classifier and train step, a frozen identity slot."""

import keras
import numpy as np
import tensorflow as tf

from tfgm.models.fortify import fortify_identity

rng = np.random.default_rng(0)


def _dense_net():
    keras.utils.set_random_seed(0)
    x_in = keras.Input((6,), name="x")
    h = keras.layers.Dense(5, activation="relu", name="h1")(x_in)
    return keras.Model(x_in, keras.layers.Dense(3, name="logits")(h), name="toy")


def _conv_net():
    keras.utils.set_random_seed(0)
    x_in = keras.Input((4, 4, 2), name="x")
    h = keras.layers.Conv2D(3, 3, padding="same", activation="relu", name="c")(x_in)
    return keras.Model(x_in, keras.layers.Dense(3, name="logits")(keras.layers.Flatten()(h)), name="conv")


def test_the_identity_slot_leaves_the_classifier_unchanged_and_scores_zero():
    net = _dense_net()
    x = rng.random((8, 6)).astype("float32")
    expected = net(x).numpy()
    model = fortify_identity(net, "h1", attack="fgsm", seed=0, name="baseline")
    assert (model.lambda_rec, model.lambda_adv, model.score, model.name) == (0.0, 0.0, "raw", "baseline")
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-6, atol=1e-6)
    assert np.all(model.predict_with_score(x)[1] == 0.0)
    assert {id(v) for v in model.trainable_variables} == {id(v) for v in net.trainable_variables}


def test_training_moves_the_classifier_and_not_the_identity():
    net = _dense_net()
    model = fortify_identity(net, "h1", attack="fgsm", seed=0)
    model.compile(keras.optimizers.Adam(1e-2))
    before = net.get_layer("h1").kernel.numpy().copy()
    data = tf.data.Dataset.from_tensor_slices({"image": rng.random((16, 6)).astype("float32"),
                                               "label": rng.integers(0, 3, 16).astype("int32")}).batch(8)
    model.fit(data, epochs=1, verbose=0)
    assert not np.allclose(net.get_layer("h1").kernel.numpy(), before)
    identity = [w.numpy() for w in model.network.weights if "fortified_h1" in w.path]
    np.testing.assert_array_equal(identity[0], np.eye(5, dtype="float32"))


def test_a_feature_map_slot_gets_an_identity_on_its_channels():
    net = _conv_net()
    x = rng.random((4, 4, 4, 2)).astype("float32")
    expected = net(x).numpy()
    model = fortify_identity(net, "c")
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-6, atol=1e-6)
    assert np.all(model.predict_with_score(x)[1] == 0.0)
