"""GibbsNet (Lamb, Hjelm, Ganin, Cohen, Courville & Bengio; thesis ch. 3) and ALI (Dumoulin et al.), its N = 1 case."""

import contextlib

import keras
import tensorflow as tf

from tfgm._random import seed_pair
from tfgm.losses import gan
from tfgm.models._base import SubmodelConfigMixin, TrackersMixin, TwoOptimizerMixin, update_log_z
from tfgm.models._seeds import step_seed

LOSSES = ("bgan", "ls_multihead")
_TEST_SEED_STEP = -1


def _fold(seed, i):
    return tf.random.experimental.stateless_fold_in(seed, tf.cast(i, tf.int32))


@keras.saving.register_keras_serializable(package="tfgm")
class GibbsNet(TrackersMixin, TwoOptimizerMixin, SubmodelConfigMixin, keras.Model):
    """Joint model p(x|z), q(z|x) trained by matching the clamped and unclamped chains' (x, z) pairs.

    encoder: Functional model images [B, H, W, C] → [z_mean, s], each [B, D]; σ = exp(s) (s is log σ), or
        σ = sigmoid(s) ∈ (0, 1) with `bounded_sigma`. ẑ = μ + σ·ε, ε ~ N(0, I).
    decoder: Functional model z [B, D] (or [z [B, D], noise [B, K]]: the decoder-noise option, detected from
        its inputs) → images [B, H, W, C] in [0, 1] (sigmoid output, used as the sample x).
    discriminator: Functional model [images [B, H, W, C], z [B, D]] → logits [B, K] (K heads; K = 1 for ALI).
    train_steps: N, the unclamped chain's length in training: z₀ ~ N(0, I), x₁ = G(z₀), z₁ ~ q(z|x₁), …,
        x_N = G(z_{N−1}); (x_N, z_{N−1}) is the fake pair, (x, ẑ ~ q(z|x)) the real one. Only the last
        transition carries gradient (thesis §3.4: "through a single step"): x_{N−1} and everything before it
        are constants. N = 1 is ALI.
    chain_encoder_gradient: True (thesis §3.3: the encoder "gets its training signal from both the
        discriminator in the clamped chain and from the gradient in the unclamped chain"): the fake pair's
        loss reaches the encoder through z_{N−1} = q(x_{N−1}), which enters both D and x_N = G(z_{N−1}).
        False stops the gradient at z_{N−1} (an ablation: for N > 1 the encoder then learns from the real
        pair only, as in ALI, and only the decoder learns from the fake pair). No effect when N = 1.
    loss: "bgan": D minimizes sigmoid CE (mean over heads); G/E minimize mean((f_fake − log Z)²) +
        mean((f_real + log Z')²) (log Z = 0 unless `log_z_ema`: EMAs with γ = `log_z_gamma` of
        logsumexp(±f) − log N). "ls_multihead": least squares (real → 1, fake → 0) averaged over D's heads,
        G/E with swapped targets.
    standardize_z: every ẑ passes through a parameter-free batch standardization (batch statistics in
        training, moving statistics at inference).
    bounded_sigma and standardize_z are the authors' code's options (METHODS.md §3), off here (the published
    ALI) and on by default in the GibbsNet recipes: without standardize_z, q(z|x) drifts away from N(0, I), where
    the unclamped chain starts, and GibbsNet's chain collapses to one class (BUILD.md, GibbsNet ablation).
    Batches are dicts with "image"; D and (G, E) are updated simultaneously on the same batch with
    `compile(d_optimizer=..., g_optimizer=...)` (each default: Adam with Keras' defaults). Logged: d_loss, g_loss,
    real_logit, fake_logit.
    """

    def __init__(self, encoder, decoder, discriminator, train_steps=3, loss="bgan", log_z_ema=False,
                 log_z_gamma=0.995, bounded_sigma=False, standardize_z=False, chain_encoder_gradient=True, seed=0,
                 **kwargs):
        super().__init__(**kwargs)
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
        if int(train_steps) < 1:
            raise ValueError(f"train_steps must be >= 1 (1 is ALI), got {train_steps!r}")
        self._check_nets(encoder, decoder, discriminator)
        self.encoder = encoder
        self.decoder = decoder
        self.discriminator = discriminator
        self.train_steps = int(train_steps)
        self.loss_name = loss
        self.log_z_ema = bool(log_z_ema)
        self.log_z_gamma = float(log_z_gamma)
        self.bounded_sigma = bool(bounded_sigma)
        self.standardize_z = bool(standardize_z)
        self.chain_encoder_gradient = bool(chain_encoder_gradient)
        self.seed = int(seed)
        self.latent_dim = int(encoder.outputs[0].shape[-1])
        self.image_shape = tuple(int(d) for d in decoder.outputs[0].shape[1:])
        self.decoder_noise_dim = int(decoder.inputs[1].shape[-1]) if len(decoder.inputs) == 2 else 0
        self.z_standardizer = None
        if self.standardize_z:
            self.z_standardizer = keras.layers.BatchNormalization(center=False, scale=False, momentum=0.99,
                                                                  name="z_standardizer")
            self.z_standardizer.build((None, self.latent_dim))
        self.log_z_fake = self.add_weight(shape=(), initializer="zeros", trainable=False, aggregation="mean",
                                          name="log_z_fake")
        self.log_z_real = self.add_weight(shape=(), initializer="zeros", trainable=False, aggregation="mean",
                                          name="log_z_real")
        self._init_trackers(self.tracked_terms())
        self.built = True

    @staticmethod
    def _check_nets(encoder, decoder, discriminator):
        if len(encoder.outputs) != 2:
            raise ValueError(f"encoder must output [z_mean, s] (2 tensors), got {len(encoder.outputs)} outputs")
        if len(discriminator.inputs) != 2:
            raise ValueError("discriminator must take [images, z] (2 inputs)")

    def tracked_terms(self):
        """Names of the per-example terms logged each step."""
        return ("d_loss", "g_loss", "real_logit", "fake_logit")

    @property
    def generator_variables(self):
        """Trainable variables of the encoder and decoder (updated by `g_optimizer`)."""
        return self.encoder.trainable_variables + self.decoder.trainable_variables

    @staticmethod
    def default_optimizer():
        """The optimizer of D or (G, E) when `compile` is not given one: Adam with Keras' defaults."""
        return keras.optimizers.Adam()

    # ---- the two conditionals -------------------------------------------------------------------------
    def encode(self, images, training=False):
        """images [B, H, W, C] in [0, 1] → (z_mean, z_sigma), each [B, D], float32 (also under mixed precision);
        σ > 0."""
        z_mean, s = self.encoder(images, training=training)
        return tf.cast(z_mean, tf.float32), self._sigma(tf.cast(s, tf.float32))

    def _sigma(self, s):
        """The encoder's scale output s → σ > 0: sigmoid(s) with `bounded_sigma`, else exp(s)."""
        return tf.sigmoid(s) if self.bounded_sigma else tf.exp(s)

    def _standardize(self, z, training):
        return self.z_standardizer(z, training=training) if self.standardize_z else z

    def _posterior_sample(self, z_mean, sigma, seed, training):
        """The (standardized) mean if `seed` is None, else z_mean + σ·ε with ε ~ N(0, I) from `seed`."""
        if seed is None:
            return self._standardize(z_mean, training)
        eps = tf.random.stateless_normal(tf.shape(z_mean), seed=seed_pair(seed), dtype=z_mean.dtype)
        return self._standardize(z_mean + sigma * eps, training)

    def infer(self, images, seed=None, training=False):
        """ẑ for images [B, H, W, C]: the (standardized) mean if `seed` is None, else a sample of q(z|x)."""
        return self._posterior_sample(*self.encode(images, training=training), seed, training)

    def decode(self, z, seed=None, training=False):
        """z [B, D] → images [B, H, W, C] in [0, 1], float32; the decoder-noise input is N(0, I) from `seed`,
        or 0."""
        return tf.cast(self.decoder(self._decoder_inputs(z, seed), training=training), tf.float32)

    def _decoder_inputs(self, z, seed):
        """z, or [z, noise] with the decoder-noise option (noise N(0, I) from `seed`, or 0 when None)."""
        if not self.decoder_noise_dim:
            return z
        shape = tf.stack([tf.shape(z)[0], self.decoder_noise_dim])
        if seed is None:
            noise = tf.zeros(shape, z.dtype)
        else:
            noise = tf.random.stateless_normal(shape, seed=seed_pair(seed), dtype=z.dtype)
        return [z, noise]

    def _transition(self, z, seed, training):
        """One unclamped training step: x = G(z), z' ~ q(z|x) with no gradient into x (nor into z, whose
        gradient the caller stops); returns (x, z'), x as computed (before the stop)."""
        x = self.decode(z, seed=_fold(seed, 0), training=training)
        return x, self.infer(tf.stop_gradient(x), seed=_fold(seed, 1), training=training)

    def _fake_pair_z(self, z):
        """z_{N−1} as it enters the fake pair: with its gradient into the encoder (`chain_encoder_gradient`), or
        stopped (the ablation, and z₀ when N = 1, which has none anyway)."""
        return z if self.chain_encoder_gradient else tf.stop_gradient(z)

    def call(self, images, training=False):
        return self.decode(self.infer(images, training=training), training=training)

    # ---- chains -------------------------------------------------------------------------------------
    def _chain(self, z, steps, seed, observed=None, keep=None, record=False, batch_statistics=False):
        """`steps` transitions from z [B, D] as a tf.while_loop; x is clamped to `observed` where `keep`.
        `batch_statistics`: batch norm normalizes with the chains' own batch statistics, as in the training
        chain, and no moving average is updated (the layers run in a `keras.StatelessScope`).

        Returns (x [B, H, W, C], z [B, D], chain [steps, B, H, W, C] or None).
        """
        steps = tf.cast(steps, tf.int32)
        batch = tf.shape(z)[0]
        x0 = tf.zeros(tf.concat([[batch], self.image_shape], 0), z.dtype)
        chain = tf.TensorArray(z.dtype, size=steps, element_shape=tf.TensorShape((None,) + self.image_shape))

        def body(i, x, z, chain):
            step_seed_ = _fold(seed, i)
            x = self.decode(z, seed=_fold(step_seed_, 0), training=batch_statistics)
            if observed is not None:
                x = tf.where(keep, observed, x)
            z = self.infer(x, seed=_fold(step_seed_, 1), training=batch_statistics)
            if record:
                chain = chain.write(i, x)
            return i + 1, x, z, chain

        with keras.StatelessScope() if batch_statistics else contextlib.nullcontext():
            _, x, z, chain = tf.while_loop(lambda i, *_: i < steps, body, (tf.constant(0), x0, z, chain),
                                           maximum_iterations=steps)
        return x, z, (chain.stack() if record else None)

    def run_chain(self, z, steps, seed=0, return_chain=False, batch_statistics=False):
        """Continue the unclamped chain from z [B, D] for `steps` steps: (x [B, H, W, C], z [B, D], chain
        [steps, B, H, W, C] or None). Feeding the returned z back in continues a long chain piece by piece.
        `batch_statistics`: see `sample`."""
        x, z, chain = self._chain(tf.convert_to_tensor(z, tf.float32), steps, seed_pair(seed), record=return_chain,
                                  batch_statistics=batch_statistics)
        return x, z, chain

    def sample(self, n, steps=1, seed=0, return_chain=False, batch_statistics=False):
        """Run the unclamped chain `steps` (≥ 1) times from z₀ ~ N(0, I): images [n, H, W, C] in [0, 1],
        or the whole chain x₁…x_steps as [steps, n, H, W, C] with `return_chain`. Stateless in `seed`.

        `batch_statistics`: batch norm uses the n chains' batch statistics, as the training chain does (the
        n chains then depend on each other: use n ≳ the training batch), instead of the moving averages
        (each chain on its own; what the served `sample` endpoint does). No moving average changes."""
        seed = seed_pair(seed)
        z = tf.random.stateless_normal(tf.stack([n, self.latent_dim]), seed=_fold(seed, -1))
        x, _, chain = self._chain(z, steps, seed, record=return_chain, batch_statistics=batch_statistics)
        return chain if return_chain else x

    def inpaint(self, images, mask, steps=20, seed=0, return_chain=False, batch_statistics=False):
        """Fill the unobserved pixels of images [B, H, W, C] (mask broadcastable to it; > 0.5 = observed).

        Unobserved pixels start at 0.5; each step z ~ q(z|x), x ← merge(G(z), observed). Observed pixels are
        returned unchanged. Returns images [B, H, W, C] (or the chain [steps, B, H, W, C]).
        `batch_statistics`: see `sample` (the first encoding too).
        """
        images = tf.convert_to_tensor(images, tf.float32)
        keep = tf.broadcast_to(tf.convert_to_tensor(mask) > 0.5, tf.shape(images))
        seed = seed_pair(seed)
        x0 = tf.where(keep, images, tf.fill(tf.shape(images), 0.5))
        with keras.StatelessScope() if batch_statistics else contextlib.nullcontext():
            z = self.infer(x0, seed=_fold(seed, -1), training=batch_statistics)
        x, _, chain = self._chain(z, steps, seed, observed=images, keep=keep, record=return_chain,
                                  batch_statistics=batch_statistics)
        return chain if return_chain else x

    # ---- training -----------------------------------------------------------------------------------
    def per_example_terms(self, images, seed, training, return_chain=False):
        """Losses of one simultaneous step on images [B, H, W, C] with a [2] seed; per-example [B] values.

        Keys: d_loss, g_loss, g_fake, g_real, real_logit, fake_logit (mean over heads); with
        `return_chain` also "x_chain" [x₁…x_N], "z_chain" [z₀…z_{N−1}] (pre-stop-gradient tensors; of them
        only x_N and, with `chain_encoder_gradient`, z_{N−1} receive gradient) and "z_real" (the clamped ẑ).
        """
        seed = seed_pair(seed)
        batch = tf.shape(images)[0]
        z_real = self.infer(images, seed=_fold(seed, 1), training=training)
        z = tf.random.stateless_normal(tf.stack([batch, self.latent_dim]), seed=_fold(seed, 2), dtype=images.dtype)
        xs, zs = [], [z]
        for step in range(self.train_steps - 1):
            x, z = self._transition(tf.stop_gradient(z), _fold(seed, 10 + step), training)
            xs.append(x)
            zs.append(z)
        z_last = self._fake_pair_z(z)
        x_fake = self.decode(z_last, seed=_fold(seed, 3), training=training)
        xs.append(x_fake)
        logits = self.discriminator([tf.concat([images, x_fake], 0), tf.concat([z_real, z_last], 0)],
                                    training=training)
        logits = tf.reshape(tf.cast(logits, tf.float32), [2 * batch, -1])
        real, fake = logits[:batch], logits[batch:]
        if self.loss_name == "bgan":
            d_loss = gan.discriminator_loss(real, fake, reduction="none")
            g_fake = gan.bgan_generator_loss(fake, self.log_z_fake if self.log_z_ema else None, reduction="none")
            g_real = gan.bgan_generator_loss(-real, self.log_z_real if self.log_z_ema else None, reduction="none")
        else:
            d_loss = gan.least_squares_discriminator_loss(real, fake, a=0.0, b=1.0, reduction="none")
            g_fake = gan.least_squares_generator_loss(fake, c=1.0, reduction="none")
            g_real = gan.least_squares_generator_loss(real, c=0.0, reduction="none")
        terms = {"d_loss": d_loss, "g_loss": g_fake + g_real, "g_fake": g_fake, "g_real": g_real,
                 "real_logit": tf.reduce_mean(real, 1), "fake_logit": tf.reduce_mean(fake, 1),
                 "_real": real, "_fake": fake}
        if return_chain:
            terms.update(x_chain=xs, z_chain=zs, z_real=z_real)
        return terms

    def _batch_terms(self, data, seed, training):
        """`per_example_terms` of a batch dict (the joint model also reads its "attributes")."""
        return self.per_example_terms(data["image"], seed, training=training)

    def train_step(self, data):
        seed = step_seed(self.seed, self.d_optimizer.iterations)
        d_vars = self.discriminator.trainable_variables
        g_vars = self.generator_variables
        with tf.GradientTape(persistent=True) as tape:
            terms = self._batch_terms(data, seed, training=True)
            d_loss = self.d_optimizer.scale_loss(tf.nn.compute_average_loss(terms["d_loss"]))
            g_loss = self.g_optimizer.scale_loss(tf.nn.compute_average_loss(terms["g_loss"]))
        d_grads = tape.gradient(d_loss, d_vars)
        g_grads = tape.gradient(g_loss, g_vars)
        del tape
        self.d_optimizer.apply_gradients(zip(d_grads, d_vars))
        self.g_optimizer.apply_gradients(zip(g_grads, g_vars))
        if self.log_z_ema:
            update_log_z(self.log_z_fake, terms["_fake"], self.log_z_gamma)
            update_log_z(self.log_z_real, -terms["_real"], self.log_z_gamma)
        return self._update_trackers(terms)

    def test_step(self, data):
        terms = self._batch_terms(data, step_seed(self.seed, _TEST_SEED_STEP), training=False)
        return self._update_trackers(terms)

    # ---- export -------------------------------------------------------------------------------------
    serving_default = "sample"
    serving_input_ranges = {"images": (0.0, 1.0), "mask": (0.0, 1.0)}  # served requests outside are refused

    def serving_endpoints(self):
        """Serving signatures: {name: (fn, input_signature)}, each returning a dict of float32 tensors.

        sample(n, steps, seed) → images [n, H, W, C] after `steps` chain steps (stateless in seed);
        inpaint(images, mask, steps) → images (mask > 0.5 observed; fixed seed 0);
        encode(images) → z_mean, z_sigma; decode(z) → images (decoder noise 0).
        """
        image_spec = tf.TensorSpec((None,) + self.image_shape, tf.float32, name="images")
        mask_spec = tf.TensorSpec((None,) + self.image_shape, tf.float32, name="mask")
        z_spec = tf.TensorSpec((None, self.latent_dim), tf.float32, name="z")
        int_spec = lambda name: tf.TensorSpec([], tf.int32, name=name)  # noqa: E731

        def sample(n, steps, seed):
            return {"images": self.sample(n, steps=steps, seed=tf.stack([tf.cast(seed, tf.int32), 0]))}

        def inpaint(images, mask, steps):
            return {"images": self.inpaint(images, mask, steps=steps, seed=0)}

        def encode(images):
            z_mean, sigma = self.encode(images)
            return {"z_mean": z_mean, "z_sigma": sigma}

        return {
            "sample": (sample, [int_spec("n"), int_spec("steps"), tf.TensorSpec([], tf.int64, name="seed")]),
            "inpaint": (inpaint, [image_spec, mask_spec, int_spec("steps")]),
            "encode": (encode, [image_spec]),
            "decode": (lambda z: {"images": self.decode(z)}, [z_spec]),
        }

    def onnx_graphs(self):
        """Deterministic sub-graphs for ONNX: the encoder mean (before any z standardization) and the decoder."""
        image_spec = tf.TensorSpec((None,) + self.image_shape, tf.float32, name="images")
        z_spec = tf.TensorSpec((None, self.latent_dim), tf.float32, name="z")
        return {"encoder_mean": (lambda images: {"z_mean": self.encode(images)[0]}, [image_spec]),
                "decoder": (lambda z: {"images": self.decode(z)}, [z_spec])}

    SUBMODELS = ("encoder", "decoder", "discriminator")

    def get_config(self):
        return self._config(train_steps=self.train_steps, loss=self.loss_name, log_z_ema=self.log_z_ema,
                            log_z_gamma=self.log_z_gamma, bounded_sigma=self.bounded_sigma,
                            standardize_z=self.standardize_z, chain_encoder_gradient=self.chain_encoder_gradient,
                            seed=self.seed)


@keras.saving.register_keras_serializable(package="tfgm")
class ALI(GibbsNet):
    """Adversarially learned inference: GibbsNet with a one-step unclamped chain (train_steps = 1)."""

    def __init__(self, encoder, decoder, discriminator, train_steps=1, **kwargs):
        if int(train_steps) != 1:
            raise ValueError(f"ALI trains with train_steps=1 (use GibbsNet for longer chains), got {train_steps}")
        super().__init__(encoder, decoder, discriminator, train_steps=1, **kwargs)
