"""The detector's report: each group against clean inputs, checked against hand computations."""

import numpy as np
import pytest

from tfgm.metrics.detection_report import detection_summary, group_detection

CLEAN = {"scores": {"raw": np.array([1.0, 2.0, 3.0, 4.0]), "cosine": np.array([0.1, 0.2, 0.3, 0.4])},
         "predictions": np.array([0, 1, 1, 0]), "labels": np.array([0, 1, 0, 0])}  # correct: examples 0, 1, 3
ATTACKED = {"scores": {"raw": np.array([6.0, 5.0, 0.5, 2.0]), "cosine": np.array([0.35, 0.5, 0.05, 0.25])},
            "predictions": np.array([1, 1, 1, 1]), "labels": CLEAN["labels"]}  # fooled: examples 0 and 3
NOISE = {"scores": {"raw": np.array([10.0, 20.0]), "cosine": np.array([0.9, 0.2])}, "predictions": np.array([2, 2]),
         "labels": None}


def test_an_attacked_group_by_hand():
    result = group_detection(CLEAN, ATTACKED, "cosine", threshold=0.3)
    # cosine pairs won (group > clean): 0.35 → 3, 0.5 → 4, 0.05 → 0, 0.25 → 2 of 16
    assert result["auroc"] == pytest.approx(9 / 16)
    # raw: 6 → 4, 5 → 4, 0.5 → 0, 2 → 1 win + 1 tie of 16
    assert result["auroc_raw"] == pytest.approx(9.5 / 16)
    assert result["error_ratio"] == pytest.approx((13.5 / 4) / 2.5)
    assert result["detection_rate"] == 0.5 and result["num_examples"] == 4
    assert result["mean_score"] == pytest.approx(1.15 / 4) and result["mean_raw_error"] == pytest.approx(3.375)
    assert result["attack_success_rate"] == pytest.approx(2 / 3)
    # fooled {0.35, 0.25} against correctly classified clean {0.1, 0.2, 0.4}: 4 of 6 pairs
    assert result["auroc_successful_only"] == pytest.approx(4 / 6)


def test_a_doubt_score_gives_the_blind_baselines_auroc_and_its_absence_gives_none():
    with_doubt = [{**g, "scores": {**g["scores"], "doubt": d}} for g, d in
                  ((CLEAN, np.array([0.1, 0.3, 0.2, 0.0])), (ATTACKED, np.array([0.25, 0.0, 0.5, 0.35])))]
    # doubt pairs won (group > clean): 0.25 → 3, 0.0 → 0 + 1 tie, 0.5 → 4, 0.35 → 4 of 16
    assert group_detection(*with_doubt, "cosine", threshold=0.3)["auroc_doubt"] == pytest.approx(11.5 / 16)
    assert "auroc_doubt" not in group_detection(CLEAN, ATTACKED, "cosine", threshold=0.3)


def test_an_attack_that_fools_nothing_has_no_successful_only_auroc():
    unfooled = {**ATTACKED, "predictions": CLEAN["labels"]}
    result = group_detection(CLEAN, unfooled, "cosine", threshold=0.3)
    assert result["attack_success_rate"] == 0.0 and result["auroc_successful_only"] is None


def test_the_summary_has_the_clean_false_alarms_and_each_group():
    summary = detection_summary(CLEAN, {"fgsm@0.3": ATTACKED}, {"uniform_noise": NOISE}, "cosine", threshold=0.3)
    assert summary["clean_false_alarm_rate"] == 0.25
    assert summary["clean_mean_score"] == pytest.approx(0.25) and summary["clean_mean_error"] == 2.5
    assert summary["attacks"]["fgsm@0.3"] == group_detection(CLEAN, ATTACKED, "cosine", 0.3)
    noise = summary["out_of_distribution"]["uniform_noise"]  # cosine: 0.9 → 4 wins, 0.2 → 1 win + 1 tie of 8
    assert noise["auroc"] == pytest.approx(5.5 / 8) and noise["auroc_raw"] == 1.0 and noise["detection_rate"] == 0.5
    assert "attack_success_rate" not in noise and "auroc_successful_only" not in noise
