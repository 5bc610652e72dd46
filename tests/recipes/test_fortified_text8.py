"""fortified_text8 (table 2.7): built-in corpus and a tiny text8.zip, the stepper against the full network."""

import json
import os
import zipfile

import numpy as np

from recipes import fortified_text8
from tfgm.data import builtin_text, text8

TINY = ["--quick", "--units", "32", "--embedding-dim", "16", "--dae-units", "16", "--sequence-length", "40",
        "--batch-size", "32", "--epochs", "1", "--steps-per-epoch", "10", "--eval-windows", "16",
        "--ratio-sequences", "40", "--ratio-steps", "5", "20", "40", "--context", "10", "--builtin-chars", "20000"]


def test_quick_run_on_the_builtin_corpus_writes_the_ratio_table(tmp_path, capsys):
    status = fortified_text8.main(TINY + ["--out", str(tmp_path), "--name", "t"])
    assert status == 0
    run = tmp_path / "fortified_text8" / "t"
    metrics = json.load(open(run / "metrics.json"))
    assert metrics["data"] == "builtin_text"
    assert set(metrics["ratio_free_running_over_teacher_forcing"]) == {"5", "20", "40"}
    assert all(r > 0 for r in metrics["ratio_free_running_over_teacher_forcing"].values())
    assert metrics["thesis_reference"]["ratio"] == {"50": 1.03, "180": 1.12, "300": 1.34}
    assert len(metrics["per_step"]["ratio_per_step"]) == 40
    assert metrics["test"]["bits_per_character"] > 0
    assert len(metrics["samples"][0]["sampled"]) == 40 and len(metrics["samples"][0]["context"]) == 10
    assert os.path.getsize(run / "images" / "free_running_ratio.png") > 1000
    assert os.path.isfile(run / "models" / "fortified_lm.keras")
    assert metrics["off_manifold_threshold"]["value"] > 0
    assert "built-in generated corpus, not text8" in capsys.readouterr().out


def test_text8_zip_given_with_text8_flag(tmp_path):
    corpus = text8.decode(builtin_text.builtin_corpus(12_000, seed=5))
    with zipfile.ZipFile(tmp_path / "text8.zip", "w") as archive:
        archive.writestr("text8", corpus)
    status = fortified_text8.main(TINY + ["--text8", str(tmp_path / "text8.zip"), "--out", str(tmp_path / "runs"),
                                          "--name", "z", "--ratio-steps", "5", "20"])
    assert status == 0
    metrics = json.load(open(tmp_path / "runs" / "fortified_text8" / "z" / "metrics.json"))
    assert metrics["data"] == "text8" and set(metrics["ratio_free_running_over_teacher_forcing"]) == {"5", "20"}


def test_missing_text8_stops_before_a_run_directory_exists(tmp_path, capsys):
    runs = tmp_path / "runs"
    assert fortified_text8.main(["--text8", str(tmp_path / "text8.zip"), "--out", str(runs)]) == 2
    assert "text8.zip does not exist" in capsys.readouterr().err
    assert fortified_text8.main(["--out", str(runs)]) == 2
    err = capsys.readouterr().err
    assert "--text8 PATH" in err and "--quick" in err
    assert not os.path.exists(runs)


def test_stepper_reproduces_the_network_and_free_running_feeds_back_samples():
    cfg = fortified_text8.Config(units=12, embedding_dim=8, dae_units=6, sequence_length=20)
    model = fortified_text8.build_model(cfg)
    tokens = np.random.default_rng(0).integers(0, 27, (5, 20)).astype("int32")
    step = fortified_text8.make_stepper(model, context=8)
    errors, inputs = step(tokens, False)
    states = model.hidden_states(tokens)
    full = ((states["output/fortified_lstm"].numpy() - states["input/fortified_lstm"].numpy()) ** 2).sum(-1)
    np.testing.assert_allclose(errors, full, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(inputs, tokens)
    free_errors, free_inputs = step(tokens, True, seed=1)
    np.testing.assert_array_equal(free_inputs[:, :8], tokens[:, :8])
    np.testing.assert_allclose(free_errors[:, :8], errors[:, :8], rtol=1e-5)
    assert (free_inputs[:, 8:] != tokens[:, 8:]).any()
    np.testing.assert_array_equal(step(tokens, True, seed=1)[1], free_inputs)


def test_stepper_runs_under_mixed_float16_with_float32_errors_near_the_float32_ones():
    import keras

    from tfgm.training import set_precision

    cfg = fortified_text8.Config(units=12, embedding_dim=8, dae_units=6, sequence_length=20)
    tokens = np.random.default_rng(0).integers(0, 27, (5, 20)).astype("int32")
    reference = fortified_text8.build_model(cfg)
    expected = fortified_text8.make_stepper(reference, context=8)(tokens, False)[0]
    try:
        set_precision("mixed_float16")
        model = fortified_text8.build_model(cfg)
        model.set_weights(reference.get_weights())
        errors, _ = fortified_text8.make_stepper(model, context=8)(tokens, False)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert errors.dtype == np.float32
    np.testing.assert_allclose(errors, expected, rtol=0.02, atol=1e-3)
