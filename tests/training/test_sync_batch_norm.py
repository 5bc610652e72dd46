"""synchronize_batch_norm: finds every BN layer, the setting is used at call time and survives saving, and under
a 2-replica MirroredStrategy synchronized BN uses the global batch's statistics (per-replica ones without)."""

import numpy as np
import pytest

import keras
from tfgm.training import batch_norm_layers, synchronize_batch_norm


@keras.saving.register_keras_serializable(package="tfgm_tests")
class _Wrapper(keras.Model):
    """A subclassed model holding a Functional sub-model and a BN layer of its own as attributes."""

    def __init__(self, net=None, **kwargs):
        super().__init__(**kwargs)
        self.net = net if net is not None else _functional()
        self.extra_bn = keras.layers.BatchNormalization(name="extra_bn")

    def call(self, x, training=None):
        return self.extra_bn(self.net(x, training=training), training=training)


def _functional():
    x = keras.Input((3,))
    inner = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3), keras.layers.BatchNormalization()], name="inner")
    h = inner(x)
    h = keras.layers.BatchNormalization(name="outer_bn")(h)
    return keras.Model(x, h, name="net")


def test_every_nested_batch_norm_is_found_once_and_synchronized():
    model = _Wrapper()
    model(np.zeros((2, 3), "float32"))
    assert len(batch_norm_layers(model)) == 3  # Sequential inside Functional inside a subclassed model + own BN
    assert synchronize_batch_norm(model) == 3
    assert all(layer.synchronized for layer in batch_norm_layers(model))
    assert synchronize_batch_norm(model, synchronized=False) == 3
    assert not any(layer.synchronized for layer in batch_norm_layers(model))
    assert synchronize_batch_norm(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])) == 0


def test_the_setting_survives_get_config_and_the_keras_file(tmp_path):
    model = _functional()
    synchronize_batch_norm(model)
    clone = keras.Model.from_config(model.get_config())
    assert [layer.synchronized for layer in batch_norm_layers(clone)] == [True, True]
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert [layer.synchronized for layer in batch_norm_layers(loaded)] == [True, True]


def test_a_traced_training_function_is_dropped_so_the_next_fit_retraces():
    model = keras.Sequential([keras.Input((3,)), keras.layers.BatchNormalization()])
    model.compile("sgd", loss="mse")
    model.fit(np.ones((4, 3), "float32"), np.ones((4, 3), "float32"), verbose=0)
    assert model.train_function is not None
    synchronize_batch_norm(model)
    assert model.train_function is None


def _one_step_moving_statistics(strategy, x, synchronized):
    """Moving mean and variance of each replica after one step on `x` (momentum 0: the batch statistics)."""
    with strategy.scope():
        model = keras.Sequential([keras.Input((x.shape[1],)), keras.layers.BatchNormalization(momentum=0.0)])
        model.compile(keras.optimizers.SGD(0.0), loss="mse")
    synchronize_batch_norm(model, synchronized)
    model.fit(x, np.zeros_like(x), batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    bn = model.layers[0]
    per_replica = lambda v: [np.asarray(t) for t in strategy.experimental_local_results(v.value)]  # noqa: E731
    return per_replica(bn.moving_mean), per_replica(bn.moving_variance)


@pytest.mark.parametrize("synchronized", [False, True], ids=["per_replica", "synchronized"])
def test_mirrored_batch_statistics_are_global_only_when_synchronized(mirrored, synchronized):
    rng = np.random.default_rng(0)
    # The two replicas' halves of the global batch have very different statistics.
    x = np.concatenate([rng.normal(0.0, 1.0, (4, 3)), rng.normal(5.0, 2.0, (4, 3))]).astype("float32")
    means, variances = _one_step_moving_statistics(mirrored, x, synchronized)
    assert len(means) == 2
    if synchronized:
        expected = [(x.mean(0), x.var(0))] * 2
    else:
        expected = [(x[:4].mean(0), x[:4].var(0)), (x[4:].mean(0), x[4:].var(0))]
    for mean, variance, (want_mean, want_variance) in zip(means, variances, expected):
        np.testing.assert_allclose(mean, want_mean, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(variance, want_variance, rtol=1e-4, atol=1e-5)
    assert np.abs(x[:4].mean(0) - x.mean(0)).min() > 1.0  # the two cases are far apart
