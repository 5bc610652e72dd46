"""The detection ROC figure's curves: every group against all clean inputs, and each attack also over its
successful inputs only, with the report's AUROCs (tests/metrics/test_detection_report.py's hand-made inputs)."""

import os

import pytest

from recipes._fortified_plots import plot_detection, roc_curves
from tests.metrics.test_detection_report import ATTACKED, CLEAN, NOISE
from tfgm.metrics.detection_report import group_detection


def test_attacks_get_a_successful_only_curve_with_the_reports_auroc():
    curves = roc_curves(CLEAN, {"pgd": ATTACKED, "noise": NOISE}, "cosine")
    assert [(c["label"], c["group"], c["successful_only"]) for c in curves] == [
        ("pgd", 0, False), ("pgd, successful only", 0, True), ("noise", 1, False)]
    report = group_detection(CLEAN, ATTACKED, "cosine", threshold=0.3)
    assert curves[0]["auroc"] == pytest.approx(report["auroc"])
    assert curves[1]["auroc"] == pytest.approx(report["auroc_successful_only"]) == pytest.approx(4 / 6)
    # fooled {0.35, 0.25} against correctly classified clean {0.1, 0.2, 0.4}: the curve ends at (1, 1)
    assert curves[1]["fpr"][-1] == pytest.approx(1.0) and curves[1]["tpr"][-1] == pytest.approx(1.0)


def test_an_attack_that_fools_nothing_draws_one_curve():
    unfooled = {**ATTACKED, "predictions": CLEAN["labels"]}
    assert [c["label"] for c in roc_curves(CLEAN, {"pgd": unfooled}, "raw")] == ["pgd"]


def test_the_figure_files_are_written(tmp_path):
    groups = {"pgd@0.1": ATTACKED}
    hist, roc = plot_detection(str(tmp_path), CLEAN, groups, {"noise": NOISE}, 0.3, "cosine", "pgd@0.1", "toy")
    assert all(os.path.getsize(p) > 1000 for p in (hist, roc))
