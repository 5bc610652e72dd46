"""GeneratorEvaluator.evaluate_images (images already drawn) and the sigmoid (attribute) Inception Score option."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgm.metrics import attribute_inception_score, feature_statistics, frechet_distance, inception_score
from tfgm.metrics.evaluator import GeneratorEvaluator, as_sampler, keras_classifier
from tfgm.nets import dcgan

SHAPE = (8, 8, 1)


def _speckle(seed, n):
    """n images [n, 8, 8, 1] in [0, 1]: sigmoid of a random linear map of 3-d Gaussians, one map per seed."""
    rng = np.random.default_rng(seed)
    weights = rng.normal(0, 3, (3, 64))
    z = np.random.default_rng(seed + 100).normal(size=(n, 3))
    return (1 / (1 + np.exp(-z @ weights))).reshape(n, *SHAPE).astype("float32")


@pytest.fixture(scope="module")
def classifier():
    keras.utils.set_random_seed(0)
    return dcgan.classifier(SHAPE, num_classes=5, width=4, feature_units=6)


def test_given_images_score_as_their_generator_does(classifier):
    """evaluate_images on the very samples `evaluate` draws (same latents, same batches) gives its numbers."""
    keras.utils.set_random_seed(1)
    z = keras.Input((4,))
    x = keras.layers.Dense(64, activation="sigmoid", kernel_initializer=keras.initializers.RandomNormal(0, 3))(z)
    generator = keras.Model(z, keras.layers.Reshape(SHAPE)(x))
    evaluator = GeneratorEvaluator(keras_classifier(classifier, "features"), _speckle(0, 90), num_real=None,
                                   batch_size=32, splits=3, kid_subsets=4, kid_subset_size=30)
    drawn = evaluator.evaluate(generator, num_samples=70, seed=5)
    sample, _ = as_sampler(generator)
    images = np.concatenate([np.asarray(sample(n, 5, i)) for i, n in enumerate((32, 32, 6))])
    given = evaluator.evaluate_images(images, seed=5)
    assert given["num_real"] == 90 and given["num_generated"] == 70 and given["generator"] == "70 given images"
    assert given["fid"] == pytest.approx(drawn["fid"], rel=1e-6)
    assert given["kid"] == pytest.approx(drawn["kid"], rel=1e-6)
    assert given["inception_score"] == pytest.approx(drawn["inception_score"], rel=1e-6)


def test_scores_match_a_hand_computation_and_probabilities_are_returned(classifier):
    real, fake = _speckle(0, 40), _speckle(1, 25)
    network = keras_classifier(classifier, "features")
    evaluator = GeneratorEvaluator(network, tf.data.Dataset.from_tensor_slices({"image": real}).batch(7),
                                   num_real=None, batch_size=10, splits=4, kid_subsets=0)
    result, probs = evaluator.evaluate_images(fake, return_probabilities=True)
    (real_features, _), (fake_features, fake_probs) = network(real), network(fake)
    assert result["fid"] == pytest.approx(frechet_distance(*feature_statistics(real_features),
                                                           *feature_statistics(fake_features)), rel=1e-6)
    mean, std = inception_score(fake_probs, splits=4)
    assert result["inception_score"] == {"mean": pytest.approx(mean, rel=1e-6), "std": pytest.approx(std, rel=1e-5),
                                         "splits": 4, "num_samples": 25}
    assert result["kid"] is None and result["num_real"] == 40 and result["feature_dim"] == 6
    np.testing.assert_allclose(probs, fake_probs, rtol=1e-6)
    with pytest.raises(ValueError, match="at least 2"):
        evaluator.evaluate_images(fake[:1])


def test_sigmoid_probabilities_give_the_attribute_inception_score():
    from tfgm.nets.score_nets import score_classifier

    keras.utils.set_random_seed(3)
    classifier = score_classifier(SHAPE, 5)  # linear logits, as an attribute classifier's
    fake = _speckle(1, 30)
    network = keras_classifier(classifier, "features", probabilities="sigmoid")
    evaluator = GeneratorEvaluator(network, _speckle(0, 20), batch_size=16, splits=3, kid_subsets=0)
    result, probs = evaluator.evaluate_images(fake, return_probabilities=True)
    logits = np.asarray(classifier(fake), np.float64)
    np.testing.assert_allclose(probs, 1 / (1 + np.exp(-logits)), rtol=1e-5)
    mean, std = attribute_inception_score(1 / (1 + np.exp(-logits)), splits=3)
    assert result["inception_score"]["mean"] == pytest.approx(mean, rel=1e-5)
    assert result["inception_score"]["std"] == pytest.approx(std, rel=1e-4, abs=1e-9)
    assert 1.0 <= result["inception_score"]["mean"] <= 2.0 and 1.0 <= result["inception_score_real"]["mean"] <= 2.0
    with pytest.raises(ValueError, match="'softmax' or 'sigmoid'"):
        keras_classifier(classifier, "features", probabilities="tanh")
