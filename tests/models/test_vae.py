import numpy as np
import pytest
import tensorflow as tf

import keras
from tests.models._tiny import IMAGE_SHAPE, LATENT, adam, tiny_decoder, tiny_encoder
from tfgm.models import VAE

rng = np.random.default_rng(0)
X = rng.random((8,) + IMAGE_SHAPE).astype("float32")


def _dataset(batch=4, noise=None):
    data = {"image": X} if noise is None else {"image": X, "noise": noise}
    return tf.data.Dataset.from_tensor_slices(data).batch(batch)


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli", "discretized_logistic"])
def test_one_train_step_changes_weights_and_logs_finite_terms(likelihood):
    model = VAE(tiny_encoder(), tiny_decoder(), likelihood=likelihood)
    model.compile(adam())
    before = [v.numpy().copy() for v in model.trainable_variables]
    logs = model.fit(_dataset(), epochs=1, steps_per_epoch=1, verbose=0).history
    assert set(logs) == {"loss", "kl", "nll_x"}
    assert all(np.isfinite(v[0]) for v in logs.values())
    changed = [not np.array_equal(b, v.numpy()) for b, v in zip(before, model.trainable_variables)]
    assert all(changed)
    assert (model.log_sigma_x is None) == (likelihood == "bernoulli")


def test_loss_is_kl_plus_nll_and_noise_is_taken_from_the_batch():
    model = VAE(tiny_encoder(), tiny_decoder())
    model.compile(adam())
    noise = rng.normal(size=(8, LATENT)).astype("float32")
    terms = model.per_example_terms(X, noise, training=False)
    np.testing.assert_allclose(terms["loss"], terms["kl"] + terms["nll_x"], rtol=1e-6)
    other = model.per_example_terms(X, noise + 3.0, training=False)
    assert not np.array_equal(terms["nll_x"].numpy(), other["nll_x"].numpy())
    logged = model.evaluate(_dataset(batch=8, noise=noise), verbose=0, return_dict=True)
    assert logged["nll_x"] == pytest.approx(float(np.mean(terms["nll_x"])), rel=1e-5)


def test_posterior_log_variance_is_bounded_above_only_past_the_knee():
    encoder = tiny_encoder()
    raw_mean, raw_log_var = (t.numpy() for t in encoder(X))
    knee_start = float(np.median(raw_log_var))  # half the values fall past the knee
    model = VAE(encoder, tiny_decoder(), max_log_var=knee_start + 4.0)
    z_mean, z_log_var = (t.numpy() for t in model.encode(X))
    np.testing.assert_array_equal(z_mean, raw_mean)
    low = raw_log_var < knee_start
    assert low.any() and (~low).any()
    np.testing.assert_array_equal(z_log_var[low], raw_log_var[low])
    rounding = 1e-5  # limit − knee·e^(−u) is computed near limit: float32 steps of ~5e-7 there
    assert (z_log_var[~low] <= raw_log_var[~low] + rounding).all() and (z_log_var[~low] >= knee_start - rounding).all()
    past = raw_log_var.astype(np.float64) - knee_start
    expected = np.where(past < 0, raw_log_var, knee_start + 4.0 - 4.0 * np.exp(-np.maximum(past, 0) / 4.0))
    np.testing.assert_allclose(z_log_var, expected, atol=rounding, rtol=0)
    unbounded = VAE(model.encoder, model.decoder, max_log_var=float("inf"))
    assert unbounded.max_log_var is None and unbounded.get_config()["max_log_var"] is None
    np.testing.assert_array_equal(unbounded.encode(X)[1].numpy(), raw_log_var)
    assert VAE.from_config(model.get_config()).max_log_var == pytest.approx(knee_start + 4.0)


def test_sample_is_reproducible_from_seed_and_in_range():
    model = VAE(tiny_encoder(), tiny_decoder())
    a, b, c = model.sample(5, seed=7), model.sample(5, seed=7), model.sample(5, seed=8)
    assert a.shape == (5,) + IMAGE_SHAPE
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert float(tf.reduce_min(a)) >= 0.0 and float(tf.reduce_max(a)) <= 1.0


def test_training_noise_follows_the_step_counter():
    """Same seed and weights, same step → same noise; the step counter moves the stream on."""
    def run():
        keras.utils.set_random_seed(1)
        model = VAE(tiny_encoder(), tiny_decoder(), seed=5)
        model.compile(keras.optimizers.SGD(0.0))
        return [model.fit(_dataset(batch=8), epochs=1, verbose=0).history["loss"][0] for _ in range(2)]

    first, second = run(), run()
    assert first == second
    assert first[0] != first[1]


def test_a_vae_learns_on_toy_data():
    """Two fixed images: the negative ELBO drops by a large margin and reconstructions tell them apart."""
    images = np.stack([np.full(IMAGE_SHAPE, 0.2, "float32"), np.full(IMAGE_SHAPE, 0.8, "float32")] * 4)
    ds = tf.data.Dataset.from_tensor_slices({"image": images}).batch(8).repeat()
    keras.utils.set_random_seed(0)
    model = VAE(tiny_encoder(), tiny_decoder())
    model.compile(adam())
    history = model.fit(ds, epochs=5, steps_per_epoch=20, verbose=0).history["loss"]
    assert history[-1] < 0.5 * history[0]
    recon = model.reconstruct(images[:2]).numpy()
    assert recon[0].mean() < 0.4 and recon[1].mean() > 0.6


def test_kl_warmup_weighs_the_trained_kl_only():
    model = VAE(tiny_encoder(), tiny_decoder(), kl_warmup_steps=4)
    assert [float(model.kl_weight(tf.constant(s))) for s in (0, 1, 3, 10)] == [0.25, 0.5, 1.0, 1.0]
    assert float(VAE(tiny_encoder(), tiny_decoder()).kl_weight(tf.constant(0))) == 1.0
    noise = rng.normal(size=(8, LATENT)).astype("float32")
    terms = model.per_example_terms(X, noise, training=True, kl_weight=0.25)  # batch statistics, as in fit
    np.testing.assert_allclose(terms["loss"], 0.25 * terms["kl"] + terms["nll_x"], rtol=1e-6)
    model.compile(keras.optimizers.SGD(0.0))
    logged = model.fit(_dataset(batch=8, noise=noise), epochs=1, verbose=0).history  # step 0: β = 1/4
    assert logged["loss"][0] == pytest.approx(float(np.mean(terms["loss"])), rel=1e-5)
    assert logged["kl"][0] == pytest.approx(float(np.mean(terms["kl"])), rel=1e-5)
    inference = model.per_example_terms(X, noise, training=False)
    evaluated = model.evaluate(_dataset(batch=8, noise=noise), verbose=0, return_dict=True)  # β = 1
    assert evaluated["loss"] == pytest.approx(float(np.mean(inference["kl"] + inference["nll_x"])), rel=1e-5)
    assert VAE.from_config(model.get_config()).kl_warmup_steps == 4
    with pytest.raises(ValueError, match="kl_warmup_steps"):
        VAE(tiny_encoder(), tiny_decoder(), kl_warmup_steps=-1)


@pytest.mark.parametrize("multiplier", [1.0, 10.0])
def test_sigma_lr_multiplier_scales_the_first_adam_step_of_log_sigma(multiplier):
    model = VAE(tiny_encoder(), tiny_decoder(), sigma_lr_multiplier=multiplier)
    model.compile(keras.optimizers.Adam(0.01))
    before = model.learned_log_sigma(model.log_sigma_x).numpy()
    assert np.array_equal(before, np.zeros_like(before))  # σ = 1 at init, whatever the multiplier
    model.fit(_dataset(batch=8), epochs=1, verbose=0)
    moved = np.abs(model.learned_log_sigma(model.log_sigma_x).numpy() - before)
    np.testing.assert_allclose(np.median(moved), 0.01 * multiplier, rtol=0.01)  # Adam's first step: lr·sign(g)
    noise = rng.normal(size=(8, LATENT)).astype("float32")
    stored = model.log_sigma_x.numpy()
    plain = VAE(model.encoder, model.decoder)
    plain.log_sigma_x.assign(stored * multiplier)  # the same σ held the paper's way gives the same objective
    np.testing.assert_allclose(plain.per_example_terms(X, noise, False)["nll_x"],
                               model.per_example_terms(X, noise, False)["nll_x"], rtol=1e-5)
    assert VAE.from_config(model.get_config()).sigma_lr_multiplier == multiplier
    with pytest.raises(ValueError, match="sigma_lr_multiplier"):
        VAE(tiny_encoder(), tiny_decoder(), sigma_lr_multiplier=0.5)


def test_a_fixed_pixel_sigma_replaces_the_learned_one_and_is_not_trained():
    model = VAE(tiny_encoder(), tiny_decoder(), pixel_sigma=0.05)
    model.compile(adam())
    assert not any(v is model.log_sigma_x for v in model.trainable_variables)
    x_mean = np.clip(X + 0.1 * rng.normal(size=X.shape), 0, 1).astype("float32")
    expected = np.sum(-np.log(0.05) - 0.5 * np.log(2 * np.pi) - 0.5 * ((X - x_mean) / 0.05) ** 2, axis=(1, 2, 3))
    np.testing.assert_allclose(model.log_px_given_z(X, x_mean), expected, rtol=1e-5)
    model.fit(_dataset(), epochs=1, verbose=0)
    assert np.array_equal(model.log_sigma_x.numpy(), np.zeros(IMAGE_SHAPE, "float32"))
    np.testing.assert_allclose(model.log_px_given_z(X, x_mean), expected, rtol=1e-5)
    assert VAE.from_config(model.get_config()).pixel_sigma == 0.05
    for sigma, likelihood in ((0.0, "gaussian"), (float("nan"), "gaussian"), (0.05, "bernoulli")):
        with pytest.raises(ValueError, match="pixel_sigma"):
            VAE(tiny_encoder(), tiny_decoder(), likelihood=likelihood, pixel_sigma=sigma)
