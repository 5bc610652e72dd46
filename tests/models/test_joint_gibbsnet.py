import numpy as np
import pytest
import tensorflow as tf

import keras
from tfgm.models import JointGibbsNet
from tfgm.nets import ali_joint_nets

IMAGE_SHAPE = (8, 8, 1)
ATTRS = 4
rng = np.random.default_rng(0)
X = rng.random((6,) + IMAGE_SHAPE).astype("float32")
Y = (rng.random((6, ATTRS)) > 0.5).astype("float32")


def tiny_nets(noise_dim=0, heads=1, latent_dim=3):
    return ali_joint_nets.mlp_joint(IMAGE_SHAPE, ATTRS, latent_dim, hidden=16, noise_dim=noise_dim, heads=heads)


def _compiled(model, lr=1e-3):
    model.compile(keras.optimizers.Adam(lr), keras.optimizers.Adam(lr))
    return model


def _dataset(batch=3):
    return tf.data.Dataset.from_tensor_slices({"image": X, "attributes": Y}).batch(batch)


def test_one_train_step_updates_every_network_and_logs_the_attribute_loss():
    model = _compiled(JointGibbsNet(*tiny_nets(heads=2), train_steps=3, attribute_samples=4, log_z_ema=True))
    before = [v.numpy().copy() for v in model.trainable_variables]
    logs = model.fit(_dataset(), epochs=1, steps_per_epoch=1, verbose=0).history
    assert set(logs) == {"d_loss", "g_loss", "g_attributes", "real_logit", "fake_logit"}
    assert all(np.isfinite(v[0]) for v in logs.values())
    assert all(not np.array_equal(b, v.numpy()) for b, v in zip(before, model.trainable_variables))
    with pytest.raises(ValueError, match="'attributes'"):
        model.fit(tf.data.Dataset.from_tensor_slices({"image": X}).batch(3), epochs=1, verbose=0)


def test_losses_match_a_hand_computation_of_continuous_and_discrete_bgan():
    model = JointGibbsNet(*tiny_nets(heads=2), train_steps=1, attribute_samples=5)
    t = model.per_example_terms(X, Y, tf.constant([2, 3]), training=False, return_chain=True)
    z0, draws, logits = t["z_chain"][0], t["attribute_draws"].numpy(), t["attribute_logits"].numpy()
    assert draws.shape == (5, 6, ATTRS) and set(np.unique(draws)) <= {0.0, 1.0}
    x_fake = model.decoder(z0, training=False)[0]
    c = tf.constant
    real = model.discriminator([c(X), c(Y), t["z_real"]], training=False).numpy()
    fake = np.stack([model.discriminator([x_fake, c(draws[m]), z0], training=False).numpy() for m in range(5)])
    np.testing.assert_allclose(t["d_loss"], np.log1p(np.exp(-real)).mean(1) + np.log1p(np.exp(fake)).mean((0, 2)),
                               rtol=1e-5, atol=1e-6)
    f = fake.mean(-1)
    w = np.exp(f - f.max(0)) / np.exp(f - f.max(0)).sum(0)
    log_p = (draws * -np.log1p(np.exp(-logits)) + (1 - draws) * -np.log1p(np.exp(logits))).sum(-1)
    np.testing.assert_allclose(t["g_attributes"], -(w * log_p).sum(0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(t["g_loss"], (fake ** 2).mean((0, 2)) + (real ** 2).mean(1) - (w * log_p).sum(0),
                               rtol=1e-4, atol=1e-5)


def _likes_attribute_0(scale=5.0):
    """A fixed "discriminator" [images, attributes, z] → logit scale·(y₀ − ½): it calls a pair real iff attribute
    0 is on, whatever the image and z."""
    images = keras.Input(IMAGE_SHAPE)
    attributes = keras.Input((ATTRS,))
    z = keras.Input((3,))
    logit = scale * (attributes[:, :1] - 0.5) + 0.0 * keras.ops.sum(z, 1, keepdims=True) \
        + 0.0 * keras.ops.sum(images, (1, 2, 3))[:, None]
    return keras.Model([images, attributes, z], logit)


def test_the_models_attribute_loss_raises_the_probability_of_draws_the_discriminator_calls_real():
    """Descending the model's own g_attributes (discrete BGAN: importance weights from D over M draws) on the
    attribute head: p(y₀ = 1) → 1 when D likes y₀ = 1."""
    keras.utils.set_random_seed(1)
    encoder, decoder, _ = tiny_nets()
    model = JointGibbsNet(encoder, decoder, _likes_attribute_0(), train_steps=1, attribute_samples=16)
    head = [v for v in model.decoder.trainable_variables if "attribute_logits" in v.path]
    assert head
    opt = keras.optimizers.Adam(0.05)
    z = tf.random.stateless_normal([32, 3], seed=[0, 1])

    def p_on():
        return tf.reduce_mean(tf.sigmoid(model.decode_joint(z)[1]), 0).numpy()

    start = p_on()
    for step in range(30):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(model.per_example_terms(X, Y, tf.constant([step, 2]), training=False)["g_attributes"])
        opt.apply_gradients(zip(tape.gradient(loss, head), head))
    end = p_on()
    assert end[0] > max(0.9, start[0] + 0.2), (start, end)


@pytest.mark.parametrize("chain_encoder_gradient", [True, False])
def test_only_the_last_transition_carries_gradient_into_encoder_and_decoder(chain_encoder_gradient):
    model = JointGibbsNet(*tiny_nets(noise_dim=2), train_steps=3, attribute_samples=3,
                          chain_encoder_gradient=chain_encoder_gradient)
    with tf.GradientTape(persistent=True) as tape:
        t = model.per_example_terms(X, Y, tf.constant([1, 2]), training=False, return_chain=True)
        g_fake = tf.reduce_mean(t["g_fake"] + t["g_attributes"])
        g_attributes = tf.reduce_mean(t["g_attributes"])
        g_real = tf.reduce_mean(t["g_real"])
    xs, zs = t["x_chain"], t["z_chain"]
    assert len(xs) == len(zs) == 3 and len(t["y_chain"]) == 2
    for i, tensor in enumerate(xs[:-1] + zs[:-1]):
        assert tape.gradient(g_fake, tensor) is None, f"chain tensor {i} receives gradient"
    assert tape.gradient(g_fake, xs[-1]) is not None
    assert any(g is not None and np.any(g.numpy()) for g in tape.gradient(g_real, model.encoder.trainable_variables))
    head = [v for v in model.decoder.trainable_variables if "attribute_logits" in v.path]
    assert all(np.any(g.numpy()) for g in tape.gradient(g_fake, head))
    encoder_grads = tape.gradient(g_fake, model.encoder.trainable_variables)
    if chain_encoder_gradient:  # the fake pairs alone train the encoder through z_{N−1} = q(x_{N−1}, y_{N−1})
        assert tape.gradient(g_fake, zs[-1]) is not None
        assert all(g is not None and np.any(g.numpy()) for g in encoder_grads)
        attribute_only = tape.gradient(g_attributes, model.encoder.trainable_variables)
        assert any(g is not None and np.any(g.numpy()) for g in attribute_only)
    else:
        assert tape.gradient(g_fake, zs[-1]) is None
        assert all(g is None or not np.any(g.numpy()) for g in encoder_grads)


def test_clamped_chains_keep_what_is_observed_and_steps_set_the_chain_length():
    model = JointGibbsNet(*tiny_nets(), train_steps=2)
    mask = np.zeros((6,) + IMAGE_SHAPE, "float32")
    mask[:, :, 4:] = 1
    chain = model.inpaint(X, mask, steps=4, seed=3, return_chain=True).numpy()
    assert chain.shape == (4, 6) + IMAGE_SHAPE
    for step in chain:
        np.testing.assert_array_equal(step[:, :, 4:], X[:, :, 4:])
        assert not np.allclose(step[:, :, :4], X[:, :, :4])
    out = model.complete(6, steps=3, seed=1, attributes=Y, return_chain=True)
    np.testing.assert_array_equal(out["attribute_chain"].numpy(), np.broadcast_to(Y, (3,) + Y.shape))
    probs = model.predict_attributes(X, steps=3).numpy()
    assert probs.shape == (6, ATTRS) and np.all((probs >= 0) & (probs <= 1))
    images, attrs = model.sample_joint(5, steps=7, seed=4, return_chain=True)
    assert images.shape == (7, 5) + IMAGE_SHAPE and attrs.shape == (7, 5, ATTRS)
    short = model.sample(5, steps=2, seed=4, return_chain=True).numpy()
    np.testing.assert_allclose(images[:2], short, atol=1e-6)
    assert not np.allclose(images[1], images[6])
    generated = model.generate(Y, steps=2, seed=1).numpy()
    assert generated.shape == (6,) + IMAGE_SHAPE


def test_a_short_run_moves_sampled_attribute_rates_toward_the_data():
    keras.utils.set_random_seed(0)
    r = np.random.default_rng(0)
    n = 1024
    rates = np.array([0.9, 0.1, 0.5, 0.8], "float32")
    y = (r.random((n, ATTRS)) < rates).astype("float32")
    x = np.clip(0.5 + 0.3 * (y[:, :1, None, None] - 0.5) + 0.05 * r.normal(size=(n,) + IMAGE_SHAPE), 0, 1)
    ds = tf.data.Dataset.from_tensor_slices({"image": x.astype("float32"), "attributes": y})
    model = JointGibbsNet(*tiny_nets(), train_steps=2, attribute_samples=8, seed=1)
    model.compile(keras.optimizers.Adam(1e-3, beta_1=0.5), keras.optimizers.Adam(1e-3, beta_1=0.5))

    def rate_error():
        _, probs = model.sample_joint(1000, steps=2, seed=5)
        return float(np.abs(probs.numpy().mean(0) - rates).mean())

    before = rate_error()
    model.fit(ds.shuffle(n, seed=0).batch(64).repeat(), epochs=1, steps_per_epoch=300, verbose=0)
    after = rate_error()
    assert after < 0.35 * before and after < 0.1, (before, after)


@pytest.fixture(scope="module")
def trained():
    """A JointGibbsNet with options off their defaults, trained two steps: the .keras and export tests' model."""
    model = _compiled(JointGibbsNet(*tiny_nets(noise_dim=2), train_steps=2, attribute_samples=3, standardize_z=True,
                                    chain_encoder_gradient=False, seed=4))
    model.fit(_dataset(), epochs=1, verbose=0)
    return model


def test_config_and_keras_file_round_trip(trained, tmp_path):
    model = trained
    assert JointGibbsNet.from_config(model.get_config()).get_config() == model.get_config()
    path = str(tmp_path / "joint.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is JointGibbsNet and loaded.attribute_samples == 3 and loaded.num_attributes == ATTRS
    assert loaded.chain_encoder_gradient is False
    for a, b in zip(loaded.sample_joint(4, steps=3, seed=2), model.sample_joint(4, steps=3, seed=2)):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert int(loaded.d_optimizer.iterations) == 2


def test_bad_nets_and_arguments_fail_clearly():
    e, d, disc = tiny_nets()
    with pytest.raises(ValueError, match="bgan"):
        JointGibbsNet(e, d, disc, loss="ls_multihead")
    with pytest.raises(ValueError, match="3 inputs"):
        JointGibbsNet(e, d, keras.Model(disc.inputs[:2], disc.inputs[0][:, :1, 0, 0]))
    with pytest.raises(ValueError, match="needs attributes"):
        JointGibbsNet(e, d, disc).encode(X)


def test_celeba_joint_nets_have_the_published_image_path():
    encoder, decoder, disc = ali_joint_nets.celeba_joint(latent_dim=8, width=1 / 16, num_attributes=40)
    assert encoder.get_layer("enc4_conv").output.shape[1:3] == (1, 1)
    assert decoder.outputs[0].shape[1:] == (64, 64, 3) and decoder.outputs[1].shape[1:] == (40,)
    assert disc.output.shape[1:] == (1,)
    assert [encoder.get_layer(f"enc{i}_conv").kernel_size[0] for i in range(5)] == [2, 7, 5, 7, 4]


def test_export_parity_through_export_run(trained, tmp_path):
    from export import export_run

    model = trained
    run_dir = tmp_path / "run"
    (run_dir / "models").mkdir(parents=True)
    model.save(str(run_dir / "models" / "joint.keras"))
    report = export_run(str(run_dir), batch_sizes=(1, 3), atol=1e-4)
    entry = report["models"]["joint"]
    assert report["passed"], entry.get("error") or entry
    assert set(entry["savedmodel"]["signatures"]) == {"sample", "inpaint", "predict_attributes", "generate",
                                                      "encode", "decode", "serving_default"}
    assert set(entry["onnx"]) == {"encoder_mean", "decoder"}
    loaded = tf.saved_model.load(str(run_dir / "export" / "savedmodel" / "joint" / "1"))
    served = loaded.signatures["generate"](attributes=tf.constant(Y), steps=tf.constant(3),
                                           seed=tf.constant(7, tf.int64))
    np.testing.assert_allclose(served["images"], model.generate(Y, steps=3, seed=[7, 0]), atol=1e-5)


def test_batch_statistics_chains_change_no_moving_average_and_differ_from_the_moving_averages_chains():
    model = JointGibbsNet(*tiny_nets(), train_steps=2, standardize_z=True)
    moving = [v.numpy().copy() for v in model.non_trainable_variables]
    images, attributes = model.sample_joint(6, steps=3, seed=2, batch_statistics=True)
    generated = model.generate(Y, steps=2, batch_statistics=True).numpy()
    for v, before in zip(model.non_trainable_variables, moving):
        np.testing.assert_array_equal(v.numpy(), before)
    assert np.abs(images.numpy() - model.sample(6, steps=3, seed=2).numpy()).max() > 0.01
    assert np.abs(generated - model.generate(Y, steps=2).numpy()).max() > 0.01
    assert attributes.shape == (6, ATTRS) and np.all((attributes.numpy() >= 0) & (attributes.numpy() <= 1))
