"""fortified_cifar10 end to end on built-in objects (ResNet-8 via --resnet-units 1), plus an npz run."""

import json
import os

import numpy as np

from recipes import fortified_cifar10

TINY = ["--quick", "--train-examples", "128", "--validation-examples", "64", "--eval-examples", "64",
        "--epochs", "1", "--batch-size", "64", "--pgd-steps", "3", "--sweep-eps", "0", "0.03", "1",
        "--sweep-examples", "32", "--autoattack-points", "8"]


def test_quick_run_trains_both_resnets_and_writes_a_complete_run_directory(tmp_path):
    status = fortified_cifar10.main(TINY + ["--out", str(tmp_path), "--name", "t"])
    run = tmp_path / "fortified_cifar10" / "t"
    assert status == 0
    config = json.load(open(run / "config.json"))
    assert config["data"] == "builtin_objects" and config["resnet_units"] == 1 and config["dae_activation"] == "tanh"
    metrics = json.load(open(run / "metrics.json"))
    assert [r["row"] for r in metrics["table"]] == ["clean", "fgsm@0.03", "fgsm@0.3", "pgd@0.03", "autoattack@0.03"]
    assert metrics["autoattack"]["num_points"] == 8 and metrics["autoattack"]["eps"] == 0.03
    assert "autoattack_vs_pgd" in metrics["gradient_masking"]["fortified"]["checks"]
    assert metrics["table"][1]["thesis_reference_percent"]["source"] == "table 2.4"
    assert metrics["protocol"]["reconstruction_loss"] == {"reduction": "mean", "lambda_rec": 1.0, "lambda_adv": 1.0}
    assert set(metrics["detection"]["out_of_distribution"]) == {"builtin_digits", "uniform_noise"}
    assert metrics["eps_sweep"]["eps"] == [0.0, 0.03, 1.0]
    assert {"eps_sweep.png", "detection_histogram.png", "detection_roc.png"} <= set(os.listdir(run / "images"))
    assert json.load(open(run / "export" / "export_report.json"))["passed"]


def test_npz_data_larger_than_the_net_is_resized(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x=rng.integers(0, 256, (300, 40, 40, 3), dtype=np.uint8),
             y=np.arange(300) % 10)
    status = fortified_cifar10.main(["--data", "npz", "--data-path", str(tmp_path / "d.npz"), "--resnet-units", "1",
                                     "--epochs", "1", "--batch-size", "64", "--pgd-steps", "1", "--sweep-eps", "0",
                                     "--sweep-examples", "16", "--fgsm-eps", "0.03", "--no-export", "--no-autoattack",
                                     "--out", str(tmp_path / "runs"), "--name", "n"])
    assert status == 0
    metrics = json.load(open(tmp_path / "runs" / "fortified_cifar10" / "n" / "metrics.json"))
    assert metrics["data"] == "npz" and metrics["num_classes"] == 10
    assert metrics["accuracy"]["fortified"]["num_examples"] == 30
    assert metrics["autoattack"] is None and [r["row"] for r in metrics["table"]][-1] == "pgd@0.03"
    assert "autoattack_vs_pgd" not in metrics["gradient_masking"]["fortified"]["checks"]
