"""fortified_fashion_mnist end to end (built-in digits stand in), shrunk through its flags; PGD training."""

import json
import os

import pytest

from recipes import fortified_fashion_mnist

TINY = ["--quick", "--train-examples", "192", "--validation-examples", "64", "--eval-examples", "64",
        "--epochs", "1", "--batch-size", "64", "--attack", "pgd", "--pgd-steps", "3", "--sweep-eps", "0", "1",
        "--sweep-examples", "32", "--autoattack-points", "2", "--autoattack-version", "rand"]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    status = fortified_fashion_mnist.main(TINY + ["--out", str(out), "--name", "t"])
    return status, os.path.join(out, "fortified_fashion_mnist", "t")


def test_quick_pgd_run_has_the_table_5_columns_and_exports(quick_run):
    status, run = quick_run
    assert status == 0
    metrics = json.load(open(os.path.join(run, "metrics.json")))
    assert metrics["train_attack"] == {"name": "pgd", "eps": 0.1, "step_size": 0.01, "steps": 3}
    rows = {r["row"]: r for r in metrics["table"]}
    assert list(rows) == ["clean", "fgsm@0.1", "fgsm@0.3", "pgd@0.1", "autoattack@0.1"]
    assert rows["autoattack@0.1"]["num_examples"] == 2
    assert rows["autoattack@0.1"]["label"] == "AutoAttack ε=0.1 (rand)"
    autoattack = metrics["autoattack"]
    assert (autoattack["version"], autoattack["eps"], autoattack["num_points"]) == ("rand", 0.1, 2)
    for name, report in autoattack["models"].items():
        assert report["attacks"] == ["apgd-ce", "apgd-dlr"]
        assert report["hyperparameters"]["apgd-ce"]["eot_samples"] == 20
        check = metrics["gradient_masking"][name]["checks"]["autoattack_vs_pgd"]
        assert (check["autoattack_accuracy"], check["pgd_accuracy"]) == (report["robust_accuracy"],
                                                                         report["pgd_accuracy"])
    assert rows["pgd@0.1"]["thesis_reference_percent"]["fortified"] == 79.54
    same = [r for r in metrics["thesis_reference"]["rows"] if r["same_training_attack_as_this_run"]]
    assert [(r["attack"], r["eps"]) for r in same] == [("pgd", 0.1)]
    assert metrics["protocol"]["blackbox"] is None
    assert metrics["gradient_masking"]["fortified"]["checks"]["whitebox_vs_blackbox"]["passed"] is None
    assert metrics["accuracy"]["fortified"]["num_examples"] == 64
    for name in ("adversarial_training", "fortified"):
        assert os.path.isfile(os.path.join(run, "models", f"{name}.keras"))
    for png in ("eps_sweep.png", "detection_histogram.png", "detection_roc.png"):
        assert os.path.isfile(os.path.join(run, "images", png))
    assert json.load(open(os.path.join(run, "export", "export_report.json")))["passed"]


def test_missing_npz_stops_with_exit_code_2(tmp_path, capsys):
    status = fortified_fashion_mnist.main(["--data", "npz", "--data-path", str(tmp_path / "f.npz"),
                                           "--out", str(tmp_path / "runs")])
    assert status == 2 and "f.npz" in capsys.readouterr().err and not os.path.exists(tmp_path / "runs")
