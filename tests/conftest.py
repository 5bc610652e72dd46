"""Test session setup: quiet TensorFlow, two logical CPU devices (for MirroredStrategy tests)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

import tfgm  # noqa: E402,F401  (before TensorFlow: its oneDNN kernels on every x86 CPU, as for users)

import tensorflow as tf  # noqa: E402

_cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(
    _cpus[0], [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
)

# The files whose tests take ≥ 13 s in all, heaviest first (idle `--durations=0` run of 2026-12-02, summed per file):
# with `--dist loadfile` each worker takes whole files from the front of the queue, so starting with these leaves
# short files to even out the two workers' ends. Re-measure and re-order when a file's cost changes.
HEAVY_FIRST = (
    "tests/models/test_gibbsnet.py",
    "tests/recipes/test_discreg_celeba.py",
    "tests/training/test_multiworker.py",
    "tests/recipes/test_gan_toy.py",
    "tests/benchmarks/test_scaling.py",
    "tests/models/test_harness.py",
    "tests/recipes/test_gibbsnet_celeba_attributes.py",
    "tests/recipes/test_gibbsnet_recipes.py",
    "tests/training/test_precision_every_model.py",
    "tests/models/test_vae.py",
    "tests/export/test_savedmodel.py",
    "tests/recipes/test_fortified_fashion_mnist.py",
    "tests/models/test_joint_gibbsnet.py",
    "tests/models/test_gan.py",
    "tests/export/test_report_and_cli.py",
    "tests/benchmarks/test_peers.py",  # ~25 s with the peers extra installed (skipped without torch)
    "tests/recipes/test_fortified_cifar10.py",
    "tests/recipes/test_fortified_mnist.py",
    "tests/models/test_discreg_vae.py",
    "tests/recipes/test_gan_cifar10.py",
    "tests/recipes/test_gibbsnet_mnist2d.py",
    "tests/recipes/test_mixture_toy.py",
    "tests/test_onednn.py",  # two fresh interpreters importing TensorFlow
    "tests/models/test_vae_logistic_mixture.py",
    "tests/models/test_char_model.py",
    "tests/models/test_fortified.py",
    "tests/export/test_request_guards.py",
    "tests/export/test_chain_parity.py",
    "tests/recipes/test_autoregressive_text8.py",
    "tests/training/test_sync_batch_norm_multiworker.py",
    "tests/training/test_precision.py",
)


def pytest_collection_modifyitems(session, config, items):
    rank = {path: i for i, path in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


@pytest.fixture(autouse=True)
def _float32_policy_kept():
    """Fail a test that leaves Keras' global dtype policy mixed: the worker's later tests would compute in it."""
    yield
    import keras

    name = keras.mixed_precision.global_policy().name
    if name != "float32":
        keras.mixed_precision.set_global_policy("float32")
        pytest.fail(f"the test left Keras' global dtype policy at {name}; restore float32 (fixture float32_afterwards)")
