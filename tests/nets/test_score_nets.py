"""The scoring classifier: logits of the right shape, a 128-d "features" layer, a saved-model round trip."""

import keras
import numpy as np
import pytest

from tfgm.nets import score_nets


@pytest.mark.parametrize("shape,classes", [((28, 28, 1), 10), ((32, 32, 3), 3)])
def test_logits_and_features(shape, classes):
    model = score_nets.score_classifier(shape, classes)
    images = np.random.default_rng(0).random((2,) + shape).astype("float32")
    assert model.name == "score_classifier"
    assert model(images).shape == (2, classes)
    features = keras.Model(model.input, model.get_layer("features").output)
    assert features(images).shape == (2, 128)
    assert np.all(features(images).numpy() >= 0.0)  # ReLU features


def test_keras_round_trip(tmp_path):
    model = score_nets.score_classifier((28, 28, 1), 4)
    images = np.random.default_rng(1).random((3, 28, 28, 1)).astype("float32")
    path = str(tmp_path / "m.keras")
    model.save(path)
    np.testing.assert_allclose(keras.saving.load_model(path)(images), model(images), rtol=1e-6)
