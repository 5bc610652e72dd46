"""Stateless random helpers shared by models and metrics."""

import tensorflow as tf


def seed_pair(seed):
    """An int or [2] seed → [2] int32 (an int s becomes [s, 0])."""
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int32)
    return tf.stack([seed, 0]) if seed.shape.rank == 0 else seed


def bernoulli(p, seed):
    """Binary float32 draws with P(1) = p (any shape), from a stateless [2] seed."""
    return tf.cast(tf.random.stateless_uniform(tf.shape(p), seed) < p, tf.float32)
