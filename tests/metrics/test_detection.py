import numpy as np
import pytest

from tfgm.metrics.detection import detection_auroc, reconstruction_error_ratio


def test_auroc_hand_cases():
    assert detection_auroc([0.1, 0.2, 0.3], [0.4, 0.5]) == 1.0
    assert detection_auroc([0.4, 0.5], [0.1, 0.2, 0.3]) == 0.0
    assert detection_auroc([1.0, 1.0, 1.0], [1.0, 1.0]) == 0.5
    # pairs (clean, adv): (0,1) win, (0,2) win, (1,1) tie, (1,2) win → 3.5 / 4
    assert detection_auroc([0.0, 1.0], [1.0, 2.0]) == pytest.approx(0.875)


def test_auroc_equals_the_pairwise_definition_on_random_scores_with_ties():
    rng = np.random.default_rng(0)
    clean, adv = rng.integers(0, 6, 40).astype(float), rng.integers(2, 8, 30).astype(float)
    pairs = (adv[None, :] > clean[:, None]).mean() + 0.5 * (adv[None, :] == clean[:, None]).mean()
    assert detection_auroc(clean, adv) == pytest.approx(pairs, abs=1e-12)


def test_auroc_rejects_empty_or_nonfinite_scores():
    with pytest.raises(ValueError, match="both groups"):
        detection_auroc([], [1.0])
    with pytest.raises(ValueError, match="finite"):
        detection_auroc([np.nan], [1.0])


def test_reconstruction_error_ratio():
    assert reconstruction_error_ratio([1.0, 3.0], [4.0, 6.0, 5.0]) == pytest.approx(2.5)
    with pytest.raises(ValueError, match="> 0"):
        reconstruction_error_ratio([0.0], [1.0])


def test_roc_curve_runs_from_0_to_1_and_its_area_is_the_auroc():
    from tfgm.metrics.detection import roc_curve

    fpr, tpr = roc_curve([0.0, 1.0], [1.0, 2.0])  # thresholds 2, 1, 0 ("score > t"), then (1, 1)
    np.testing.assert_allclose(fpr, [0.0, 0.0, 0.0, 0.5, 1.0])
    np.testing.assert_allclose(tpr, [0.0, 0.0, 0.5, 1.0, 1.0])
    rng = np.random.default_rng(1)
    clean, adv = rng.normal(0, 1, 50), rng.normal(1, 1, 40).round(1)
    fpr, tpr = roc_curve(clean, adv)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    assert area == pytest.approx(detection_auroc(clean, adv), abs=1e-12)
    with pytest.raises(ValueError, match="both groups"):
        roc_curve([], [1.0])
