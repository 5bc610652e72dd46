"""Per-replica stateless seeds for layers that own a Keras SeedGenerator (its state is mirrored across replicas)."""

import tensorflow as tf


def replica_seed(seed_tensor) -> tf.Tensor:
    """Make a stateless seed distinct per replica.

    ``seed_tensor``: shape ``[2]``, any integer dtype (e.g. ``SeedGenerator.next()``, int64).
    Returns a ``[2]`` int32 seed for ``tf.random.stateless_*``. With one replica in sync (default
    strategy, or cross-replica context) it is the input, cast to int32 the way Keras does (identity for
    int32 input). With several replicas, the replica id (``replica_id_in_sync_group``) is folded in with
    ``tf.random.experimental.stateless_fold_in``, so replicas draw different noise, reproducibly.
    """
    seed = tf.convert_to_tensor(seed_tensor)
    if not seed.dtype.is_integer:
        raise TypeError(f"seed must be an integer tensor, got dtype {seed.dtype.name}")
    if seed.shape.rank is not None and seed.shape.as_list() not in ([2], [None]):
        raise ValueError(f"seed must have shape [2], got {seed.shape}")
    if seed.dtype != tf.int32:
        seed = tf.cast(tf.math.floormod(tf.cast(seed, tf.int64), tf.int32.max - 1), tf.int32)
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return seed
    replica = tf.cast(context.replica_id_in_sync_group, tf.int32)
    return tf.random.experimental.stateless_fold_in(seed, replica)
