import os
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgm.losses import registry, regularizers as regs
from tfgm.losses.registry import GAN_LOSSES, PENALTIES, canonical_regularizers
from tfgm.models._seeds import step_seed
from tfgm.models.gan import GAN
from tfgm.nets import dcgan
from tfgm.training import strategy as make_strategy  # CPU mirrored: reduce to one device (see BUILD.md)

rng = np.random.default_rng(0)
POINTS = rng.normal(size=(16, 2)).astype("float32")
IMAGES = rng.random((8, 28, 28, 1)).astype("float32")
LATENT = 3
GP_STREAM, JC_STREAM = PENALTIES["gradient_penalty"].stream, PENALTIES["jacobian_clamping"].stream


def toy_gan(**kwargs):
    return GAN(dcgan.mlp_generator(LATENT, 2, (8,)), dcgan.mlp_discriminator(2, (8,)), **kwargs)


def image_gan(**kwargs):
    return GAN(dcgan.generator(LATENT, (28, 28, 1), width=4),
               dcgan.discriminator((28, 28, 1), width=4, batch_norm=False, spectral_norm=True), **kwargs)


def _points(batch=8, z=None):
    data = {"image": POINTS} if z is None else {"image": POINTS, "z": z}
    return tf.data.Dataset.from_tensor_slices(data).batch(batch)


def _train(model, batch=8, steps=1, d_opt=None, g_opt=None):
    model.compile(d_opt or keras.optimizers.Adam(1e-2), g_opt or keras.optimizers.Adam(1e-2))
    g_before = [v.numpy().copy() for v in model.generator.trainable_variables]
    d_before = [v.numpy().copy() for v in model.discriminator.trainable_variables]
    logs = model.fit(_points(batch), epochs=1, steps_per_epoch=steps, verbose=0).history
    g_moved = [not np.array_equal(a, v.numpy()) for a, v in zip(g_before, model.generator.trainable_variables)]
    d_moved = [not np.array_equal(a, v.numpy()) for a, v in zip(d_before, model.discriminator.trainable_variables)]
    return {k: v[0] for k, v in logs.items()}, g_moved, d_moved


@pytest.mark.parametrize("loss", sorted(GAN_LOSSES))
def test_one_train_step_of_each_loss_updates_both_networks(loss):
    logs, g_moved, d_moved = _train(toy_gan(loss=loss))
    assert set(logs) == {"d_loss", "g_loss"}
    assert all(np.isfinite(v) for v in logs.values())
    assert all(g_moved) and all(d_moved[:-1])  # hinge: the logit bias' gradient cancels while both hinges are active


@pytest.mark.parametrize("name", sorted(PENALTIES))
def test_one_train_step_with_each_regularizer_logs_a_finite_penalty(name):
    model = toy_gan(regularizers={name: None}, total_steps=10)
    logs, g_moved, d_moved = _train(model)
    assert all(np.isfinite(v) for v in logs.values()) and all(g_moved) and all(d_moved)
    expected = {"instance_noise": "noise_stddev", "weight_clipping": None}.get(name, name)
    if expected:
        assert expected in logs
    if name == "instance_noise":
        assert logs["noise_stddev"] == pytest.approx(0.1)  # σ at step 0 of a linear schedule from σ0 = 0.1


@pytest.mark.parametrize("name,weight,factor", [("gradient_penalty", 7.0, 7.0), ("roth", 3.0, 1.5), ("r1", 5.0, 2.5)])
def test_each_penalty_enters_the_critic_loss_as_its_weight_times_its_value(name, weight, factor):
    """D's loss with the penalty minus D's loss without it (same weights, batch, latents and step) equals λ·GP,
    (γ/2)·Ω (Roth) or (γ/2)·R1, the penalty function evaluated on that batch (the same α for GP)."""
    keras.utils.set_random_seed(5)
    model = toy_gan(regularizers={name: {"weight" if name == "gradient_penalty" else "gamma": weight}})
    bare = toy_gan()
    bare.set_weights(model.get_weights())
    real, z, step = tf.constant(POINTS[:8]), tf.constant(rng.normal(size=(8, LATENT)), tf.float32), tf.constant(3)
    schedule = model._schedule(step)
    terms = model.critic_terms(real, z, schedule, step)
    without = bare.critic_terms(real, z, {}, step)
    critic = lambda x: model.discriminator(x, training=True)  # noqa: E731
    fake = model.generate(z, training=True)
    value = {"gradient_penalty": lambda: regs.gradient_penalty(critic, real, fake,
                                                                step_seed(model.seed + GP_STREAM, step)),
             "roth": lambda: regs.roth_regularizer(critic, real, fake),
             "r1": lambda: regs.r1_penalty(critic, real)}[name]()
    assert float(value) > 1e-3  # a penalty near 0 would hide a wrong factor
    np.testing.assert_allclose(terms["d_loss"], without["d_loss"], rtol=1e-6)
    np.testing.assert_allclose(float(terms[name]), float(value), rtol=1e-5)  # the logged value is unweighted
    np.testing.assert_allclose(float(terms["loss"] - without["loss"]), factor * float(value), rtol=1e-5)


def test_jacobian_clamping_enters_the_generator_loss_as_its_weight_times_its_value():
    keras.utils.set_random_seed(5)
    model = toy_gan(regularizers={"jacobian_clamping": {"weight": 4.0, "lambda_min": 2.0, "lambda_max": 3.0}})
    bare = toy_gan()
    bare.set_weights(model.get_weights())
    z, step = tf.constant(rng.normal(size=(8, LATENT)), tf.float32), tf.constant(2)
    terms, _ = model.generator_terms(z, {}, step)
    without, _ = bare.generator_terms(z, {}, step)
    value = regs.jacobian_clamping(lambda v: model.generate(v, training=True), z,
                                   step_seed(model.seed + JC_STREAM, step), lambda_min=2.0, lambda_max=3.0)
    assert float(value) > 1e-3
    np.testing.assert_allclose(float(terms["jacobian_clamping"]), float(value), rtol=1e-5)
    np.testing.assert_allclose(float(terms["loss"] - without["loss"]), 4.0 * float(value), rtol=1e-5)


def test_wgan_gp_train_steps_equal_algorithm_1_written_out():
    """Gulrajani et al.'s Algorithm 1 by hand (n_critic critic updates on their own real chunk and latents, α ~ U[0, 1]
    per example, λ·(‖∇f(x̂)‖ − 1)², then one generator update on −mean f(G(z))), same weights, data, latents and
    α, Adam(1e-3, 0.5, 0.9): two train steps of the model end at the same weights."""
    keras.utils.set_random_seed(2)
    n_critic, batch, lam = 2, 4, 10.0
    model = toy_gan(loss="wasserstein", regularizers={"gradient_penalty": lam}, n_critic=n_critic,
                    critic_batches="split")
    g, d = keras.models.clone_model(model.generator), keras.models.clone_model(model.discriminator)
    g.set_weights(model.generator.get_weights())
    d.set_weights(model.discriminator.get_weights())
    g_start, d_start = g.get_weights(), d.get_weights()
    adam = lambda: keras.optimizers.Adam(1e-3, beta_1=0.5, beta_2=0.9)  # noqa: E731
    model.compile(adam(), adam())
    d_opt, g_opt = adam(), adam()
    images = rng.normal(size=(2 * n_critic * batch, 2)).astype("float32")
    z = rng.normal(size=(2 * n_critic * batch, LATENT)).astype("float32")
    data = tf.data.Dataset.from_tensor_slices({"image": images, "z": z}).batch(n_critic * batch)
    model.fit(data, epochs=1, verbose=0)
    for step in range(2):
        for i in range(n_critic):
            rows = slice((step * n_critic + i) * batch, (step * n_critic + i + 1) * batch)
            real, fake = tf.constant(images[rows]), g(z[rows])
            alpha = tf.random.stateless_uniform([batch, 1], seed=[model.seed + GP_STREAM, step * n_critic + i])
            x_hat = real + alpha * (fake - real)
            with tf.GradientTape() as tape:
                with tf.GradientTape() as inner:
                    inner.watch(x_hat)
                    f_hat = d(x_hat)
                norms = tf.sqrt(tf.reduce_sum(tf.square(inner.gradient(f_hat, x_hat)), axis=1) + 1e-12)
                loss = (tf.reduce_mean(d(fake)) - tf.reduce_mean(d(real)) + lam * tf.reduce_mean((norms - 1.0) ** 2))
            d_opt.apply_gradients(zip(tape.gradient(loss, d.trainable_variables), d.trainable_variables))
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(d(g(z[rows])))
        g_opt.apply_gradients(zip(tape.gradient(loss, g.trainable_variables), g.trainable_variables))
    for mine, theirs in ((model.discriminator, d), (model.generator, g)):
        for a, b in zip(mine.get_weights(), theirs.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    for net, start in ((model.discriminator, d_start), (model.generator, g_start)):
        # both nets moved (kernels: D's output bias has zero gradient under the Wasserstein loss and the GP)
        assert all(np.abs(a - b).max() > 1e-4 for a, b in zip(net.get_weights(), start) if a.ndim == 2)


def test_weight_clipping_holds_after_a_step():
    model = toy_gan(loss="wasserstein", regularizers={"weight_clipping": 0.01})
    _train(model, d_opt=keras.optimizers.SGD(1.0))
    for v in model.discriminator.trainable_variables:
        assert np.max(np.abs(v.numpy())) <= 0.01 + 1e-7
    assert any(np.isclose(np.max(np.abs(v.numpy())), 0.01) for v in model.discriminator.trainable_variables)


@pytest.mark.parametrize("critic_batches,batch", [("reuse", 4), ("split", 12)])
def test_n_critic_runs_n_critic_updates_per_generator_update(critic_batches, batch):
    model = toy_gan(n_critic=3, critic_batches=critic_batches)
    model.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    data = tf.data.Dataset.from_tensor_slices({"image": np.tile(POINTS, (3, 1))}).batch(batch)
    model.fit(data, epochs=1, steps_per_epoch=2, verbose=0)
    assert int(model.g_optimizer.iterations) == 2
    assert int(model.d_optimizer.iterations) == 6


def test_split_critic_batches_reject_a_batch_that_does_not_divide():
    model = toy_gan(n_critic=3, critic_batches="split")
    model.compile()
    with pytest.raises(tf.errors.InvalidArgumentError, match="n_critic"):
        model.fit(_points(batch=8), epochs=1, steps_per_epoch=1, verbose=0)


def test_instance_noise_anneals_to_zero_over_total_steps():
    model = toy_gan(regularizers={"instance_noise": 0.5}, total_steps=4)
    model.compile()
    data = tf.data.Dataset.from_tensor_slices({"image": POINTS}).batch(4).repeat()
    sigmas = []
    for _ in range(5):
        sigmas.append(model.fit(data, epochs=1, steps_per_epoch=1, verbose=0).history["noise_stddev"][0])
    np.testing.assert_allclose(sigmas, [0.5, 0.375, 0.25, 0.125, 0.0], atol=1e-6)


def test_regularizer_specs_normalize_and_bad_ones_fail_clearly():
    assert canonical_regularizers(["r1", ("gradient_penalty", 5)]) == {
        "r1": {"gamma": 10.0}, "gradient_penalty": {"weight": 5.0}}
    assert canonical_regularizers({"roth": {"anneal": True}})["roth"] == {"gamma": 2.0, "anneal": True}
    with pytest.raises(ValueError, match="unknown GAN regularizer 'r2'"):
        canonical_regularizers("r2")
    with pytest.raises(ValueError, match="no parameter"):
        canonical_regularizers({"r1": {"lambda": 1}})
    with pytest.raises(ValueError, match="total_steps"):
        toy_gan(regularizers="instance_noise")
    with pytest.raises(ValueError, match="Unknown GAN loss"):
        toy_gan(loss="wgan")
    with pytest.raises(ValueError, match="no option"):
        toy_gan(loss="hinge", loss_options={"c": 1.0})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        GAN(dcgan.generator(LATENT, (28, 28, 1), width=4), dcgan.discriminator((28, 28, 1), width=4),
            regularizers={"gradient_penalty": 10.0})
    assert any("batch norm" in str(w.message) for w in caught)


def test_get_config_and_keras_file_round_trip(tmp_path):
    model = toy_gan(loss="least_squares", loss_options={"a": -1.0, "b": 1.0, "c": 0.0},
                    regularizers={"roth": {"anneal": True}, "jacobian_clamping": None}, total_steps=50,
                    n_critic=2, critic_batches="split", seed=4)
    model.compile(keras.optimizers.Adam(1e-3), keras.optimizers.RMSprop(1e-3))
    model.fit(_points(batch=8), epochs=1, verbose=0)
    assert GAN.from_config(model.get_config()).get_config() == model.get_config()
    path = str(tmp_path / "gan.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, GAN) and loaded.regularizers == model.regularizers and loaded.seed == 4
    assert isinstance(loaded.g_optimizer, keras.optimizers.RMSprop)
    assert int(loaded.d_optimizer.iterations) == 4 and int(loaded.g_optimizer.iterations) == 2
    np.testing.assert_allclose(loaded.sample(3, seed=1), model.sample(3, seed=1), atol=1e-6)


def test_bgan_log_z_moving_average_is_saved_and_used():
    model = toy_gan(loss="bgan", loss_options={"log_z_decay": 0.5})
    logs, _, _ = _train(model, steps=2)
    assert "log_z" in logs and logs["log_z"] != 0.0
    clone = GAN.from_config(model.get_config())
    assert clone.log_z is not None and clone.loss_options == {"log_z_decay": 0.5}


def test_sample_is_reproducible_in_range_and_equals_generate():
    model = image_gan()
    a, b = model.sample(4, seed=7), model.sample(4, seed=7)
    assert a.shape == (4, 28, 28, 1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, model.sample(4, seed=8))
    assert 0.0 <= float(tf.reduce_min(a)) and float(tf.reduce_max(a)) <= 1.0
    z = tf.random.stateless_normal([4, LATENT], seed=[7, 0])
    np.testing.assert_allclose(model.generate(z), a, atol=1e-6)


def test_export_parity_through_export_run(tmp_path):
    from export import export_run

    run_dir = tmp_path / "recipe" / "run"
    os.makedirs(run_dir / "models")
    image_gan().save(str(run_dir / "models" / "gan.keras"))
    report = export_run(str(run_dir), batch_sizes=(1, 5), atol=1e-4)
    entry = report["models"]["gan"]
    assert report["passed"], entry
    assert set(entry["savedmodel"]["signatures"]) == {"generate", "sample", "serving_default"}
    assert entry["onnx"]["generator"]["passed"]
    served = tf.saved_model.load(str(run_dir / "export" / "savedmodel" / "gan" / "1"))
    out = served.signatures["sample"](n=tf.constant(3), seed=tf.constant(5, tf.int64))
    assert out["images"].shape == (3, 28, 28, 1) and out["z"].shape == (3, LATENT)


def test_one_mirrored_step_equals_one_single_device_step():
    """Same global batch and latents (fed with the batch): per-replica losses over the global batch and
    penalties scaled by 1/replicas sum to the single-device gradients; clipping and SN run per replica."""
    z = rng.normal(size=(16, LATENT)).astype("float32")
    keras.utils.set_random_seed(0)
    reference = GAN(dcgan.mlp_generator(LATENT, 2, (8,)), dcgan.mlp_discriminator(2, (8,), spectral_norm=True))
    initial = reference.get_weights()

    def step(strategy):
        with strategy.scope():
            model = GAN(dcgan.mlp_generator(LATENT, 2, (8,)), dcgan.mlp_discriminator(2, (8,), spectral_norm=True),
                        regularizers={"r1": 1.0, "weight_clipping": 0.3})
            model.set_weights(initial)
            model.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1))
        model.fit(_points(batch=8, z=z), epochs=1, steps_per_epoch=1, verbose=0)
        return [v.numpy() for v in model.weights]

    cpus = tf.config.list_logical_devices("CPU")
    single = step(tf.distribute.OneDeviceStrategy(cpus[0].name))
    mirrored = step(make_strategy("mirrored"))
    assert sum(not np.allclose(a, b) for a, b in zip(initial, single)) >= 6
    for a, b in zip(single, mirrored):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def mean_square_logit(critic, real):
    """A penalty only this test registers: mean f(real)²."""
    return tf.reduce_mean(tf.square(critic(real)))


def test_a_penalty_added_to_the_registry_is_applied_logged_and_weighted(monkeypatch):
    """Adding a penalty is one registry entry: GAN logs it unweighted and adds weight × value to D's loss."""
    entry = registry.Penalty("mean_square_logit", "critic", f"{__name__}.mean_square_logit", {"weight": 1.0},
                             "weight", inputs=("critic", "real"), weight=("weight", 1.0))
    monkeypatch.setitem(PENALTIES, entry.name, entry)
    keras.utils.set_random_seed(5)
    model = toy_gan(regularizers={"mean_square_logit": 3.0})
    bare = toy_gan()
    bare.set_weights(model.get_weights())
    real, z, step = tf.constant(POINTS[:8]), tf.constant(rng.normal(size=(8, LATENT)), tf.float32), tf.constant(1)
    terms, without = model.critic_terms(real, z, {}, step), bare.critic_terms(real, z, {}, step)
    value = float(mean_square_logit(lambda x: model.discriminator(x, training=True), real))
    assert value > 1e-3
    np.testing.assert_allclose(float(terms["mean_square_logit"]), value, rtol=1e-5)
    np.testing.assert_allclose(float(terms["loss"] - without["loss"]), 3.0 * value, rtol=1e-5)
    logs, _, _ = _train(model)
    assert set(logs) == {"d_loss", "g_loss", "mean_square_logit"}
