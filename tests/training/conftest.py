"""Fixtures for tfgm.training tests: tiny data, a 2-replica MirroredStrategy."""

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
