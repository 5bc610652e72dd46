"""Every model class of tfgm.models through the shared harness (tests/models/harness.py): one real train step,
the get_config round trip, the `.keras` round trip and the export round trip. A new model: add one ModelCase."""

import inspect
import os

import keras
import numpy as np
import pytest

import tfgm.models
from tests.models import harness
from tests.models._tiny import IMAGE_SHAPE, tiny_decoder, tiny_encoder, tiny_features
from tfgm.losses import gaussian_mixture_head_size
from tfgm.models import (ALI, GAN, NCE, RBM, VAE, CharModel, DiscRegVAE, EnergyModel, FortifiedClassifier, GibbsNet,
                         JointGibbsNet, MixtureDensity, fortify)
from tfgm.nets import ali_joint_nets, ali_nets, dcgan

rng = np.random.default_rng(0)
SMALL = (4, 4, 1)  # GibbsNet/ALI images
JOINT = (8, 8, 1)  # JointGibbsNet images (4 attributes)


def _images(shape, batch=4):
    return lambda: {"image": rng.random((batch,) + shape).astype("float32")}


def _mlp_ali():
    return ali_nets.mlp_ali(SMALL, 3, hidden=(8,), d_hidden=8)


def _classifier():
    x_in = keras.Input((20,), name="x")
    h = keras.layers.Dense(8, activation="relu", name="h1")(x_in)
    return keras.Model(x_in, keras.layers.Dense(3, name="logits")(h))


def _energy():
    x_in = keras.Input((2,), name="x")
    return keras.Model(x_in, keras.layers.Dense(1)(keras.layers.Dense(8, activation="tanh")(x_in)))


def _mdn():
    x_in = keras.Input((1,), name="x")
    h = keras.layers.Dense(8, activation="tanh")(x_in)
    return keras.Model(x_in, keras.layers.Dense(gaussian_mixture_head_size(2, 1))(h))


CASES = [
    harness.ModelCase("vae", lambda: VAE(tiny_encoder(), tiny_decoder(), likelihood="discretized_logistic",
                                         min_log_sigma=-4.0, seed=3), _images(IMAGE_SHAPE)),
    harness.ModelCase("discreg_vae", lambda: DiscRegVAE(tiny_encoder(), tiny_decoder(), tiny_features()),
                      _images(IMAGE_SHAPE)),
    harness.ModelCase("gan", lambda: GAN(dcgan.mlp_generator(3, 2, (8,)), dcgan.mlp_discriminator(2, (8,))),
                      lambda: {"image": rng.normal(size=(8, 2)).astype("float32")}, harness.two_adams),
    harness.ModelCase("gibbsnet", lambda: GibbsNet(*_mlp_ali(), train_steps=2, log_z_ema=True, standardize_z=True),
                      _images(SMALL), harness.two_adams),
    harness.ModelCase("ali", lambda: ALI(*_mlp_ali(), loss="ls_multihead"), _images(SMALL), harness.two_adams),
    harness.ModelCase("joint_gibbsnet",
                      lambda: JointGibbsNet(*ali_joint_nets.mlp_joint(JOINT, 4, 3, hidden=8), train_steps=2,
                                            attribute_samples=2),
                      lambda: {**_images(JOINT)(), "attributes": (rng.random((4, 4)) > 0.5).astype("float32")},
                      harness.two_adams),
    harness.ModelCase("fortified", lambda: fortify(_classifier(), ["h1"], hidden_units=4,
                                                   attack={"name": "fgsm", "eps": 0.1}, seed=0),
                      lambda: {"image": rng.random((8, 20)).astype("float32"),
                               "label": rng.integers(0, 3, 8).astype("int32")}),
    harness.ModelCase("mixture", lambda: MixtureDensity(3, 2, seed=2),
                      lambda: {"y": rng.normal(size=(8, 2)).astype("float32")}),
    harness.ModelCase("mdn", lambda: MixtureDensity(2, 1, network=_mdn(), min_log_sigma=-4.0, seed=2),
                      lambda: {"x": rng.random((8, 1)).astype("float32"),
                               "y": rng.normal(size=(8, 1)).astype("float32")}),
    harness.ModelCase("char_model", lambda: CharModel(vocab=7, units=8, embedding_dim=4, dae_units=4,
                                                      schedule="linear", schedule_c=0.5, seed=1),
                      lambda: {"tokens": rng.integers(0, 7, (4, 6)).astype("int32"),
                               "label": rng.integers(0, 7, (4, 6)).astype("int32")}),
    harness.ModelCase("rbm", lambda: RBM(16, 4, persistent=True, chains=4, seed=2), _images(SMALL)),
    harness.ModelCase("nce", lambda: NCE(_energy(), noise_ratio=2, seed=1),
                      lambda: {"image": rng.normal(size=(8, 2)).astype("float32")}),
    harness.ModelCase("energy_model", lambda: EnergyModel(_energy(), buffer_size=16, langevin_steps=2, step_size=0.1,
                                                           seed=1),
                      lambda: {"image": rng.random((8, 2)).astype("float32")}),
]


# Cases whose class the named test already exports with `harness.check_export_round_trip` or an `export_run`
# test at least as strong (trained model, parity of every endpoint, ONNX): a SavedModel export costs seconds.
EXPORTED_ELSEWHERE = {
    "vae": "tests/models/test_vae_logistic_mixture.py::test_export_round_trip",
    "discreg_vae": "tests/export/test_report_and_cli.py::test_report_file_describes_the_export",
    "joint_gibbsnet": "tests/models/test_joint_gibbsnet.py::test_export_parity_through_export_run",
    "char_model": "tests/models/test_char_model.py::test_export_serves_sample",
}
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def trained():
    """{case name: model after `harness.train_one_step`}, each trained once for the module's tests."""
    return {}


def _trained(case, cache):
    if case.name not in cache:
        cache[case.name] = harness.train_one_step(case)
    return cache[case.name]


def test_every_model_class_has_a_case():
    public = {obj for obj in vars(tfgm.models).values() if inspect.isclass(obj) and issubclass(obj, keras.Model)}
    assert {ALI, GAN, VAE, DiscRegVAE, FortifiedClassifier, GibbsNet, JointGibbsNet, MixtureDensity} <= public
    covered = {type(case.factory()) for case in CASES}
    assert public <= covered, f"no harness case for {sorted(c.__name__ for c in public - covered)}"


@pytest.mark.parametrize("case", CASES, ids=str)
def test_one_real_train_step(case, trained):
    _trained(case, trained)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_get_config_round_trip(case, trained):
    harness.check_config_round_trip(_trained(case, trained))


@pytest.mark.parametrize("case", CASES, ids=str)
def test_keras_file_round_trip(case, trained, tmp_path):
    harness.check_keras_round_trip(_trained(case, trained), tmp_path)


@pytest.mark.parametrize("case", [c for c in CASES if c.name not in EXPORTED_ELSEWHERE], ids=str)
def test_export_round_trip(case, trained, tmp_path):
    harness.check_export_round_trip(_trained(case, trained), tmp_path)


def test_cases_exported_elsewhere_name_an_existing_test():
    assert set(EXPORTED_ELSEWHERE) < {case.name for case in CASES}
    for test_id in EXPORTED_ELSEWHERE.values():
        path, name = test_id.split("::")
        with open(os.path.join(ROOT, path), encoding="utf-8") as f:
            assert f"\ndef {name}(" in f.read(), f"{test_id} is gone: export its case here again"
