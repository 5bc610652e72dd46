"""rbm_mnist end to end on built-in digits with tiny flags: trained variants, AIS / reverse-AIS likelihoods,
samples, exports; a bad --variant stops before any work."""

import json
import os

import numpy as np
import pytest

from recipes import rbm_mnist

TINY = ["--quick", "--train-examples", "200", "--eval-examples", "50", "--hidden-units", "8", "--train-epochs", "1",
        "--batch-size", "50", "--ais-betas", "50", "--ais-chains", "10", "--rais-chains", "10", "--rais-burn-in", "5",
        "--sample-steps", "5", "--variant", "cd2", "pcd"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    status = rbm_mnist.main(TINY + ["--out", str(out), "--name", "t"])
    return status, os.path.join(out, "rbm_mnist", "t")


def test_each_variant_is_trained_scored_sampled_and_exported(run):
    status, path = run
    assert status == 0
    metrics = json.load(open(os.path.join(path, "metrics.json")))
    assert set(metrics["variants"]) == {"cd2", "pcd"} and metrics["test_examples"] == 50
    for name, r in metrics["variants"].items():
        low, high = r["test_log_likelihood_range"]
        assert -28 * 28 * np.log(2) - 50 < low <= r["test_log_likelihood"] <= (np.inf if high is None else high), name
        assert (high is None) == (r["log_z_ais_range"][0] is None)
        assert (r["log_z_ais_range"][0] or -np.inf) <= r["log_z_ais"] <= r["log_z_ais_range"][1]
        assert os.path.isfile(os.path.join(path, "images", f"{name}_samples.png"))
        assert os.path.isfile(os.path.join(path, "models", f"{name}.keras"))
    assert metrics["variants"]["pcd"]["reference"] is None
    report = json.load(open(os.path.join(path, "export", "export_report.json")))
    assert all(m["savedmodel"]["passed"] for m in report["models"].values())
    assert "reverse AIS" in open(os.path.join(path, "summary.txt")).read()


def test_variant_names_parse_and_a_bad_one_is_refused_before_any_work(tmp_path, capsys):
    assert rbm_mnist.variant_options("cd25") == {"cd_steps": 25, "persistent": False}
    assert rbm_mnist.variant_options("pcd") == {"cd_steps": 1, "persistent": True}
    assert rbm_mnist.variant_options("pcd5") == {"cd_steps": 5, "persistent": True}
    assert rbm_mnist.main(["--quick", "--variant", "cd0", "--out", str(tmp_path)]) == 2
    assert "--variant cd0" in capsys.readouterr().err
    assert not os.path.exists(os.path.join(tmp_path, "rbm_mnist"))
