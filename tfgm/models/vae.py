"""Variational autoencoder (Kingma & Welling) with a choice of pixel likelihood; thesis eq. 4.1–4.3."""

import math

import keras
import tensorflow as tf

from tfgm.losses import likelihoods, mixtures
from tfgm.models._base import SingleOptimizerMixin, SubmodelConfigMixin, TrackersMixin
from tfgm.models._seeds import step_seed

_TEST_SEED_STEP = -1
# The pixel likelihoods a VAE takes: likelihoods.LIKELIHOODS and PixelCNN++'s discretized logistic mixture.
VAE_LIKELIHOODS = likelihoods.LIKELIHOODS + ("logistic_mixture",)


@keras.saving.register_keras_serializable(package="tfgm")
class VAE(TrackersMixin, SingleOptimizerMixin, SubmodelConfigMixin, keras.Model):
    """VAE over images in [0, 1].

    encoder: Functional model images [B, H, W, C] → [z_mean, z_log_var], each [B, D].
    decoder: Functional model z [B, D] → pixel means [B, H, W, C] in [0, 1].
    likelihood: "gaussian" (learned per-pixel log σ, init 0, clamped below at `min_log_sigma`),
        "bernoulli", "discretized_logistic" (learned per-pixel log-scale, 256 bins), or "logistic_mixture"
        (PixelCNN++'s discretized logistic mixture, `tfgm.losses.logistic_mixture_log_likelihood`): then the
        decoder outputs the mixture's linear head [B, H, W, logistic_mixture_channels(K, C)] (C: the encoder's
        image channels; e.g. `discgen.celeba_decoder(..., head_channels=logistic_mixture_channels(K, C))`),
        `decode` gives the mixture's mean image and the logs add `bits_per_dim` (−ELBO / (H·W·C·ln 2)).
    sigma_lr_multiplier: m ≥ 1; every learned log σ (here the pixels'; DiscRegVAE adds its classifier layers')
        is stored as log σ / m, so each Adam step moves log σ m times further (init 0 either way: σ = 1). m = 1 is
        the paper's. From σ = 1 a scale needs ≈ |log σ̂| / lr Adam steps to reach its maximum-likelihood value σ̂
        (≈ 1000 at lr 0.002 for pixel residuals of 0.1); until then the reconstruction terms are weighed by
        σ⁻² ≈ 1 and the KL term wins (unused latent, blurred means). Short runs need m > 1.
    kl_warmup_steps: KL annealing (Bowman et al. 2016): training weighs the KL term by
        β = min(1, (step + 1) / kl_warmup_steps), the optimizer's step counting from 0; 0 (the default, the paper's
        objective) means β = 1 throughout. Evaluation (`test_step`, metrics) always uses β = 1 and the logged `kl`
        is unweighted; `loss` is the objective trained on.
    pixel_sigma: None (the paper's): the gaussian likelihood's per-pixel σ is learned; a float > 0: every pixel's σ is
        fixed at it (the variable `log_sigma_x` stays, untrained and unused). A learned σ grows with the error it
        explains: early in a short run it weighs the reconstruction term down by σ⁻² and the means stay blurred;
        a fixed small σ (e.g. 0.05) keeps that weight — and, in a DiscRegVAE, lets the pixel term outweigh the
        classifier terms (BUILD.md). Gaussian likelihood only; `min_log_sigma`'s soft floor still applies.
    max_log_var: the encoder's log σ² passes `likelihoods.bound_log_var` (unchanged below max_log_var − 4,
        saturating at max_log_var): keeps the first Adam steps from drawing |z| in the thousands, which
        overflows a float16 decoder. None (or inf) turns the bound off.
    Batches are dicts with "image" (and optionally "noise" [B, D]: the ε of the reparametrization, for
    exact replays and distribution tests). Training minimizes the per-example negative ELBO averaged over
    the global batch; logged values (`loss`, `kl`, `nll_x`) are per-example nats.
    """

    def __init__(self, encoder, decoder, likelihood="gaussian", min_log_sigma=likelihoods.MIN_LOG_SIGMA,
                 max_log_var=likelihoods.MAX_LOG_VAR, kl_warmup_steps=0, sigma_lr_multiplier=1.0, pixel_sigma=None,
                 seed=0, **kwargs):
        super().__init__(**kwargs)
        if not float(sigma_lr_multiplier) >= 1.0:
            raise ValueError(f"sigma_lr_multiplier must be >= 1 (1: the paper's), got {sigma_lr_multiplier!r}")
        if int(kl_warmup_steps) < 0:
            raise ValueError(f"kl_warmup_steps must be >= 0 (0: no warm-up), got {kl_warmup_steps!r}")
        if likelihood not in VAE_LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {VAE_LIKELIHOODS}, got {likelihood!r}")
        if pixel_sigma is not None and not (likelihood == "gaussian" and 0 < float(pixel_sigma) < math.inf):
            raise ValueError(f"pixel_sigma must be None (learned) or a finite σ > 0 with likelihood='gaussian', got "
                             f"{pixel_sigma!r} with likelihood={likelihood!r}")
        self.encoder = encoder
        self.decoder = decoder
        self.likelihood = likelihood
        self.min_log_sigma = float(min_log_sigma)
        self.max_log_var = None if max_log_var is None or math.isinf(max_log_var) else float(max_log_var)
        self.kl_warmup_steps = int(kl_warmup_steps)
        self.sigma_lr_multiplier = float(sigma_lr_multiplier)
        self.pixel_sigma = None if pixel_sigma is None else float(pixel_sigma)
        self.seed = int(seed)
        self.latent_dim = int(decoder.inputs[0].shape[-1])
        self.image_shape = tuple(int(d) for d in decoder.outputs[0].shape[1:])
        if likelihood == "logistic_mixture":
            self.image_shape = tuple(int(d) for d in encoder.inputs[0].shape[1:])
            head, per = int(decoder.outputs[0].shape[-1]), mixtures.logistic_mixture_channels(1, self.image_shape[-1])
            if head % per:
                raise ValueError(f"VAE(logistic_mixture): the decoder gives {head} channels per pixel; a mixture over "
                                 f"{self.image_shape[-1]} channel(s) needs K·{per} linear outputs "
                                 f"(tfgm.losses.logistic_mixture_channels(K, {self.image_shape[-1]}))")
            self.mixture_components = head // per
        self.log_sigma_x = None
        if likelihood in ("gaussian", "discretized_logistic"):
            self.log_sigma_x = self.add_weight(shape=self.image_shape, initializer="zeros", name="log_sigma_x",
                                               trainable=self.pixel_sigma is None)
        self._init_trackers(self.tracked_terms())
        self.built = True

    def tracked_terms(self):
        """Names of the per-example terms logged each step (all in nats per example)."""
        return ("loss", "kl", "nll_x") + (("bits_per_dim",) if self.likelihood == "logistic_mixture" else ())

    def encode(self, images, training=False):
        """images [B, H, W, C] → (z_mean, z_log_var), each [B, D], float32 (also under mixed precision);
        z_log_var is bounded above (see `max_log_var`)."""
        z_mean, z_log_var = self.encoder(images, training=training)
        z_log_var = tf.cast(z_log_var, tf.float32)
        if self.max_log_var is not None:
            z_log_var = likelihoods.bound_log_var(z_log_var, self.max_log_var)
        return tf.cast(z_mean, tf.float32), z_log_var

    def decode(self, z, training=False):
        """z [B, D] → pixel means [B, H, W, C] in [0, 1], float32 (logistic_mixture: the mixture's mean image)."""
        return self.mean_image(self.decode_head(z, training))

    def decode_head(self, z, training=False):
        """z [B, D] → the decoder's output, float32: what `log_px_given_z` takes (the pixel means, or the
        mixture's head [B, H, W, P] for logistic_mixture)."""
        return tf.cast(self.decoder(z, training=training), tf.float32)

    def mean_image(self, head):
        """The decoder's output → pixel means [B, H, W, C] in [0, 1] (itself, except for logistic_mixture)."""
        if self.likelihood == "logistic_mixture":
            return mixtures.logistic_mixture_mean(head, self.image_shape[-1])
        return head

    def reconstruct(self, images):
        """Decoder mean at the posterior mean: [B, H, W, C] → [B, H, W, C]."""
        return self.decode(self.encode(images)[0])

    def sample(self, n, seed=0):
        """n images decoded from z ~ N(0, I) drawn with a stateless seed (int or [2] tensor)."""
        seed = tf.cast(seed, tf.int32)
        if seed.shape.rank == 0:
            seed = tf.stack([seed, 0])
        z = tf.random.stateless_normal([n, self.latent_dim], seed=seed)
        return self.decode(z)

    def call(self, images, training=False):
        z_mean, _ = self.encode(images, training=training)
        return self.decode(z_mean, training=training)

    def learned_log_sigma(self, variable):
        """The log σ a learned-scale variable stands for (see `sigma_lr_multiplier`); any shape."""
        return variable * self.sigma_lr_multiplier if self.sigma_lr_multiplier != 1.0 else variable

    def log_px_given_z(self, images, x_mean):
        """log p(x|z) per example given the decoder's output `decode_head(z)` (= `decode(z)`, the pixel means,
        except for logistic_mixture: its head); [B]."""
        if self.likelihood == "logistic_mixture":
            if x_mean.shape[-1] == self.image_shape[-1]:
                raise ValueError("VAE(logistic_mixture).log_px_given_z takes the decoder's mixture head "
                                 "decode_head(z), not the mean image decode(z)")
            return mixtures.logistic_mixture_log_likelihood(images, x_mean)
        if self.likelihood == "bernoulli":
            return likelihoods.bernoulli_log_likelihood(images, x_mean)
        if self.pixel_sigma is not None:
            log_sigma = tf.fill(self.image_shape, math.log(self.pixel_sigma))
        else:
            log_sigma = self.learned_log_sigma(self.log_sigma_x)
        if self.likelihood == "gaussian":
            return likelihoods.gaussian_log_likelihood(images, x_mean, log_sigma, self.min_log_sigma)
        return likelihoods.discretized_logistic_log_likelihood(images, x_mean, log_sigma)

    def kl_weight(self, step):
        """β of the KL term at optimizer step `step` (int tensor): 1 without warm-up."""
        if not self.kl_warmup_steps:
            return tf.constant(1.0)
        return tf.minimum(1.0, tf.cast(step + 1, tf.float32) / float(self.kl_warmup_steps))

    def per_example_terms(self, images, noise, training, kl_weight=1.0):
        """Per-example objective terms, each [B]; "loss" is what training minimizes (with the KL weighed by
        `kl_weight`; the logged "kl" is unweighted)."""
        z_mean, z_log_var = self.encode(images, training=training)
        z = z_mean + tf.exp(0.5 * z_log_var) * noise
        head = self.decode_head(z, training=training)
        x_mean = self.mean_image(head)
        kl = likelihoods.gaussian_kl(z_mean, z_log_var)
        nll_x = -self.log_px_given_z(images, head)
        terms = {"kl": kl, "nll_x": nll_x}
        if self.likelihood == "logistic_mixture":
            terms["bits_per_dim"] = (kl + nll_x) / (math.prod(self.image_shape) * math.log(2.0))
        terms.update(self.extra_terms(images, z, x_mean, training))
        terms["loss"] = tf.add_n([kl_weight * kl] + [v for k, v in terms.items() if k not in ("kl", "bits_per_dim")])
        return terms

    def extra_terms(self, images, z, x_mean, training):
        """Hook for subclasses: more per-example loss terms [B] added to the objective."""
        return {}

    def _noise(self, data, seed):
        images = data["image"]
        if "noise" in data:
            return tf.cast(data["noise"], images.dtype)
        return tf.random.stateless_normal([tf.shape(images)[0], self.latent_dim], seed=seed, dtype=images.dtype)

    def train_step(self, data):
        images = data["image"]
        noise = self._noise(data, step_seed(self.seed, self.optimizer.iterations))
        with tf.GradientTape() as tape:
            terms = self.per_example_terms(images, noise, training=True,
                                           kl_weight=self.kl_weight(self.optimizer.iterations))
            loss = tf.nn.compute_average_loss(terms["loss"])
            scaled = self.optimizer.scale_loss(loss)
        variables = self.trainable_variables
        grads = tape.gradient(scaled, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        return self._update_trackers(terms)

    def batch_norm_forward(self, data):
        """A training-mode forward pass as in `train_step` (encoder on the batch, decoder on posterior samples,
        fixed noise) that changes no weight: what `tfgm.training.BatchNormRecalibration` runs to recompute
        batch-norm statistics. data: a batch dict with "image"."""
        images = data["image"]
        noise = tf.random.stateless_normal([tf.shape(images)[0], self.latent_dim], seed=[self.seed, -2],
                                           dtype=images.dtype)
        self.per_example_terms(images, noise, training=True)

    def test_step(self, data):
        noise = self._noise(data, step_seed(self.seed, _TEST_SEED_STEP))
        return self._update_trackers(self.per_example_terms(data["image"], noise, training=False))

    serving_default = "decode"
    serving_input_ranges = {"images": (0.0, 1.0)}  # served requests outside it are refused (not 8-bit pixels)

    def serving_endpoints(self):
        """Serving signatures: {name: (fn, input_signature)}; each fn returns a dict of float32 tensors.

        decode(z [B, D]) → images; sample(n, seed) → images, z (stateless: same seed, same images);
        reconstruct(images [B, H, W, C] in [0, 1]) → images; encode(images) → z_mean, z_log_var.
        """
        image_spec = tf.TensorSpec((None,) + self.image_shape, tf.float32, name="images")
        z_spec = tf.TensorSpec((None, self.latent_dim), tf.float32, name="z")

        def sample(n, seed):
            z = tf.random.stateless_normal(tf.stack([n, self.latent_dim]), seed=tf.stack([seed, tf.zeros_like(seed)]))
            return {"images": self.decode(z), "z": z}

        def encode(images):
            z_mean, z_log_var = self.encode(images)
            return {"z_mean": z_mean, "z_log_var": z_log_var}

        return {
            "decode": (lambda z: {"images": self.decode(z)}, [z_spec]),
            "sample": (sample, [tf.TensorSpec([], tf.int32, name="n"), tf.TensorSpec([], tf.int64, name="seed")]),
            "reconstruct": (lambda images: {"images": self.reconstruct(images)}, [image_spec]),
            "encode": (encode, [image_spec]),
        }

    def onnx_graphs(self):
        """Deterministic sub-graphs for ONNX: {name: (fn, input_signature)}; the client draws z."""
        z_spec = tf.TensorSpec((None, self.latent_dim), tf.float32, name="z")
        return {"decoder": (lambda z: {"images": self.decode(z)}, [z_spec])}

    SUBMODELS = ("encoder", "decoder")

    def get_config(self):
        return self._config(likelihood=self.likelihood, min_log_sigma=self.min_log_sigma, max_log_var=self.max_log_var,
                            kl_warmup_steps=self.kl_warmup_steps, sigma_lr_multiplier=self.sigma_lr_multiplier,
                            pixel_sigma=self.pixel_sigma, seed=self.seed)
