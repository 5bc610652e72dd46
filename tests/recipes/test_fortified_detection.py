"""fortified_detection (fig. 2.4) end to end on built-in digits with a small MLP; resume; bad flags."""

import json
import os

import pytest

from recipes import fortified_detection

TINY = ["--quick", "--capacities", "8", "32", "--mlp-hidden", "64", "64", "--train-examples", "256",
        "--validation-examples", "64", "--eval-examples", "128", "--epochs", "1", "--batch-size", "64"]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    status = fortified_detection.main(TINY + ["--out", str(out), "--name", "t"])
    return status, os.path.join(out, "fortified_detection", "t")


def test_quick_run_measures_ratio_and_auroc_per_placement_and_capacity(quick_run):
    status, run = quick_run
    assert status == 0
    metrics = json.load(open(os.path.join(run, "metrics.json")))
    assert set(metrics["results"]) == {"input", "hidden"}
    for placement in ("input", "hidden"):
        assert set(metrics["results"][placement]) == {"8", "32"}
        for r in metrics["results"][placement].values():
            assert r["error_ratio"] > 0 and 0 <= r["auroc"] <= 1 and 0 <= r["adversarial_accuracy"] <= 1
            assert r["error_ratio"] == pytest.approx(r["adversarial_mean_error"] / r["clean_mean_error"])
    assert metrics["protocol"]["attack"] == {"name": "fgsm", "eps": 0.3}
    assert metrics["thesis_reference"]["figure"] == "fig. 2.4"
    assert os.path.getsize(os.path.join(run, "images", "detection_ratio.png")) > 1000
    assert sorted(os.listdir(os.path.join(run, "models"))) == [
        "hidden_32.keras", "hidden_8.keras", "input_32.keras", "input_8.keras"]


def test_resume_loads_finished_models(quick_run, capsys):
    _, run = quick_run
    out = os.path.dirname(os.path.dirname(run))
    assert fortified_detection.main(TINY + ["--out", out, "--name", "t", "--resume"]) == 0
    printed = capsys.readouterr().out
    assert all(f"[{n}] finished earlier" in printed for n in ("input_8", "input_32", "hidden_8", "hidden_32"))


def test_bad_flags_and_missing_data_stop_with_exit_code_2(tmp_path, capsys):
    runs = str(tmp_path / "runs")
    assert fortified_detection.main(["--placements", "output", "--out", runs]) == 2
    assert "--placements" in capsys.readouterr().err
    assert fortified_detection.main(["--score", "cosine_confidence", "--out", runs]) == 2
    assert "needs a calibrated threshold" in capsys.readouterr().err
    assert fortified_detection.main(["--data", "npz", "--data-path", str(tmp_path / "x.npz"), "--out", runs]) == 2
    assert "x.npz does not exist" in capsys.readouterr().err
    assert not os.path.exists(runs)
