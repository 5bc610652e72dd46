"""Fixtures for tfgm.training tests: tiny data, a 2-replica MirroredStrategy, the float32 policy restored."""

import numpy as np
import pytest


@pytest.fixture
def data():
    """16 examples: with batch_size=4 and shuffle=False, 4 steps per epoch in a fixed order."""
    rng = np.random.default_rng(0)
    return rng.normal(size=(16, 3)).astype("float32"), rng.normal(size=(16, 2)).astype("float32")


@pytest.fixture(scope="session")
def mirrored():
    from tfgm.training import strategy

    return strategy("mirrored")


@pytest.fixture
def float32_afterwards():
    """Restore Keras' float32 dtype policy after a test that sets a mixed one."""
    import keras

    yield
    keras.mixed_precision.set_global_policy("float32")
