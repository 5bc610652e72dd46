"""gan_cifar10 end to end on built-in objects (WGAN-GP), shrunk through its flags."""

import json
import os

from recipes import gan_cifar10


def test_quick_wgan_gp_run_writes_grids_scores_and_export(tmp_path):
    status = gan_cifar10.main(["--quick", "--variant", "wgan_gp", "--train-examples", "320", "--gan-epochs", "1",
                               "--batch-size", "32", "--width", "8", "--latent-dim", "8", "--fid-samples", "100",
                               "--fid-real", "100", "--classifier-epochs", "1", "--out", str(tmp_path), "--name", "t"])
    assert status == 0
    run = tmp_path / "gan_cifar10" / "t"
    metrics = json.load(open(run / "metrics.json"))
    assert metrics["settings"]["regularizers"] == {"gradient_penalty": 10.0} and metrics["settings"]["n_critic"] == 5
    assert metrics["settings"]["loss"] == "wasserstein" and not metrics["settings"]["critic_batch_norm"]
    assert metrics["generator_steps"] == 2 and metrics["final"]["feature_dim"] == 128
    assert json.load(open(run / "config.json"))["fid_network"] == "classifier"
    assert "samples_epoch001.png" in os.listdir(run / "images")
    assert json.load(open(run / "export" / "export_report.json"))["passed"]


def test_default_feature_network_is_keras_inception_v3():
    assert gan_cifar10.Config().fid_network == "inception_v3"
    assert gan_cifar10.Config.quick_overrides()["fid_network"] == "classifier"
