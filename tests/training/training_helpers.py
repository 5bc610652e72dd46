"""Helpers for tfgm.training tests (a unique module name: importable from any test file here)."""

import keras
import numpy as np

# Relative error ||Δw_mixed − Δw_fp32|| / ||Δw_fp32|| of one SGD step from the same weights on the same batch
# (tests/training/test_precision*.py): float16 has a 10-bit mantissa, bfloat16 8 bits.
MIXED_STEP_TOLERANCE = {"mixed_float16": 0.02, "mixed_bfloat16": 0.06}


def make_model(init_seed: int = 0) -> keras.Model:
    """Dense -> seeded Dropout -> Dense, Adam: weights, optimizer slots and a SeedGenerator to resume."""
    keras.utils.set_random_seed(init_seed)
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4, activation="tanh"),
            keras.layers.Dropout(0.25, seed=5),
            keras.layers.Dense(2),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    return model


class EpochRecorder(keras.callbacks.Callback):
    """Records the epochs run and the weights at each epoch end."""

    def __init__(self):
        super().__init__()
        self.epochs, self.weights = [], []

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(epoch)
        self.weights.append([np.array(w) for w in self.model.get_weights()])


def seed_states(model):
    return [np.array(v) for v in model.non_trainable_variables if v.path.endswith("seed_generator_state")]


def assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
