"""GAN losses against numpy hand computations."""

import numpy as np
import pytest
import tensorflow as tf

from tfgm.losses import gan, registry

REAL = np.array([2.0, -1.0, 0.5, 3.0], np.float32)
FAKE = np.array([-0.5, 1.5, -2.0, 0.25], np.float32)


def softplus(x):
    return np.log1p(np.exp(x))


def relu(x):
    return np.maximum(x, 0.0)


TWO_INPUT = [
    (gan.discriminator_loss, lambda r, f: softplus(-r) + softplus(f)),
    (gan.wasserstein_critic_loss, lambda r, f: f - r),
    (
        gan.least_squares_discriminator_loss,
        lambda r, f: 0.5 * (r - 1.0) ** 2 + 0.5 * (f - 0.0) ** 2,
    ),
    (gan.hinge_discriminator_loss, lambda r, f: relu(1.0 - r) + relu(1.0 + f)),
]
ONE_INPUT = [
    (gan.generator_loss_minimax, lambda f: -softplus(f)),
    (gan.generator_loss_nonsaturating, lambda f: softplus(-f)),
    (gan.wasserstein_generator_loss, lambda f: -f),
    (gan.least_squares_generator_loss, lambda f: 0.5 * (f - 1.0) ** 2),
    (gan.hinge_generator_loss, lambda f: -f),
    (gan.bgan_generator_loss, lambda f: f**2),
]


@pytest.mark.parametrize("fn,ref", TWO_INPUT, ids=lambda v: getattr(v, "__name__", ""))
def test_two_input_losses(fn, ref):
    expected = ref(REAL.astype(np.float64), FAKE.astype(np.float64))
    per_example = fn(REAL, FAKE, reduction="none")
    assert per_example.shape == (4,)
    np.testing.assert_allclose(per_example.numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fn(REAL, FAKE).numpy(), expected.mean(), rtol=1e-5)
    # [B, 1] logits give the same per-example values.
    np.testing.assert_allclose(
        fn(REAL[:, None], FAKE[:, None], reduction="none").numpy(), expected, rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("fn,ref", ONE_INPUT, ids=lambda v: getattr(v, "__name__", ""))
def test_one_input_losses(fn, ref):
    expected = ref(FAKE.astype(np.float64))
    per_example = fn(FAKE, reduction="none")
    assert per_example.shape == (4,)
    np.testing.assert_allclose(per_example.numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fn(FAKE).numpy(), expected.mean(), rtol=1e-5)


def test_mean_reduction_allows_different_batch_sizes():
    loss = gan.discriminator_loss(REAL, FAKE[:3])
    r, f = REAL.astype(np.float64), FAKE[:3].astype(np.float64)
    expected = softplus(-r).mean() + softplus(f).mean()
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-5)


def test_patch_logits_average_over_non_batch_axes():
    real = np.arange(8, dtype=np.float32).reshape(2, 2, 2, 1) - 4.0
    fake = -real
    expected = (relu(1.0 - real) + relu(1.0 + fake)).reshape(2, -1).mean(axis=1)
    got = gan.hinge_discriminator_loss(real, fake, reduction="none").numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_least_squares_targets():
    a, b, c = -1.0, 1.0, 0.0
    r, f = REAL.astype(np.float64), FAKE.astype(np.float64)
    d = gan.least_squares_discriminator_loss(REAL, FAKE, a=a, b=b).numpy()
    g = gan.least_squares_generator_loss(FAKE, c=c).numpy()
    np.testing.assert_allclose(d, np.mean(0.5 * (r - b) ** 2 + 0.5 * (f - a) ** 2), rtol=1e-5)
    np.testing.assert_allclose(g, np.mean(0.5 * (f - c) ** 2), rtol=1e-5)


def test_bgan_with_log_z():
    got = gan.bgan_generator_loss(FAKE, log_z=0.7, reduction="none").numpy()
    np.testing.assert_allclose(got, (FAKE.astype(np.float64) - 0.7) ** 2, rtol=1e-5)



def test_registry_and_lookup():
    assert set(registry.GAN_LOSSES) == {
        "minimax",
        "nonsaturating",
        "wasserstein",
        "least_squares",
        "hinge",
        "bgan",
    }
    assert registry.get_gan_loss("hinge") == (gan.hinge_discriminator_loss, gan.hinge_generator_loss)
    assert registry.get_gan_loss("bgan")[1] is gan.bgan_generator_loss
    with pytest.raises(ValueError, match="least_squares"):
        registry.get_gan_loss("lsgan")


def test_bad_reduction_and_scalar_logits():
    with pytest.raises(ValueError, match="reduction"):
        gan.hinge_generator_loss(FAKE, reduction="sum")
    with pytest.raises(ValueError, match="batch axis"):
        gan.hinge_generator_loss(1.0)


def test_half_precision_upcast():
    out = gan.discriminator_loss(REAL.astype(np.float16), FAKE.astype(np.float16))
    assert out.dtype == tf.float32
