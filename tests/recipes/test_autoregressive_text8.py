"""autoregressive_text8: teacher forcing vs scheduled sampling on the built-in corpus, tiny flags; bad flags stop
before any run directory exists."""

import json
import os
import zipfile

import pytest

from recipes import autoregressive_text8
from tfgm.data import builtin_text, text8

TINY = ["--quick", "--units", "16", "--embedding-dim", "8", "--dae-units", "8", "--sequence-length", "30",
        "--batch-size", "16", "--epochs", "1", "--steps-per-epoch", "4", "--eval-windows", "8",
        "--ratio-sequences", "16", "--ratio-steps", "3", "12", "--context", "6", "--builtin-chars", "12000"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    status = autoregressive_text8.main(TINY + ["--variant", "teacher_forcing", "linear", "--out", str(out),
                                               "--name", "t"])
    assert status == 0
    return out / "autoregressive_text8" / "t"


def test_each_variant_reports_bits_per_char_drift_and_samples(run, capsys):
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["data"] == "builtin_text" and set(metrics["variants"]) == {"teacher_forcing", "linear"}
    for v in metrics["variants"].values():
        assert 0 < v["validation_bits_per_character"] < 6 and 0 < v["test_bits_per_character"] < 6
        assert set(v["ratio_free_running_over_teacher_forcing"]) == {"3", "12"}
        assert len(v["per_step"]["ratio_per_step"]) == 12
        assert len(v["samples"][0]["context"]) == 6 and len(v["samples"][0]["sampled"]) == 12
    first, last = metrics["variants"]["linear"]["schedule"]["epsilon_first_last"]
    assert first == pytest.approx(1.0) and last == pytest.approx(0.75)  # --quick decays to 0.75
    assert metrics["variants"]["teacher_forcing"]["schedule"]["epsilon_first_last"] == [1.0, 1.0]
    assert metrics["blind_baselines"]["unigram_bits_per_character"] < metrics["blind_baselines"][
        "uniform_bits_per_character"]
    assert os.path.getsize(run / "images" / "free_running_ratio.png") > 1000
    summary = (run / "summary.txt").read_text()
    assert "sample [linear]" in summary and "ratio@12" in summary


def test_exports_serve_sample(run):
    import keras
    import numpy as np
    import tensorflow as tf

    report = json.loads((run / "export" / "export_report.json").read_text())
    assert report["passed"] and set(report["models"]) == {"teacher_forcing", "linear"}
    served = tf.saved_model.load(str(run / "export" / "savedmodel" / "linear" / "1"))
    out = served.signatures["serving_default"](prefix=tf.constant([[20, 8, 5]], tf.int32), n_chars=tf.constant(9),
                                               temperature=tf.constant(1.0), seed=tf.constant(1, tf.int64))
    tokens = out["tokens"].numpy()
    assert tokens.shape == (1, 9) and ((tokens >= 0) & (tokens < 27)).all()
    model = keras.saving.load_model(run / "models" / "linear.keras")
    np.testing.assert_array_equal(tokens, model.sample([[20, 8, 5]], 9, 1.0, 1))


def test_reads_a_text8_zip_given_with_text8_flag(tmp_path):
    corpus = text8.decode(builtin_text.builtin_corpus(12_000, seed=5))
    with zipfile.ZipFile(tmp_path / "text8.zip", "w") as archive:
        archive.writestr("text8", corpus)
    status = autoregressive_text8.main(TINY + ["--text8", str(tmp_path / "text8.zip"), "--variant", "exponential",
                                               "--out", str(tmp_path / "runs"), "--name", "z", "--no-export"])
    assert status == 0
    metrics = json.loads((tmp_path / "runs" / "autoregressive_text8" / "z" / "metrics.json").read_text())
    assert metrics["data"] == "text8" and set(metrics["variants"]) == {"exponential"}
    assert 0 < metrics["variants"]["exponential"]["test_bits_per_character"] < 6


@pytest.mark.parametrize("flags, message", [
    (["--variant", "cosine"], "--variant takes"),
    (["--final-probability", "1.0"], "--final-probability"),
    (["--dae-units", "0"], "--dae-units must be >= 1"),
    (["--data", "mnist"], "--data takes text8"),
    (["--text8", "/nonexistent/text8.zip"], "text8.zip does not exist"),
])
def test_bad_flags_stop_before_a_run_directory_exists(tmp_path, capsys, flags, message):
    assert autoregressive_text8.main(TINY + flags + ["--out", str(tmp_path / "runs")]) == 2
    assert message in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "runs")


def test_help_explains_the_variants(capsys):
    with pytest.raises(SystemExit):
        autoregressive_text8.main(["--help"])
    out = capsys.readouterr().out
    assert "scheduled sampling" in out and "inverse_sigmoid" in out and "--final-probability" in out
