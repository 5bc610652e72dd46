"""The GAN and GibbsNet recipes declare which stages each flag affects, so `--resume` accepts a changed flag
that only affects stages not trained yet (and evaluation-only flags always), and refuses the rest."""

import dataclasses
import os

import pytest

from recipes import gan_mnist, gan_toy, gibbsnet_celeba_attributes, gibbsnet_mnist
from tfgm.training.atomic import to_jsonable, write_json_atomic
from tfgm.training.resume_changes import record_stage, resume_changes

CASES = {  # recipe: (its config, its experiment, stages already finished, accepted changes, a refused change)
    "gan_mnist": (gan_mnist.Config, gan_mnist.main.__self__, ("fid_classifier",),
                  {"variant": "wgan_gp", "width": 32, "fid_samples": 100, "image_every": 2}, {"classifier_epochs": 9}),
    "gan_toy": (gan_toy.Config, gan_toy.GanToy, ("dcgan",), {"eval_samples": 100, "mode_min_fraction": 0.5},
                {"hidden": (64,)}),
    "gibbsnet_mnist": (gibbsnet_mnist.Config, gibbsnet_mnist.EXPERIMENT, ("score_classifier",),
                       {"latent_dim": 8, "gan_epochs": 3, "chain_steps": 5, "score_samples": 100},
                       {"classifier_epochs": 9}),
    "gibbsnet_celeba_attributes": (gibbsnet_celeba_attributes.Config, gibbsnet_celeba_attributes.JointGibbs,
                                   ("classifier",), {"attribute_samples": 2, "learning_rate": 0.01},
                                   {"classifier_learning_rate": 0.1}),
}


def _flags(config, **changes):
    return to_jsonable(dataclasses.asdict(dataclasses.replace(config(), **changes)))


@pytest.mark.parametrize("recipe", sorted(CASES))
def test_resume_accepts_flags_of_stages_not_started_and_refuses_those_of_trained_ones(tmp_path, recipe):
    config, experiment, finished, accepted, refused = CASES[recipe]
    flags_of = experiment.stage_flags
    assert set(flags_of) <= {f.name for f in dataclasses.fields(config)}
    write_json_atomic(os.path.join(tmp_path, "config.json"), _flags(config))
    for stage in finished:
        record_stage(str(tmp_path), stage, 1)
    assert set(resume_changes(str(tmp_path), _flags(config, **accepted), flags_of)) == set(accepted)
    (key, value), = refused.items()
    with pytest.raises(ValueError, match=f"--{key.replace('_', '-')}"):
        resume_changes(str(tmp_path), _flags(config, **refused), flags_of)


def test_gan_flags_are_refused_once_the_gan_stage_trained(tmp_path):
    write_json_atomic(os.path.join(tmp_path, "config.json"), _flags(gan_mnist.Config))
    for stage in ("fid_classifier", "gan"):
        record_stage(str(tmp_path), stage, 1)
    with pytest.raises(ValueError, match="--variant.*affects stage\\(s\\) gan"):
        resume_changes(str(tmp_path), _flags(gan_mnist.Config, variant="wgan_gp"), gan_mnist.main.__self__.stage_flags)


EPOCH_STAGES = {"gan_mnist": ("gan",), "gan_toy": ("dcgan", "wgan_seed1"),
                "gibbsnet_mnist": ("score_classifier", "ali", "gibbsnet"),
                "gibbsnet_celeba_attributes": ("classifier", "ali", "gibbsnet")}


@pytest.mark.parametrize("recipe", sorted(EPOCH_STAGES))
def test_each_stage_declares_the_field_of_its_epochs(recipe):
    config, experiment = CASES[recipe][:2]
    fields = {f.name for f in dataclasses.fields(config)}
    if isinstance(experiment, type):
        experiment = experiment()
    assert {experiment.epoch_flag(stage) for stage in EPOCH_STAGES[recipe]} <= fields
    assert set(experiment.epoch_flags.values()) <= fields
