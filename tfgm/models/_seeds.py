"""Stateless seeds for train/test steps: (model seed, step) with the replica id folded in."""

import tensorflow as tf

from tfgm.layers._replica_seed import replica_seed


def step_seed(base_seed, step):
    """A [2] int32 seed [base_seed, step] for stateless random ops, distinct per replica under tf.distribute.

    Derived from the step counter rather than a stateful generator, so a resumed run draws exactly the
    noise the uninterrupted run would have drawn. With one replica it is [base_seed, step] itself; with
    several, `replica_seed` folds the replica id in (the scheme the layers use).
    """
    return replica_seed(tf.stack([tf.cast(base_seed, tf.int32), tf.cast(step, tf.int32)]))
