"""Attribute agreement and its blind baselines on tiny hand-made attribute tables."""

import numpy as np
import pytest
import tensorflow as tf

from tfgm import metrics

# 3 attributes; training split: A is mostly 1, B mostly 0, C exactly half (a tie predicts 1).
TRAIN = np.array([[1, 0, 1], [1, 0, 0], [1, 1, 1], [0, 0, 0]], "float32")
# Test split, 5 examples.
TEST = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [1, 0, 1], [1, 0, 0]], "float32")


def _dataset(attributes, images=None):
    images = np.zeros((len(attributes), 2, 2, 1), "float32") if images is None else images
    return tf.data.Dataset.from_tensor_slices({"image": images, "attributes": attributes}).batch(2)


def test_majority_baseline_predicts_each_training_majority_and_scores_it_on_the_test_split():
    result = metrics.majority_baseline(TRAIN, _dataset(TEST), ["A", "B", "C"])
    assert result["prediction"] == [1, 0, 1]
    # A = 1 is right on 4 of 5 test rows, B = 0 on 4 of 5, C = 1 on 2 of 5.
    assert result["per_attribute"] == pytest.approx({"A": 0.8, "B": 0.8, "C": 0.4})
    assert result["mean"] == pytest.approx(2.0 / 3.0)
    assert result["num_examples"] == 5


def test_mean_image_baseline_scores_the_classifiers_reading_of_the_mean_training_image():
    seen = []

    def classifier(images, training=False):
        seen.append(np.asarray(images))
        # attribute k is on when the mean pixel exceeds k / 3: mean 0.5 → [on, on, off].
        value = float(np.mean(images))
        return tf.constant([[value - 0.0, value - 1.0 / 3.0, value - 2.0 / 3.0]])

    mean_image = np.full((2, 2, 1), 0.5, "float32")
    result = metrics.mean_image_baseline(classifier, mean_image, _dataset(TEST), ["A", "B", "C"])
    assert seen[0].shape == (1, 2, 2, 1) and seen[0][0, 0, 0, 0] == 0.5
    assert result["prediction"] == [1, 1, 0]
    # A = 1: 4/5; B = 1: 1/5; C = 0: 3/5.
    assert result["per_attribute"] == pytest.approx({"A": 0.8, "B": 0.2, "C": 0.6})


def test_attribute_agreement_of_a_transform_against_the_truth():
    images = TEST[:, None, None, :].repeat(2, axis=1).repeat(2, axis=2)  # the attributes painted as pixels

    def classifier(x, training=False):
        return tf.reduce_mean(x, axis=[1, 2]) - 0.5

    perfect = metrics.attribute_agreement(classifier, _dataset(TEST, images), attribute_names=["A", "B", "C"])
    assert perfect["mean"] == 1.0
    blank = metrics.attribute_agreement(classifier, _dataset(TEST, images), transform=lambda x: x * 0.0)
    assert blank["per_attribute"]["attribute_0"] == pytest.approx(0.2)  # predicts 0: right on the one 0 of A


def test_subset_mean_and_its_error():
    assert metrics.subset_mean({"A": 0.5, "B": 1.0, "C": 0.0}, ["A", "B"]) == 0.75
    with pytest.raises(ValueError, match="D"):
        metrics.subset_mean({"A": 0.5}, ["A", "D"])


def test_blind_baselines_read_at_most_max_train_examples_and_score_the_drawn_subset():
    images = np.stack([np.full((2, 2, 1), v, "float32") for v in (0.2, 0.4, 0.6, 1.0)])  # mean of the first 3: 0.4

    def classifier(images, training=False):
        value = float(np.mean(images))
        return tf.constant([[value - 0.3, value - 0.5, value - 0.9]])

    result = metrics.blind_baselines(classifier, _dataset(TRAIN, images), _dataset(TEST), ["A", "B", "C"],
                                     max_train=3, drawn=["A", "C"])
    assert result["protocol"] == {"training_examples": 3, "drawn_attributes": ["A", "C"]}
    assert result["majority"]["prediction"] == [1, 0, 1]  # the first 3 rows: A 3/3, B 1/3, C 2/3
    assert result["mean_image"]["prediction"] == [1, 0, 0]  # mean image 0.4
    assert result["majority"]["drawn"] == pytest.approx((0.8 + 0.4) / 2)
    assert result["mean_image"]["drawn"] == pytest.approx((0.8 + 0.6) / 2)
    assert metrics.blind_baselines(classifier, _dataset(TRAIN, images), _dataset(TEST))["majority"]["drawn"] is None
