"""One GibbsNet train step under MirroredStrategy (2 logical CPUs) equals the single-device step.

Randomness: GibbsNet draws its noise (ẑ's ε, z₀, the chain's ε) with stateless ops seeded by
`step_seed(seed, step)`, which folds the replica id in, so replica r of the mirrored run draws the noise of
its half of the global batch from its own seed. The single-device reference is the same model class with
one test-only change: it computes `per_example_terms` on each half of the batch with the seed replica r
used (read from the mirrored strategy itself), i.e. it sees the same global batch with the same noise per
example. Everything else of the step (loss scaling by the global batch, the two optimizers' updates) is
GibbsNet's own. The nets have no BN and no dropout (`mlp_ali(dropout=0, batch_norm=False)`), so each
example's terms do not depend on how the batch is split.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgm.models._seeds import step_seed
from tfgm.models.gibbsnet import GibbsNet
from tfgm.nets import ali_nets
from tfgm.training import strategy as make_strategy

SHAPE = (4, 4, 1)
LATENT = 3
BATCH = 8
SEED = 5
X = np.random.default_rng(0).random((BATCH,) + SHAPE).astype("float32")


def _nets():
    return ali_nets.mlp_ali(SHAPE, LATENT, hidden=(8, 8), d_hidden=8, dropout=0.0, batch_norm=False)


class _ReplicaNoise(GibbsNet):
    """Single-device reference: half r of the batch draws its noise with replica r's seed."""

    replica_seeds = ()

    def per_example_terms(self, images, seed, training, return_chain=False):
        halves = tf.split(images, len(self.replica_seeds))
        parts = [GibbsNet.per_example_terms(self, half, tf.constant(s, tf.int32), training)
                 for half, s in zip(halves, self.replica_seeds)]
        return {key: tf.concat([part[key] for part in parts], 0) for key in parts[0]}


def _step(strategy, initial, cls=GibbsNet, replica_seeds=()):
    with strategy.scope():
        model = cls(*_nets(), train_steps=3, loss="bgan", log_z_ema=True, log_z_gamma=0.5, seed=SEED)
        model.set_weights(initial)
        model.replica_seeds = tuple(replica_seeds)
        # SGD: Adam's first step is lr·sign(g) and would hide a wrong gradient scale
        model.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1))
    model.fit(tf.data.Dataset.from_tensor_slices({"image": X}).batch(BATCH), epochs=1, verbose=0)
    return model


@pytest.fixture(scope="module")
def runs():
    assert len(tf.config.list_logical_devices("CPU")) == 2
    keras.utils.set_random_seed(0)
    initial = GibbsNet(*_nets(), train_steps=3).get_weights()
    mirrored = make_strategy("mirrored")
    seeds = mirrored.run(lambda: step_seed(SEED, 0))  # the seed of step 0 on each replica
    seeds = [tuple(int(v) for v in s.numpy()) for s in mirrored.experimental_local_results(seeds)]
    assert len(seeds) == 2 and seeds[0] != seeds[1]
    single = _step(make_strategy("default"), initial, _ReplicaNoise, seeds)
    return initial, single, _step(mirrored, initial)


def test_one_mirrored_step_equals_the_single_device_step_on_the_same_batch_and_noise(runs):
    initial, single, mirrored = runs
    names = [v.path for v in single.trainable_variables]
    assert names == [v.path for v in mirrored.trainable_variables]
    after = [v.numpy() for v in single.trainable_variables]
    moved = [not np.allclose(a, b) for a, b in zip(initial, [v.numpy() for v in single.weights])]
    assert sum(moved) >= 12  # D, encoder and decoder kernels and biases all stepped
    for name, a, b in zip(names, after, [v.numpy() for v in mirrored.trainable_variables]):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5, err_msg=name)
    for opt in ("d_optimizer", "g_optimizer"):
        assert getattr(single, opt).iterations.numpy() == getattr(mirrored, opt).iterations.numpy() == 1


def test_the_log_z_moving_average_matches_too(runs):
    """BGAN's log Z EMA takes logsumexp over the batch: the replicas' shares must give the global batch's value
    (γ = 0.5 here, so a wrong batch estimate shows after one step)."""
    _, single, mirrored = runs
    for name in ("log_z_fake", "log_z_real"):
        assert float(getattr(single, name).numpy()) != 0.0
        np.testing.assert_allclose(float(getattr(mirrored, name).numpy()), float(getattr(single, name).numpy()),
                                   rtol=1e-5, atol=1e-6, err_msg=name)
