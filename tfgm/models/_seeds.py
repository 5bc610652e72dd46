"""Stateless seeds for train/test steps: (model seed, step) with the replica id folded in."""

import tensorflow as tf


def step_seed(base_seed, step):
    """A [2] int32 seed for stateless random ops at `step`, distinct per replica under tf.distribute.

    Derived from the step counter rather than a stateful generator, so a resumed run draws exactly the
    noise the uninterrupted run would have drawn.
    """
    replica = tf.distribute.get_replica_context()
    replica_id = tf.constant(0, tf.int32) if replica is None else tf.cast(replica.replica_id_in_sync_group, tf.int32)
    first = tf.cast(base_seed, tf.int32) + replica_id * 7919
    return tf.stack([first, tf.cast(step, tf.int32)])
