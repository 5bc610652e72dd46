"""shuffle_by_epoch / DataEpoch: each epoch's order is a fixed function of (seed, epoch), set by the callback."""

import keras
import tensorflow as tf

from tfgm.training import DataEpoch, data_epoch, shuffle_by_epoch


def _order(dataset, epoch):
    data_epoch().assign(epoch)
    return [int(x) for x in dataset.as_numpy_iterator()]


def test_the_order_depends_on_the_seed_and_the_epoch_only():
    tf.random.set_seed(0)  # a global seed of 0 once broke tensor op seeds
    dataset = shuffle_by_epoch(tf.data.Dataset.range(50), 50, seed=3)
    assert int(dataset.cardinality()) == 50
    first, second = _order(dataset, 0), _order(dataset, 1)
    assert sorted(first) == list(range(50)) and first != second != list(range(50))
    assert _order(dataset, 1) == second and _order(dataset, 0) == first  # replayed, whatever ran before
    tf.random.set_seed(7)
    assert _order(shuffle_by_epoch(tf.data.Dataset.range(50), 50, seed=3), 1) == second
    assert _order(shuffle_by_epoch(tf.data.Dataset.range(50), 50, seed=4), 1) != second


def test_fit_sets_the_epoch_it_begins_also_after_initial_epoch_and_zero_at_the_end():
    dataset = shuffle_by_epoch(tf.data.Dataset.range(8).map(lambda i: tf.cast(i, "float32")), 8, seed=1).batch(8)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    epochs = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            epochs.append(int(data_epoch().numpy()))

    data_epoch().assign(5)
    model.fit(dataset.map(lambda x: (x[:, None], x[:, None])), epochs=3, initial_epoch=1,
              callbacks=[DataEpoch(), Record()], verbose=0)
    assert epochs == [1, 2] and int(data_epoch().numpy()) == 0


def test_a_resumed_fit_with_steps_per_epoch_skips_the_batches_trained_on():
    from tfgm.training import skip_consumed

    dataset = tf.data.Dataset.range(100)
    kwargs, skipped = skip_consumed({"x": dataset, "epochs": 4, "steps_per_epoch": 3}, 2)
    assert skipped == 6 and next(iter(kwargs["x"])).numpy() == 6 and kwargs["epochs"] == 4
    assert skip_consumed({"x": dataset, "epochs": 4}, 2) == ({"x": dataset, "epochs": 4}, 0)  # new iterator per epoch
    assert skip_consumed({"x": dataset, "steps_per_epoch": 3}, 0)[1] == 0
