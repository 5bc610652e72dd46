"""fortified_mnist end to end on built-in digits, shrunk through its flags (paper CNN), plus its failures."""

import json
import os

import keras
import numpy as np
import pytest

from recipes import fortified_mnist

TINY = ["--quick", "--train-examples", "256", "--validation-examples", "64", "--eval-examples", "214",
        "--epochs", "1", "--batch-size", "64", "--pgd-steps", "3", "--sweep-eps", "0", "0.3", "1",
        "--sweep-examples", "32", "--blackbox-rounds", "2", "--blackbox-epochs", "1", "--autoattack-points", "20"]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    status = fortified_mnist.main(TINY + ["--out", str(out), "--name", "t"])
    return status, os.path.join(out, "fortified_mnist", "t")


def test_quick_run_writes_table_detection_masking_sweep_and_exports(quick_run):
    status, run = quick_run
    assert status == 0
    config = json.load(open(os.path.join(run, "config.json")))
    assert config["data"] == "builtin_digits" and config["attack"] == "fgsm" and config["blackbox"] is True
    metrics = json.load(open(os.path.join(run, "metrics.json")))
    assert metrics["train_attack"] == {"name": "fgsm", "eps": 0.3}
    rows = {r["row"]: r for r in metrics["table"]}
    assert list(rows) == ["clean", "fgsm@0.3", "pgd@0.1", "pgd@0.3", "blackbox_fgsm@0.3", "autoattack@0.3"]
    for r in rows.values():
        assert 0.0 <= r["adversarial_training"] <= 1.0 and 0.0 <= r["fortified"] <= 1.0
    assert rows["fgsm@0.3"]["thesis_reference_percent"] == {"adversarial_training": 96.36, "fortified": 97.97,
                                                            "source": "table 2.1"}
    assert rows["clean"]["thesis_reference_percent"] is None
    assert "NOT measured" in metrics["thesis_reference"]["note"]
    assert metrics["accuracy"]["fortified"]["num_examples"] == 214 - 150
    detection = metrics["detection"]
    assert detection["false_alarm_rate_target"] == 0.05 and detection["calibration_examples"] == 64
    assert detection["score"] == "cosine_confidence"
    assert detection["score_description"].startswith("cosine_confidence: ")
    assert set(detection["attacks"]) == set(rows) - {"clean", "autoattack@0.3"}
    assert set(detection["out_of_distribution"]) == {"builtin_objects", "uniform_noise"}
    for d in [*detection["attacks"].values(), *detection["out_of_distribution"].values()]:
        assert 0.0 <= d["auroc"] <= 1.0 and 0.0 <= d["auroc_raw"] <= 1.0 and d["error_ratio"] > 0
        assert 0.0 <= d["auroc_doubt"] <= 1.0  # the blind baseline: the classifier's confidence alone
    assert detection["out_of_distribution"]["uniform_noise"]["num_examples"] == 214 - 150
    for report in metrics["gradient_masking"].values():
        assert len(report["lines"]) == 4 and report["checks"]["whitebox_vs_blackbox"]["passed"] is not None
    assert metrics["accuracy"]["fortified"]["num_examples"] == rows["pgd@0.3"]["num_examples"] == 64
    assert rows["autoattack@0.3"]["num_examples"] == 20 and rows["autoattack@0.3"]["thesis_reference_percent"] is None
    autoattack = metrics["autoattack"]
    assert (autoattack["version"], autoattack["norm"], autoattack["eps"], autoattack["num_points"]) == (
        "standard", "Linf", 0.3, 20)
    for name, report in autoattack["models"].items():
        assert report["attacks"] == ["apgd-ce", "apgd-t", "fab-t", "square"] and report["num_points"] == 20
        assert rows["autoattack@0.3"][name] == report["robust_accuracy"]
        assert list(report["robust_accuracy_after"].values())[-1] == report["robust_accuracy"]
        assert report["wall_seconds"] > 0 and set(report["seconds"]) >= {"apgd-ce", "total"}
        check = metrics["gradient_masking"][name]["checks"]["autoattack_vs_pgd"]
        assert check == {"passed": report["robust_accuracy"] <= report["pgd_accuracy"], "eps": 0.3,
                         "autoattack_accuracy": report["robust_accuracy"], "pgd_accuracy": report["pgd_accuracy"],
                         "num_points": 20, "version": "standard"}
        assert "AutoAttack (standard) accuracy" in metrics["gradient_masking"][name]["lines"][-1]
    summary = open(os.path.join(run, "summary.txt")).read()
    assert "AutoAttack ε=0.3 (standard)" in summary and "on the same 20 points" in summary
    sweep = metrics["eps_sweep"]
    assert sweep["eps"] == [0.0, 0.3, 1.0] and len(sweep["fortified"]["pgd"]) == 3
    assert metrics["protocol"]["reconstruction_loss"] == {"reduction": "mean", "lambda_rec": 1.0, "lambda_adv": 1.0}
    for png in ("eps_sweep.png", "detection_histogram.png", "detection_roc.png", "adversarial_examples.png"):
        assert os.path.getsize(os.path.join(run, "images", png)) > 1000
    report = json.load(open(os.path.join(run, "export", "export_report.json")))
    assert report["passed"] and set(report["models"]) == {"adversarial_training", "fortified"}
    for name in ("adversarial_training", "fortified"):
        assert os.path.isfile(os.path.join(run, "export", "savedmodel", name, "1", "saved_model.pb"))
        assert os.path.isfile(os.path.join(run, "export", "onnx", f"{name}_classify.onnx"))


def test_saved_models_carry_the_threshold_and_the_baseline_is_the_undefended_cnn(quick_run):
    _, run = quick_run
    metrics = json.load(open(os.path.join(run, "metrics.json")))
    fortified = keras.saving.load_model(os.path.join(run, "models", "fortified.keras"))
    assert fortified.threshold == pytest.approx(metrics["detection"]["threshold"])
    assert (fortified.score, fortified.rec_reduction, fortified.lambda_rec) == ("cosine_confidence", "mean", 1.0)
    baseline = keras.saving.load_model(os.path.join(run, "models", "adversarial_training.keras"))
    slot = baseline.network.get_layer("fortified_flatten")
    assert not slot.trainable and baseline.lambda_rec == 0.0
    np.testing.assert_array_equal(slot.kernel.numpy(), np.eye(128, dtype="float32"))
    x = np.random.default_rng(0).random((4, 28, 28, 1)).astype("float32")
    assert np.all(baseline.predict_with_score(x)[1] == 0.0)


def test_robustness_eval_attacks_the_runs_exported_classifier_on_its_data_at_its_eps(quick_run, capsys):
    from recipes import robustness_eval

    _, run = quick_run
    assert robustness_eval.main([run, "--points", "20", "--model", "adversarial_training"]) == 0
    assert "[4/4] square" in capsys.readouterr().out
    r = json.load(open(os.path.join(run, "robustness_eval_adversarial_training.json")))
    assert r["model"]["loaded"] == os.path.join(run, "export", "savedmodel", "adversarial_training", "1")
    assert (r["model"]["output"], r["dataset"], r["eps"], r["n_ex"]) == ("logits", "builtin_digits", 0.3, 20)
    assert 0.0 <= r["autoattack_acc"] <= r["clean_acc"] <= 100.0


def test_missing_dataset_stops_before_a_run_directory_exists(tmp_path, capsys):
    status = fortified_mnist.main(["--data", "npz", "--data-path", str(tmp_path / "none.npz"),
                                   "--out", str(tmp_path / "runs")])
    assert status == 2
    assert "none.npz does not exist" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "runs")
    assert fortified_mnist.main(["--attack", "cw", "--out", str(tmp_path / "runs")]) == 2
    assert "--attack must be fgsm or pgd" in capsys.readouterr().err


def test_help_lists_the_flags(capsys):
    with pytest.raises(SystemExit):
        fortified_mnist.main(["--help"])
    text = capsys.readouterr().out
    for flag in ("--quick", "--attack", "--eps", "--fgsm-eps", "--pgd-eps", "--pgd-steps", "--false-alarm-rate",
                 "--no-blackbox", "--sweep-eps", "--lambda-rec", "--rec-reduction", "--score", "--ood-examples",
                 "--data-path", "--resume", "--autoattack-version", "--autoattack-points", "--no-autoattack"):
        assert flag in text


def test_recipe_defaults_are_the_library_defaults_so_tests_of_the_model_test_what_ships():
    import inspect

    from recipes._fortified_config import SCORE_CHOICES
    from tfgm.metrics.off_manifold import CALIBRATED_SCORES, SCORES
    from tfgm.models import FortifiedClassifier

    defaults = {k: p.default for k, p in inspect.signature(FortifiedClassifier).parameters.items()}
    cfg = fortified_mnist.Config()
    assert (cfg.lambda_rec, cfg.lambda_adv, cfg.rec_reduction, cfg.score) == (
        defaults["lambda_rec"], defaults["lambda_adv"], defaults["rec_reduction"], defaults["score"])
    assert set(SCORE_CHOICES) == set(SCORES) | set(CALIBRATED_SCORES)


def test_autoattack_flags_are_checked_before_any_work(tmp_path, capsys):
    from recipes._fortified_config import AUTOATTACK_VERSIONS
    from tfgm.attacks.autoattack import VERSIONS

    assert set(AUTOATTACK_VERSIONS) == set(VERSIONS)
    runs = str(tmp_path / "runs")
    assert fortified_mnist.main(["--autoattack-version", "fast", "--out", runs]) == 2
    assert "--autoattack-version must be one of standard | plus | rand" in capsys.readouterr().err
    assert fortified_mnist.main(["--autoattack-points", "0", "--out", runs]) == 2
    assert "--autoattack-points must be >= 1" in capsys.readouterr().err
    assert not os.path.exists(runs)
