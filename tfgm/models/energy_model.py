"""A deep energy-based model trained by the positive and negative phase of the log-likelihood gradient (thesis
§1.2.2, eq. 1.28), its negative samples from short-run Langevin dynamics started in a replay buffer (Du &
Mordatch 2019)."""

import keras
import tensorflow as tf

from tfgm._random import seed_pair
from tfgm.models._base import SingleOptimizerMixin, SubmodelConfigMixin, TrackersMixin
from tfgm.models._seeds import step_seed


def langevin(energy_fn, x, steps, step_size, noise_std, seed, clip=(0.0, 1.0)):
    """`steps` Langevin steps x ← clip(x − step_size·∇ₓE(x) + noise_std·ξ), ξ ~ N(0, I) (stateless, from a [2]
    seed). energy_fn: x [B, ...] → [B]. clip: (lo, hi) or None. With noise_std = sqrt(2·step_size) and small steps
    this samples exp(−E); Du & Mordatch decouple the two for short runs. Returns x [B, ...] float32, no gradient."""
    def step(k, x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            energy = tf.reduce_sum(energy_fn(x))
        x = x - step_size * tape.gradient(energy, x)
        x += noise_std * tf.random.stateless_normal(tf.shape(x), tf.random.experimental.stateless_fold_in(seed, k))
        return k + 1, x if clip is None else tf.clip_by_value(x, clip[0], clip[1])

    x = tf.cast(x, tf.float32)
    return tf.stop_gradient(tf.while_loop(lambda k, _: k < steps, step, (tf.constant(0), x))[1])


@keras.saving.register_keras_serializable(package="tfgm")
class EnergyModel(TrackersMixin, SingleOptimizerMixin, SubmodelConfigMixin, keras.Model):
    """p(x) ∝ exp(−E(x)) for an energy network E: x [B, ...] in [lo, hi] → [B] (or [B, 1]).

    Each update: B starting points from the replay buffer (`buffer` [buffer_size, ...], saved in checkpoints and
    `.keras` files), a fraction `reinit` of them replaced by uniform noise in [lo, hi]; `langevin_steps` steps of
    `langevin` give the negatives x⁻, which go back into the buffer; the loss is
        mean E(x⁺) − mean E(x⁻) + α (mean E(x⁺)² + mean E(x⁻)²)
    (the positive minus the negative phase, and Du & Mordatch's energy-magnitude regularizer). Defaults: their
    image settings (60 steps, step 10, noise 0.005, α = 1, 5 % re-initialized). Batches: dicts with "image" or
    tensors. Logged: "loss", "energy_data", "energy_samples".
    """

    SUBMODELS = ("energy",)

    def __init__(self, energy, buffer_size=10000, reinit=0.05, langevin_steps=60, step_size=10.0, noise_std=0.005,
                 alpha=1.0, value_range=(0.0, 1.0), seed=0, **kwargs):
        super().__init__(**kwargs)
        if int(buffer_size) < 1 or int(langevin_steps) < 0 or not 0.0 <= float(reinit) <= 1.0:
            raise ValueError(f"EnergyModel: need buffer_size >= 1, langevin_steps >= 0, reinit in [0, 1]; got "
                             f"{buffer_size}, {langevin_steps}, {reinit}")
        self.energy = energy
        self.event_shape = tuple(energy.inputs[0].shape[1:])
        if None in self.event_shape:
            raise ValueError(f"EnergyModel: the energy network's input shape must be fully known, got "
                             f"{self.event_shape}")
        self.buffer_size, self.reinit, self.langevin_steps = int(buffer_size), float(reinit), int(langevin_steps)
        self.step_size, self.noise_std, self.alpha = float(step_size), float(noise_std), float(alpha)
        self.value_range, self.seed = tuple(float(v) for v in value_range), int(seed)
        lo, hi = self.value_range
        self.buffer = self.add_weight(shape=(self.buffer_size,) + self.event_shape, trainable=False, name="buffer",
                                      initializer=keras.initializers.RandomUniform(lo, hi, seed=self.seed),
                                      aggregation="only_first_replica")
        self._init_trackers(("loss", "energy_data", "energy_samples"))
        self.built = True

    def energy_of(self, x, training=False):
        """E(x): [B, ...] → [B] float32."""
        return tf.reshape(tf.cast(self.energy(x, training=training), tf.float32), [-1])

    def call(self, x, training=False):
        return self.energy_of(x, training)

    def _uniform(self, shape, seed):
        lo, hi = self.value_range
        return tf.random.stateless_uniform(shape, seed, lo, hi)

    def sample(self, n, steps=None, seed=0):
        """n samples by Langevin from uniform noise (`steps`, default `langevin_steps`): [n, ...]; stateless."""
        seeds = tf.random.experimental.stateless_split(seed_pair(seed), 2)
        start = self._uniform((n,) + self.event_shape, seeds[0])
        return langevin(self.energy_of, start, self.langevin_steps if steps is None else steps, self.step_size,
                        self.noise_std, seeds[1], self.value_range)

    def negative_samples(self, batch, seed):
        """(x⁻ [batch, ...], buffer rows [batch]): Langevin from buffer rows, `reinit` of them fresh noise."""
        seeds = tf.random.experimental.stateless_split(seed, 4)
        rows = tf.random.stateless_uniform([batch], seeds[0], 0, self.buffer_size, dtype=tf.int32)
        start = tf.gather(tf.convert_to_tensor(self.buffer), rows)
        fresh = tf.random.stateless_uniform([batch], seeds[1]) < self.reinit
        fresh = tf.reshape(fresh, [batch] + [1] * len(self.event_shape))
        start = tf.where(fresh, self._uniform(tf.shape(start), seeds[2]), start)
        return langevin(self.energy_of, start, self.langevin_steps, self.step_size, self.noise_std, seeds[3],
                        self.value_range), rows

    def _terms(self, x, negatives, training):
        e_data, e_model = self.energy_of(x, training), self.energy_of(negatives, training)
        loss = (tf.reduce_mean(e_data) - tf.reduce_mean(e_model)
                + self.alpha * (tf.reduce_mean(tf.square(e_data)) + tf.reduce_mean(tf.square(e_model))))
        return loss, {"loss": loss, "energy_data": e_data, "energy_samples": e_model}

    def train_step(self, data):
        x = tf.cast(data["image"] if isinstance(data, dict) else data, tf.float32)
        negatives, rows = self.negative_samples(tf.shape(x)[0], step_seed(self.seed, self.optimizer.iterations))
        with tf.GradientTape() as tape:
            loss, terms = self._terms(x, negatives, training=True)
            loss = loss / float(tf.distribute.get_strategy().num_replicas_in_sync)
        variables = self.energy.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        self.buffer.value.scatter_update(tf.IndexedSlices(negatives, rows))
        return self._update_trackers(terms)

    def test_step(self, data):
        x = tf.cast(data["image"] if isinstance(data, dict) else data, tf.float32)
        negatives = self._uniform(tf.shape(x), tf.constant([self.seed, -1]))
        return self._update_trackers(self._terms(x, negatives, training=False)[1])

    serving_default = "energy"

    def serving_endpoints(self):
        """energy(x [B, ...]) → energy [B]; sample(n, steps int32, seed int64) → images [n, ...] (Langevin from
        uniform noise)."""
        return {"energy": (lambda x: {"energy": self.energy_of(x)},
                           [tf.TensorSpec((None,) + self.event_shape, tf.float32, name="x")]),
                "sample": (lambda n, steps, seed: {"images": self.sample(n, steps, tf.cast(seed, tf.int32))},
                           [tf.TensorSpec([], tf.int32, name="n"), tf.TensorSpec([], tf.int32, name="steps"),
                            tf.TensorSpec([], tf.int64, name="seed")])}

    def onnx_graphs(self):
        """The energy network: x → energy [B]."""
        return {"energy": (lambda x: {"energy": self.energy_of(x)},
                           [tf.TensorSpec((None,) + self.event_shape, tf.float32, name="x")])}

    def get_config(self):
        return self._config(buffer_size=self.buffer_size, reinit=self.reinit, langevin_steps=self.langevin_steps,
                            step_size=self.step_size, noise_std=self.noise_std, alpha=self.alpha,
                            value_range=list(self.value_range), seed=self.seed)
