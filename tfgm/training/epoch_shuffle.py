"""The data pipeline's position as resumable state: a shuffle whose order is a fixed function of (seed, epoch).

``tf.data``'s own reshuffling (``reshuffle_each_iteration=True``) draws each epoch's order from a counter of
the iterators made so far: a resumed run starts that counter again and replays epoch 1's order. Here the
order of epoch ``e`` depends on ``(seed, e)`` only; ``DataEpoch`` (a callback, in every training stage of
the recipes) sets ``e`` when each epoch begins, so a run resumed at epoch ``e`` draws exactly the batches
the uninterrupted run drew. Outside ``fit`` (after ``on_train_end``) the order is epoch 0's.
A fit with ``steps_per_epoch`` draws all epochs from one iterator of a repeated dataset instead:
``skip_consumed`` makes a resumed one start after the batches already trained on.
"""

from __future__ import annotations

import keras
import tensorflow as tf

_EPOCH: list = []
_GRAPH_SEED = 87654321
_STRIDE = 1_000_003  # seeds of one shuffle_seed's epochs: seed * stride + epoch (distinct below 1M epochs)


def data_epoch() -> tf.Variable:
    """The process' data-epoch counter (an int64 variable on the host), made on first use."""
    if not _EPOCH:
        with tf.init_scope(), tf.device("/cpu:0"):
            _EPOCH.append(tf.Variable(0, dtype=tf.int64, trainable=False, name="tfgm_data_epoch"))
    return _EPOCH[0]


def shuffle_by_epoch(dataset: tf.data.Dataset, buffer_size: int, seed: int) -> tf.data.Dataset:
    """``dataset`` shuffled over ``buffer_size`` elements in an order that depends on ``seed`` and the current
    ``data_epoch()`` only (read when each iteration starts); its cardinality is kept when known."""
    epoch = data_epoch()
    seed = int(seed)

    def one_epoch(_):
        # the traced function's own graph seed: tf's seed code tests `(global, op) == (0, 0)` in Python, which
        # a tensor op seed cannot answer when the global seed is 0
        tf.compat.v1.get_default_graph().seed = _GRAPH_SEED
        return dataset.shuffle(buffer_size, seed=seed * _STRIDE + epoch.read_value(), reshuffle_each_iteration=False)

    shuffled = tf.data.Dataset.from_tensors(0).flat_map(one_epoch)
    size = int(dataset.cardinality())
    if size >= 0:
        shuffled = shuffled.apply(tf.data.experimental.assert_cardinality(size))
    return shuffled


class DataEpoch(keras.callbacks.Callback):
    """Set ``data_epoch()`` to the epoch ``fit`` begins (also after ``initial_epoch``), and back to 0 at the end."""

    def on_epoch_begin(self, epoch, logs=None):
        data_epoch().assign(epoch)

    def on_train_end(self, logs=None):
        data_epoch().assign(0)


def skip_consumed(fit_kwargs: dict, initial_epoch: int) -> tuple[dict, int]:
    """``fit_kwargs`` for a run resumed after ``initial_epoch`` epochs, and the number of batches skipped.

    With ``steps_per_epoch``, Keras draws every epoch from one iterator of ``x`` (a repeated dataset): the
    resumed run must start where the first one stopped, so ``x`` skips the ``initial_epoch * steps_per_epoch``
    batches already trained on. Without it, each epoch is a new iterator and nothing is skipped.
    """
    steps, x = fit_kwargs.get("steps_per_epoch"), fit_kwargs.get("x")
    if not (initial_epoch and steps and isinstance(x, tf.data.Dataset)):
        return fit_kwargs, 0
    consumed = int(initial_epoch) * int(steps)
    return {**fit_kwargs, "x": x.skip(consumed)}, consumed
