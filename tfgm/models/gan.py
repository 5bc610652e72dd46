"""Generative adversarial networks with any loss and regularizers of the thesis' review (METHODS.md §4).

`GAN` trains a generator against a discriminator (critic), n critic steps per generator step, with a loss and
penalties registered in `tfgm.losses.registry` (their functions: `tfgm.losses.gan`, `tfgm.losses.regularizers`).
"""

import warnings

import keras
import tensorflow as tf

from tfgm.layers.spectral_norm import power_iterate
from tfgm.layers.walk import sublayers
from tfgm.losses import registry
from tfgm.models._base import SubmodelConfigMixin, TrackersMixin, TwoOptimizerMixin, update_log_z
from tfgm.models._seeds import step_seed

_TEST_SEED_STEP = -1
CRITIC_BATCHES = ("reuse", "split")

# The model's own stateless seed streams (critic streams count critic steps, generator streams train steps);
# penalties that draw noise name their stream in the registry (gradient penalty 3, Jacobian clamping 6).
_Z_CRITIC, _NOISE_REAL, _NOISE_FAKE, _Z_GEN, _NOISE_GEN = 0, 1, 2, 4, 5


@keras.saving.register_keras_serializable(package="tfgm")
class GAN(TrackersMixin, TwoOptimizerMixin, SubmodelConfigMixin, keras.Model):
    """Generator + discriminator trained adversarially.

    generator: Functional model z [B, D] → samples [B, ...] (images in [0, 1], or toy points [B, 2]).
    discriminator: Functional model samples → logits [B] or [B, 1] (raw, no sigmoid).
    loss: a name of `tfgm.losses.registry.GAN_LOSSES` (minimax, nonsaturating, wasserstein, least_squares, hinge,
        bgan). loss_options: the loss' options (least_squares {"a", "b", "c"}; bgan {"log_z_decay": γ} turns on
        the EMA of log Z, otherwise the target is 0, the decision boundary).
    regularizers: see `tfgm.losses.registry.canonical_regularizers`; names of `registry.PENALTIES`:
        gradient_penalty (λ), weight_clipping (c), roth (γ, anneal), r1 (γ), instance_noise (σ₀, anneal),
        jacobian_clamping (weight, eps, λmin, λmax). Penalties are added with their weights (λ·GP, γ/2·Ω, γ/2·R1,
        weight·JC).
    n_critic: critic updates per generator update, all within one `train_step`.
    critic_batches: "reuse" — every critic step sees the whole batch (any batch size works); "split" — the
        batch holds n_critic × B examples, critic step i sees the i-th chunk of B, as in the WGAN papers.
        The generator step draws B latents (B = the critic batch size).
    total_steps: generator steps of the whole run; instance noise σ (linearly, to 0) and Roth's γ
        (γ₀·0.01^(t/T)) anneal over it when their "anneal" is on.
    Batches are dicts with "image" [B, ...] and optionally "z" [B, D] (latents to use instead of drawn ones,
    split like the images; the generator step uses the last chunk — for exact replays and tests).
    Spectral normalization (`tfgm.layers.SpectralNorm` layers in either net): their power iteration runs once
    per optimizer step of their net — before each critic step for D's, before the generator step for G's.
    Logged: d_loss and g_loss (adversarial terms, per example), each penalty unweighted, and the current
    instance-noise σ / Roth γ. Losses are divided by the global batch, so gradients are right under
    tf.distribute.
    """

    def __init__(self, generator, discriminator, loss="nonsaturating", regularizers=None, n_critic=1,
                 critic_batches="reuse", total_steps=None, loss_options=None, seed=0, **kwargs):
        super().__init__(**kwargs)
        self._loss = registry.gan_loss(loss)
        self.d_fn, self.g_fn = self._loss.functions()
        if int(n_critic) < 1:
            raise ValueError(f"n_critic must be >= 1, got {n_critic}")
        if critic_batches not in CRITIC_BATCHES:
            raise ValueError(f"critic_batches must be one of {CRITIC_BATCHES}, got {critic_batches!r}")
        self.generator = generator
        self.discriminator = discriminator
        self.loss_name = loss
        self.regularizers = registry.canonical_regularizers(regularizers)
        self._penalties = [p for name, p in registry.PENALTIES.items() if name in self.regularizers]
        self.n_critic = int(n_critic)
        self.critic_batches = critic_batches
        self.total_steps = None if total_steps is None else int(total_steps)
        self.loss_options = self._check_loss_options(loss, loss_options)
        self.seed = int(seed)
        self.latent_dim = int(generator.inputs[0].shape[-1])
        for name, params in self.regularizers.items():
            if params.get("anneal") and not self.total_steps:
                raise ValueError(f"{name} anneals over the run: pass GAN(total_steps=...) (generator steps), "
                                 f"or {{'{name}': {{'anneal': False}}}} for a constant value")
        if (registry.need_critic_without_batch_norm(self.regularizers)
                and sublayers(discriminator, keras.layers.BatchNormalization)):
            warnings.warn("input-gradient penalties assume a critic without batch norm (examples must be "
                          "independent); build the discriminator with batch_norm=False", stacklevel=2)
        self.log_z = None
        if "log_z_decay" in self.loss_options:
            self.log_z = self.add_weight(shape=(), initializer="zeros", trainable=False, name="bgan_log_z",
                                         aggregation="mean")
        self._init_trackers(self.tracked_terms())
        self.built = True

    def _check_loss_options(self, loss, options):
        options = dict(options or {})
        allowed = self._loss.options
        unknown = set(options) - set(allowed)
        if unknown:
            raise ValueError(f"loss {loss!r} takes no option(s) {sorted(unknown)}; allowed: {list(allowed)}")
        return {k: float(v) for k, v in options.items()}

    def tracked_terms(self):
        """Names of the logged values: d_loss, g_loss, each penalty, the scheduled values (σ, γ) by name, log Z."""
        names = ["d_loss", "g_loss"] + [p.name for p in self._penalties if p.side in ("critic", "generator")]
        names += sorted(p.logged for p in self._penalties
                        if p.logged and (p.log_constant or self.regularizers[p.name]["anneal"]))
        if self.log_z is not None:
            names.append("log_z")
        return tuple(names)

    @property
    def generator_variables(self):
        return self.generator.trainable_variables

    def generate(self, z, training=False):
        """z [B, D] → samples [B, ...] (images in [0, 1] for the image nets)."""
        return self.generator(z, training=training)

    def sample(self, n, seed=0):
        """n samples from z ~ N(0, I) drawn with a stateless seed (int or [2] tensor)."""
        seed = tf.cast(seed, tf.int32)
        if seed.shape.rank == 0:
            seed = tf.stack([seed, 0])
        return self.generate(tf.random.stateless_normal([n, self.latent_dim], seed=seed))

    def call(self, z, training=False):
        return self.generate(z, training=training)

    def _critic(self, x, training=True):
        return self.discriminator(x, training=training)

    @staticmethod
    def _replica_mean(value):
        """A per-replica batch mean scaled so that summing over replicas gives the global mean."""
        return value / tf.cast(tf.distribute.get_strategy().num_replicas_in_sync, value.dtype)

    def _schedule(self, step):
        """{regularizer: current value of its main parameter} for the scheduled ones (instance-noise σ, Roth γ),
        float32 scalars: annealed when "anneal" is on, else constant."""
        values = {}
        for penalty in self._penalties:
            if penalty.schedule:
                params = self.regularizers[penalty.name]
                initial = params[penalty.main]
                values[penalty.name] = (penalty.scheduled(step, self.total_steps, initial) if params["anneal"]
                                        else tf.constant(initial, tf.float32))
        return values

    def _inputs(self, x, schedule, stream, step):
        """D's input x with the "inputs" regularizers (instance noise) applied."""
        for penalty in self._penalties:
            if penalty.side == "inputs":
                value = schedule.get(penalty.name, self.regularizers[penalty.name][penalty.main])
                x = penalty(x, value, step_seed(self.seed + stream, step))
        return x

    def _add_penalties(self, side, tensors, schedule, step, terms):
        """Adds each `side` penalty to `terms`: its unweighted value under its name, and its weighted value,
        scaled per replica, to terms["loss"]."""
        for penalty in self._penalties:
            if penalty.side != side:
                continue
            params = self.regularizers[penalty.name]
            kwargs = {key: tensors[key] for key in penalty.inputs if key != "seed"}
            if "seed" in penalty.inputs:
                kwargs["seed"] = step_seed(self.seed + penalty.stream, step)
            terms[penalty.name] = penalty(**kwargs, **{key: params[key] for key in penalty.options})
            parameter, factor = penalty.weight
            coefficient = schedule.get(penalty.name, params[parameter])
            terms["loss"] += factor * coefficient * self._replica_mean(terms[penalty.name])
        return terms

    def _latents(self, given, batch, stream, step):
        if given is not None:
            return tf.cast(given, tf.float32)
        return tf.random.stateless_normal([batch, self.latent_dim], seed=step_seed(self.seed + stream, step))

    def _chunks(self, x):
        if self.critic_batches == "reuse" or self.n_critic == 1:
            return [x] * self.n_critic
        size = tf.shape(x)[0] // self.n_critic
        tf.debugging.assert_equal(size * self.n_critic, tf.shape(x)[0], message=(
            f"critic_batches='split' needs batches of n_critic × B = {self.n_critic} × B examples"))
        return [x[i * size:(i + 1) * size] for i in range(self.n_critic)]

    def critic_terms(self, real, z, schedule, step, training=True):
        """Critic objective on one batch: {"loss": per-replica loss to minimize, "d_loss": [B], penalties}.
        schedule: `_schedule(step)` ({} without scheduled regularizers)."""
        fake = self.generate(z, training=training)
        real_in = self._inputs(real, schedule, _NOISE_REAL, step)
        fake_in = self._inputs(fake, schedule, _NOISE_FAKE, step)
        d_loss = self._d_loss_fn(self._critic(real_in, training), self._critic(fake_in, training))
        terms = {"d_loss": d_loss, "loss": tf.nn.compute_average_loss(d_loss)}
        tensors = {"critic": lambda x: self._critic(x, training), "real": real_in, "fake": fake_in}
        return self._add_penalties("critic", tensors, schedule, step, terms)

    def generator_terms(self, z, schedule, step, training=True):
        """Generator objective: {"loss": per-replica loss to minimize, "g_loss": [B], penalties}, and D's logits."""
        fake = self.generate(z, training=training)
        logits = self._critic(self._inputs(fake, schedule, _NOISE_GEN, step), training)
        g_loss = self._g_loss_fn(logits)
        terms = {"g_loss": g_loss, "loss": tf.nn.compute_average_loss(g_loss)}
        tensors = {"generator": lambda v: self.generate(v, training=training), "z": z, "g_z": fake}
        return self._add_penalties("generator", tensors, schedule, step, terms), logits

    def _d_loss_fn(self, real_logits, fake_logits):
        options = {k: self.loss_options[k] for k in self._loss.d_options if k in self.loss_options}
        return self.d_fn(real_logits, fake_logits, reduction="none", **options)

    def _g_loss_fn(self, fake_logits):
        options = {k: self.loss_options[k] for k in self._loss.g_options if k in self.loss_options}
        if self.log_z is not None:
            options["log_z"] = self.log_z.value
        return self.g_fn(fake_logits, reduction="none", **options)

    def train_step(self, data):
        images = data["image"]
        step = self.g_optimizer.iterations
        schedule = self._schedule(step)
        reals = self._chunks(images)
        z_chunks = self._chunks(data["z"]) if "z" in data else [None] * self.n_critic
        critic_logs = []
        d_vars = self.discriminator.trainable_variables
        for i, (real, z_i) in enumerate(zip(reals, z_chunks)):
            critic_step = step * self.n_critic + i
            z = self._latents(z_i, tf.shape(real)[0], _Z_CRITIC, critic_step)
            power_iterate(self.discriminator)
            with tf.GradientTape() as tape:
                terms = self.critic_terms(real, z, schedule, critic_step)
                scaled = self.d_optimizer.scale_loss(terms.pop("loss"))
            grads = tape.gradient(scaled, d_vars)
            self.d_optimizer.apply_gradients(zip(grads, d_vars))
            for penalty in self._penalties:
                if penalty.side == "weights":
                    penalty(d_vars, self.regularizers[penalty.name][penalty.main])
            critic_logs.append(terms)
        z = self._latents(z_chunks[-1], tf.shape(reals[-1])[0], _Z_GEN, step)
        g_vars = self.generator_variables
        power_iterate(self.generator)
        with tf.GradientTape() as tape:
            terms, logits = self.generator_terms(z, schedule, step)
            scaled = self.g_optimizer.scale_loss(terms.pop("loss"))
        grads = tape.gradient(scaled, g_vars)
        self.g_optimizer.apply_gradients(zip(grads, g_vars))
        logs = {name: self._critic_steps_values([t[name] for t in critic_logs]) for name in critic_logs[0]}
        logs.update(terms)
        if self.log_z is not None:
            update_log_z(self.log_z, logits, self.loss_options["log_z_decay"])
            logs["log_z"] = self.log_z.value
        for penalty in self._penalties:
            if penalty.logged:
                logs[penalty.logged] = schedule[penalty.name]
        return self._update_trackers(logs)

    @staticmethod
    def _critic_steps_values(values):
        """One tensor for one tracker update from the n_critic steps' values ([B] or scalars): the value itself for
        one step, else the values in one vector (its mean is the mean of n updates)."""
        if len(values) == 1:
            return values[0]
        return tf.concat([tf.reshape(v, [-1]) for v in values], 0)

    def test_step(self, data):
        """d_loss and g_loss on held-out data without updates or penalties (fixed latents per batch)."""
        real = data["image"]
        seed = step_seed(self.seed + _Z_CRITIC, _TEST_SEED_STEP)
        z = data["z"] if "z" in data else tf.random.stateless_normal([tf.shape(real)[0], self.latent_dim], seed=seed)
        fake = self.generate(z)
        fake_logits = self._critic(fake, training=False)
        self._trackers["d_loss"].update_state(self._d_loss_fn(self._critic(real, training=False), fake_logits))
        self._trackers["g_loss"].update_state(self._g_loss_fn(fake_logits))
        return {name: self._trackers[name].result() for name in ("d_loss", "g_loss")}

    serving_default = "generate"

    def serving_endpoints(self):
        """Serving signatures: generate(z [B, D]) → images; sample(n, seed) → images, z (stateless)."""
        z_spec = tf.TensorSpec((None, self.latent_dim), tf.float32, name="z")

        def sample(n, seed):
            z = tf.random.stateless_normal(tf.stack([n, self.latent_dim]), seed=tf.stack([seed, tf.zeros_like(seed)]))
            return {"images": self.generate(z), "z": z}

        return {
            "generate": (lambda z: {"images": self.generate(z)}, [z_spec]),
            "sample": (sample, [tf.TensorSpec([], tf.int32, name="n"), tf.TensorSpec([], tf.int64, name="seed")]),
        }

    def onnx_graphs(self):
        """Deterministic sub-graphs for ONNX: the generator z → images; the client draws z."""
        z_spec = tf.TensorSpec((None, self.latent_dim), tf.float32, name="z")
        return {"generator": (lambda z: {"images": self.generate(z)}, [z_spec])}

    SUBMODELS = ("generator", "discriminator")

    def get_config(self):
        return self._config(loss=self.loss_name, regularizers=self.regularizers, n_critic=self.n_critic,
                            critic_batches=self.critic_batches, total_steps=self.total_steps,
                            loss_options=self.loss_options, seed=self.seed)

