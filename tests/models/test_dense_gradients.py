"""Dense embedding gradients: Keras 3's Adam on an IndexedSlices gradient with a repeated row is not Adam; every
model whose net may hold an Embedding (FortifiedClassifier, CharModel) hands the optimizer dense gradients."""

import keras
import numpy as np
import tensorflow as tf

from tfgm.models import fortify
from tfgm.models._base import dense_gradients
from tfgm.nets import fortified_nets


def _adam_step(gradient):
    table = keras.Variable(np.ones((3, 2), np.float32))
    optimizer = keras.optimizers.Adam(0.1)
    optimizer.apply_gradients([(gradient, table)])
    return table.numpy()


def test_adam_on_dense_gradients_is_adam_where_a_repeated_row_of_indexed_slices_is_not():
    slices = tf.IndexedSlices(tf.constant([[1.0, 1.0], [1.0, -3.0]]), tf.constant([0, 0]), tf.constant([3, 2]))
    dense = _adam_step(tf.constant([[2.0, -2.0], [0.0, 0.0], [0.0, 0.0]]))
    np.testing.assert_allclose(_adam_step(dense_gradients([slices])[0]), dense, atol=1e-6)
    assert not np.allclose(_adam_step(slices), dense, atol=1e-3)  # what the helper guards against
    assert dense_gradients([None]) == [None]


def test_a_fortified_language_model_hands_its_optimizer_no_indexed_slices(monkeypatch):
    net = fortified_nets.text8_lstm(vocab=5, units=8, embedding_dim=4)
    model = fortify(net, [fortified_nets.FORTIFY_AT["text8_lstm"]], hidden_units=4, attack=None, seed=0,
                    input_key="tokens")
    model.compile(keras.optimizers.Adam(0.01))
    kinds = []
    apply = type(model.optimizer).apply_gradients

    def recording(self, pairs, *args, **kwargs):
        pairs = list(pairs)
        kinds.extend(type(g).__name__ for g, _ in pairs)
        return apply(self, pairs, *args, **kwargs)

    monkeypatch.setattr(type(model.optimizer), "apply_gradients", recording)
    tokens = np.array([[1, 1, 2, 1, 3, 1]] * 4, np.int32)  # token 1 repeats within and across rows
    model.fit({"tokens": tokens[:, :-1], "label": tokens[:, 1:]}, batch_size=4, epochs=1, verbose=0)
    assert kinds and "IndexedSlices" not in kinds
