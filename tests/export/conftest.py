"""A run directory with a tiny VAE and a tiny DiscRegVAE, exported once for the whole tests/export session."""

import os

import pytest

from tests.models._tiny import tiny_decoder, tiny_encoder, tiny_features
from tfgm.models import VAE, DiscRegVAE

BATCH_SIZES = (1, 7, 64)
ENDPOINTS = {"decode", "sample", "reconstruct", "encode", "serving_default"}


def make_run_dir(root, models: dict) -> str:
    """``<root>/recipe/run/models/<name>.keras`` for each model; returns the run folder."""
    run_dir = os.path.join(os.fspath(root), "recipe", "run")
    os.makedirs(os.path.join(run_dir, "models"))
    for name, model in models.items():
        model.save(os.path.join(run_dir, "models", f"{name}.keras"))
    return run_dir


def tiny_vae(seed=0):
    return VAE(tiny_encoder(), tiny_decoder(), seed=seed)


def tiny_discreg_vae():
    return DiscRegVAE(tiny_encoder(), tiny_decoder(), tiny_features(), layer_weights=None)


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    """``(run_dir, report)`` after ``export_run`` on a run holding ``vae`` and ``discreg_vae``."""
    from export import export_run

    run_dir = make_run_dir(tmp_path_factory.mktemp("exported"), {"vae": tiny_vae(), "discreg_vae": tiny_discreg_vae()})
    return run_dir, export_run(run_dir, batch_sizes=BATCH_SIZES, atol=1e-4)


@pytest.fixture(scope="session")
def loaded_models(exported):
    """The Keras models as export saw them (loaded back from the run's .keras files)."""
    from export import load_models

    return load_models(exported[0])
