"""Inception Score against hand values."""

import numpy as np
import pytest

from tfgm.metrics.inception_score import inception_score


def test_constant_predictions_score_one():
    probs = np.tile([0.2, 0.5, 0.3], (40, 1))
    mean, std = inception_score(probs, splits=4)
    np.testing.assert_allclose(mean, 1.0, atol=1e-12)
    assert std < 1e-12


def test_one_hot_uniform_scores_k():
    k = 5
    probs = np.eye(k)[np.arange(50) % k]  # every split of 10 rows holds each class equally often
    mean, std = inception_score(probs, splits=5)
    np.testing.assert_allclose(mean, k, rtol=1e-10)
    assert std < 1e-10


def test_hand_value_two_classes():
    # One split: p(y|x) rows [0.9, 0.1] and [0.1, 0.9]; p(y) = [0.5, 0.5];
    # KL = 0.9 ln 1.8 + 0.1 ln 0.2 for both rows.
    probs = np.array([[0.9, 0.1], [0.1, 0.9]])
    expected = np.exp(0.9 * np.log(1.8) + 0.1 * np.log(0.2))
    mean, std = inception_score(probs, splits=1)
    np.testing.assert_allclose(mean, expected, rtol=1e-12)
    assert std == 0.0


def test_std_reflects_split_differences():
    k = 4
    sharp = np.eye(k)[np.arange(8) % k]
    flat = np.full((8, k), 1.0 / k)
    mean, std = inception_score(np.concatenate([sharp, flat]), splits=2)
    np.testing.assert_allclose(mean, (k + 1) / 2, rtol=1e-10)
    np.testing.assert_allclose(std, (k - 1) / 2, rtol=1e-10)


def test_errors():
    with pytest.raises(ValueError, match="N >= splits"):
        inception_score(np.full((3, 2), 0.5), splits=10)
    with pytest.raises(ValueError, match="logits"):
        inception_score(np.array([[2.0, -1.0], [0.0, 3.0]]), splits=1)
