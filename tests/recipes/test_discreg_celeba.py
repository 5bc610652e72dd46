"""The flagship recipe end to end on built-in faces, shrunk through its flags (paper architecture)."""

import json
import os
import time

import pytest

from recipes import discreg_celeba

# --no-export: the CelebA-size VAE and DiscRegVAE exports are tested in tests/export (test_rest_examples serves one)
TINY = ["--quick", "--train-examples", "100", "--eval-examples", "40", "--iw-examples", "20", "--iw-samples", "2",
        "--fd-samples", "40", "--epochs", "1", "--batch-size", "20", "--latent-dim", "16", "--no-export"]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    status = discreg_celeba.main(TINY + ["--out", str(out), "--name", "t"])
    return status, os.path.join(out, "discreg_celeba", "t")


def test_quick_recipe_trains_evaluates_and_writes_a_complete_run_directory(quick_run):
    status, run = quick_run
    assert status == 0
    for name in ("classifier", "vae", "discreg_vae"):
        assert os.path.isfile(os.path.join(run, "models", f"{name}.keras"))
    config = json.load(open(os.path.join(run, "config.json")))
    assert config["data"] == "builtin_faces_plain" and config["latent_dim"] == 16 and config["seed"] == 0
    assert json.load(open(os.path.join(run, "environment.json")))["seed"] == 0
    metrics = json.load(open(os.path.join(run, "metrics.json")))
    for model in ("vae", "discreg_vae"):
        for key in ("elbo", "iw_nll", "reconstruction_mse", "attribute_agreement"):
            assert isinstance(metrics[model][key], float)
        assert len(metrics[model]["attribute_agreement_per_attribute"]) == 40
        assert metrics[model]["protocol"]["iw_samples"] == 2
    assert set(metrics["comparison"]) >= {"elbo", "iw_nll", "iw_bits_per_dim", "reconstruction_mse",
                                          "attribute_agreement"}
    images = os.listdir(os.path.join(run, "images"))
    for panel in ("samples", "reconstructions", "interpolations"):
        assert f"discreg_vae_{panel}_epoch001.png" in images and f"vae_{panel}_epoch001.png" in images
    for figure in ("comparison_reconstructions.png", "comparison_samples.png", "attribute_agreement.png"):
        assert figure in images
    baselines = metrics["baselines"]
    for name in ("majority", "mean_image"):
        assert 0.0 <= baselines[name]["mean"] <= 1.0 and len(baselines[name]["per_attribute"]) == 40
        assert 0.0 <= baselines[name]["drawn"] <= 1.0  # built-in faces: the drawn attributes are scored apart
        assert set(baselines[name]["prediction"]) <= {0, 1}
    assert baselines["protocol"]["training_examples"] == 100
    for model in ("vae", "discreg_vae"):
        assert 0.0 <= metrics[model]["attribute_agreement_drawn"] <= 1.0
    differs = metrics["differs_from_paper"]
    assert differs["--epochs"] == 1 and differs["--data"] == "builtin_faces_plain" and differs["--latent-dim"] == 16
    assert differs["--sigma-lr-multiplier"] == 10.0 and differs["--kl-warmup-steps"] == 120  # --quick's levers
    assert differs["--learning-rate"] == 0.001 and differs["--bn-recalibration-batches"] == 10
    assert differs["--vae-width"] == 0.5 and differs["--min-log-sigma"] == -2.3
    assert differs["--layers"] == ["strided2_bn", "strided3_bn"]  # the quick run leaves out the first layer
    assert differs["--precision"] in ("auto (float32)", "auto (mixed_bfloat16)")
    assert "--out" not in differs and "--name" not in differs
    assert os.listdir(os.path.join(run, "logs", "discreg_vae"))


def test_the_printed_table_shows_the_baselines_and_what_differs_from_the_paper(quick_run):
    _, run = quick_run
    printed = open(os.path.join(run, "summary.txt")).read()
    for text in ("blind: majority value of each attribute", "blind: classifier on the mean train image",
                 "classifier on real test images (ceiling)", "on the drawn attributes only",
                 "differs from the paper's settings", "--latent-dim 16  (paper: 500)", "IW-NLL (bits/dim)"):
        assert text in printed


def test_resume_of_a_finished_run_loads_the_models_instead_of_training(quick_run, capsys):
    _, run = quick_run
    out = os.path.dirname(os.path.dirname(run))
    status = discreg_celeba.main(TINY + ["--out", out, "--name", "t", "--resume"])
    assert status == 0
    printed = capsys.readouterr().out
    for name in ("classifier", "vae", "discreg_vae"):
        assert f"[{name}] finished earlier" in printed


def test_missing_celeba_stops_at_once_with_the_ways_to_provide_it(tmp_path, capsys):
    start = time.monotonic()
    status = discreg_celeba.main(["--data-dir", str(tmp_path / "tfds"), "--out", str(tmp_path / "runs")])
    assert status == 2 and time.monotonic() - start < 20
    err = capsys.readouterr().err
    assert "celeba-dir" in err and "builtin_faces" in err
    assert not os.path.exists(tmp_path / "runs")


def test_celeba_dir_errors_name_the_missing_file(tmp_path, capsys):
    status = discreg_celeba.main(["--celeba-dir", str(tmp_path), "--out", str(tmp_path / "runs")])
    assert status == 2
    assert "list_attr_celeba.txt" in capsys.readouterr().err or "img_align_celeba" in capsys.readouterr().err


def test_help_lists_every_flag(capsys):
    with pytest.raises(SystemExit):
        discreg_celeba.main(["--help"])
    text = capsys.readouterr().out
    for flag in ("--quick", "--celeba-dir", "--latent-dim", "--vae-epochs", "--classifier-epochs", "--resume",
                 "--strategy", "--seed", "--data-path", "--layers", "--no-discreg-to-encoder"):
        assert flag in text


def test_help_lists_what_quick_changes(capsys):
    with pytest.raises(SystemExit) as exit_info:
        discreg_celeba.main(["--help"])
    assert exit_info.value.code == 0
    printed = " ".join(capsys.readouterr().out.split())
    for text in ("--quick sets (unless given explicitly): --data builtin_faces_plain", "--sigma-lr-multiplier 10.0",
                 "--kl-warmup-steps 120", "--bn-recalibration-batches", "--vae-width 0.5",
                 "--min-log-sigma -2.3"):
        assert text in printed


@pytest.mark.parametrize("flags,message", [
    (["--epochs", "-1"], "--epochs -1: must be ≥ 0"),
    (["--batch-size", "-5"], "--batch-size -5: must be ≥ 1"),
    (["--precision", "float8"], "--precision float8: choose one of float32"),
    (["--likelihood", "poisson"], "--likelihood poisson: choose one of gaussian"),
    (["--likelihood", "logistic_mixture", "--mixture-components", "0"], "--mixture-components 0: must be ≥ 1"),
    (["--image-every", "0"], "--image-every 0: must be > 0"),
    (["--fd-samples", "1"], "--fd-samples 1: the Fréchet distance needs ≥ 2 samples"),
    (["--vae-width", "0.01"], "--vae-width 0.01: width multiplier 0.01: the first stage's 32 channels would round"),
    (["--vae-width", "nan"], "--vae-width nan: must be finite and > 0"),
    (["--pixel-sigma", "-0.1"], "--pixel-sigma -0.1: must be a finite σ > 0, or 0 (learned)"),
    (["--pixel-sigma", "0.05", "--likelihood", "bernoulli"], "--pixel-sigma 0.05: only the gaussian likelihood"),
    (["--layers", "nosuchlayer"], "--layers nosuchlayer: not layers of the attribute classifier (nosuchlayer)"),
    (["--train-examples", "10", "--batch-size", "25"], "the training split has 10 examples, fewer than one batch"),
])
def test_flags_no_run_can_use_stop_before_any_run_folder_with_one_message(tmp_path, capsys, flags, message):
    status = discreg_celeba.main(["--quick", "--out", str(tmp_path / "runs"), *flags])
    err = capsys.readouterr().err
    assert status == 2 and message in err and "Traceback" not in err
    assert not os.path.exists(tmp_path / "runs")


def test_an_out_that_is_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert discreg_celeba.main(["--quick", "--out", str(tmp_path / "file")]) == 2
    assert "is a file; give a folder" in capsys.readouterr().err


def test_resume_accepts_a_fixed_discreg_flag_while_only_earlier_stages_finished(tmp_path):
    import dataclasses

    from tfgm.training.atomic import to_jsonable, write_json_atomic
    from tfgm.training.resume_changes import record_stage, resume_changes

    def flags(**changes):
        return to_jsonable(dataclasses.asdict(dataclasses.replace(discreg_celeba.Config(), **changes)))

    write_json_atomic(os.path.join(tmp_path, "config.json"), flags(layers=("nosuchlayer",)))
    for stage in ("classifier", "vae"):
        record_stage(str(tmp_path), stage, 1)
    flags_of = discreg_celeba.DiscReg.stage_flags
    accepted = resume_changes(str(tmp_path), flags(layers=("strided1_bn",), fd_samples=10), flags_of)
    assert set(accepted) == {"layers", "fd_samples"}
    with pytest.raises(ValueError, match="--vae-epochs"):
        resume_changes(str(tmp_path), flags(layers=("strided1_bn",), vae_epochs=3), flags_of)
    record_stage(str(tmp_path), "discreg_vae", 1)
    with pytest.raises(ValueError, match="--layers"):
        resume_changes(str(tmp_path), flags(layers=("strided1_bn",)), flags_of)


@pytest.mark.parametrize("width,channels", [(1.0, (32, 64, 128, 256)), (0.5, (16, 32, 64, 128))])
def test_vae_width_scales_the_convolution_channels_of_both_vaes(width, channels):
    import dataclasses

    cfg = dataclasses.replace(discreg_celeba.Config(), vae_width=width, latent_dim=8, layers=("strided1_bn",))
    build_classifier, build_vae, _ = discreg_celeba._builders(cfg, 40)
    _, _, build_discreg = discreg_celeba._builders(cfg, 40, build_classifier())
    for model in (build_vae(), build_discreg()):
        encoder = [model.encoder.get_layer(f"enc{i}a_conv").filters for i in range(4)]
        decoder = [model.decoder.get_layer(f"dec{i}a_conv").filters for i in range(4)]
        assert tuple(encoder) == channels and tuple(decoder) == channels[::-1]
        assert model.decoder.output.shape[1:] == (64, 64, 3)


def test_logistic_mixture_builds_both_vaes_with_a_mixture_head_that_trains():
    import dataclasses

    import numpy as np
    import tensorflow as tf

    from tfgm.losses import logistic_mixture_channels

    cfg = dataclasses.replace(discreg_celeba.Config(), likelihood="logistic_mixture", mixture_components=3,
                              latent_dim=8, layers=("strided1_bn",))
    build_classifier, build_vae, _ = discreg_celeba._builders(cfg, 40)
    _, _, build_discreg = discreg_celeba._builders(cfg, 40, build_classifier())
    images = np.random.default_rng(0).random((4, 64, 64, 3)).astype("float32")
    vae, discreg = build_vae(), build_discreg()
    # Eager steps: a compiled one is most of the time (~4500 ops to trace). The mixture's compiled train steps are
    # tested in tests/models/test_vae_logistic_mixture.py, this recipe's compiled train steps in the quick run.
    for model in (vae, discreg):
        model.run_eagerly = True
        assert model.likelihood == "logistic_mixture" and model.mixture_components == 3
        assert model.decoder.outputs[0].shape[-1] == logistic_mixture_channels(3, 3)
        logs = model.fit(tf.data.Dataset.from_tensors({"image": images}), verbose=0).history
        assert np.isfinite(logs["bits_per_dim"][0]) and logs["bits_per_dim"][0] > 0
        assert model.reconstruct(images).shape == (4, 64, 64, 3)
    assert np.isfinite(logs["discreg_strided1_bn"][0])  # the last fit: the DiscRegVAE's
