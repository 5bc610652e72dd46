import numpy as np
import pytest
import tensorflow as tf

import keras
from tfgm.layers.fortified_conv2d import FortifiedConv2D
from tfgm.layers.fortified_dense import FortifiedDense

rng = np.random.default_rng(0)
H = rng.normal(size=(4, 6)).astype("float32")
MAPS = rng.normal(size=(2, 7, 7, 3)).astype("float32")


def _leaky(v, slope=0.2):
    return np.where(v > 0, v, slope * v)


def test_dense_weights_are_tied_one_kernel_and_decoder_uses_its_transpose():
    layer = FortifiedDense(5)
    recon = layer(H).numpy()
    assert [tuple(v.shape) for v in layer.trainable_variables] == [(6, 5), (5,), (6,)]
    w, b_e, b_d = (v.numpy() for v in layer.trainable_variables)
    b_e[:], b_d[:] = rng.normal(size=5), rng.normal(size=6)
    layer.encoder_bias.assign(b_e)
    layer.decoder_bias.assign(b_d)
    expected = _leaky(H @ w + b_e) @ w.T + b_d
    np.testing.assert_allclose(layer(H).numpy(), expected, rtol=1e-5, atol=1e-5)
    assert recon.shape == H.shape


def test_conv_weights_are_tied_and_decoder_is_the_transposed_conv_with_the_same_kernel():
    layer = FortifiedConv2D(4, activation="tanh")
    out = layer(MAPS)
    assert out.shape == MAPS.shape
    assert [tuple(v.shape) for v in layer.trainable_variables] == [(5, 5, 3, 4), (4,), (3,)]
    layer.encoder_bias.assign(rng.normal(size=4).astype("float32"))
    layer.decoder_bias.assign(rng.normal(size=3).astype("float32"))
    k = layer.kernel
    code = tf.tanh(tf.nn.conv2d(MAPS, k, 1, "SAME") + layer.encoder_bias)
    expected = tf.nn.conv2d_transpose(code, k, tf.shape(MAPS), 1, "SAME") + layer.decoder_bias
    np.testing.assert_allclose(layer(MAPS).numpy(), expected.numpy(), rtol=1e-4, atol=1e-4)
    # The decoder is the adjoint of the encoder's linear map: <conv(x, K), c> == <x, conv_transpose(c, K)>.
    c = rng.normal(size=(2, 7, 7, 4)).astype("float32")
    lhs = tf.reduce_sum(tf.nn.conv2d(MAPS, k, 1, "SAME") * c)
    rhs = tf.reduce_sum(MAPS * (layer.decode(c) - layer.decoder_bias))
    np.testing.assert_allclose(lhs.numpy(), rhs.numpy(), rtol=1e-4)


@pytest.mark.parametrize("make,x", [(lambda **k: FortifiedDense(5, **k), H),
                                    (lambda **k: FortifiedConv2D(2, kernel_size=3, **k), MAPS)])
def test_noise_only_while_training_unless_noise_at_inference(make, x):
    layer = make(noise_stddev=0.5, seed=3)
    np.testing.assert_array_equal(layer(x, training=False), layer(x, training=False))
    first, second = layer(x, training=True).numpy(), layer(x, training=True).numpy()
    assert not np.allclose(first, second)
    assert not np.allclose(first, layer(x, training=False).numpy())
    noisy = make(noise_stddev=0.5, noise_at_inference=True, seed=3)
    assert not np.allclose(noisy(x).numpy(), noisy(x).numpy())
    quiet = make(noise_stddev=0.0, seed=3)
    np.testing.assert_array_equal(quiet(x, training=True), quiet(x, training=False))


def test_noise_is_reproducible_from_the_seed_and_has_the_requested_scale():
    """Identity-like DAE would hide the noise; instead compare the corruption itself."""
    a, b = FortifiedDense(5, noise_stddev=0.3, seed=9), FortifiedDense(5, noise_stddev=0.3, seed=9)
    big = np.zeros((400, 6), "float32")
    na, nb = a.corrupt(big, training=True).numpy(), b.corrupt(big, training=True).numpy()
    np.testing.assert_array_equal(na, nb)
    assert abs(na.std() - 0.3) < 0.02 and abs(na.mean()) < 0.02


def test_reconstruction_error_is_per_example_sum_of_squares():
    recon = H + 0.5
    recon[1] += 1.0
    err = FortifiedDense.reconstruction_error(H, recon).numpy()
    np.testing.assert_allclose(err, [6 * 0.25, 6 * 2.25, 1.5, 1.5], rtol=1e-6)
    maps_err = FortifiedConv2D.reconstruction_error(MAPS, MAPS * 0).numpy()
    np.testing.assert_allclose(maps_err, (MAPS ** 2).reshape(2, -1).sum(1), rtol=1e-5)


def test_dense_fortifies_every_step_of_a_sequence():
    layer = FortifiedDense(3)
    seq = rng.normal(size=(2, 4, 6)).astype("float32")
    out = layer(seq).numpy()
    np.testing.assert_allclose(out[:, 2], layer(seq[:, 2]).numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("layer", [
    FortifiedDense(7, noise_stddev=0.2, activation="tanh", noise_at_inference=True, seed=4, name="f1"),
    FortifiedConv2D(3, kernel_size=3, noise_stddev=0.05, seed=1, name="f2"),
])
def test_get_config_round_trip(layer):
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(again) is type(layer) and again.get_config() == layer.get_config()


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="hidden units"):
        FortifiedDense(0)
    with pytest.raises(ValueError, match="noise_stddev"):
        FortifiedDense(4, noise_stddev=-1)
    with pytest.raises(ValueError, match="FortifiedDense for vectors"):
        FortifiedConv2D(4)(H)
