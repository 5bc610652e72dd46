"""Variational autoencoder (Kingma & Welling) with a choice of pixel likelihood; thesis eq. 4.1–4.3."""

import math

import keras
import tensorflow as tf

from tfgm.losses import likelihoods
from tfgm.models._base import SingleOptimizerMixin, SubmodelConfigMixin
from tfgm.models._seeds import step_seed

_TEST_SEED_STEP = -1


@keras.saving.register_keras_serializable(package="tfgm")
class VAE(SingleOptimizerMixin, SubmodelConfigMixin, keras.Model):
    """VAE over images in [0, 1].

    encoder: Functional model images [B, H, W, C] → [z_mean, z_log_var], each [B, D].
    decoder: Functional model z [B, D] → pixel means [B, H, W, C] in [0, 1].
    likelihood: "gaussian" (learned per-pixel log σ, init 0, clamped below at `min_log_sigma`),
        "bernoulli", or "discretized_logistic" (learned per-pixel log-scale, 256 bins).
    max_log_var: the encoder's log σ² passes `likelihoods.bound_log_var` (unchanged below max_log_var − 4,
        saturating at max_log_var): keeps the first Adam steps from drawing |z| in the thousands, which
        overflows a float16 decoder. None (or inf) turns the bound off.
    Batches are dicts with "image" (and optionally "noise" [B, D]: the ε of the reparametrization, for
    exact replays and distribution tests). Training minimizes the per-example negative ELBO averaged over
    the global batch; logged values (`loss`, `kl`, `nll_x`) are per-example nats.
    """

    def __init__(self, encoder, decoder, likelihood="gaussian", min_log_sigma=likelihoods.MIN_LOG_SIGMA,
                 max_log_var=likelihoods.MAX_LOG_VAR, seed=0, **kwargs):
        super().__init__(**kwargs)
        if likelihood not in likelihoods.LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {likelihoods.LIKELIHOODS}, got {likelihood!r}")
        self.encoder = encoder
        self.decoder = decoder
        self.likelihood = likelihood
        self.min_log_sigma = float(min_log_sigma)
        self.max_log_var = None if max_log_var is None or math.isinf(max_log_var) else float(max_log_var)
        self.seed = int(seed)
        self.latent_dim = int(decoder.inputs[0].shape[-1])
        self.image_shape = tuple(int(d) for d in decoder.outputs[0].shape[1:])
        self.log_sigma_x = None
        if likelihood != "bernoulli":
            self.log_sigma_x = self.add_weight(shape=self.image_shape, initializer="zeros", name="log_sigma_x")
        self._trackers = {}
        for name in self.tracked_terms():
            self._trackers[name] = keras.metrics.Mean(name=name)
        self.built = True

    def tracked_terms(self):
        """Names of the per-example terms logged each step (all in nats per example)."""
        return ("loss", "kl", "nll_x")

    @property
    def metrics(self):
        return list(self._trackers.values())

    def encode(self, images, training=False):
        """images [B, H, W, C] → (z_mean, z_log_var), each [B, D], float32 (also under mixed precision);
        z_log_var is bounded above (see `max_log_var`)."""
        z_mean, z_log_var = self.encoder(images, training=training)
        z_log_var = tf.cast(z_log_var, tf.float32)
        if self.max_log_var is not None:
            z_log_var = likelihoods.bound_log_var(z_log_var, self.max_log_var)
        return tf.cast(z_mean, tf.float32), z_log_var

    def decode(self, z, training=False):
        """z [B, D] → pixel means [B, H, W, C] in [0, 1], float32."""
        return tf.cast(self.decoder(z, training=training), tf.float32)

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

    def log_px_given_z(self, images, x_mean):
        """log p(x|z) per example given the decoder mean; [B]."""
        if self.likelihood == "gaussian":
            return likelihoods.gaussian_log_likelihood(images, x_mean, self.log_sigma_x, self.min_log_sigma)
        if self.likelihood == "bernoulli":
            return likelihoods.bernoulli_log_likelihood(images, x_mean)
        return likelihoods.discretized_logistic_log_likelihood(images, x_mean, self.log_sigma_x)

    def per_example_terms(self, images, noise, training):
        """Per-example objective terms, each [B]; "loss" is what training minimizes."""
        z_mean, z_log_var = self.encode(images, training=training)
        z = z_mean + tf.exp(0.5 * z_log_var) * noise
        x_mean = self.decode(z, training=training)
        kl = likelihoods.gaussian_kl(z_mean, z_log_var)
        nll_x = -self.log_px_given_z(images, x_mean)
        terms = {"kl": kl, "nll_x": nll_x}
        terms.update(self.extra_terms(images, z, x_mean, training))
        terms["loss"] = tf.add_n(list(terms.values()))
        return terms

    def extra_terms(self, images, z, x_mean, training):
        """Hook for subclasses: more per-example loss terms [B] added to the objective."""
        return {}

    def _noise(self, data, seed):
        images = data["image"]
        if "noise" in data:
            return tf.cast(data["noise"], images.dtype)
        return tf.random.stateless_normal([tf.shape(images)[0], self.latent_dim], seed=seed, dtype=images.dtype)

    def _update_trackers(self, terms):
        for name, tracker in self._trackers.items():
            tracker.update_state(terms[name])
        return {name: tracker.result() for name, tracker in self._trackers.items()}

    def train_step(self, data):
        images = data["image"]
        noise = self._noise(data, step_seed(self.seed, self.optimizer.iterations))
        with tf.GradientTape() as tape:
            terms = self.per_example_terms(images, noise, training=True)
            loss = tf.nn.compute_average_loss(terms["loss"])
            scaled = self.optimizer.scale_loss(loss)
        variables = self.trainable_variables
        grads = tape.gradient(scaled, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        return self._update_trackers(terms)

    def test_step(self, data):
        noise = self._noise(data, step_seed(self.seed, _TEST_SEED_STEP))
        return self._update_trackers(self.per_example_terms(data["image"], noise, training=False))

    serving_default = "decode"

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
                            seed=self.seed)
