"""gibbsnet_mnist2d end to end on built-in digits, shrunk through its flags."""

import json
import os
import zipfile

import pytest

from recipes import gibbsnet_mnist2d

# The class filter must not leave the training data's size unknown (Keras' first-epoch warning).
pytestmark = pytest.mark.filterwarnings("error:Your input ran out of data")

TINY = ["--quick", "--train-examples", "256", "--eval-examples", "96", "--epochs", "2", "--long-chain-steps", "20",
        "--score-samples", "64", "--probe-epochs", "2", "--chain-steps", "4", "--inpaint-given", "right",
        "--inpaint-steps", "3", "--no-chain-encoder-gradient", "--no-bounded-sigma", "--no-standardize-z"]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    return gibbsnet_mnist2d.main(TINY + ["--out", str(out), "--name", "t"]), os.path.join(out, "gibbsnet_mnist2d", "t")


def test_quick_run_writes_scatter_plots_chains_table_and_export(quick_run):
    status, run = quick_run
    assert status == 0
    images = set(os.listdir(os.path.join(run, "images")))
    for name in ("ali", "gibbsnet"):
        assert {f"{name}_latent_scatter.png", f"{name}_chain_4_steps.png",
                f"{name}_inpainting_right_half_given_3_steps.png", f"{name}_long_chain_20_steps.png"} <= images
        assert os.path.isfile(os.path.join(run, "models", f"{name}.keras"))
        # per-epoch grids during training (recipes._gibbsnet_figures.chain_panels), ALI's and GibbsNet's apart
        for panel in ("chain", "inpainting"):
            assert {f"{name}_{panel}_{when}.png" for when in ("epoch001", "epoch002", "latest")} <= images
            assert f"{name}_{panel}_epoch003.png" not in images
    metrics = json.load(open(os.path.join(run, "metrics.json")))
    assert metrics["train_steps"] == {"ali": 1, "gibbsnet": 3}
    row = metrics["table_3_1"]["this_run"]["gibbsnet"]
    assert 0.0 <= row["latent_probe_accuracy"] <= 1.0 and row["inception_score_samples"] >= 1.0 - 1e-6
    assert metrics["gibbsnet"]["latent_probe"]["num_classes"] == 3
    assert "not Inception" in metrics["protocol"]["scoring_network"]
    # the fig. 3.5 option (right half, other step counts) is labelled as not Table 3.1's protocol
    assert "right half given (clamped), the other half inpainted by 3 chain steps; NOT Table 3.1's protocol" in \
        metrics["protocol"]["inpainting"]
    # the ablation flags reach the saved models (the encoder options both ALI and GibbsNet)
    with zipfile.ZipFile(os.path.join(run, "models", "gibbsnet.keras")) as saved:
        assert json.loads(saved.read("config.json"))["config"]["chain_encoder_gradient"] is False
    assert metrics["gibbsnet_chain_encoder_gradient"] is False
    for name in ("ali", "gibbsnet"):
        with zipfile.ZipFile(os.path.join(run, "models", f"{name}.keras")) as saved:
            config = json.loads(saved.read("config.json"))["config"]
        assert config["bounded_sigma"] is False and config["standardize_z"] is False
    assert metrics["encoder_options"] == {"bounded_sigma": False, "standardize_z": False,
                                          "applies_to": "ALI and GibbsNet alike"}
    assert json.load(open(os.path.join(run, "export", "export_report.json")))["passed"]


def test_resume_loads_the_finished_models(quick_run, capsys):
    _, run = quick_run
    out = os.path.dirname(os.path.dirname(run))
    assert gibbsnet_mnist2d.main(TINY + ["--out", out, "--name", "t", "--resume", "--no-export"]) == 0
    printed = capsys.readouterr().out
    assert "[ali] finished earlier" in printed and "[gibbsnet] finished earlier" in printed


def test_a_latent_other_than_2_is_refused(tmp_path, capsys):
    with pytest.raises(ValueError, match="2-D-latent"):
        gibbsnet_mnist2d.EXPERIMENT.build_nets(3, 1.0, 0, 1)
    assert gibbsnet_mnist2d.main(TINY + ["--latent-dim", "3", "--out", str(tmp_path)]) == 2  # before any work
    assert "2-D-latent model; got --latent-dim 3" in capsys.readouterr().err and not os.listdir(tmp_path)
