"""mixture_toy: K-component mixtures on the 25-Gaussian grid and Bishop's MDN, tiny flags; bad flags stop early."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from recipes import mixture_toy

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TINY = ["--quick", "--components", "1", "25", "--steps-per-epoch", "40", "--mixture-epochs", "1", "--mdn-epochs",
        "1", "--train-points", "2000", "--test-points", "400", "--eval-samples", "500", "--mdn-points", "500",
        "--mdn-components", "3", "--mdn-hidden", "8", "--learning-rate", "0.05"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    assert mixture_toy.main(TINY + ["--out", str(out), "--name", "t"]) == 0
    return out / "mixture_toy" / "t"


def test_scores_each_k_and_the_mdn(run):
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics["grid"]) == {"1", "25"} and set(metrics["mdn"]) == {"1", "3"}
    one, many = metrics["grid"]["1"], metrics["grid"]["25"]
    # one Gaussian cannot put its draws on 25 modes; 25 components started on data points already do better
    assert one["modes_covered"] <= 1 and many["modes_covered"] > one["modes_covered"]
    assert one["test_log_likelihood"] < many["test_log_likelihood"] < metrics["grid_true_mixture_log_likelihood"]
    assert metrics["mdn_true_data_consistent_share"] == 1.0
    for name in ("grid_mixtures.png", "mdn.png"):
        assert os.path.getsize(run / "images" / name) > 1000
    assert "true mixture" in (run / "summary.txt").read_text()
    report = json.loads((run / "export" / "export_report.json").read_text())
    assert report["passed"] and {"grid_k1", "grid_k25", "mdn_k1", "mdn_k3"} == set(report["models"])


def test_a_finished_run_resumes_in_a_fresh_process(run, tmp_path):
    """--resume loads every finished stage's .keras file: in a new process, before any model module is imported."""
    shutil.copytree(run, tmp_path / "mixture_toy" / "t")
    result = subprocess.run([sys.executable, "-m", "recipes.mixture_toy", *TINY, "--out", str(tmp_path), "--name",
                             "t", "--resume", "--no-export"], capture_output=True, text=True, timeout=300, check=False,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("finished earlier: loading") == 4


@pytest.mark.parametrize("flags, message", [(["--components", "0"], "--components"),
                                            (["--mdn-components", "1"], "--mdn-components"),
                                            (["--data", "mnist"], "grid25")])
def test_bad_flags_stop_before_a_run_directory_exists(tmp_path, capsys, flags, message):
    assert mixture_toy.main(TINY + flags + ["--out", str(tmp_path / "runs")]) == 2
    assert message in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "runs")
