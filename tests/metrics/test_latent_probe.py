import numpy as np
import tensorflow as tf

from tfgm.metrics.latent_probe import attribute_probe_accuracy, latent_probe_accuracy


def _dataset(n, seed):
    r = np.random.default_rng(seed)
    labels = r.integers(0, 3, n).astype("int32")
    images = (labels[:, None] / 2.0 + 0.1 * r.normal(size=(n, 4))).astype("float32").reshape(n, 2, 2, 1)
    return tf.data.Dataset.from_tensor_slices({"image": images, "label": labels}).batch(50)


def test_probe_separates_informative_features_and_not_uninformative_ones():
    train, test = _dataset(600, 0), _dataset(300, 1)
    good = latent_probe_accuracy(lambda x: tf.reshape(x, [-1, 4]), train, test, hidden=(16, 16), epochs=20)
    assert good["accuracy"] > 0.95 and good["num_test"] == 300 and good["num_classes"] == 3
    noise = lambda x: tf.random.stateless_normal([tf.shape(x)[0], 4], seed=[0, 0])  # noqa: E731
    bad = latent_probe_accuracy(noise, train, test, hidden=(16, 16), epochs=20)
    assert bad["accuracy"] < 0.6


def test_the_encoder_is_only_called_forward_and_keeps_its_weights():
    weights = tf.Variable(tf.ones([4, 2]))
    latent_probe_accuracy(lambda x: tf.reshape(x, [-1, 4]) @ weights, _dataset(100, 0), _dataset(50, 1),
                          hidden=(8, 8), epochs=2)
    np.testing.assert_array_equal(weights.numpy(), np.ones([4, 2]))


def test_attribute_probe_reads_attributes_from_informative_features_only():
    rng = np.random.default_rng(0)
    attrs = (rng.random((600, 3)) < [0.5, 0.3, 0.8]).astype("float32")
    images = np.concatenate([attrs, rng.normal(size=(600, 2))], 1).astype("float32")
    ds = lambda a, b: tf.data.Dataset.from_tensor_slices({"image": images[a:b], "attributes": attrs[a:b]}).batch(100)  # noqa: E731
    informative = attribute_probe_accuracy(lambda x: x[:, :3], ds(0, 400), ds(400, 600), hidden=(16,), epochs=40, learning_rate=1e-2)
    noise = attribute_probe_accuracy(lambda x: x[:, 3:], ds(0, 400), ds(400, 600), hidden=(16,), epochs=40, learning_rate=1e-2)
    assert informative["accuracy"] > 0.97 and len(informative["per_attribute"]) == 3
    assert noise["accuracy"] < noise["majority_accuracy"] + 0.05 < informative["accuracy"]
    assert informative["num_train"] == 400 and informative["num_test"] == 200
