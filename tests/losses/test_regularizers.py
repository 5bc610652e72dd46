"""GAN regularizers against hand computations."""

import numpy as np
import pytest
import tensorflow as tf

from tfgm.losses import regularizers as reg
from tfgm.training import strategy as make_strategy  # CPU mirrored: reduce to one device (see BUILD.md)

SEED = tf.constant([3, 7], tf.int32)


def linear_critic(w):
    w = tf.constant(w, tf.float32)
    return lambda x: tf.reduce_sum(tf.reshape(x, [tf.shape(x)[0], -1]) * w, axis=1)


def test_instance_noise_zero_stddev_is_identity_and_positive_adds_noise():
    x = tf.reshape(tf.range(12, dtype=tf.float32), [3, 4])
    np.testing.assert_array_equal(reg.instance_noise(x, 0.0, SEED).numpy(), x.numpy())
    noisy = reg.instance_noise(x, 0.5, SEED)
    assert np.all(noisy.numpy() != x.numpy())
    np.testing.assert_array_equal(noisy.numpy(), reg.instance_noise(x, 0.5, SEED).numpy())


def test_annealed_stddev():
    got = [float(reg.annealed_stddev(t, 100, 0.2)) for t in (0, 25, 100, 150)]
    np.testing.assert_allclose(got, [0.2, 0.15, 0.0, 0.0], atol=1e-7)


def test_annealed_gamma():
    got = [float(reg.annealed_gamma(t, 100, 2.0)) for t in (0, 50, 100, 200)]
    np.testing.assert_allclose(got, [2.0, 2.0 * 0.1, 0.02, 0.02], rtol=1e-5)


def test_clip_weights():
    v = tf.Variable([-0.5, -0.004, 0.0, 0.009, 0.3])
    m = tf.Variable([[0.02, -0.02], [0.001, 0.01]])
    assert reg.clip_weights([v, m], 0.01) is None
    np.testing.assert_allclose(v.numpy(), [-0.01, -0.004, 0.0, 0.009, 0.01])
    np.testing.assert_allclose(m.numpy(), [[0.01, -0.01], [0.001, 0.01]])


def test_interpolate_alpha_per_example_in_unit_interval():
    real = tf.zeros([6, 2, 3, 1])
    fake = tf.ones([6, 2, 3, 1])
    x_hat = reg._interpolate(real, fake, SEED).numpy()
    alpha = x_hat.reshape(6, -1)
    # one alpha per example, broadcast over the non-batch axes
    np.testing.assert_array_equal(alpha, np.repeat(alpha[:, :1], 6, axis=1))
    assert np.all((alpha >= 0) & (alpha <= 1))
    assert len(np.unique(alpha[:, 0])) == 6


@pytest.mark.parametrize("scale,expected", [(1.0, 0.0), (3.0, 4.0)])
def test_gradient_penalty_linear_critic(scale, expected):
    w = np.array([0.6, 0.0, -0.8, 0.0], np.float32) * scale  # ‖w‖ = scale
    critic = linear_critic(w.reshape(1, 4))
    real = tf.random.stateless_normal([5, 2, 2], [1, 2])
    fake = tf.random.stateless_normal([5, 2, 2], [3, 4])
    gp = reg.gradient_penalty(critic, real, fake, SEED)
    np.testing.assert_allclose(gp.numpy(), expected, atol=1e-5)


def test_gradient_penalty_quadratic_critic_matches_hand_value():
    # f(x) = 0.5‖x‖² has ∇f(x̂) = x̂, so the penalty is mean((‖x̂‖ - 1)²) with x̂ from _interpolate.
    real = tf.random.stateless_normal([4, 3], [5, 6])
    fake = tf.random.stateless_normal([4, 3], [7, 8])
    critic = lambda x: 0.5 * tf.reduce_sum(tf.square(x), axis=1)  # noqa: E731
    x_hat = reg._interpolate(real, fake, SEED).numpy().astype(np.float64)
    expected = np.mean((np.linalg.norm(x_hat, axis=1) - 1.0) ** 2)
    got = reg.gradient_penalty(critic, real, fake, SEED).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_gradient_penalty_eps_inside_sqrt_keeps_gradient_finite():
    w = tf.Variable([[1.0, 2.0]])
    x = tf.zeros([3, 2])

    def critic(t):  # ∇x f = 2·w·t vanishes at t = 0
        return tf.reduce_sum(w * tf.square(t), axis=1)

    def grad_wrt_w(eps):
        with tf.GradientTape() as tape:
            gp = reg.gradient_penalty(critic, x, x, SEED, eps=eps)
        return gp, tape.gradient(gp, w)

    gp, grad = grad_wrt_w(1e-12)
    np.testing.assert_allclose(gp.numpy(), 1.0, atol=1e-5)
    assert np.all(np.isfinite(grad.numpy()))
    _, bad_grad = grad_wrt_w(0.0)  # the bug the eps prevents
    assert not np.all(np.isfinite(bad_grad.numpy()))


def test_gradient_penalty_in_tf_function_and_mirrored_replica_context():
    w = np.array([[2.0, 0.0, 0.0]], np.float32)
    critic = linear_critic(w)
    real = tf.random.stateless_normal([4, 3], [1, 1])
    fake = tf.random.stateless_normal([4, 3], [2, 2])
    strategy = make_strategy("mirrored")

    @tf.function
    def run():
        return strategy.run(lambda: reg.gradient_penalty(critic, real, fake, SEED))

    per_replica = strategy.experimental_local_results(run())
    assert len(per_replica) == 2
    for value in per_replica:
        np.testing.assert_allclose(value.numpy(), 1.0, atol=1e-5)


def test_roth_regularizer_linear_critic():
    w = np.array([1.0, -2.0, 0.5], np.float32)
    b = 0.3
    critic = lambda x: tf.reduce_sum(x * w, axis=1, keepdims=True) + b  # noqa: E731
    real = np.array([[0.1, 0.2, 0.3], [1.0, -1.0, 0.0]], np.float32)
    fake = np.array([[-0.5, 0.5, 2.0], [0.0, 0.0, 0.0]], np.float32)
    sig = lambda t: 1.0 / (1.0 + np.exp(-t))  # noqa: E731
    w2 = float(np.sum(w.astype(np.float64) ** 2))
    f_real, f_fake = real @ w + b, fake @ w + b
    expected = np.mean((1 - sig(f_real)) ** 2 * w2 + sig(f_fake) ** 2 * w2)
    got = reg.roth_regularizer(critic, real, fake).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_r1_penalty():
    w = np.array([1.0, -2.0, 0.5], np.float32)
    critic = linear_critic(w)
    real = tf.random.stateless_normal([3, 3], [9, 9])
    np.testing.assert_allclose(reg.r1_penalty(critic, real).numpy(), 5.25, rtol=1e-5)
    # quadratic critic f = 0.5‖x‖²: ∇f = x, R1 = mean ‖x‖²
    quad = lambda x: 0.5 * tf.reduce_sum(tf.square(x), axis=1)  # noqa: E731
    expected = np.mean(np.sum(real.numpy().astype(np.float64) ** 2, axis=1))
    np.testing.assert_allclose(reg.r1_penalty(quad, real).numpy(), expected, rtol=1e-5)


@pytest.mark.parametrize("scale,expected", [(2.0, 0.0), (30.0, 100.0), (0.5, 0.25)])
def test_jacobian_clamping_linear_generator(scale, expected):
    z = tf.random.stateless_normal([4, 5], [4, 2])
    got = reg.jacobian_clamping(lambda t: scale * t, z, SEED)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-4, atol=1e-5)


def test_jacobian_clamping_reuses_g_z_and_has_gradient():
    w = tf.Variable(30.0)
    z = tf.random.stateless_normal([3, 2], [1, 5])
    with tf.GradientTape() as tape:
        loss = reg.jacobian_clamping(lambda t: w * t, z, SEED, eps=0.5, g_z=w * z)
    np.testing.assert_allclose(loss.numpy(), 100.0, rtol=1e-4)
    np.testing.assert_allclose(tape.gradient(loss, w).numpy(), 2 * (30.0 - 20.0), rtol=1e-3)
