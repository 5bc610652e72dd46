import numpy as np
import pytest
import tensorflow as tf

import keras
from tests.models._tiny import (IMAGE_SHAPE, LATENT, adam, plain_decoder, plain_encoder, tiny_decoder, tiny_encoder,
                                tiny_features)
from tfgm.models import DiscRegVAE
from tfgm.training import strategy

rng = np.random.default_rng(1)
X = rng.random((8,) + IMAGE_SHAPE).astype("float32")
NOISE = rng.normal(size=(8, LATENT)).astype("float32")


def _dataset(batch=4):
    return tf.data.Dataset.from_tensor_slices({"image": X, "noise": NOISE}).batch(batch)


def _model(**kwargs):
    return DiscRegVAE(tiny_encoder(), tiny_decoder(), tiny_features(), **kwargs)


def test_a_step_trains_encoder_decoder_and_sigmas_but_never_the_classifier():
    model = _model()
    model.compile(adam())
    frozen = [v.numpy().copy() for v in model.feature_extractor.weights]  # includes BN moving statistics
    trained = {v.path: v.numpy().copy() for v in model.trainable_variables}
    history = model.fit(_dataset(), epochs=1, verbose=0).history
    assert {"discreg_strided1_bn", "discreg_strided2_bn", "discreg_strided3_bn"} <= set(history)
    for before, v in zip(frozen, model.feature_extractor.weights):
        np.testing.assert_array_equal(before, v.numpy())
    assert not any(v.path.startswith("attribute_classifier") for v in model.trainable_variables)
    changed = {p for p, before in trained.items()
               if not np.array_equal(before, next(v for v in model.trainable_variables if v.path == p).numpy())}
    assert changed == set(trained)
    sigma_names = {v.name for v in model.trainable_variables if v.name.startswith("log_sigma")}
    assert sigma_names == {"log_sigma_x", "log_sigma_strided1_bn", "log_sigma_strided2_bn", "log_sigma_strided3_bn"}


def test_loss_adds_weighted_discreg_terms_per_layer():
    plain = _model()
    weighted = DiscRegVAE(plain.encoder, plain.decoder, plain.feature_extractor,
                          layer_weights={"strided2_bn": 3.0, "strided3_bn": 0.0})
    a = plain.per_example_terms(X, NOISE, training=False)
    b = weighted.per_example_terms(X, NOISE, training=False)
    np.testing.assert_allclose(b["discreg_strided2_bn"], 3.0 * a["discreg_strided2_bn"], rtol=1e-5)
    np.testing.assert_array_equal(b["discreg_strided3_bn"], np.zeros(8, "float32"))
    total = a["kl"] + a["nll_x"] + a["discreg_strided1_bn"] + a["discreg_strided2_bn"] + a["discreg_strided3_bn"]
    np.testing.assert_allclose(a["loss"], total, rtol=1e-5)
    with pytest.raises(ValueError, match="not feature layers"):
        DiscRegVAE(plain.encoder, plain.decoder, plain.feature_extractor, layer_weights={"logits": 1.0})


def test_discreg_terms_match_a_hand_computation_with_the_frozen_classifier():
    model = _model()
    z_mean, z_log_var = model.encode(X)
    x_mean = model.decode(z_mean + np.exp(0.5 * z_log_var) * NOISE)
    feats_x = model.feature_extractor(X, training=False)["strided1_bn"].numpy()
    feats_r = model.feature_extractor(x_mean, training=False)["strided1_bn"].numpy()
    hand = (0.5 * np.log(2 * np.pi) + 0.5 * (feats_x - feats_r) ** 2).reshape(8, -1).sum(1)  # log σ = 0
    terms = model.per_example_terms(X, NOISE, training=False)
    np.testing.assert_allclose(terms["discreg_strided1_bn"], hand, rtol=1e-4)


def test_the_classifier_runs_backward_on_the_reconstructions_only():
    model = _model()

    @tf.function
    def gradients(images, noise):
        with tf.GradientTape() as tape:
            terms = model.per_example_terms(images, noise, training=True)
            loss = tf.reduce_mean(sum(terms[f"discreg_strided{i}_bn"] for i in (1, 2, 3)))
        return tape.gradient(loss, model.decoder.trainable_variables)

    graph = gradients.get_concrete_function(tf.TensorSpec((8,) + IMAGE_SHAPE), tf.TensorSpec((8, LATENT))).graph
    ops = [op for op in graph.get_operations() if op.type == "Conv2DBackpropInput"]
    batches = {int(op.outputs[0].shape[0]) for op in ops if op.outputs[0].shape.rank == 4}
    assert ops and batches == {8}  # a batch of 16 would be the classifier's backward on [images; reconstructions]


@pytest.mark.parametrize("to_encoder", [True, False])
def test_option_to_stop_the_discreg_gradient_at_the_decoder(to_encoder):
    model = _model(discreg_to_encoder=to_encoder)
    with tf.GradientTape() as tape:
        terms = model.per_example_terms(X, NOISE, training=True)
        discreg = tf.reduce_mean(sum(terms[f"discreg_strided{i}_bn"] for i in (1, 2, 3)))
    enc_grads = tape.gradient(discreg, model.encoder.trainable_variables)
    reached = any(g is not None and float(tf.reduce_max(tf.abs(g))) > 0 for g in enc_grads)
    assert reached == to_encoder


def test_keras_file_round_trip_keeps_frozen_features_and_config(tmp_path):
    model = _model(layer_weights={"strided1_bn": 0.5}, discreg_to_encoder=False, seed=4)
    model.compile(adam())
    model.fit(_dataset(), epochs=1, verbose=0)
    assert DiscRegVAE.from_config(model.get_config()).get_config() == model.get_config()
    path = str(tmp_path / "discreg.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, DiscRegVAE) and not loaded.feature_extractor.trainable
    assert loaded.layer_weights["strided1_bn"] == 0.5 and loaded.discreg_to_encoder is False
    np.testing.assert_allclose(loaded.reconstruct(X), model.reconstruct(X), atol=1e-6)
    for a, b in zip(loaded.log_sigma_features.values(), model.log_sigma_features.values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def _one_step_weights(strategy, initial, features):
    with strategy.scope():
        model = DiscRegVAE(plain_encoder(), plain_decoder(), features)
        model.set_weights(initial)
        model.compile(keras.optimizers.SGD(1e-2))  # Adam's first step is lr·sign(g): it would hide gradient scale
    model.fit(_dataset(batch=8), epochs=1, verbose=0)
    return [v.numpy() for v in model.weights]


def test_mirrored_step_on_two_devices_equals_single_device_step():
    """Same global batch of 8 (4 per replica), same ε: per-replica losses divided by the global batch and
    summed over replicas give the single-device gradient. (Encoder/decoder without BN here: with several
    synchronized BN layers the CPU all-reduce was measured to be nondeterministic; see BUILD.md.)"""
    cpus = tf.config.list_logical_devices("CPU")
    assert len(cpus) == 2
    features = tiny_features()
    initial = DiscRegVAE(plain_encoder(), plain_decoder(), features).get_weights()
    single = _one_step_weights(tf.distribute.OneDeviceStrategy(cpus[0].name), initial, features)
    mirrored = _one_step_weights(strategy("mirrored"), initial, features)
    moved = [not np.allclose(a, b) for a, b in zip(initial, single)]
    assert sum(moved) >= 6
    for a, b in zip(single, mirrored):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


class _Killed(Exception):
    pass


class _KillAtEpoch(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise _Killed()


def test_a_killed_run_resumes_to_exactly_the_uninterrupted_weights(tmp_path):
    """Noise comes from (seed, step) and the optimizer state is checkpointed, so kill + resume is exact."""
    from tfgm.training import ResumableCheckpoint

    features = tiny_features()
    initial = DiscRegVAE(tiny_encoder(), tiny_decoder(), features).get_weights()
    data = tf.data.Dataset.from_tensor_slices({"image": X}).batch(4)

    def fresh():
        model = DiscRegVAE(tiny_encoder(), tiny_decoder(), features, seed=2)
        model.set_weights(initial)
        model.compile(adam())
        return model

    straight = fresh()
    straight.fit(data, epochs=2, verbose=0)

    first = fresh()
    ckpt = ResumableCheckpoint(str(tmp_path / "ckpt"), model=first)
    with pytest.raises(_Killed):
        first.fit(data, epochs=2, callbacks=[ckpt, _KillAtEpoch(1)], verbose=0)
    saved = [v.numpy().copy() for v in first.weights]

    resumed = fresh()
    ckpt = ResumableCheckpoint(str(tmp_path / "ckpt"), model=resumed)
    assert ckpt.restore() == 1
    for a, b in zip(saved, resumed.weights):
        np.testing.assert_array_equal(a, b.numpy())
    resumed.fit(data, epochs=2, initial_epoch=1, callbacks=[ckpt], verbose=0)
    assert int(resumed.optimizer.iterations) == int(straight.optimizer.iterations) == 4
    for a, b in zip(straight.weights, resumed.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
