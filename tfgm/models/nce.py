"""Noise-contrastive estimation (Gutmann & Hyvärinen 2010; thesis §1.2.2, METHODS.md §4): an unnormalized model
with a learned log Z, trained as logistic regression between data and samples of a known noise density."""

import math

import keras
import tensorflow as tf

from tfgm.models._base import SingleOptimizerMixin, SubmodelConfigMixin, TrackersMixin
from tfgm.models._seeds import step_seed


@keras.saving.register_keras_serializable(package="tfgm")
class NCE(TrackersMixin, SingleOptimizerMixin, SubmodelConfigMixin, keras.Model):
    """log p(x) = −E(x) − c for an energy network E and a learned scalar c (`log_z`), fit by NCE.

    energy: Keras model x [B, ...] → energy [B] or [B, 1]. noise_ratio: ν noise samples per data example. The noise
    is a diagonal Gaussian q over x's shape (`noise_mean`, `noise_log_std`; set them from the data with
    `fit_noise(x)` before training). Per data example x with noise y_1..y_ν the loss is
        −log σ(G(x)) − Σ_j log σ(−G(y_j)),   G(u) = log p(u) − log q(u) − log ν,
    whose minimum has p = the data density and c = log ∫ exp(−E) (the model normalizes itself). Batches: dicts
    with "image" (any shape) or tensors. Logged: "loss" (per data example) and "log_z" (c).
    """

    SUBMODELS = ("energy",)

    def __init__(self, energy, noise_ratio=10, seed=0, **kwargs):
        super().__init__(**kwargs)
        if int(noise_ratio) < 1:
            raise ValueError(f"NCE: noise_ratio must be >= 1, got {noise_ratio}")
        self.energy, self.noise_ratio, self.seed = energy, int(noise_ratio), int(seed)
        shape = tuple(energy.inputs[0].shape[1:])
        if None in shape:
            raise ValueError(f"NCE: the energy network's input shape must be fully known, got {shape}")
        self.event_shape = shape
        self.log_z = self.add_weight(shape=(), initializer="zeros", name="log_z")
        self.noise_mean = self.add_weight(shape=shape, initializer="zeros", trainable=False, name="noise_mean")
        self.noise_log_std = self.add_weight(shape=shape, initializer="zeros", trainable=False, name="noise_log_std")
        self._init_trackers(("loss", "log_z"))
        self.built = True

    def fit_noise(self, x, min_std=1e-3):
        """Noise = the diagonal Gaussian of x's per-element mean and std (std floored at `min_std`): x [N, ...]."""
        x = tf.cast(tf.reshape(x, (-1,) + self.event_shape), tf.float32)
        mean, var = tf.nn.moments(x, axes=[0])
        self.noise_mean.assign(mean)
        self.noise_log_std.assign(tf.math.log(tf.maximum(tf.sqrt(var), min_std)))

    def energy_of(self, x, training=False):
        """E(x): [B, ...] → [B] float32."""
        return tf.reshape(tf.cast(self.energy(x, training=training), tf.float32), [-1])

    def log_prob(self, x, training=False):
        """−E(x) − c: [B, ...] → [B] nats (normalized as far as NCE has converged)."""
        return -self.energy_of(x, training) - self.log_z

    def noise_log_prob(self, x):
        """log q(x) of the diagonal Gaussian noise: [B, ...] → [B]."""
        z = (tf.cast(x, tf.float32) - self.noise_mean) * tf.exp(-self.noise_log_std)
        per = -0.5 * tf.square(z) - self.noise_log_std - 0.5 * math.log(2.0 * math.pi)
        return tf.reduce_sum(tf.reshape(per, [tf.shape(per)[0], -1]), axis=1)

    def noise_sample(self, n, seed):
        """n draws of the noise, [n, ...], from a stateless [2] seed."""
        eps = tf.random.stateless_normal((n,) + self.event_shape, seed)
        return self.noise_mean + tf.exp(self.noise_log_std) * eps

    def call(self, x, training=False):
        return self.log_prob(x, training)

    def per_example_loss(self, x, noise, training=False):
        """NCE loss per data example [B] for data x [B, ...] and noise [B·ν, ...]."""
        log_nu = math.log(self.noise_ratio)
        g_data = self.log_prob(x, training) - self.noise_log_prob(x) - log_nu
        g_noise = self.log_prob(noise, training) - self.noise_log_prob(noise) - log_nu
        noise_term = tf.reduce_sum(tf.reshape(tf.math.log_sigmoid(-g_noise), [self.noise_ratio, -1]), axis=0)
        return -tf.math.log_sigmoid(g_data) - noise_term

    def _batch(self, data):
        x = data["image"] if isinstance(data, dict) else data
        return tf.cast(x, tf.float32)

    def train_step(self, data):
        x = self._batch(data)
        noise = self.noise_sample(tf.shape(x)[0] * self.noise_ratio, step_seed(self.seed, self.optimizer.iterations))
        with tf.GradientTape() as tape:
            losses = self.per_example_loss(x, noise, training=True)
            loss = tf.nn.compute_average_loss(losses)
        variables = self.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return self._update_trackers({"loss": losses, "log_z": self.log_z})

    def test_step(self, data):
        x = self._batch(data)
        noise = self.noise_sample(tf.shape(x)[0] * self.noise_ratio, tf.constant([self.seed, -1]))
        return self._update_trackers({"loss": self.per_example_loss(x, noise), "log_z": self.log_z})

    serving_default = "log_prob"

    def serving_endpoints(self):
        """log_prob(x [B, ...]) → log_prob [B] nats; energy(x) → energy [B]."""
        spec = [tf.TensorSpec((None,) + self.event_shape, tf.float32, name="x")]
        return {"log_prob": (lambda x: {"log_prob": self.log_prob(x)}, spec),
                "energy": (lambda x: {"energy": self.energy_of(x)}, spec)}

    def onnx_graphs(self):
        """The energy network: x → energy [B]."""
        spec = [tf.TensorSpec((None,) + self.event_shape, tf.float32, name="x")]
        return {"energy": (lambda x: {"energy": self.energy_of(x)}, spec)}

    def get_config(self):
        return self._config(noise_ratio=self.noise_ratio, seed=self.seed)
