"""tfgm.layers.SpectralNorm: W/σ in the forward pass with the gradient through σ, one power iteration per optimizer
step on a persistent u (also under MirroredStrategy), serializable."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgm.layers import SpectralNorm
from tfgm.layers.spectral_norm import power_iterate, spectral_norm_layers
from tfgm.models.gan import GAN
from tfgm.nets import dcgan
from tfgm.training import strategy as make_strategy

rng = np.random.default_rng(0)
POINTS = rng.normal(size=(16, 2)).astype("float32")

# (layer factory, input shape, axis of the kernel holding the output channels)
KINDS = {
    "dense": (lambda dtype: keras.layers.Dense(4, dtype=dtype), (3, 5), -1),
    "conv2d": (lambda dtype: keras.layers.Conv2D(3, 2, dtype=dtype), (2, 4, 4, 2), -1),
    "conv2d_transpose": (lambda dtype: keras.layers.Conv2DTranspose(3, 2, strides=2, dtype=dtype), (2, 3, 3, 2), -2),
}


def _wrapped(kind, dtype="float32"):
    make, shape, _ = KINDS[kind]
    keras.utils.set_random_seed(0)
    layer = SpectralNorm(make(dtype), dtype=dtype)
    layer.build(shape)
    return layer, shape


def _matrix(kernel, axis):
    """kernel → [fan_in, out_channels] (output-channel axis last), as Miyato et al. matricize it."""
    kernel = np.swapaxes(kernel, -1, -2) if axis == -2 else kernel
    return kernel.reshape(-1, kernel.shape[-1])


def _power_step(w, u):
    v = w @ u
    v /= np.linalg.norm(v)
    u = w.T @ v
    return u / np.linalg.norm(u)


def _plain_copy(layer, shape, kernel):
    """The wrapped layer's class and config, unwrapped, holding `kernel` and the wrapped layer's bias."""
    plain = type(layer.layer).from_config(layer.layer.get_config())
    plain.build(shape)
    plain.set_weights([np.asarray(kernel), layer.layer.bias.numpy()])
    return plain


def _top_singular_value(kernel, axis):
    return np.linalg.svd(_matrix(kernel, axis), compute_uv=False)[0]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_largest_singular_value_of_the_normalized_kernel_is_one_after_a_few_power_iterations(kind):
    layer, shape = _wrapped(kind)
    axis = KINDS[kind][2]
    assert layer.u.shape == (layer.layer.kernel.shape[axis],)
    for _ in range(20):
        layer.power_iteration()
    top = _top_singular_value(layer.normalized_kernel().numpy(), axis)
    assert 1.0 - 1e-5 <= top <= 1.002  # σ = ‖W û‖ never exceeds the largest singular value
    x = rng.normal(size=shape).astype("float32")
    plain = _plain_copy(layer, shape, layer.normalized_kernel())
    np.testing.assert_allclose(layer(x, training=True), plain(x), rtol=1e-5, atol=1e-6)


def test_sigma_reaches_one_while_a_gan_trains_a_few_steps():
    keras.utils.set_random_seed(3)
    model = GAN(dcgan.mlp_generator(3, 2, (16,)), dcgan.mlp_discriminator(2, (16, 16), spectral_norm=True),
                loss="hinge")
    model.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    layers = spectral_norm_layers(model.discriminator)
    initial = [_top_singular_value(layer.normalized_kernel().numpy(), -1) for layer in layers]
    data = tf.data.Dataset.from_tensor_slices({"image": POINTS}).batch(8).repeat()
    model.fit(data, epochs=1, steps_per_epoch=30, verbose=0)
    assert len(layers) == 3
    assert max(abs(s - 1.0) for s in initial) > 0.05  # a random u underestimates σ: not already normalized
    for layer in layers:
        assert _top_singular_value(layer.normalized_kernel().numpy(), -1) == pytest.approx(1.0, abs=0.02), layer.name


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_gradient_equals_a_finite_difference_gradient_of_the_normalized_forward(kind):
    """float64; the loss Σ r·layer(x) in W and b with u fixed. The gradient through σ is not negligible here: without
    it (W/σ written into the kernel, Keras' SpectralNormalization) the kernel gradient is far from this one."""
    layer, shape = _wrapped(kind, "float64")
    layer.power_iteration()
    x = rng.normal(size=shape)
    r = rng.normal(size=layer(x).shape)

    def loss():
        return tf.reduce_sum(layer(x, training=True) * r)

    with tf.GradientTape() as tape:
        value = loss()
    kernel, bias = layer.layer.kernel, layer.layer.bias
    grads = tape.gradient(value, [kernel, bias])
    h = 1e-6
    for var, grad in zip((kernel, bias), grads):
        base = var.numpy()
        numeric = np.zeros_like(base)
        for index in np.ndindex(base.shape):
            for sign in (1.0, -1.0):
                shifted = base.copy()
                shifted[index] += sign * h
                var.assign(shifted)
                numeric[index] += sign * float(loss()) / (2 * h)
        var.assign(base)
        np.testing.assert_allclose(grad.numpy(), numeric, rtol=1e-6, atol=1e-8)
    plain = _plain_copy(layer, shape, layer.normalized_kernel())
    with tf.GradientTape() as tape:
        plain_loss = tf.reduce_sum(plain(x) * r)
    no_sigma_grad = tape.gradient(plain_loss, plain.kernel)
    assert np.abs(no_sigma_grad.numpy() - grads[0].numpy()).max() > 0.05 * np.abs(grads[0].numpy()).max()


def test_forward_calls_leave_u_and_the_kernel_alone_and_power_iteration_advances_u_once():
    layer, shape = _wrapped("dense")
    x = rng.normal(size=shape).astype("float32")
    u0, kernel0 = layer.u.numpy().copy(), layer.layer.kernel.numpy().copy()
    for training in (True, True, False):
        layer(x, training=training)
    np.testing.assert_array_equal(layer.u.numpy(), u0)
    np.testing.assert_array_equal(layer.layer.kernel.numpy(), kernel0)
    layer.power_iteration()
    np.testing.assert_allclose(layer.u.numpy(), _power_step(kernel0, u0), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n_critic", [1, 3])
def test_a_gan_step_advances_u_once_per_critic_update_however_often_it_calls_d(n_critic):
    """D is called on real, fake, the gradient-penalty interpolates and in the G step; with D's weights held
    (learning rate 0) u must be exactly n_critic power steps from its initial value."""
    keras.utils.set_random_seed(1)
    model = GAN(dcgan.mlp_generator(3, 2, (8,)), dcgan.mlp_discriminator(2, (8, 8), spectral_norm=True),
                loss="wasserstein", regularizers={"gradient_penalty": 10.0}, n_critic=n_critic)
    model.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.1))
    layers = spectral_norm_layers(model.discriminator)
    before = [(layer.layer.kernel.numpy().copy(), layer.u.numpy().copy()) for layer in layers]
    model.fit(tf.data.Dataset.from_tensor_slices({"image": POINTS}).batch(8), epochs=1, steps_per_epoch=1,
              verbose=0)
    distinct = 0
    for layer, (kernel, u) in zip(layers, before):
        np.testing.assert_array_equal(layer.layer.kernel.numpy(), kernel)
        steps = [u]
        for _ in range(n_critic + 1):
            steps.append(_power_step(kernel, steps[-1]))
        np.testing.assert_allclose(layer.u.numpy(), steps[n_critic], rtol=1e-4, atol=1e-6)
        if u.size > 1:  # one more power step would show (the logit layer's u [1] is ±1 from the start)
            distinct += not np.allclose(steps[n_critic], steps[n_critic + 1], atol=1e-4)
    assert distinct == 2


def test_u_is_synchronized_under_mirrored_strategy_and_equals_the_single_device_u():
    initial, z = None, rng.normal(size=(32, 3)).astype("float32")

    def step(strategy):
        nonlocal initial
        with strategy.scope():
            keras.utils.set_random_seed(2)
            model = GAN(dcgan.mlp_generator(3, 2, (8,)), dcgan.mlp_discriminator(2, (8,), spectral_norm=True),
                        loss="wasserstein", regularizers={"r1": 1.0}, n_critic=2)  # r1: no per-replica noise
            if initial is None:
                initial = model.get_weights()
            model.set_weights(initial)
            model.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1))
        data = tf.data.Dataset.from_tensor_slices({"image": np.tile(POINTS, (2, 1)), "z": z}).batch(32)
        model.fit(data, epochs=1, steps_per_epoch=1, verbose=0)
        return [strategy.experimental_local_results(layer.u.value) for layer in spectral_norm_layers(
            model.discriminator)]

    single = step(tf.distribute.OneDeviceStrategy(tf.config.list_logical_devices("CPU")[0].name))
    mirrored = step(make_strategy("mirrored"))
    assert len(mirrored[0]) == 2
    for (one,), replicas in zip(single, mirrored):
        for replica in replicas:
            np.testing.assert_allclose(replica.numpy(), one.numpy(), rtol=1e-5, atol=1e-6)
        assert np.linalg.norm(replicas[0].numpy()) == pytest.approx(1.0, abs=1e-5)


def test_get_config_and_keras_file_round_trip(tmp_path):
    inputs = keras.Input((6, 6, 2))
    x = SpectralNorm(keras.layers.Conv2D(3, 3, padding="same"), power_iterations=2, name="conv_sn")(inputs)
    x = SpectralNorm(keras.layers.Conv2DTranspose(2, 2, strides=2), name="up_sn")(x)
    x = keras.layers.Flatten()(x)
    outputs = SpectralNorm(keras.layers.Dense(1), eps=1e-10, name="dense_sn")(x)
    model = keras.Model(inputs, outputs)
    assert power_iterate(model) == 3
    layer = model.get_layer("conv_sn")
    assert SpectralNorm.from_config(layer.get_config()).get_config() == layer.get_config()
    assert layer.get_config()["power_iterations"] == 2 and model.get_layer("dense_sn").get_config()["eps"] == 1e-10
    path = str(tmp_path / "sn.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    x = rng.random((2, 6, 6, 2)).astype("float32")
    np.testing.assert_allclose(loaded(x), model(x), rtol=1e-6, atol=1e-6)
    for name in ("conv_sn", "up_sn", "dense_sn"):
        assert isinstance(loaded.get_layer(name), SpectralNorm)
        np.testing.assert_array_equal(loaded.get_layer(name).u.numpy(), model.get_layer(name).u.numpy())


def test_mixed_precision_keeps_u_and_sigma_in_float32():
    layer = SpectralNorm(keras.layers.Dense(4, dtype="mixed_bfloat16"), dtype="mixed_bfloat16")
    layer.build((3, 5))
    reference, _ = _wrapped("dense")
    reference.set_weights(layer.get_weights())
    for sn in (layer, reference):
        sn.power_iteration()
    x = rng.normal(size=(3, 5)).astype("float32")
    out = layer(x, training=True)
    assert layer.u.dtype == "float32" and out.dtype == tf.bfloat16
    np.testing.assert_allclose(tf.cast(out, tf.float32), reference(x), rtol=0.03, atol=0.03)
    u = layer.u.numpy().astype("float64")
    expected = np.linalg.norm(_matrix(layer.layer.kernel.numpy().astype("float64"), -1) @ (u / np.linalg.norm(u)))
    assert layer.sigma().dtype == tf.float32  # σ computed in float32 (bfloat16 would move it by ~0.4 %)
    np.testing.assert_allclose(float(layer.sigma()), expected, rtol=1e-5)
    np.testing.assert_allclose(layer.normalized_kernel(), layer.layer.kernel.numpy() / expected, rtol=1e-5)


def test_zero_kernel_gives_zeros_without_nan_and_keeps_u():
    layer, shape = _wrapped("dense")
    layer.layer.kernel.assign(tf.zeros_like(layer.layer.kernel))
    u = layer.u.numpy().copy()
    layer.power_iteration()
    np.testing.assert_allclose(layer.u.numpy(), u, rtol=1e-6)
    out = layer(rng.normal(size=shape).astype("float32"))
    assert np.all(np.isfinite(out)) and np.allclose(out, layer.layer.bias.numpy())


def test_bad_arguments_fail_clearly():
    with pytest.raises(TypeError, match="SpectralNorm wraps a Dense"):
        SpectralNorm(keras.layers.BatchNormalization())
    with pytest.raises(ValueError, match="power_iterations"):
        SpectralNorm(keras.layers.Dense(2), power_iterations=0)
    with pytest.raises(ValueError, match="eps"):
        SpectralNorm(keras.layers.Dense(2), eps=0.0)
