"""tfgm.models._base.update_log_z, the one log-Z moving average (BGAN in GAN, GibbsNet/ALI): a hand computation,
and under two replicas the global batch's log Z (the replicas' logsumexps gathered, not averaged)."""

import numpy as np
import tensorflow as tf

from tfgm.models._base import update_log_z
from tfgm.training import strategy as make_strategy


def _variable():
    return tf.Variable(0.0, trainable=False, synchronization=tf.VariableSynchronization.ON_WRITE,
                       aggregation=tf.VariableAggregation.MEAN)


def _log_z(f):
    f = np.asarray(f, np.float64).ravel()
    return np.log(np.sum(np.exp(f))) - np.log(f.size)


def test_two_steps_by_hand():
    f1, f2, gamma = np.array([0.5, -1.0, 2.0], "float32"), np.array([[1.0], [3.0]], "float32"), 0.9
    log_z = _variable()
    update_log_z(log_z, f1, gamma)
    np.testing.assert_allclose(log_z.numpy(), 0.1 * _log_z(f1), rtol=1e-5)
    update_log_z(log_z, f2, gamma)
    np.testing.assert_allclose(log_z.numpy(), gamma * 0.1 * _log_z(f1) + 0.1 * _log_z(f2), rtol=1e-5)


def test_two_replicas_estimate_the_global_batch():
    strategy = make_strategy("mirrored")
    with strategy.scope():
        log_z = _variable()
    logits = tf.constant([[0.0, 1.0], [2.0, 4.0]])

    @tf.function
    def step():
        def fn():
            replica = tf.distribute.get_replica_context().replica_id_in_sync_group
            update_log_z(log_z, tf.gather(logits, replica), 0.5)

        strategy.run(fn)

    step()
    assert strategy.num_replicas_in_sync == 2
    np.testing.assert_allclose(log_z.numpy(), 0.5 * _log_z(logits.numpy()), rtol=1e-5)
    per_replica_mean = 0.5 * np.mean([_log_z(row) for row in logits.numpy()])
    assert abs(log_z.numpy() - per_replica_mean) > 0.1  # what averaging the replicas' estimates would give
