"""Generative adversarial networks with any loss and regularizers of the thesis' review (METHODS.md §4).

`GAN` trains a generator against a discriminator (critic), n critic steps per generator step, with the
losses of `tfgm.losses.gan` and the penalties of `tfgm.losses.regularizers`. `VARIANTS` holds the paper
defaults of each named variant (loss, regularizers, n_critic, optimizers, critic architecture flags).
"""

import dataclasses
import warnings

import keras
import tensorflow as tf

from tfgm._precision import loss_scale_optimizer
from tfgm.layers.spectral_norm import power_iterate
from tfgm.losses import gan as gan_losses
from tfgm.losses import regularizers as regs
from tfgm.models._base import SubmodelConfigMixin
from tfgm.models._seeds import step_seed

_TEST_SEED_STEP = -1
CRITIC_BATCHES = ("reuse", "split")

# name → (default parameters, parameter given as a bare number)
REGULARIZERS = {
    "gradient_penalty": ({"weight": 10.0}, "weight"),
    "weight_clipping": ({"clip_value": 0.01}, "clip_value"),
    "roth": ({"gamma": 2.0, "anneal": False}, "gamma"),
    "r1": ({"gamma": 10.0}, "gamma"),
    "instance_noise": ({"stddev": 0.1, "anneal": True}, "stddev"),
    "jacobian_clamping": ({"weight": 1.0, "eps": 1.0, "lambda_min": 1.0, "lambda_max": 20.0}, "weight"),
}
_PENALTIES = ("gradient_penalty", "roth", "r1", "jacobian_clamping")
_LOSS_OPTIONS = {"least_squares": ("a", "b", "c"), "bgan": ("log_z_decay",)}

# Offsets of the stateless seed streams (critic streams count critic steps, generator streams train steps).
_Z_CRITIC, _NOISE_REAL, _NOISE_FAKE, _GP_ALPHA, _Z_GEN, _NOISE_GEN, _JC_DELTA = range(7)


def canonical_regularizers(regularizers):
    """Normalize regularizers to {name: {parameter: value}} with every default filled in.

    Accepts None, a name, a sequence of names or (name, value) pairs, or a dict name → None | number |
    dict of parameters. A bare number sets the main parameter (λ, clip value, γ, σ₀, JC weight).
    """
    if regularizers is None:
        return {}
    if isinstance(regularizers, str):
        regularizers = [regularizers]
    if not isinstance(regularizers, dict):
        items = {}
        for item in regularizers:
            name, value = (item, None) if isinstance(item, str) else tuple(item)
            items[name] = value
        regularizers = items
    result = {}
    for name, value in regularizers.items():
        if name not in REGULARIZERS:
            raise ValueError(f"unknown GAN regularizer {name!r}; choose from {', '.join(sorted(REGULARIZERS))}")
        defaults, main = REGULARIZERS[name]
        params = dict(defaults)
        if isinstance(value, dict):
            unknown = set(value) - set(defaults)
            if unknown:
                raise ValueError(f"regularizer {name!r} has no parameter(s) {sorted(unknown)}; "
                                 f"it takes {sorted(defaults)}")
            params.update(value)
        elif value is not None:
            params[main] = value
        result[name] = {k: (bool(v) if isinstance(defaults[k], bool) else float(v)) for k, v in params.items()}
    return result


def _uses_batch_norm(layer):
    if isinstance(layer, keras.layers.BatchNormalization):
        return True
    return any(_uses_batch_norm(sub) for sub in getattr(layer, "layers", ()))


@keras.saving.register_keras_serializable(package="tfgm")
class GAN(SubmodelConfigMixin, keras.Model):
    """Generator + discriminator trained adversarially.

    generator: Functional model z [B, D] → samples [B, ...] (images in [0, 1], or toy points [B, 2]).
    discriminator: Functional model samples → logits [B] or [B, 1] (raw, no sigmoid).
    loss: a name of `tfgm.losses.GAN_LOSSES` (minimax, nonsaturating, wasserstein, least_squares, hinge,
        bgan). loss_options: least_squares {"a", "b", "c"}; bgan {"log_z_decay": γ} turns on the EMA of log Z
        (otherwise the target is 0, the decision boundary).
    regularizers: see `canonical_regularizers`; names gradient_penalty (λ), weight_clipping (c), roth (γ,
        anneal), r1 (γ), instance_noise (σ₀, anneal), jacobian_clamping (weight, eps, λmin, λmax).
        Penalties are added with their weights (λ·GP, γ/2·Ω, γ/2·R1, weight·JC).
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
        self.d_fn, self.g_fn = gan_losses.get_gan_loss(loss)
        if int(n_critic) < 1:
            raise ValueError(f"n_critic must be >= 1, got {n_critic}")
        if critic_batches not in CRITIC_BATCHES:
            raise ValueError(f"critic_batches must be one of {CRITIC_BATCHES}, got {critic_batches!r}")
        self.generator = generator
        self.discriminator = discriminator
        self.loss_name = loss
        self.regularizers = canonical_regularizers(regularizers)
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
        if set(self.regularizers) & {"gradient_penalty", "roth", "r1"} and _uses_batch_norm(discriminator):
            warnings.warn("input-gradient penalties assume a critic without batch norm (examples must be "
                          "independent); build the discriminator with batch_norm=False", stacklevel=2)
        self.log_z = None
        if "log_z_decay" in self.loss_options:
            self.log_z = self.add_weight(shape=(), initializer="zeros", trainable=False, name="bgan_log_z",
                                         aggregation="mean")
        self._trackers = {name: keras.metrics.Mean(name=name) for name in self.tracked_terms()}
        self.d_optimizer = None
        self.g_optimizer = None
        self.built = True

    @staticmethod
    def _check_loss_options(loss, options):
        options = dict(options or {})
        allowed = _LOSS_OPTIONS.get(loss, ())
        unknown = set(options) - set(allowed)
        if unknown:
            raise ValueError(f"loss {loss!r} takes no option(s) {sorted(unknown)}; allowed: {list(allowed)}")
        return {k: float(v) for k, v in options.items()}

    def tracked_terms(self):
        """Names of the logged values: d_loss, g_loss, each penalty, annealed σ / γ."""
        names = ["d_loss", "g_loss"] + [name for name in _PENALTIES if name in self.regularizers]
        if "instance_noise" in self.regularizers:
            names.append("noise_stddev")
        if self.regularizers.get("roth", {}).get("anneal"):
            names.append("roth_gamma")
        if self.log_z is not None:
            names.append("log_z")
        return tuple(names)

    @property
    def metrics(self):
        return list(self._trackers.values())

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """Separate optimizers (default: DCGAN's Adam(2e-4, β1 = 0.5) each), built here inside the active scope."""
        super().compile(optimizer=None, **kwargs)
        self.d_optimizer = loss_scale_optimizer(d_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5))
        self.g_optimizer = loss_scale_optimizer(g_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5))
        if self.d_optimizer is self.g_optimizer:
            raise ValueError("d_optimizer and g_optimizer must be two optimizer objects")
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    def get_compile_config(self):
        if self.d_optimizer is None:
            return None
        return {"d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
                "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer)}

    def compile_from_config(self, config):
        """Re-compile on `keras.saving.load_model`, so both optimizers' saved state is restored too."""
        self.compile(**{k: keras.saving.deserialize_keras_object(v) for k, v in config.items()})

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
        """Current instance-noise σ and Roth γ (float32 scalars, or None when not used)."""
        sigma = gamma = None
        noise = self.regularizers.get("instance_noise")
        if noise:
            sigma = (regs.annealed_stddev(step, self.total_steps, noise["stddev"]) if noise["anneal"]
                     else tf.constant(noise["stddev"], tf.float32))
        roth = self.regularizers.get("roth")
        if roth:
            gamma = (regs.annealed_gamma(step, self.total_steps, roth["gamma"]) if roth["anneal"]
                     else tf.constant(roth["gamma"], tf.float32))
        return sigma, gamma

    def _noisy(self, x, sigma, stream, step):
        if sigma is None:
            return x
        return regs.instance_noise(x, sigma, step_seed(self.seed + stream, step))

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

    def critic_terms(self, real, z, sigma, gamma, step, training=True):
        """Critic objective on one batch: {"loss": per-replica loss to minimize, "d_loss": [B], penalties}."""
        fake = self.generate(z, training=training)
        real_in = self._noisy(real, sigma, _NOISE_REAL, step)
        fake_in = self._noisy(fake, sigma, _NOISE_FAKE, step)
        d_loss = self._d_loss_fn(self._critic(real_in, training), self._critic(fake_in, training))
        terms = {"d_loss": d_loss}
        loss = tf.nn.compute_average_loss(d_loss)
        critic = lambda x: self._critic(x, training)  # noqa: E731
        if "gradient_penalty" in self.regularizers:
            terms["gradient_penalty"] = regs.gradient_penalty(critic, real_in, fake_in,
                                                              step_seed(self.seed + _GP_ALPHA, step))
            loss += self.regularizers["gradient_penalty"]["weight"] * self._replica_mean(terms["gradient_penalty"])
        if "roth" in self.regularizers:
            terms["roth"] = regs.roth_regularizer(critic, real_in, fake_in)
            loss += 0.5 * gamma * self._replica_mean(terms["roth"])
        if "r1" in self.regularizers:
            terms["r1"] = regs.r1_penalty(critic, real_in)
            loss += 0.5 * self.regularizers["r1"]["gamma"] * self._replica_mean(terms["r1"])
        terms["loss"] = loss
        return terms

    def generator_terms(self, z, sigma, step, training=True):
        """Generator objective: {"loss": per-replica loss to minimize, "g_loss": [B], "jacobian_clamping"?}."""
        fake = self.generate(z, training=training)
        logits = self._critic(self._noisy(fake, sigma, _NOISE_GEN, step), training)
        g_loss = self._g_loss_fn(logits)
        terms = {"g_loss": g_loss}
        loss = tf.nn.compute_average_loss(g_loss)
        jc = self.regularizers.get("jacobian_clamping")
        if jc:
            terms["jacobian_clamping"] = regs.jacobian_clamping(
                lambda v: self.generate(v, training=training), z, step_seed(self.seed + _JC_DELTA, step),
                eps=jc["eps"], lambda_min=jc["lambda_min"], lambda_max=jc["lambda_max"], g_z=fake)
            loss += jc["weight"] * self._replica_mean(terms["jacobian_clamping"])
        terms["loss"] = loss
        return terms, logits

    def _d_loss_fn(self, real_logits, fake_logits):
        if self.loss_name == "least_squares":
            opts = self.loss_options
            return self.d_fn(real_logits, fake_logits, a=opts.get("a", 0.0), b=opts.get("b", 1.0), reduction="none")
        return self.d_fn(real_logits, fake_logits, reduction="none")

    def _g_loss_fn(self, fake_logits):
        if self.loss_name == "least_squares":
            return self.g_fn(fake_logits, c=self.loss_options.get("c", 1.0), reduction="none")
        if self.log_z is not None:
            return self.g_fn(fake_logits, log_z=self.log_z.value, reduction="none")
        return self.g_fn(fake_logits, reduction="none")

    def _update_log_z(self, logits):
        decay = self.loss_options["log_z_decay"]
        fake = tf.stop_gradient(tf.reshape(tf.cast(logits, tf.float32), [-1]))
        batch_log_z = tf.reduce_logsumexp(fake) - tf.math.log(tf.cast(tf.size(fake), tf.float32))
        self.log_z.assign(decay * self.log_z + (1.0 - decay) * batch_log_z)

    def train_step(self, data):
        images = data["image"]
        step = self.g_optimizer.iterations
        sigma, gamma = self._schedule(step)
        reals = self._chunks(images)
        z_chunks = self._chunks(data["z"]) if "z" in data else [None] * self.n_critic
        logged = {}
        d_vars = self.discriminator.trainable_variables
        for i, (real, z_i) in enumerate(zip(reals, z_chunks)):
            critic_step = step * self.n_critic + i
            z = self._latents(z_i, tf.shape(real)[0], _Z_CRITIC, critic_step)
            power_iterate(self.discriminator)
            with tf.GradientTape() as tape:
                terms = self.critic_terms(real, z, sigma, gamma, critic_step)
                scaled = self.d_optimizer.scale_loss(terms.pop("loss"))
            grads = tape.gradient(scaled, d_vars)
            self.d_optimizer.apply_gradients(zip(grads, d_vars))
            if "weight_clipping" in self.regularizers:
                regs.clip_weights(d_vars, self.regularizers["weight_clipping"]["clip_value"])
            for name, value in terms.items():
                self._trackers[name].update_state(value)
        z = self._latents(z_chunks[-1], tf.shape(reals[-1])[0], _Z_GEN, step)
        g_vars = self.generator.trainable_variables
        power_iterate(self.generator)
        with tf.GradientTape() as tape:
            terms, logits = self.generator_terms(z, sigma, step)
            scaled = self.g_optimizer.scale_loss(terms.pop("loss"))
        grads = tape.gradient(scaled, g_vars)
        self.g_optimizer.apply_gradients(zip(grads, g_vars))
        if self.log_z is not None:
            self._update_log_z(logits)
            logged["log_z"] = self.log_z.value
        for name, value in terms.items():
            self._trackers[name].update_state(value)
        if sigma is not None:
            logged["noise_stddev"] = sigma
        if "roth_gamma" in self._trackers:
            logged["roth_gamma"] = gamma
        for name, value in logged.items():
            self._trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self._trackers.items()}

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


@dataclasses.dataclass(frozen=True)
class GANVariant:
    """Paper defaults of a named GAN variant.

    d_optimizer / g_optimizer: (Keras optimizer class name, kwargs). critic_batch_norm / spectral_norm: how to
    build the discriminator. anneal: regularizers whose schedule needs GAN(total_steps=...).
    """

    loss: str
    regularizers: dict
    n_critic: int
    d_optimizer: tuple
    g_optimizer: tuple
    critic_batch_norm: bool = True
    spectral_norm: bool = False
    reference: str = ""

    def optimizers(self, learning_rate=None):
        """Fresh (d_optimizer, g_optimizer); `learning_rate` overrides both rates when given."""
        made = []
        for class_name, kwargs in (self.d_optimizer, self.g_optimizer):
            kwargs = dict(kwargs, **({"learning_rate": learning_rate} if learning_rate else {}))
            made.append(getattr(keras.optimizers, class_name)(**kwargs))
        return tuple(made)


_DCGAN_ADAM = ("Adam", {"learning_rate": 2e-4, "beta_1": 0.5})
_GP_ADAM = ("Adam", {"learning_rate": 1e-4, "beta_1": 0.5, "beta_2": 0.9})
_RMSPROP = ("RMSprop", {"learning_rate": 5e-5})

VARIANTS = {
    "dcgan": GANVariant("nonsaturating", {}, 1, _DCGAN_ADAM, _DCGAN_ADAM, reference="Radford et al. 2016"),
    "wgan": GANVariant("wasserstein", {"weight_clipping": 0.01}, 5, _RMSPROP, _RMSPROP,
                       reference="Arjovsky et al. 2017"),
    "wgan_gp": GANVariant("wasserstein", {"gradient_penalty": 10.0}, 5, _GP_ADAM, _GP_ADAM,
                          critic_batch_norm=False, reference="Gulrajani et al. 2017"),
    "sngan": GANVariant("hinge", {}, 1, ("Adam", {"learning_rate": 1e-4, "beta_1": 0.5, "beta_2": 0.999}),
                        ("Adam", {"learning_rate": 1e-4, "beta_1": 0.5, "beta_2": 0.999}),
                        critic_batch_norm=False, spectral_norm=True,
                        reference="Miyato et al. 2018, standard CNN, setting B"),
    "roth": GANVariant("nonsaturating", {"roth": {"gamma": 2.0, "anneal": True}}, 1, _DCGAN_ADAM, _DCGAN_ADAM,
                       critic_batch_norm=False, reference="Roth et al. 2017, γ₀ = 2 annealed ×0.01"),
    "instance_noise": GANVariant("nonsaturating", {"instance_noise": {"stddev": 0.1, "anneal": True}}, 1,
                                 _DCGAN_ADAM, _DCGAN_ADAM, reference="Sønderby et al. 2017; Arjovsky & Bottou 2017"),
    "jacobian_clamping": GANVariant("nonsaturating", {"jacobian_clamping": {}}, 1, _DCGAN_ADAM, _DCGAN_ADAM,
                                    reference="Odena et al. 2018, ε = 1, λ ∈ [1, 20]"),
}


def get_variant(name):
    """The `GANVariant` called `name` (see `VARIANTS`)."""
    try:
        return VARIANTS[name]
    except KeyError:
        raise ValueError(f"unknown GAN variant {name!r}; choose from {', '.join(VARIANTS)}") from None
