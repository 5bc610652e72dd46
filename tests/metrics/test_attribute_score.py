"""Attribute Inception Score against hand values."""

import numpy as np

from tfgm.metrics.attribute_score import attribute_inception_score
from tfgm.metrics.inception_score import inception_score


def test_uninformative_attributes_score_one_and_certain_balanced_ones_two():
    probs = np.full((20, 3), 0.5)
    mean, std = attribute_inception_score(probs, splits=2)
    np.testing.assert_allclose(mean, 1.0, atol=1e-12)
    assert std < 1e-12
    certain = np.zeros((20, 3))
    certain[::2] = 1.0  # every split of 10 rows: each attribute on for half the rows, with certainty
    mean, std = attribute_inception_score(certain, splits=2)
    np.testing.assert_allclose(mean, 2.0, rtol=1e-10)
    assert std < 1e-10


def test_hand_value_is_the_mean_over_attributes():
    # One split. Attribute 0: p = 0.9, 0.1 → p(a) = 0.5, KL = 0.9 ln 1.8 + 0.1 ln 0.2 on both rows.
    # Attribute 1: p = 0.5 on both rows → IS 1.
    probs = np.array([[0.9, 0.5], [0.1, 0.5]])
    expected = (np.exp(0.9 * np.log(1.8) + 0.1 * np.log(0.2)) + 1.0) / 2
    mean, std = attribute_inception_score(probs, splits=1)
    np.testing.assert_allclose(mean, expected, rtol=1e-12)
    assert std == 0.0


def test_split_std_is_averaged_over_attributes():
    probs = np.random.default_rng(0).random((30, 4))
    per_attribute = [inception_score(np.stack([1 - probs[:, a], probs[:, a]], -1), splits=3) for a in range(4)]
    mean, std = attribute_inception_score(probs, splits=3)
    np.testing.assert_allclose(mean, np.mean([m for m, _ in per_attribute]), rtol=1e-12)
    np.testing.assert_allclose(std, np.mean([s for _, s in per_attribute]), rtol=1e-12)
    assert 1.0 <= mean <= 2.0 and std > 0
