"""A character language model (the LSTM of recipes.fortified_text8) trained by teacher forcing or by scheduled
sampling (Bengio et al. 2015), reporting bits per character, with free-running sampling.

Teacher forcing feeds the true previous character at every step; scheduled sampling feeds it with probability
ε_i (per example and step, i = training step) and otherwise a draw from the model's own output at the previous
step, ε_i decaying over training (`teacher_forcing_probability`). The targets are always the true characters.
"""

import math

import keras
import tensorflow as tf

from tfgm._random import seed_pair
from tfgm.layers import FortifiedDense, FortifiedLayer
from tfgm.models._base import SingleOptimizerMixin, TrackersMixin, dense_gradients
from tfgm.models._seeds import step_seed

SCHEDULES = ("teacher_forcing", "constant", "linear", "exponential", "inverse_sigmoid")
DECAYS = ("linear", "exponential", "inverse_sigmoid")
MAX_SAMPLE_CHARS = 10_000  # request limits of the served `sample`
MAX_SAMPLE_BATCH = 1024


def teacher_forcing_probability(step, schedule, k=1.0, c=0.0, minimum=0.0):
    """ε_i of Bengio et al. (2015), the probability of feeding the true previous character at training step i:
    float32 scalar in [0, 1].

    teacher_forcing: 1; constant: k; linear: max(minimum, k − c·i); exponential: max(minimum, k^i), k < 1;
    inverse_sigmoid: max(minimum, k / (k + exp(i / k))), k ≥ 1. step: int or scalar tensor.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"teacher_forcing_probability: schedule must be one of {SCHEDULES}, got {schedule!r}")
    i = tf.cast(step, tf.float32)
    if schedule == "teacher_forcing":
        return tf.ones_like(i)
    if schedule == "constant":
        eps = tf.fill(tf.shape(i), tf.constant(k, tf.float32))
    elif schedule == "linear":
        eps = k - c * i
    elif schedule == "exponential":
        eps = tf.pow(tf.constant(k, tf.float32), i)
    else:
        eps = k / (k + tf.exp(i / k))  # exp overflows to inf for large i: ε → 0, as it should
    return tf.clip_by_value(tf.maximum(eps, minimum), 0.0, 1.0)


def schedule_parameters(schedule, total_steps, final_probability):
    """(k, c) of `teacher_forcing_probability` so that ε starts at (about) 1 and equals `final_probability` at
    step `total_steps`: linear k = 1, c = (1 − p)/N; exponential k = p^(1/N); inverse sigmoid k ≥ 1 solving
    k / (k + exp(N/k)) = p (bisection; ε_0 = k/(k + 1)); constant k = p; teacher_forcing (1, 0)."""
    n, p = int(total_steps), float(final_probability)
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule_parameters: schedule must be one of {SCHEDULES}, got {schedule!r}")
    if n < 1 or not 0.0 < p < 1.0:
        raise ValueError(f"schedule_parameters: total_steps must be >= 1 and final_probability in (0, 1), got "
                         f"{total_steps} and {final_probability}")
    if schedule == "teacher_forcing":
        return 1.0, 0.0
    if schedule == "constant":
        return p, 0.0
    if schedule == "linear":
        return 1.0, (1.0 - p) / n
    if schedule == "exponential":
        return p ** (1.0 / n), 0.0

    def log_eps(log_k):  # log k − log(k + exp(N/k)), increasing in k
        k = math.exp(log_k)
        a, b = log_k, n / k
        return log_k - (max(a, b) + math.log1p(math.exp(-abs(a - b))))

    lo, hi = 0.0, 60.0
    if log_eps(lo) >= math.log(p):
        return 1.0, 0.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if log_eps(mid) < math.log(p) else (lo, mid)
    return math.exp(0.5 * (lo + hi)), 0.0


@keras.saving.register_keras_serializable(package="tfgm")
class CharModel(TrackersMixin, SingleOptimizerMixin, keras.Model):
    """Character LM: ids int32 [B, T] in [0, vocab) → embedding (embedding_dim) → one LSTM (units) → optional
    fortified layer (a tied-weight DAE of `dae_units` on every step's state, as in fortified_text8) → logits
    [B, T, vocab].

    schedule: how training feeds the inputs — "teacher_forcing" (the true characters, one parallel pass), or
        scheduled sampling with ε_i = `teacher_forcing_probability(i, schedule, schedule_k, schedule_c,
        min_teacher_probability)`: "constant", "linear", "exponential", "inverse_sigmoid" (a step-by-step loop).
    dae_units > 0: the loss adds lambda_rec · mean ‖D(E(h + n)) − sg(h)‖² over steps and units, n ~ N(0,
        noise_stddev²) (stateless from the step seed), and the readout reads the reconstruction.
    Batches: {"tokens": int32 [B, T], "label": int32 [B, T]} (the next characters). Logged per example:
    loss (nats/char + λ·rec), bits_per_char (of the targets, under the training feed; `evaluate` always teacher
    forces), accuracy, teacher_probability (ε at this step), rec (with a DAE).
    """

    def __init__(self, vocab=27, units=1000, embedding_dim=64, dae_units=0, noise_stddev=0.1, lambda_rec=1.0,
                 schedule="teacher_forcing", schedule_k=1.0, schedule_c=0.0, min_teacher_probability=0.0, seed=0,
                 **kwargs):
        super().__init__(**kwargs)
        if schedule not in SCHEDULES:
            raise ValueError(f"CharModel: schedule must be one of {SCHEDULES}, got {schedule!r}")
        if min(int(vocab), int(units), int(embedding_dim)) < 1 or int(dae_units) < 0:
            raise ValueError("CharModel: vocab, units and embedding_dim must be >= 1 and dae_units >= 0")
        self.vocab, self.units, self.embedding_dim = int(vocab), int(units), int(embedding_dim)
        self.dae_units, self.noise_stddev, self.lambda_rec = int(dae_units), float(noise_stddev), float(lambda_rec)
        self.schedule, self.schedule_k, self.schedule_c = schedule, float(schedule_k), float(schedule_c)
        self.min_teacher_probability = float(min_teacher_probability)
        self.seed = int(seed)
        self.embedding = keras.layers.Embedding(self.vocab, self.embedding_dim, name="embedding")
        self.lstm = keras.layers.LSTM(self.units, return_sequences=True, name="lstm")
        self.dae = FortifiedDense(self.dae_units, noise_stddev=self.noise_stddev, name="fortified_lstm") \
            if self.dae_units else None
        self.readout = keras.layers.Dense(self.vocab, name="logits")
        self.embedding.build((None, None))
        self.lstm.build((None, None, self.embedding_dim))
        if self.dae is not None:
            self.dae.build((None, None, self.units))
        self.readout.build((None, None, self.units))
        names = ("loss", "bits_per_char", "accuracy", "teacher_probability")
        self._init_trackers(names + (("rec",) if self.dae is not None else ()))
        self.built = True

    # ---- forward passes --------------------------------------------------------------------------------
    def teacher_probability(self, step=None):
        """ε at `step` (default: the optimizer's step count), float32 scalar."""
        step = self.optimizer.iterations if step is None else step
        return teacher_forcing_probability(step, self.schedule, self.schedule_k, self.schedule_c,
                                           self.min_teacher_probability)

    def _reconstruct(self, h, noise=None):
        if self.dae is None:
            return h
        return self.dae.decode(self.dae.encode(h if noise is None else h + tf.cast(noise, h.dtype)))

    def _noise(self, tokens, seed):
        """DAE training noise [B, T, units] (stateless), or None without a DAE or σ = 0."""
        if self.dae is None or self.noise_stddev == 0.0:
            return None
        shape = tf.concat([tf.shape(tokens), [self.units]], 0)
        return tf.random.stateless_normal(shape, tf.random.experimental.stateless_fold_in(seed, 2),
                                          stddev=self.noise_stddev)

    def teacher_forced(self, tokens, noise=None):
        """The true characters as inputs, one parallel pass: tokens int32 [B, T] → {"states" h [B, T, units],
        "reconstructions" [B, T, units] (h itself without a DAE), "logits" [B, T, vocab]}, all float32."""
        h = self.lstm(self.embedding(tf.convert_to_tensor(tokens, tf.int32)))
        r = self._reconstruct(h, noise)
        logits = tf.cast(self.readout(r), tf.float32)
        return {"states": tf.cast(h, tf.float32), "reconstructions": tf.cast(r, tf.float32), "logits": logits}

    def rollout(self, tokens, teacher_probability, seed, temperature=1.0, context=1, noise=None):
        """Scheduled sampling's feed, one step at a time: tokens int32 [B, T] (the true inputs) → teacher_forced's
        dict plus "inputs" int32 [B, T], what was fed.

        Input 0 is tokens[:, 0]; input t + 1 is tokens[:, t + 1] where a coin u ~ U[0, 1) (per example and step)
        falls below `teacher_probability` or t + 1 < `context`, else a draw from softmax(logits_t / temperature).
        Stateless from seed (int or [2] int32): probability 1 feeds exactly the true tokens, probability 0 runs
        free after `context` characters. noise: DAE noise [B, T, units] or None.
        """
        tokens = tf.convert_to_tensor(tokens, tf.int32)
        seed = seed_pair(seed)
        batch, length = tf.shape(tokens)[0], tf.shape(tokens)[1]
        coins = tf.random.stateless_uniform([batch, length], tf.random.experimental.stateless_fold_in(seed, 0))
        teach = tf.logical_or(coins < tf.cast(teacher_probability, tf.float32), tf.range(length)[None, :] < context)
        sample_seed = tf.random.experimental.stateless_fold_in(seed, 1)
        cell = self.lstm.cell
        zeros = tf.zeros([batch, self.units], cell.compute_dtype)

        def body(t, token, h, c, inputs, states, recons, logits_ta):
            out, (h, c) = cell(self.embedding(token), [h, c])
            recon = self._reconstruct(out, None if noise is None else noise[:, t])
            logits = tf.cast(self.readout(recon), tf.float32)
            nxt = tf.minimum(t + 1, length - 1)
            sampled = tf.cast(tf.random.stateless_categorical(
                logits / temperature, 1, tf.random.experimental.stateless_fold_in(sample_seed, t))[:, 0], tf.int32)
            return (t + 1, tf.where(teach[:, nxt], tokens[:, nxt], sampled), h, c, inputs.write(t, token),
                    states.write(t, tf.cast(out, tf.float32)), recons.write(t, tf.cast(recon, tf.float32)),
                    logits_ta.write(t, logits))

        arrays = [tf.TensorArray(dtype, size=length) for dtype in (tf.int32, tf.float32, tf.float32, tf.float32)]
        _, _, _, _, *arrays = tf.while_loop(lambda t, *_: t < length, body,
                                            (tf.constant(0), tokens[:, 0], zeros, zeros, *arrays),
                                            maximum_iterations=length)
        inputs, states, recons, logits = (_batch_major(a.stack()) for a in arrays)
        return {"inputs": inputs, "states": states, "reconstructions": recons, "logits": logits}

    def sample(self, prefix, n_chars, temperature=1.0, seed=0):
        """Free running: prefix int32 [B, P] (P ≥ 1, ids in [0, vocab)) is read, then `n_chars` characters are
        drawn from softmax(logits / temperature), each fed back → int32 [B, n_chars]. Stateless: the same seed
        (int or [2] int32) gives the same text."""
        prefix = tf.convert_to_tensor(prefix, tf.int32)
        n_chars = tf.convert_to_tensor(n_chars, tf.int32)
        temperature = tf.convert_to_tensor(temperature, tf.float32)
        checks = [
            tf.debugging.assert_rank(prefix, 2, message="sample: prefix must be int32 [batch, characters]"),
            tf.debugging.assert_greater(tf.shape(prefix)[1], 0, message="sample: prefix needs >= 1 character"),
            tf.debugging.assert_less_equal(tf.shape(prefix)[0], MAX_SAMPLE_BATCH,
                                           message=f"sample: at most {MAX_SAMPLE_BATCH} prefixes per request"),
            tf.debugging.assert_greater_equal(tf.reduce_min(prefix), 0, message="sample: prefix ids must be >= 0"),
            tf.debugging.assert_less(tf.reduce_max(prefix), self.vocab,
                                     message=f"sample: prefix ids must be < vocab = {self.vocab}"),
            tf.debugging.assert_greater(n_chars, 0, message="sample: n_chars must be >= 1"),
            tf.debugging.assert_less_equal(n_chars, MAX_SAMPLE_CHARS,
                                           message=f"sample: n_chars must be <= {MAX_SAMPLE_CHARS}"),
            tf.debugging.assert_all_finite(temperature, "sample: temperature must be finite"),
            tf.debugging.assert_greater(temperature, 0.0, message="sample: temperature must be > 0"),
        ]
        with tf.control_dependencies(checks):
            context = tf.shape(prefix)[1]
            tokens = tf.concat([prefix, tf.zeros([tf.shape(prefix)[0], n_chars], tf.int32)], 1)
        out = self.rollout(tokens, 0.0, seed, temperature, context=context)
        return out["inputs"][:, context:]

    def log_prob(self, text):
        """log p(text[:, 1:] | text[:, 0]) per row under teacher forcing: int32 [B, T] → float32 [B] nats (0 for
        T = 1)."""
        text = tf.convert_to_tensor(text, tf.int32)

        def nats():
            logits = self.teacher_forced(text[:, :-1])["logits"]
            return -tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(text[:, 1:], logits), axis=1)

        return tf.cond(tf.shape(text)[1] > 1, nats, lambda: tf.zeros([tf.shape(text)[0]], tf.float32))

    def call(self, tokens, training=False):
        """tokens int32 [B, T] → logits float32 [B, T, vocab], teacher forced, noise-free."""
        return self.teacher_forced(tokens)["logits"]

    # ---- training ----------------------------------------------------------------------------------------
    def per_example_terms(self, tokens, labels, seed, teacher_probability, training=False):
        """Per-example [B] terms: loss (nats/char + λ·rec), bits_per_char, accuracy (and rec with a DAE).
        training=False (or schedule "teacher_forcing") feeds the true characters; noise only when training."""
        noise = self._noise(tokens, seed) if training else None
        if training and self.schedule != "teacher_forcing":
            out = self.rollout(tokens, teacher_probability, seed, noise=noise)
        else:
            out = self.teacher_forced(tokens, noise)
        labels = tf.cast(labels, tf.int32)
        nats = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, out["logits"]), axis=1)
        hits = tf.equal(tf.argmax(out["logits"], axis=-1, output_type=tf.int32), labels)
        terms = {"loss": nats, "bits_per_char": nats / math.log(2.0),
                 "accuracy": tf.reduce_mean(tf.cast(hits, tf.float32), axis=1)}
        if self.dae is not None:
            terms["rec"] = FortifiedLayer.reconstruction_error(tf.stop_gradient(out["states"]),
                                                               out["reconstructions"], "mean")
            terms["loss"] = nats + self.lambda_rec * terms["rec"]
        return terms

    def _batch(self, data):
        if not isinstance(data, dict) or "tokens" not in data or "label" not in data:
            raise ValueError(f"CharModel: batches must be dicts with 'tokens' and 'label' (int32 [B, T]), got "
                             f"{type(data).__name__}")
        return tf.cast(data["tokens"], tf.int32), data["label"]

    def train_step(self, data):
        tokens, labels = self._batch(data)
        seed = step_seed(self.seed, self.optimizer.iterations)
        prob = self.teacher_probability()
        with tf.GradientTape() as tape:
            terms = self.per_example_terms(tokens, labels, seed, prob, training=True)
            loss = tf.nn.compute_average_loss(terms["loss"])
            scaled = self.optimizer.scale_loss(loss)
        variables = self.trainable_variables
        # Dense gradients on both feeds: the parallel pass gives the embedding an IndexedSlices gradient.
        self.optimizer.apply_gradients(zip(dense_gradients(tape.gradient(scaled, variables)), variables))
        return self._update_trackers({**terms, "teacher_probability": prob})

    def test_step(self, data):
        tokens, labels = self._batch(data)
        terms = self.per_example_terms(tokens, labels, None, 1.0, training=False)
        return self._update_trackers({**terms, "teacher_probability": self.teacher_probability()})

    # ---- export ------------------------------------------------------------------------------------------
    serving_default = "sample"

    def serving_endpoints(self):
        """sample(prefix int32 [B, P], n_chars int32, temperature float32, seed int64) → {"tokens": int32
        [B, n_chars]} (stateless; limits: B ≤ MAX_SAMPLE_BATCH, 1 ≤ n_chars ≤ MAX_SAMPLE_CHARS, temperature > 0);
        log_prob(text int32 [B, T]) → {"log_prob": [B] nats of text[:, 1:] given text[:, 0], "bits_per_char": [B]}
        (0 for T = 1)."""
        def sample(prefix, n_chars, temperature, seed):
            return {"tokens": self.sample(prefix, n_chars, temperature, tf.cast(seed, tf.int32))}

        def log_prob(text):
            nats = self.log_prob(text)
            chars = tf.cast(tf.maximum(tf.shape(text)[1] - 1, 1), tf.float32)
            return {"log_prob": nats, "bits_per_char": -nats / (chars * math.log(2.0))}

        return {"sample": (sample, [tf.TensorSpec([None, None], tf.int32, name="prefix"),
                                    tf.TensorSpec([], tf.int32, name="n_chars"),
                                    tf.TensorSpec([], tf.float32, name="temperature"),
                                    tf.TensorSpec([], tf.int64, name="seed")]),
                "log_prob": (log_prob, [tf.TensorSpec([None, None], tf.int32, name="text")])}

    def onnx_graphs(self):
        """The deterministic teacher-forced pass tokens int32 [B, T] → logits [B, T, vocab] (a client samples)."""
        return {"logits": (lambda tokens: {"logits": self.call(tokens)},
                           [tf.TensorSpec([None, None], tf.int32, name="tokens")])}

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "vocab": self.vocab, "units": self.units,
                "embedding_dim": self.embedding_dim, "dae_units": self.dae_units, "noise_stddev": self.noise_stddev,
                "lambda_rec": self.lambda_rec, "schedule": self.schedule, "schedule_k": self.schedule_k,
                "schedule_c": self.schedule_c, "min_teacher_probability": self.min_teacher_probability,
                "seed": self.seed}


def _batch_major(stacked):
    """[T, B, ...] → [B, T, ...]."""
    rank = stacked.shape.rank
    return tf.transpose(stacked, [1, 0] + list(range(2, rank)))
