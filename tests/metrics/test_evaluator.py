import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgm.metrics.evaluator import (GeneratorEvaluator, as_sampler, evaluate_generator, inception_2015_graph,
                                    keras_classifier, keras_inception_v3)
from tfgm.nets import dcgan

SHAPE = (16, 16, 1)


def _generator(seed):
    keras.utils.set_random_seed(seed)
    return dcgan.generator(4, SHAPE, width=4, batch_norm=False, name=f"g{seed}")


def _noise_generator(seed):
    """z [B, 4] → 16×16 images of sigmoid(W z), W ~ N(0, 9): speckled images, a distribution per seed."""
    keras.utils.set_random_seed(seed)
    z = keras.Input((4,))
    x = keras.layers.Dense(16 * 16, activation="sigmoid", kernel_initializer=keras.initializers.RandomNormal(0, 3))(z)
    return keras.Model(z, keras.layers.Reshape(SHAPE)(x), name=f"noise{seed}")


@pytest.fixture(scope="module")
def setup():
    """Generator N0, 400 real images from it (other latents), and an untrained tiny classifier as network."""
    n0 = _noise_generator(0)
    real = n0(np.random.default_rng(1).normal(size=(400, 4)).astype("float32")).numpy()
    keras.utils.set_random_seed(2)
    network = keras_classifier(dcgan.classifier(SHAPE, num_classes=5, width=4, feature_units=8), "features")
    return n0, real, network


def test_fid_is_about_zero_for_real_vs_real_and_larger_for_other_distributions(setup):
    n0, real, network = setup
    evaluator = GeneratorEvaluator(network, tf.data.Dataset.from_tensor_slices({"image": real}), num_real=400,
                                   batch_size=64, kid_subsets=10, kid_subset_size=200)
    same = evaluator.evaluate(n0, num_samples=400, seed=3)
    other = evaluator.evaluate(_noise_generator(7), num_samples=400, seed=3)
    gray = evaluator.evaluate(_generator(5), num_samples=400, seed=3)
    assert same["fid"] < 0.1 * other["fid"] and other["fid"] < gray["fid"]
    assert abs(same["kid"]["mean"]) < 0.1 * other["kid"]["mean"]
    assert same["network"] == "FD-classifier:features" and same["feature_dim"] == 8
    assert same["num_generated"] == same["num_real"] == 400 and same["kid"]["subset_size"] == 200
    assert 1.0 <= same["inception_score"]["mean"] <= 5.0 and same["inception_score"]["splits"] == 10
    assert same["inception_score_real"]["num_samples"] == 400
    assert "bilinear" in same["resize"] and same["comparable_with_published"] is False


def test_real_data_may_be_an_array_batched_or_unbatched_and_is_limited_to_num_real(setup):
    n0, real, network = setup
    results = [evaluate_generator(n0, data, network, num_samples=50, num_real=90, batch_size=32, kid_subsets=2)
               for data in (real, tf.data.Dataset.from_tensor_slices(real).batch(7))]
    assert results[0]["num_real"] == results[1]["num_real"] == 90
    assert results[0]["fid"] == pytest.approx(results[1]["fid"], rel=1e-6)


def test_a_gan_and_its_savedmodel_and_onnx_exports_get_the_same_scores(setup, tmp_path):
    from export import export_run
    from tfgm.models.gan import GAN

    _, real, network = setup
    gan = GAN(_generator(0), dcgan.discriminator(SHAPE, width=4))
    run_dir = tmp_path / "recipe" / "run"
    os.makedirs(run_dir / "models")
    gan.save(str(run_dir / "models" / "gan.keras"))
    assert export_run(str(run_dir), batch_sizes=(2,))["passed"]
    evaluator = GeneratorEvaluator(network, real, num_real=100, batch_size=50, kid_subsets=2)
    exported = (str(run_dir / "export" / "savedmodel" / "gan" / "1"), str(run_dir / "export" / "onnx" / "gan_generator.onnx"))
    scores = [evaluator.evaluate(g, num_samples=100, seed=4) for g in (gan, *exported)]
    assert scores[1]["generator"].startswith("SavedModel") and scores[2]["generator"].startswith("ONNX")
    for other in scores[1:]:
        assert other["fid"] == pytest.approx(scores[0]["fid"], rel=1e-3, abs=1e-6)


def test_unusable_generators_fail_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="SavedModel folder or an .onnx"):
        as_sampler(str(tmp_path / "missing.pb"))
    with pytest.raises(TypeError, match="cannot sample"):
        as_sampler(object())
    with pytest.raises(FileNotFoundError, match="inception-2015-12-05"):
        inception_2015_graph(tmp_path / "classify_image_graph_def.pb")


def test_keras_inception_v3_path_untrained():
    network = keras_inception_v3(weights=None)
    assert network.label == "FID-KerasInceptionV3(weights=None)" and "299" in network.resize
    features, probs = network(np.random.default_rng(0).random((2, 28, 28, 1)).astype("float32"))
    assert features.shape == (2, 2048) and probs.shape == (2, 1000)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-4)


def _fake_2015_graph(path):
    """A tiny graph with the 2015 Inception graph's tensor names: DecodeJpeg → Cast → ExpandDims (batch 1) →
    ResizeBilinear → 1×1 conv → pool_3 [1, 1, 1, 4] → pool_3/_reshape [1, 4] → softmax/logits/MatMul."""
    graph = tf.Graph()
    with graph.as_default():
        contents = tf.compat.v1.placeholder(tf.string, [], name="DecodeJpeg/contents")
        image = tf.io.decode_jpeg(contents, channels=3, name="DecodeJpeg")
        x = tf.expand_dims(tf.cast(image, tf.float32, name="Cast"), 0, name="ExpandDims")
        x = tf.compat.v1.image.resize_bilinear(x, [8, 8], name="ResizeBilinear")
        kernel = np.linspace(-1, 1, 12, dtype="float32").reshape(1, 1, 3, 4) / 255.0
        x = tf.nn.conv2d(x, kernel, 1, "VALID")
        pool3 = tf.nn.avg_pool2d(x, 8, 1, "VALID", name="pool_3")
        flat = tf.reshape(pool3, [1, 4], name="pool_3/_reshape")
        weights = tf.constant(np.linspace(-2, 2, 24, dtype="float32").reshape(4, 6), name="softmax/weights")
        tf.nn.softmax(tf.matmul(flat, weights, name="softmax/logits/MatMul"), name="softmax")
    with open(path, "wb") as f:
        f.write(graph.as_graph_def().SerializeToString())
    return kernel.reshape(3, 4), np.linspace(-2, 2, 24, dtype="float32").reshape(4, 6)


def test_inception_2015_graph_is_fed_batches_at_expanddims(tmp_path):
    kernel, weights = _fake_2015_graph(tmp_path / "graph.pb")
    network = inception_2015_graph(tmp_path / "graph.pb")
    assert network.label == "FID-Inception2015" and network.comparable
    images = np.random.default_rng(0).random((3, 8, 8, 1)).astype("float32")
    features, probs = network(images)
    expected = (np.tile(images, (1, 1, 1, 3)) * 255.0).mean(axis=(1, 2)) @ kernel
    np.testing.assert_allclose(features, expected, rtol=1e-4, atol=1e-5)
    logits = expected @ weights
    np.testing.assert_allclose(probs, np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True), rtol=1e-4)
