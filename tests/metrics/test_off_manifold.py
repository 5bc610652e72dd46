import numpy as np
import pytest
import tensorflow as tf

from tfgm.metrics.off_manifold import SCORES, check_score, layer_score, off_manifold_score

rng = np.random.default_rng(0)
H = rng.normal(size=(5, 3, 4)).astype("float32")
R = (H + rng.normal(scale=0.3, size=H.shape)).astype("float32")


def test_each_score_matches_a_hand_computation_on_flattened_states():
    h, r = H.reshape(5, -1), R.reshape(5, -1)
    raw = ((r - h) ** 2).sum(1)
    np.testing.assert_allclose(layer_score("raw", H, R), raw, rtol=1e-5)
    np.testing.assert_allclose(layer_score("relative", H, R), raw / (h ** 2).sum(1), rtol=1e-5)
    cos = (r * h).sum(1) / (np.linalg.norm(r, axis=1) * np.linalg.norm(h, axis=1))
    np.testing.assert_allclose(layer_score("cosine", H, R), 1 - cos, rtol=1e-4, atol=1e-6)


def test_scale_free_scores_ignore_the_scale_of_the_state_and_raw_does_not():
    for name in ("relative", "cosine"):
        np.testing.assert_allclose(layer_score(name, 10 * H, 10 * R), layer_score(name, H, R), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(layer_score("raw", 10 * H, 10 * R), 100 * layer_score("raw", H, R).numpy(), rtol=1e-4)


def test_layers_combine_by_sum_for_raw_and_by_mean_for_the_scale_free_scores():
    other_h, other_r = 3 * H[:, 0], 3 * R[:, 0] + 1.0
    for name in SCORES:
        one, two = layer_score(name, H, R).numpy(), layer_score(name, other_h, other_r).numpy()
        got = off_manifold_score(name, [H, other_h], [R, other_r]).numpy()
        np.testing.assert_allclose(got, one + two if name == "raw" else (one + two) / 2, rtol=1e-5)


def test_zero_states_give_finite_scores_and_bad_names_or_lists_raise():
    zeros = tf.zeros([2, 4])
    for name in SCORES:
        assert np.all(np.isfinite(layer_score(name, zeros, zeros).numpy()))
    with pytest.raises(ValueError, match="choose one of"):
        check_score("mahalanobis")
    with pytest.raises(ValueError, match="one reconstruction per state"):
        off_manifold_score("raw", [H], [])


def test_doubt_and_the_standardized_sum_match_hand_computations():
    from tfgm.metrics.off_manifold import CALIBRATED_SCORES, doubt, standardized_sum

    logits = rng.normal(size=(6, 4)).astype("float32")
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    np.testing.assert_allclose(doubt(logits), 1 - p.max(1), rtol=1e-5)
    sequence = np.stack([logits, 2 * logits], axis=1)  # [B, T=2, K]: the mean over time
    p2 = np.exp(2 * logits) / np.exp(2 * logits).sum(1, keepdims=True)
    np.testing.assert_allclose(doubt(sequence), (2 - p.max(1) - p2.max(1)) / 2, rtol=1e-5)
    parts = rng.normal(size=(6, 2)).astype("float32")
    center, scale = np.array([0.5, -1.0], "float32"), np.array([2.0, 0.25], "float32")
    np.testing.assert_allclose(standardized_sum(parts, center, scale), ((parts - center) / scale).sum(1), rtol=1e-5)
    assert check_score("cosine_confidence") in CALIBRATED_SCORES
    with pytest.raises(ValueError, match="is calibrated"):
        off_manifold_score("cosine_confidence", [H], [R])
