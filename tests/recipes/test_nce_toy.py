"""nce_toy end to end with tiny flags: NCE's learned log Z matches the model's true one (by quadrature) at large ν,
the ML mixture and the truth are scored beside it, the figure and the chosen exports are written; bad flags stop
before any work."""

import json
import os

import numpy as np
import pytest

from recipes import nce_toy

TINY = ["--quick", "--noise-ratios", "1", "25", "--steps-per-epoch", "200", "--train-epochs", "1", "--grid-points",
        "1000", "--test-points", "1000"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    status = nce_toy.main(TINY + ["--out", str(out), "--name", "t"])
    return status, os.path.join(out, "nce_toy", "t")


def test_nce_normalizes_itself_at_large_nu_and_everything_is_written(run):
    status, path = run
    assert status == 0
    metrics = json.load(open(os.path.join(path, "metrics.json")))
    assert set(metrics["nce"]) == {"1", "25"} and len(metrics["nce_runs"]["25"]) == 1
    big = metrics["nce_runs"]["25"][0]
    assert abs(big["log_z_learned"] - big["log_z_true"]) < 0.1 and big["total_variation"] < 0.15
    assert big["test_log_likelihood"] == pytest.approx(big["test_log_likelihood_true_z"] - big["log_z_error"],
                                                       abs=1e-3)
    # the ML mixture of the true family, normalized by construction, lands on the truth's test log-likelihood
    assert metrics["ml"]["test_log_likelihood"] == pytest.approx(metrics["true_test_log_likelihood"], abs=0.05)
    assert metrics["ml"]["total_variation"] < 0.1
    assert os.path.getsize(os.path.join(path, "images", "nce_log_z.png")) > 20000
    report = json.load(open(os.path.join(path, "export", "export_report.json")))
    assert set(report["models"]) == {"nce_nu25_s0", "ml_k2"} and report["passed"]
    assert "true density" in open(os.path.join(path, "summary.txt")).read()


def test_the_recipes_data_are_the_library_density():
    """The recipe trains and scores on tfgm.data.bimodal's draws (the density itself: tests/data/test_bimodal.py)."""
    from tfgm.data import bimodal

    data = nce_toy.NceToy().load(nce_toy.Config(train_points=50, test_points=20))
    np.testing.assert_array_equal(data["train"], bimodal.sample(50, 0))
    np.testing.assert_array_equal(data["test"], bimodal.sample(20, (0, 2)))


@pytest.mark.parametrize("flags, message", [(["--noise-ratios", "0", "5"], "--noise-ratios 0 5"),
                                            (["--noise-ratios", "5", "5"], "each ν once"),
                                            (["--repeats", "0"], "--repeats 0"),
                                            (["--data", "mnist"], "bimodal")])
def test_bad_flags_are_refused_before_any_work(tmp_path, capsys, flags, message):
    assert nce_toy.main(["--quick", "--out", str(tmp_path)] + flags) == 2
    assert message in capsys.readouterr().err
    assert not os.path.exists(os.path.join(tmp_path, "nce_toy"))
