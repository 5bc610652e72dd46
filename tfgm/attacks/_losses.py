"""Per-example losses on logits used by AutoAttack's attacks (Croce & Hein, 2020): DLR, targeted DLR, margin."""

import tensorflow as tf


def _best_other(logits, y):
    """max_{j ≠ y} z_j: [B]."""
    is_y = tf.one_hot(y, tf.shape(logits)[-1], on_value=True, off_value=False)
    return tf.reduce_max(tf.where(is_y, tf.fill(tf.shape(logits), float("-inf")), logits), axis=-1)


def margin(logits, y):
    """z_y − max_{j≠y} z_j: [B]; ≤ 0 means the example is misclassified (the Square attack's loss)."""
    return tf.gather(logits, y, batch_dims=1) - _best_other(logits, y)


def dlr(logits, y):
    """Difference of logits ratio −(z_y − max_{j≠y} z_j) / (z_π1 − z_π3 + 1e-12): [B]; needs ≥ 3 classes.

    π sorts the logits in decreasing order. Shift- and scale-invariant in the logits.
    """
    top = tf.math.top_k(logits, k=3).values
    return -margin(logits, y) / (top[:, 0] - top[:, 2] + 1e-12)


def dlr_targeted(logits, y, target):
    """Targeted DLR −(z_y − z_t) / (z_π1 − (z_π3 + z_π4)/2 + 1e-12): [B]; needs ≥ 4 classes."""
    top = tf.math.top_k(logits, k=4).values
    gap = tf.gather(logits, y, batch_dims=1) - tf.gather(logits, target, batch_dims=1)
    return -gap / (top[:, 0] - 0.5 * (top[:, 2] + top[:, 3]) + 1e-12)


def ranked_class(logits, rank):
    """The class with the rank-th largest logit (rank 1 = the prediction): int32 [B]."""
    return tf.math.top_k(logits, k=rank).indices[:, rank - 1]
