"""CharModel: scheduled sampling at ε = 1 is teacher forcing and at ε = 0 free running, Bengio et al.'s decay
schedules, bits per character on a predictable text, and the shared harness (train step, config, .keras, export)."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.models import harness
from tfgm.models import CharModel
from tfgm.models._seeds import step_seed
from tfgm.models.char_model import schedule_parameters, teacher_forcing_probability
from tfgm.training import set_precision
from tfgm.training import strategy as make_strategy

rng = np.random.default_rng(0)
TOKENS = rng.integers(0, 7, (6, 16)).astype("int32")


def _model(**kwargs):
    keras.utils.set_random_seed(0)
    return CharModel(**{"vocab": 7, "units": 12, "embedding_dim": 5, "seed": 4, **kwargs})


def _batch():
    return {"tokens": TOKENS[:, :-1], "label": TOKENS[:, 1:]}


def test_probability_one_feeds_the_true_text_and_equals_teacher_forcing_exactly():
    model = _model(dae_units=6, noise_stddev=0.3)
    noise = model._noise(TOKENS, tf.constant([1, 2]))
    rolled = model.rollout(TOKENS, 1.0, seed=5, noise=noise)
    forced = model.teacher_forced(TOKENS, noise)
    np.testing.assert_array_equal(rolled["inputs"], TOKENS)
    for key in ("logits", "states", "reconstructions"):
        np.testing.assert_array_equal(rolled[key], forced[key])
    weights = []
    for schedule in ("teacher_forcing", "constant"):  # one training step each, from the same weights
        model = _model(dae_units=6, noise_stddev=0.3, schedule=schedule, schedule_k=1.0)
        model.compile(keras.optimizers.Adam(1e-2))  # (Adam, not SGD: it would miss a sparse embedding gradient)
        logs = model.fit(tf.data.Dataset.from_tensors(_batch()).repeat(3), epochs=1, verbose=0).history
        weights.append([v.numpy() for v in model.trainable_variables])
        assert logs["teacher_probability"] == [1.0]
    for a, b in zip(*weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)


def test_probability_zero_runs_free_like_sample():
    model = _model()
    rolled = model.rollout(TOKENS, 0.0, seed=9)
    inputs = rolled["inputs"].numpy()
    np.testing.assert_array_equal(inputs[:, 0], TOKENS[:, 0])
    assert (inputs[:, 1:] != TOKENS[:, 1:]).mean() > 0.5  # its own draws, not the text
    np.testing.assert_array_equal(model.sample(TOKENS[:, :1], 15, 1.0, seed=9), inputs[:, 1:])
    # the logits at each step are the model's reading of what it fed itself
    np.testing.assert_allclose(model.teacher_forced(inputs)["logits"], rolled["logits"], atol=1e-5)
    # and the next input is a draw from them: near-zero temperature makes it the argmax
    cold = model.rollout(TOKENS, 0.0, seed=9, temperature=1e-4)
    np.testing.assert_array_equal(cold["inputs"][:, 1:], np.argmax(cold["logits"][:, :-1], -1))
    # a longer prefix is read before the first draw: near-zero temperature gives the argmax after the prefix
    first = model.sample(TOKENS[:, :9], 1, temperature=1e-4, seed=0)[:, 0]
    np.testing.assert_array_equal(first, np.argmax(model.teacher_forced(TOKENS[:, :9])["logits"][:, -1], -1))
    half = model.rollout(np.tile(TOKENS, (20, 1)), 0.5, seed=2, context=4)["inputs"].numpy()
    np.testing.assert_array_equal(half[:, :4], np.tile(TOKENS, (20, 1))[:, :4])
    true_share = (half[:, 4:] == np.tile(TOKENS, (20, 1))[:, 4:]).mean()  # ½ by the coin + ½ · chance (≈ 1/7)
    assert 0.45 < true_share < 0.7, true_share


def test_training_at_probability_zero_scores_the_free_running_feed():
    model = _model(schedule="constant", schedule_k=0.0)
    model.compile(keras.optimizers.Adam(1e-3))
    free = model.rollout(_batch()["tokens"], 0.0, step_seed(model.seed, 0))["logits"]
    forced = model.teacher_forced(_batch()["tokens"])["logits"]
    bits = [float(tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(_batch()["label"], x))) / math.log(2)
            for x in (free, forced)]
    logs = model.fit(tf.data.Dataset.from_tensors(_batch()), epochs=1, verbose=0).history
    assert logs["teacher_probability"] == [0.0]
    assert abs(bits[0] - bits[1]) > 3e-4  # (an untrained model: near-uniform either way)
    np.testing.assert_allclose(logs["bits_per_char"][0], bits[0], rtol=2e-6)


def test_decay_schedules_follow_bengio_et_al():
    steps = np.array([0, 10, 100, 1000])
    def eps(*args, **kwargs):
        return [float(teacher_forcing_probability(s, *args, **kwargs)) for s in steps]

    np.testing.assert_allclose(eps("linear", 1.0, 0.002, minimum=0.1), [1.0, 0.98, 0.8, 0.1], rtol=1e-6)
    np.testing.assert_allclose(eps("exponential", 0.99), 0.99 ** steps, rtol=1e-5)
    np.testing.assert_allclose(eps("inverse_sigmoid", 50.0), 50.0 / (50.0 + np.exp(steps / 50.0)), rtol=1e-5)
    assert eps("teacher_forcing") == [1.0] * 4 and eps("constant", 0.3) == pytest.approx([0.3] * 4)
    for schedule in ("linear", "exponential", "inverse_sigmoid"):
        k, c = schedule_parameters(schedule, 500, 0.2)
        values = [float(teacher_forcing_probability(s, schedule, k, c)) for s in (0, 250, 500)]
        assert values[0] > 0.95 and values[0] > values[1] > values[2], (schedule, values)
        assert values[2] == pytest.approx(0.2, abs=1e-4), schedule
    with pytest.raises(ValueError, match="schedule"):
        teacher_forcing_probability(0, "cosine")


def test_bits_per_char_falls_far_below_uniform_on_a_predictable_text():
    text = np.tile(np.arange(1, 6), 400).astype("int32")  # "abcde" repeated: fully predictable after one char
    windows = np.stack([text[i:i + 21] for i in range(0, 1900, 7)])
    data = tf.data.Dataset.from_tensor_slices({"tokens": windows[:, :-1], "label": windows[:, 1:]})
    for schedule in ("teacher_forcing", "linear"):
        keras.utils.set_random_seed(0)
        model = CharModel(vocab=27, units=24, embedding_dim=8, schedule=schedule, schedule_c=1 / 120, seed=1)  # ε: 1 → 0.5
        model.compile(keras.optimizers.Adam(3e-2))
        model.fit(data.shuffle(300, seed=0).repeat().batch(32), steps_per_epoch=60, epochs=1, verbose=0)
        bits = model.evaluate(data.batch(64), return_dict=True, verbose=0)["bits_per_char"]
        assert bits < 0.25 * math.log2(27), (schedule, bits)
        prefix = np.array([[1, 2], [4, 5]], "int32")
        np.testing.assert_array_equal(model.sample(prefix, 8, temperature=0.05, seed=3),
                                      [[3, 4, 5, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 1, 2, 3]])


def test_sample_rejects_bad_requests():
    model = _model()
    for kwargs, message in (({"n_chars": 0}, "n_chars must be >= 1"), ({"temperature": 0.0}, "temperature"),
                            ({"prefix": [[7]]}, "vocab"), ({"temperature": float("nan")}, "temperature")):
        args = {"prefix": [[1, 2]], "n_chars": 3, "temperature": 1.0, **kwargs}
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            model.sample(**args)
    with pytest.raises(ValueError, match="schedule"):
        CharModel(schedule="sigmoid")


def test_one_mirrored_step_equals_the_single_device_step():
    """Through the step-by-step feed (ε = 1, no DAE noise: the replicas' own seeds would draw other coins)."""
    assert len(tf.config.list_logical_devices("CPU")) == 2
    initial = _model(dae_units=4, noise_stddev=0.0).get_weights()

    def step(strategy):
        with strategy.scope():
            model = _model(dae_units=4, noise_stddev=0.0, schedule="constant", schedule_k=1.0)
            model.set_weights(initial)
            model.compile(keras.optimizers.SGD(1.0))  # SGD: Adam's first step would hide a wrong gradient scale
        model.fit(tf.data.Dataset.from_tensors(_batch()), epochs=1, verbose=0)
        return [v.numpy() for v in model.trainable_variables]

    single, mirrored = step(make_strategy("default")), step(make_strategy("mirrored"))
    assert all(not np.allclose(a, b) for a, b in zip(initial, single))
    for a, b in zip(single, mirrored, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


def test_mixed_precision_trains_through_the_sampled_feed():
    set_precision("mixed_bfloat16")
    try:
        model = _model(dae_units=4, schedule="constant", schedule_k=0.5)
        model.compile(keras.optimizers.Adam(1e-2))
        logs = model.fit(tf.data.Dataset.from_tensors(_batch()), epochs=1, verbose=0).history
    finally:
        set_precision("float32")
    assert all(np.isfinite(v[0]) for v in logs.values()), logs
    assert model.rollout(TOKENS, 0.5, seed=1)["states"].dtype == tf.float32


CASE = harness.ModelCase("char_model", lambda: _model(dae_units=6, schedule="inverse_sigmoid", schedule_k=20.0),
                         _batch)


@pytest.fixture(scope="module")
def trained():
    return harness.train_one_step(CASE)


def test_config_round_trip(trained):
    harness.check_config_round_trip(trained)


def test_keras_file_round_trip_samples_the_same_text(trained, tmp_path):
    loaded = harness.check_keras_round_trip(trained, tmp_path)
    np.testing.assert_array_equal(loaded.sample(TOKENS[:, :3], 20, 0.8, seed=1),
                                  trained.sample(TOKENS[:, :3], 20, 0.8, seed=1))


def test_export_serves_sample(trained, tmp_path):
    harness.check_export_round_trip(trained, tmp_path)
    served = tf.saved_model.load(str(tmp_path / "run" / "export" / "savedmodel" / "model" / "1"))
    out = served.signatures["serving_default"](prefix=tf.constant(TOKENS[:2, :3]), n_chars=tf.constant(11),
                                               temperature=tf.constant(0.7), seed=tf.constant(5, tf.int64))
    np.testing.assert_array_equal(out["tokens"], trained.sample(TOKENS[:2, :3], 11, 0.7, seed=5))
