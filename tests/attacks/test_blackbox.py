import numpy as np
import tensorflow as tf

import keras
from tfgm.attacks.blackbox import blackbox_substitute, lambda_schedule, transfer
from tfgm.attacks.fgsm import fgsm

w = np.random.default_rng(3).normal(size=(10, 1)).astype("float32")


def oracle_logits(x):
    """Two classes split by a hyperplane through the centre of the unit cube."""
    z = tf.matmul(tf.convert_to_tensor(x, tf.float32) - 0.5, w)
    return tf.concat([-z, z], axis=1)


def _substitute():
    inp = keras.Input((10,))
    return keras.Model(inp, keras.layers.Dense(2)(keras.layers.Dense(16, activation="relu")(inp)))


def test_lambda_schedule_flips_sign_every_three_rounds():
    assert lambda_schedule() == [0.1, 0.1, 0.1, -0.1, -0.1, -0.1]
    assert lambda_schedule(rounds=4, lmbda=0.2, flip_every=1) == [0.2, -0.2, 0.2, -0.2]


def test_substitute_learns_the_oracle_from_label_queries_and_its_attack_transfers():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(1)
    holdout, test = rng.random((30, 10)).astype("float32"), rng.random((300, 10)).astype("float32")
    queries = []

    def oracle(x):
        queries.append(int(x.shape[0]))
        return tf.nn.softmax(oracle_logits(x))

    sub = blackbox_substitute(oracle, _substitute, holdout, rounds=3, epochs_per_round=10,
                              optimizer=keras.optimizers.Adam(1e-2))
    assert sum(queries) == 30 + 60 + 120
    labels = np.argmax(oracle_logits(test), axis=1)
    assert np.mean(np.argmax(sub(test), axis=1) == labels) > 0.8
    adv = transfer(sub, fgsm, eps=0.3)(None, test, labels).numpy()
    noise = np.clip(test + 0.3 * np.sign(rng.normal(size=test.shape)), 0, 1).astype("float32")
    fooled = np.mean(np.argmax(oracle_logits(adv), axis=1) != labels)
    fooled_by_noise = np.mean(np.argmax(oracle_logits(noise), axis=1) != labels)
    assert np.max(np.abs(adv - test)) <= 0.3 + 1e-6
    assert fooled > 0.5 and fooled > fooled_by_noise + 0.2
