"""Black-box substitute training with Jacobian-based dataset augmentation (Papernot et al., 2017)."""

import keras
import numpy as np
import tensorflow as tf

from tfgm.attacks import _common


def lambda_schedule(rounds=6, lmbda=0.1, flip_every=3):
    """Step size of each augmentation round: λ·(−1)^⌊ρ/τ⌋ for ρ = 0 … rounds−1 (τ = flip_every)."""
    return [float(lmbda) * (-1.0) ** (rho // int(flip_every)) for rho in range(int(rounds))]


def _oracle_labels(oracle, x, batch_size):
    return np.concatenate([np.asarray(tf.argmax(oracle(tf.constant(x[i:i + batch_size])), axis=-1), np.int32)
                           for i in range(0, len(x), batch_size)])


def _jacobian_sign_fn(substitute):
    """sign(∂ substitute(x)[y] / ∂x) per example, compiled once per substitute."""
    @tf.function(reduce_retracing=True)
    def jacobian_sign(x, y):
        with tf.GradientTape() as tape:
            tape.watch(x)
            chosen = tf.gather(tf.cast(substitute(x), tf.float32), y, batch_dims=1)
        return tf.sign(tape.gradient(chosen, x))

    return jacobian_sign


def blackbox_substitute(oracle, substitute_builder, x_holdout, rounds=6, lmbda=0.1, flip_every=3,
                        epochs_per_round=10, batch_size=32, optimizer=None, clip=(0.0, 1.0), verbose=0):
    """Train a substitute of `oracle` from label queries only; craft attacks on it and transfer them.

    oracle: callable images → logits or probabilities [B, K] (only its argmax is used).
    substitute_builder: callable () → fresh Keras model images → logits [B, K].
    x_holdout: the adversary's seed points, float32 [N, ...] in [0, 1] (the paper: 150 test points).
    Each round ρ: label the set with the oracle, train the substitute `epochs_per_round` epochs, then
    (except after the last round) add x + λ_ρ·sign(∂ substitute[oracle label] / ∂x), clipped, with
    λ_ρ from `lambda_schedule` (the set doubles each round). optimizer: default Adam(1e-3).
    Returns the trained substitute (a Keras model returning logits).
    """
    x = np.asarray(x_holdout, np.float32)
    substitute = substitute_builder()
    substitute.compile(optimizer=optimizer or keras.optimizers.Adam(1e-3),
                       loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    schedule = lambda_schedule(rounds, lmbda, flip_every)
    jacobian_sign = _jacobian_sign_fn(substitute)
    for rho, step in enumerate(schedule):
        y = _oracle_labels(oracle, x, 256)
        substitute.fit(x, y, epochs=int(epochs_per_round), batch_size=int(batch_size), shuffle=True, verbose=verbose)
        if rho == len(schedule) - 1:
            break
        signs = np.concatenate([np.asarray(jacobian_sign(tf.constant(x[i:i + 256]), tf.constant(y[i:i + 256])))
                                for i in range(0, len(x), 256)])
        new = x + step * signs
        if clip is not None:
            new = np.clip(new, clip[0], clip[1])
        x = np.concatenate([x, new.astype(np.float32)])
    return substitute


def transfer(substitute, attack, **attack_kwargs):
    """An attack callable (model, x, y) → x̃ that ignores `model` and crafts x̃ on `substitute` instead.

    E.g. `transfer(sub, fgsm, eps=0.3)` for `tfgm.metrics.robust_accuracy(..., {"blackbox": ...})`.
    """
    def transferred(model, x, y=None):
        return attack(substitute, _common.as_images(x), y, **attack_kwargs)

    return transferred
