"""ebm_mnist end to end on built-in digits with tiny flags: a trained energy model gives test digits lower energy
than noise; energies, AUROCs, figures and the exported sampler are written; bad flags stop before any work."""

import json
import os

import pytest

from recipes import ebm_mnist

TINY = ["--quick", "--train-examples", "320", "--batch-size", "32", "--train-epochs", "2", "--width", "4",
        "--langevin-steps", "5", "--buffer-size", "64", "--eval-examples", "64", "--eval-samples", "32",
        "--sample-steps", "5", "--learning-rate", "0.003"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    status = ebm_mnist.main(TINY + ["--out", str(out), "--name", "t"])
    return status, os.path.join(out, "ebm_mnist", "t")


def test_data_get_lower_energy_than_noise_and_everything_is_written(run):
    status, path = run
    assert status == 0
    metrics = json.load(open(os.path.join(path, "metrics.json")))
    assert set(metrics["energy"]) == {"data", "samples", "buffer_samples", "noise"}
    assert set(metrics["auroc"]) == set(metrics["baseline_auroc"]) == {
        "data_vs_samples", "data_vs_buffer_samples", "data_vs_noise"}
    assert metrics["energy"]["data"]["count"] == 64 and metrics["energy"]["noise"]["count"] == 32
    # the positive phase pushes data down, the negative phase (Langevin from noise) pushes noise up
    assert metrics["energy"]["data"]["mean"] < metrics["energy"]["noise"]["mean"] - 0.1
    assert metrics["auroc"]["data_vs_noise"] > 0.95
    assert all(0.0 <= a <= 1.0 for a in metrics["auroc"].values())
    for name in ("samples.png", "energy_histogram.png"):
        assert os.path.getsize(os.path.join(path, "images", name)) > 5000
    assert os.path.isfile(os.path.join(path, "models", "ebm.keras"))
    report = json.load(open(os.path.join(path, "export", "export_report.json")))
    assert report["models"]["ebm"]["savedmodel"]["passed"]
    assert "uniform noise" in open(os.path.join(path, "summary.txt")).read()


@pytest.mark.parametrize("flags, message", [(["--reinit", "1.5"], "--reinit 1.5"),
                                            (["--step-size", "0"], "--step-size 0"),
                                            (["--eval-samples", "512", "--buffer-size", "64"], "--eval-samples 512"),
                                            (["--langevin-steps", "0"], "--langevin-steps 0")])
def test_bad_flags_are_refused_before_any_work(tmp_path, capsys, flags, message):
    assert ebm_mnist.main(["--quick", "--out", str(tmp_path)] + flags) == 2
    assert message in capsys.readouterr().err
    assert not os.path.exists(os.path.join(tmp_path, "ebm_mnist"))
