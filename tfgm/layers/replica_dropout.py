"""Dropout with a different mask on every replica under tf.distribute."""

import keras
import tensorflow as tf

from tfgm.layers._replica_seed import replica_seed


@keras.saving.register_keras_serializable(package="tfgm")
class ReplicaDropout(keras.layers.Dropout):
    """`keras.layers.Dropout` whose replicas draw independent masks.

    Keras' Dropout seeds each call from a `SeedGenerator` whose state variable is mirrored, so under
    MirroredStrategy / MultiWorkerMirroredStrategy every replica drops the same units of its share of the
    batch (the global batch sees only per-replica-batch many distinct masks). Here the drawn seed gets the
    replica id folded in (`replica_seed`). With one replica the masks are exactly Keras' Dropout's for the
    same `seed`. Same arguments and config as `keras.layers.Dropout`; inputs [B, ...], any float dtype.
    """

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1.0:
            return tf.zeros_like(inputs)
        shape = tf.shape(inputs)
        noise_shape = shape if self.noise_shape is None else [
            shape[i] if d is None else d for i, d in enumerate(self.noise_shape)]
        return tf.nn.experimental.stateless_dropout(inputs, rate=self.rate, noise_shape=noise_shape,
                                                    seed=replica_seed(self.seed_generator.next()))
