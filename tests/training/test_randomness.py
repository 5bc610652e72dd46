import numpy as np
import pytest
import tensorflow as tf

from tfgm.training import replica_seed, set_seed


def test_replica_seed_differs_across_mirrored_replicas(mirrored):
    seed = tf.constant([7, 11], tf.int64)

    @tf.function
    def step():
        s = replica_seed(seed)
        return s, tf.random.stateless_normal([3], seed=s)

    def run():
        seeds, noise = mirrored.run(step)
        local = mirrored.experimental_local_results
        return [s.numpy() for s in local(seeds)], [n.numpy() for n in local(noise)]

    seeds, noise = run()
    assert len(seeds) == 2
    assert all(s.dtype == np.int32 and s.shape == (2,) for s in seeds)
    assert not np.array_equal(seeds[0], seeds[1])
    assert not np.allclose(noise[0], noise[1])
    np.testing.assert_array_equal(run()[0], seeds)


def test_replica_seed_is_identity_under_default_strategy():
    for dtype in (tf.int32, tf.int64):
        out = replica_seed(tf.constant([7, 11], dtype))
        assert out.dtype == tf.int32
        np.testing.assert_array_equal(out.numpy(), [7, 11])
    with pytest.raises(TypeError):
        replica_seed(tf.constant([1.0, 2.0]))


def test_set_seed_repeats_streams():
    set_seed(3)
    first = (np.random.rand(), float(tf.random.uniform([])))
    set_seed(3)
    assert (np.random.rand(), float(tf.random.uniform([]))) == first
    with pytest.raises(ValueError):
        set_seed(-1)
