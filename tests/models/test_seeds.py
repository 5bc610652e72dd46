import numpy as np
import tensorflow as tf

from tfgm.layers._replica_seed import replica_seed
from tfgm.models._seeds import step_seed
from tfgm.training import strategy as make_strategy


def test_one_replica_draws_from_base_seed_and_step_unchanged():
    for seed in (step_seed(5, 3), tf.function(step_seed)(tf.constant(5), tf.constant(3, tf.int64))):
        assert seed.dtype == tf.int32
        np.testing.assert_array_equal(seed.numpy(), [5, 3])


def test_each_replica_folds_its_id_in_as_the_layers_do():
    assert len(tf.config.list_logical_devices("CPU")) == 2
    mirrored = make_strategy("mirrored")
    both = mirrored.run(tf.function(lambda: (step_seed(5, 3), replica_seed(tf.constant([5, 3])))))
    seeds, layer_seeds = ([s.numpy() for s in mirrored.experimental_local_results(part)] for part in both)
    expected = [tf.random.experimental.stateless_fold_in([5, 3], r).numpy() for r in range(2)]
    np.testing.assert_array_equal(seeds, expected)
    np.testing.assert_array_equal(seeds, layer_seeds)
    assert not np.array_equal(seeds[0], seeds[1])
