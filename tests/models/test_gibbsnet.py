import numpy as np
import pytest
import tensorflow as tf

import keras
from tfgm.losses import gan
from tfgm.models.gibbsnet import ALI, GibbsNet
from tfgm.nets import ali_nets

IMAGE_SHAPE = (32, 32, 3)
LATENT = 6
rng = np.random.default_rng(0)
X = rng.random((8,) + IMAGE_SHAPE).astype("float32")


def tiny_nets(noise_dim=0, heads=1):
    """ALI's SVHN topology at 1/16 width."""
    return ali_nets.svhn_ali(latent_dim=LATENT, width=1 / 16, noise_dim=noise_dim, heads=heads)


def _dataset(batch=4):
    return tf.data.Dataset.from_tensor_slices({"image": X}).batch(batch)


def _compiled(model, lr=1e-3):
    model.compile(keras.optimizers.Adam(lr), keras.optimizers.Adam(lr))
    return model


@pytest.mark.parametrize("loss,heads", [("bgan", 1), ("ls_multihead", 3)])
def test_one_train_step_updates_discriminator_encoder_and_decoder(loss, heads):
    model = _compiled(GibbsNet(*tiny_nets(heads=heads), train_steps=3, loss=loss, log_z_ema=True))
    before = [v.numpy().copy() for v in model.trainable_variables]
    logs = model.fit(_dataset(), epochs=1, steps_per_epoch=1, verbose=0).history
    assert set(logs) == {"d_loss", "g_loss", "real_logit", "fake_logit"}
    assert all(np.isfinite(v[0]) for v in logs.values())
    assert all(not np.array_equal(b, v.numpy()) for b, v in zip(before, model.trainable_variables))
    assert int(model.d_optimizer.iterations) == int(model.g_optimizer.iterations) == 1
    assert float(model.log_z_fake.numpy()) != 0.0


def test_train_steps_1_is_ali_and_matches_the_hand_written_ali_loss():
    nets = tiny_nets()
    gibbs = GibbsNet(*nets, train_steps=1)
    ali = ALI(*nets)
    seed = tf.constant([3, 4])
    a = gibbs.per_example_terms(X, seed, training=False, return_chain=True)
    b = ali.per_example_terms(X, seed, training=False)
    for key in ("d_loss", "g_loss"):
        np.testing.assert_array_equal(a[key], b[key])
    encoder, decoder, disc = nets
    z0 = a["z_chain"][0]
    real = disc([tf.constant(X), a["z_real"]], training=False)[:, 0]
    fake = disc([decoder(z0, training=False), z0], training=False)[:, 0]
    np.testing.assert_allclose(a["d_loss"], tf.nn.softplus(-real) + tf.nn.softplus(fake), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a["g_loss"], real ** 2 + fake ** 2, rtol=1e-5, atol=1e-6)
    longer = GibbsNet(*nets, train_steps=3).per_example_terms(X, seed, training=False)
    assert not np.allclose(longer["d_loss"], a["d_loss"])
    with pytest.raises(ValueError, match="train_steps=1"):
        ALI(*nets, train_steps=3)


def _fold(seed, i):
    return tf.random.experimental.stateless_fold_in(seed, i)


@pytest.mark.parametrize("chain_encoder_gradient", [True, False])
def test_only_the_last_transition_carries_gradient_into_encoder_and_decoder(chain_encoder_gradient):
    """Thesis §3.3–3.4: x_{N−1} → z_{N−1} = q(x_{N−1}) → x_N = G(z_{N−1}) is the one step with gradient; the
    fake pair alone (g_fake) trains the encoder, unless `chain_encoder_gradient=False` stops it (ablation)."""
    model = GibbsNet(*tiny_nets(noise_dim=2), train_steps=3, chain_encoder_gradient=chain_encoder_gradient)
    encoder, decoder, disc = model.encoder, model.decoder, model.discriminator
    seed = tf.constant([1, 2])
    with tf.GradientTape(persistent=True) as tape:
        terms = model.per_example_terms(X, seed, training=False, return_chain=True)
        g_fake = tf.reduce_mean(terms["g_fake"])
        g_real = tf.reduce_mean(terms["g_real"])
    xs, zs = terms["x_chain"], terms["z_chain"]
    assert len(xs) == len(zs) == 3
    for t, tensor in enumerate(xs[:-1] + zs[:-1]):
        assert tape.gradient(g_fake, tensor) is None, f"chain tensor {t} receives gradient"
    assert tape.gradient(g_fake, xs[-1]) is not None
    assert any(g is not None and np.any(g.numpy())
               for g in tape.gradient(g_real, encoder.trainable_variables))
    got_encoder = tape.gradient(g_fake, encoder.trainable_variables)
    got_decoder = tape.gradient(g_fake, decoder.trainable_variables)
    # The same loss computed from x_{N−1} alone: z_{N−1} = q(x_{N−1}) (with or without its gradient), x_N = G(z_{N−1}).
    with tf.GradientTape() as tape2:
        z_last = model.infer(xs[-2], seed=_fold(_fold(seed, 11), 1))
        if not chain_encoder_gradient:
            z_last = tf.stop_gradient(z_last)
        x_last = model.decode(z_last, seed=_fold(seed, 3))
        loss = gan.bgan_generator_loss(disc([x_last, z_last], training=False))
    expected_encoder, expected_decoder = tape2.gradient(loss, (encoder.trainable_variables,
                                                               decoder.trainable_variables))
    np.testing.assert_allclose(x_last, xs[-1], atol=1e-6)
    np.testing.assert_allclose(z_last, zs[-1], atol=1e-6)
    for g, e in zip(got_decoder, expected_decoder):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-7)
    if chain_encoder_gradient:
        assert tape.gradient(g_fake, zs[-1]) is not None
        assert all(g is not None and np.any(g.numpy()) for g in got_encoder)  # every encoder variable learns
        for g, e in zip(got_encoder, expected_encoder):
            np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-7)
    else:
        assert tape.gradient(g_fake, zs[-1]) is None
        assert all(g is None or not np.any(g.numpy()) for g in got_encoder)


def test_inpainting_never_changes_observed_pixels():
    model = GibbsNet(*tiny_nets(), train_steps=2, standardize_z=True)
    mask = (rng.random((4, 32, 32, 1)) > 0.5).astype("float32")
    chain = model.inpaint(X[:4], mask, steps=5, seed=3, return_chain=True).numpy()
    assert chain.shape == (5, 4) + IMAGE_SHAPE
    observed = np.broadcast_to(mask > 0.5, X[:4].shape)
    for step in chain:
        np.testing.assert_array_equal(step[observed], X[:4][observed])
        assert not np.allclose(step[~observed], 0.5)
    right_half = np.zeros((1, 32, 32, 1), "float32")
    right_half[:, :, 16:] = 1
    out = model.inpaint(X[:4], right_half, steps=2).numpy()
    np.testing.assert_array_equal(out[:, :, 16:], X[:4, :, 16:])


def test_chain_length_input_sets_the_number_of_steps_also_in_a_graph_without_autograph():
    model = GibbsNet(*tiny_nets(), train_steps=2)
    long = model.sample(3, steps=5, seed=9, return_chain=True).numpy()
    short = model.sample(3, steps=2, seed=9, return_chain=True).numpy()
    assert long.shape == (5, 3) + IMAGE_SHAPE and short.shape == (2, 3) + IMAGE_SHAPE
    np.testing.assert_allclose(long[:2], short, atol=1e-6)
    assert not np.allclose(long[1], long[4])
    np.testing.assert_allclose(model.sample(3, steps=5, seed=9), long[-1], atol=1e-6)
    fn, sig = model.serving_endpoints()["sample"]
    graph = tf.function(fn, input_signature=sig, autograph=False)
    seed = tf.constant(9, tf.int64)
    for steps in (1, 2, 5):
        served = graph(tf.constant(3), tf.constant(steps), seed)["images"].numpy()
        np.testing.assert_allclose(served, long[steps - 1], atol=1e-5)


def _toy_points(n, seed):
    """Two tight clusters in [0, 1]²: the 'images' are 2-vectors."""
    r = np.random.default_rng(seed)
    centres = np.array([[0.2, 0.8], [0.8, 0.2]], "float32")
    return (centres[r.integers(0, 2, n)] + 0.03 * r.normal(size=(n, 2))).astype("float32")


def _distance_to_data(samples, data):
    """Mean distance from each sample to its nearest data point."""
    return float(np.mean(np.min(np.linalg.norm(samples[:, None] - data[None], axis=-1), axis=1)))


def test_a_short_run_on_toy_2d_data_moves_the_unclamped_chain_toward_the_data():
    keras.utils.set_random_seed(0)
    nets = ali_nets.mlp_ali(image_shape=(2,), latent_dim=2, hidden=(32, 32), d_hidden=32)
    model = GibbsNet(*nets, train_steps=2, seed=1)
    model.compile(keras.optimizers.Adam(2e-3, beta_1=0.5), keras.optimizers.Adam(2e-3, beta_1=0.5))  # GAN's β1
    data = _toy_points(2048, 0)
    reference = _toy_points(500, 1)
    before = _distance_to_data(model.sample(500, steps=3, seed=5).numpy(), reference)
    ds = tf.data.Dataset.from_tensor_slices({"image": data}).shuffle(2048, seed=0).batch(64).repeat()
    model.fit(ds, epochs=1, steps_per_epoch=400, verbose=0)
    after = _distance_to_data(model.sample(500, steps=3, seed=5).numpy(), reference)
    assert after < 0.5 * before, (before, after)


@pytest.fixture(scope="module")
def trained():
    """A GibbsNet with options off their defaults, trained two steps (log Z, z standardizer moved): the .keras and
    export tests' model."""
    model = _compiled(GibbsNet(*tiny_nets(noise_dim=3, heads=2), train_steps=2, loss="ls_multihead", log_z_ema=True,
                               log_z_gamma=0.9, bounded_sigma=True, standardize_z=True, chain_encoder_gradient=False,
                               seed=4))
    model.fit(_dataset(), epochs=1, verbose=0)
    return model


def test_get_config_round_trip_and_keras_file_round_trip(trained, tmp_path):
    model = trained
    clone = GibbsNet.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    path = str(tmp_path / "gibbsnet.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, GibbsNet)
    scalars = lambda m: {k: v for k, v in m.get_config().items() if not isinstance(v, dict)}  # noqa: E731
    assert scalars(loaded) == scalars(model) and loaded.decoder_noise_dim == 3
    assert loaded.chain_encoder_gradient is False and GibbsNet(*tiny_nets()).get_config()["chain_encoder_gradient"]
    assert float(loaded.log_z_real.numpy()) == float(model.log_z_real.numpy()) != 0.0
    np.testing.assert_allclose(loaded.sample(4, steps=3, seed=2), model.sample(4, steps=3, seed=2), atol=1e-6)
    np.testing.assert_allclose(loaded.infer(X), model.infer(X), atol=1e-6)
    np.testing.assert_allclose(loaded.z_standardizer.moving_variance.numpy(),
                               model.z_standardizer.moving_variance.numpy())
    assert int(loaded.d_optimizer.iterations) == int(model.g_optimizer.iterations) == 2
    ali_path = str(tmp_path / "ali.keras")
    _compiled(ALI(*tiny_nets())).save(ali_path)
    assert type(keras.saving.load_model(ali_path)) is ALI


def test_bad_arguments_fail_with_a_clear_message():
    with pytest.raises(ValueError, match="loss must be one of"):
        GibbsNet(*tiny_nets(), loss="wgan")
    with pytest.raises(ValueError, match="train_steps"):
        GibbsNet(*tiny_nets(), train_steps=0)


def test_export_parity_through_export_run(trained, tmp_path):
    from export import export_run

    model = trained
    run_dir = tmp_path / "run"
    (run_dir / "models").mkdir(parents=True)
    model.save(str(run_dir / "models" / "gibbsnet.keras"))
    report = export_run(str(run_dir), batch_sizes=(1, 3), atol=1e-4)
    entry = report["models"]["gibbsnet"]
    assert report["passed"], entry.get("error") or entry
    assert set(entry["savedmodel"]["signatures"]) == {"sample", "inpaint", "encode", "decode", "serving_default"}
    assert set(entry["onnx"]) == {"encoder_mean", "decoder"}
    loaded = tf.saved_model.load(str(run_dir / "export" / "savedmodel" / "gibbsnet" / "1"))
    served = loaded.signatures["sample"](n=tf.constant(2), steps=tf.constant(4), seed=tf.constant(7, tf.int64))
    np.testing.assert_allclose(served["images"], model.sample(2, steps=4, seed=[7, 0]), atol=1e-5)


def test_batch_statistics_chains_normalize_like_the_training_chain_and_change_no_moving_average():
    model = GibbsNet(*tiny_nets(), train_steps=2, standardize_z=True)
    moving = [v.numpy().copy() for v in model.non_trainable_variables]
    batch_stats = model.sample(8, steps=2, seed=3, batch_statistics=True).numpy()
    for v, before in zip(model.non_trainable_variables, moving):
        np.testing.assert_array_equal(v.numpy(), before)  # a sample is not a training step
    reference = GibbsNet.from_config(model.get_config())  # the chain by hand, batch norm in training mode
    reference.set_weights(model.get_weights())
    seed = tf.constant([3, 0])
    z = tf.random.stateless_normal([8, LATENT], seed=_fold(seed, -1))
    for i in range(2):
        x = reference.decode(z, seed=_fold(_fold(seed, i), 0), training=True)
        z = reference.infer(x, seed=_fold(_fold(seed, i), 1), training=True)
    np.testing.assert_allclose(batch_stats, x.numpy(), atol=1e-5)
    moving_stats = model.sample(8, steps=2, seed=3).numpy()
    assert np.abs(moving_stats - batch_stats).max() > 0.05  # untrained moving averages (0, 1) differ from the batch's
    mask = np.zeros((1, 32, 32, 1), "float32")
    mask[:, :, :16] = 1
    filled = model.inpaint(X, mask, steps=2, batch_statistics=True).numpy()
    np.testing.assert_array_equal(filled[:, :, :16], X[:, :, :16])
    assert np.abs(filled - model.inpaint(X, mask, steps=2).numpy()).max() > 0.05
    for v, before in zip(model.non_trainable_variables, moving):
        np.testing.assert_array_equal(v.numpy(), before)
