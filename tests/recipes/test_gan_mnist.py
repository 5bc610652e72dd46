"""gan_mnist end to end on built-in digits, shrunk through its flags; flag plumbing and early errors."""

import json
import os

import pytest

from recipes import gan_mnist

TINY = ["--quick", "--train-examples", "256", "--gan-epochs", "1", "--batch-size", "32", "--width", "8",
        "--latent-dim", "8", "--fid-samples", "100", "--fid-real", "100", "--classifier-epochs", "1",
        "--loss", "hinge", "--sn", "--n-critic", "2", "--regularizer", "r1=1", "--regularizer", "instance_noise=0.05"]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    status = gan_mnist.main(TINY + ["--out", str(out), "--name", "t"])
    return status, os.path.join(out, "gan_mnist", "t")


def test_quick_recipe_trains_scores_and_exports(quick_run):
    status, run = quick_run
    assert status == 0
    assert set(os.listdir(os.path.join(run, "models"))) == {"gan.keras", "fid_classifier.keras"}
    config = json.load(open(os.path.join(run, "config.json")))
    assert config["data"] == "builtin_digits" and config["regularizer"] == ["r1=1", "instance_noise=0.05"]
    metrics = json.load(open(os.path.join(run, "metrics.json")))
    settings = metrics["settings"]
    assert settings["loss"] == "hinge" and settings["n_critic"] == 2 and settings["spectral_norm"]
    assert settings["regularizers"] == {"r1": 1.0, "instance_noise": 0.05} and not settings["critic_batch_norm"]
    assert metrics["generator_steps"] == 256 // (32 * 2)
    assert len(metrics["scores_over_training"]) == 1 and metrics["final"]["fid"] > 0
    assert metrics["final"]["num_generated"] == metrics["final"]["num_real"] == 100
    network = metrics["final"]["network"]
    assert network.startswith("FD-gan_mnist-classifier") and "not Inception" in network
    assert {"samples_epoch001.png", "loss_curves.png", "scores.png"} <= set(os.listdir(os.path.join(run, "images")))
    report = json.load(open(os.path.join(run, "export", "export_report.json")))
    assert report["passed"] and set(report["models"]["gan"]["savedmodel"]["signatures"]) == {
        "generate", "sample", "serving_default"}
    assert os.path.isfile(os.path.join(run, "export", "onnx", "gan_generator.onnx"))


def test_resume_of_a_finished_run_loads_instead_of_training(quick_run, capsys):
    _, run = quick_run
    out = os.path.dirname(os.path.dirname(run))
    assert gan_mnist.main(TINY + ["--out", out, "--name", "t", "--resume", "--no-export"]) == 0
    printed = capsys.readouterr().out
    assert "[gan] finished earlier" in printed and "[fid_classifier] finished earlier" in printed


@pytest.mark.parametrize("flags,message", [
    (["--variant", "began"], "unknown GAN variant"),
    (["--regularizer", "r3"], "unknown GAN regularizer 'r3'"),
    (["--loss", "wgan"], "Unknown GAN loss"),
    (["--fid-network", "inception2015"], "--inception-graph"),
])
def test_bad_settings_stop_before_a_run_directory(tmp_path, capsys, flags, message):
    assert gan_mnist.main(["--quick", "--out", str(tmp_path)] + flags) == 2
    assert message in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "gan_mnist")


def test_help_lists_every_flag(capsys):
    with pytest.raises(SystemExit):
        gan_mnist.main(["--help"])
    text = capsys.readouterr().out
    for flag in ("--variant", "--loss", "--regularizer", "--sn", "--n-critic", "--fid-network", "--inception-graph",
                 "--quick", "--resume", "--seed", "--strategy"):
        assert flag in text
