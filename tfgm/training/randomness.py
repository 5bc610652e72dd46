"""Seeding: one global seed per run, and per-replica stateless seeds inside steps."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfgm.layers._replica_seed import replica_seed  # noqa: F401  (public here: tfgm.training.replica_seed)


def set_seed(seed: int, deterministic: bool = False) -> None:
    """Seed Python, NumPy, TensorFlow and Keras with ``seed`` (an int >= 0).

    ``deterministic=True`` also calls ``tf.config.experimental.enable_op_determinism()`` (exact reruns,
    slower; some ops then raise instead of running nondeterministically). ``False`` leaves op determinism
    as it is: it cannot be switched off once on.
    """
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    keras.utils.set_random_seed(int(seed))
    if deterministic:
        tf.config.experimental.enable_op_determinism()
