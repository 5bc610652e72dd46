"""gan_toy: a short run that covers more of the 25 modes than its initialization."""

import json
import os

import numpy as np
import pytest

from recipes import gan_toy


def test_a_short_run_covers_more_modes_than_its_initialization(tmp_path):
    status = gan_toy.main(["--variant", "roth", "--variant-epochs", "3", "--steps-per-epoch", "1000",
                           "--no-export", "--out", str(tmp_path), "--name", "t"])
    assert status == 0
    run = tmp_path / "gan_toy" / "t"
    result = json.load(open(run / "metrics.json"))["variants"]["roth"]
    assert result["init"]["modes_covered"] <= 1
    assert result["modes_covered"] >= result["init"]["modes_covered"] + 5  # measured: 1 → 20
    assert result["high_quality_share"] > 0.2  # the initial G piles half its samples on the centre mode
    assert result["settings"]["regularizers"] == {"roth": {"gamma": 2.0, "anneal": True}}
    images = os.listdir(run / "images")
    assert {"roth_samples.png", "all_variants_samples.png", "roth_loss_curves.png"} <= set(images)
    assert json.load(open(run / "config.json"))["variant"] == ["roth"]


def test_over_seeds_gives_mean_and_population_std_and_counts_a_diverged_seed_as_zero():
    runs = {0: {"modes_covered": 20, "high_quality_share": 0.8}, 1: {"modes_covered": 10, "high_quality_share": 0.4},
            2: {"diverged": "NaN in d_loss", "modes_covered": 0, "high_quality_share": 0.0}}
    stats = gan_toy.over_seeds(runs)
    assert stats["modes_covered"]["mean"] == pytest.approx(10.0)
    assert stats["modes_covered"]["std"] == pytest.approx(np.std([20, 10, 0]))
    assert stats["high_quality_share"]["values"] == [0.8, 0.4, 0.0] and stats["diverged_seeds"] == [2]
    assert gan_toy.panel_title("wgan", stats, 0).startswith("wgan: 10.0 ± 8.2/25 modes, HQ 0.40 ± 0.33")
    table = gan_toy.summary_table({"wgan": {"init": {"modes_covered": 1}, "over_seeds": stats}})
    assert "10.0 ± 8.2" in table and "0.400 ± 0.327" in table


def test_several_seeds_train_one_stage_each_and_report_mean_and_std(tmp_path):
    status = gan_toy.main(["--variant", "dcgan", "--seeds", "2", "--seed", "3", "--variant-epochs", "1",
                           "--steps-per-epoch", "20", "--no-export", "--out", str(tmp_path), "--name", "t"])
    assert status == 0
    run = tmp_path / "gan_toy" / "t"
    result = json.load(open(run / "metrics.json"))["variants"]["dcgan"]
    assert result["seed"] == 3 and set(result["other_seeds"]) == {"4"}
    modes = result["over_seeds"]["modes_covered"]
    assert result["over_seeds"]["seeds"] == [3, 4]
    assert modes["values"] == [result["modes_covered"], result["other_seeds"]["4"]["modes_covered"]]
    assert {"dcgan.keras", "dcgan_seed4.keras"} == set(os.listdir(run / "models"))
    figures = {"dcgan_samples.png", "dcgan_seed4_samples.png", "all_variants_samples.png"}
    assert figures <= set(os.listdir(run / "images"))


def test_unknown_variant_stops_before_a_run_directory(tmp_path, capsys):
    assert gan_toy.main(["--variant", "began", "--out", str(tmp_path)]) == 2
    assert "unknown GAN variant 'began'" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "gan_toy")


def test_zero_seeds_stops_before_a_run_directory(tmp_path, capsys):
    assert gan_toy.main(["--seeds", "0", "--out", str(tmp_path)]) == 2
    assert "--seeds must be >= 1" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "gan_toy")


def test_repeatable_flags_and_regularizer_specs():
    from recipes.gan_presets import merge_repeated, parse_regularizers

    argv = ["--regularizer", "r1=5", "--quick", "--regularizer=jacobian_clamping", "--variant", "a", "--variant", "b"]
    assert merge_repeated(argv) == ["--quick", "--regularizer", "r1=5", "jacobian_clamping", "--variant", "a", "b"]
    base = {"gradient_penalty": 10.0}
    assert parse_regularizers(["r1=5", "gradient_penalty"], base) == {"gradient_penalty": 10.0, "r1": 5.0}
    assert parse_regularizers(["none", "r1"], base) == {"r1": None}


@pytest.mark.parametrize("variant", gan_toy.ALL_VARIANTS)
def test_every_variant_has_toy_settings(variant):
    from recipes.gan_presets import gan_settings

    cfg = gan_toy.Config()
    settings = gan_settings(cfg, variant)
    d_opt, g_opt = settings["make_optimizers"]()
    assert d_opt is not g_opt and float(d_opt.learning_rate.numpy()) == pytest.approx(1e-3)
