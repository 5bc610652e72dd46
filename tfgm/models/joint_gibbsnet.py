"""GibbsNet over images and binary attributes jointly (thesis §3.6.3, fig. 3.6); train_steps = 1 is joint ALI."""

import contextlib

import keras
import tensorflow as tf

from tfgm._random import seed_pair
from tfgm.losses import gan
from tfgm.models.gibbsnet import GibbsNet, _fold


def _bernoulli(logits, seed):
    """Binary samples {0, 1} of Bernoulli(sigmoid(logits)), float32, stateless in a [2] seed."""
    u = tf.random.stateless_uniform(tf.shape(logits), seed=seed)
    return tf.cast(u < tf.sigmoid(logits), tf.float32)


@keras.saving.register_keras_serializable(package="tfgm")
class JointGibbsNet(GibbsNet):
    """GibbsNet on pairs (x, y): images x [B, H, W, C] in [0, 1] and binary attributes y [B, A] in {0, 1}.

    encoder: [images, attributes] → [z_mean, s] (q(z|x, y); σ as in GibbsNet).
    decoder: z [B, D] (or [z, noise]) → [images in [0, 1], attribute logits [B, A]] (p(x, y|z), two heads).
    discriminator: [images, attributes, z] → logits [B, heads].
    Real pair (x, y, ẑ ~ q(z|x, y)); the unclamped chain z₀ ~ N(0, I), (x₁, y₁) ~ p(x, y|z₀), z₁ ~ q(z|x₁, y₁),
    … with y_k sampled (binary); fake pairs (x_N, y_N⁽ᵐ⁾, z_{N−1}), m = 1…M (`attribute_samples`) draws of
    the attributes. Losses (per example): D: softplus(−f_real) + mean_m softplus(f_m) (mean over heads);
    image side, continuous BGAN: mean_m (f_m − log Z)² + (f_real + log Z')²; attribute side, discrete BGAN
    (Hjelm et al. 2018): −Σ_m w̃_m log p(y⁽ᵐ⁾|z_{N−1}) with w̃ = softmax over m of f_m (no gradient through w̃).
    Only the last transition carries gradient: (x_{N−1}, y_{N−1}) and everything before are constants; with
    `chain_encoder_gradient` (default, as GibbsNet) the fake pairs' losses reach the encoder through
    z_{N−1} = q(x_{N−1}, y_{N−1}), False stops it there (ablation). Batches are dicts with "image" and
    "attributes".
    Logged: d_loss, g_loss, g_attributes, real_logit, fake_logit.
    """

    def __init__(self, encoder, decoder, discriminator, train_steps=3, attribute_samples=8, loss="bgan", **kwargs):
        if loss != "bgan":
            raise ValueError(f"JointGibbsNet trains with loss='bgan' (discrete BGAN for attributes), got {loss!r}")
        if int(attribute_samples) < 1:
            raise ValueError(f"attribute_samples must be >= 1, got {attribute_samples!r}")
        super().__init__(encoder, decoder, discriminator, train_steps=train_steps, loss=loss, **kwargs)
        self.attribute_samples = int(attribute_samples)
        self.num_attributes = int(decoder.outputs[1].shape[-1])

    def tracked_terms(self):
        return super().tracked_terms() + ("g_attributes",)

    @staticmethod
    def _check_nets(encoder, decoder, discriminator):
        if len(encoder.inputs) != 2 or len(encoder.outputs) != 2:
            raise ValueError("encoder must map [images, attributes] to [z_mean, s]; got "
                             f"{len(encoder.inputs)} inputs and {len(encoder.outputs)} outputs")
        if len(decoder.outputs) != 2:
            raise ValueError(f"decoder must output [images, attribute_logits], got {len(decoder.outputs)} outputs")
        if len(discriminator.inputs) != 3:
            raise ValueError("discriminator must take [images, attributes, z] (3 inputs)")

    # ---- the two conditionals -------------------------------------------------------------------------
    def encode(self, images, attributes=None, training=False):
        """(images [B, H, W, C], attributes [B, A]) → (z_mean, z_sigma), each [B, D] float32."""
        if attributes is None:
            raise ValueError("JointGibbsNet.encode needs attributes [B, A] as well as images; for images alone "
                             "use predict_attributes (a chain with the image clamped)")
        images = tf.convert_to_tensor(images)
        z_mean, s = self.encoder([images, tf.cast(attributes, images.dtype)], training=training)
        return tf.cast(z_mean, tf.float32), self._sigma(tf.cast(s, tf.float32))

    def infer(self, images, attributes=None, seed=None, training=False):
        """ẑ for (images, attributes): the (standardized) mean if `seed` is None, else a sample of q(z|x, y)."""
        return self._posterior_sample(*self.encode(images, attributes, training=training), seed, training)

    def decode_joint(self, z, seed=None, training=False):
        """z [B, D] → (images [B, H, W, C] in [0, 1], attribute logits [B, A] float32)."""
        images, logits = self.decoder(self._decoder_inputs(z, seed), training=training)
        return tf.cast(images, tf.float32), tf.cast(logits, tf.float32)

    def decode(self, z, seed=None, training=False):
        """z [B, D] → images [B, H, W, C] in [0, 1] (the image head only)."""
        return self.decode_joint(z, seed=seed, training=training)[0]

    def call(self, inputs, training=False):
        images, attributes = inputs
        return self.decode_joint(self.infer(images, attributes, training=training), training=training)

    # ---- chains -------------------------------------------------------------------------------------
    def complete(self, batch, steps=20, seed=0, images=None, image_mask=None, attributes=None,
                 attribute_mask=None, z=None, return_chain=False, batch_statistics=False):
        """Run `steps` chain steps on `batch` pairs, clamping whatever is observed.

        Starts from z (default z₀ ~ N(0, I)); each step (x, y) ~ p(x, y|z), then the observed pixels
        (image_mask > 0.5) and attributes (attribute_mask > 0.5; default: all of `attributes` when given)
        are put back, then z ~ q(z|x, y). Returns a dict: "images" [B, H, W, C], "attributes" [B, A]
        (probabilities p(y|z) of the last step, observed ones clamped), "z" [B, D]; with `return_chain`
        also "image_chain" [steps, B, H, W, C] and "attribute_chain" [steps, B, A]. `batch_statistics`: batch
        norm on the chains' own batch statistics, as in training, no moving average changed (`GibbsNet.sample`).
        """
        seed = seed_pair(seed)
        steps = tf.cast(steps, tf.int32)
        if z is None:
            z = tf.random.stateless_normal(tf.stack([batch, self.latent_dim]), seed=_fold(seed, -1))
        z = tf.convert_to_tensor(z, tf.float32)
        n = tf.shape(z)[0]
        image_shape = tf.concat([[n], self.image_shape], 0)
        attribute_shape = tf.stack([n, self.num_attributes])
        keep_x = keep_y = None
        if images is not None:
            images = tf.convert_to_tensor(images, tf.float32)
            mask = tf.ones_like(images) if image_mask is None else tf.convert_to_tensor(image_mask, tf.float32)
            keep_x = tf.broadcast_to(mask > 0.5, image_shape)
        if attributes is not None:
            attributes = tf.convert_to_tensor(attributes, tf.float32)
            mask = tf.ones_like(attributes) if attribute_mask is None else tf.convert_to_tensor(attribute_mask,
                                                                                               tf.float32)
            keep_y = tf.broadcast_to(mask > 0.5, attribute_shape)
        x_chain = tf.TensorArray(tf.float32, size=steps, element_shape=tf.TensorShape((None,) + self.image_shape))
        y_chain = tf.TensorArray(tf.float32, size=steps, element_shape=tf.TensorShape((None, self.num_attributes)))

        def body(i, x, p, z, x_chain, y_chain):
            step = _fold(seed, i)
            x, logits = self.decode_joint(z, seed=_fold(step, 0), training=batch_statistics)
            p = tf.sigmoid(logits)
            y = _bernoulli(logits, _fold(step, 2))
            if keep_x is not None:
                x = tf.where(keep_x, images, x)
            if keep_y is not None:
                y = tf.where(keep_y, attributes, y)
                p = tf.where(keep_y, attributes, p)
            z = self.infer(x, y, seed=_fold(step, 1), training=batch_statistics)
            if return_chain:
                x_chain, y_chain = x_chain.write(i, x), y_chain.write(i, p)
            return i + 1, x, p, z, x_chain, y_chain

        start = (tf.constant(0), tf.zeros(image_shape), tf.zeros(attribute_shape), z, x_chain, y_chain)
        with keras.StatelessScope() if batch_statistics else contextlib.nullcontext():
            _, x, p, z, x_chain, y_chain = tf.while_loop(lambda i, *_: i < steps, body, start,
                                                         maximum_iterations=steps)
        out = {"images": x, "attributes": p, "z": z}
        if return_chain:
            out.update(image_chain=x_chain.stack(), attribute_chain=y_chain.stack())
        return out

    def _chain(self, z, steps, seed, observed=None, keep=None, record=False, batch_statistics=False):
        out = self.complete(None, steps, seed, images=observed, image_mask=None if keep is None else
                            tf.cast(keep, tf.float32), z=z, return_chain=record, batch_statistics=batch_statistics)
        return out["images"], out["z"], out.get("image_chain")

    def sample_joint(self, n, steps=1, seed=0, return_chain=False, batch_statistics=False):
        """Unclamped chain from z₀ ~ N(0, I): (images [n, H, W, C], attribute probabilities [n, A]), or the
        chains ([steps, n, H, W, C], [steps, n, A]) with `return_chain`."""
        out = self.complete(n, steps, seed, return_chain=return_chain, batch_statistics=batch_statistics)
        if return_chain:
            return out["image_chain"], out["attribute_chain"]
        return out["images"], out["attributes"]

    def sample(self, n, steps=1, seed=0, return_chain=False, batch_statistics=False):
        """Images of the unclamped chain (see `sample_joint` for the attributes too)."""
        return self.sample_joint(n, steps, seed, return_chain, batch_statistics)[0]

    def inpaint(self, images, mask, steps=20, seed=0, return_chain=False, batch_statistics=False):
        """Fill unobserved pixels (mask > 0.5 = observed) of images [B, H, W, C], attributes free; observed
        pixels are returned unchanged. Images [B, H, W, C] (or the chain [steps, B, H, W, C])."""
        images = tf.convert_to_tensor(images, tf.float32)
        out = self.complete(tf.shape(images)[0], steps, seed, images=images, image_mask=mask,
                            return_chain=return_chain, batch_statistics=batch_statistics)
        return out["image_chain"] if return_chain else out["images"]

    def predict_attributes(self, images, steps=20, seed=0, batch_statistics=False):
        """Attribute probabilities [B, A] in [0, 1] for images [B, H, W, C]: the chain with x clamped."""
        images = tf.convert_to_tensor(images, tf.float32)
        return self.complete(tf.shape(images)[0], steps, seed, images=images,
                             batch_statistics=batch_statistics)["attributes"]

    def generate(self, attributes, steps=20, seed=0, return_chain=False, batch_statistics=False):
        """Images [B, H, W, C] for attributes [B, A] in {0, 1}: the chain with y clamped (or the chain)."""
        attributes = tf.convert_to_tensor(attributes, tf.float32)
        out = self.complete(tf.shape(attributes)[0], steps, seed, attributes=attributes, return_chain=return_chain,
                            batch_statistics=batch_statistics)
        return out["image_chain"] if return_chain else out["images"]

    # ---- training -----------------------------------------------------------------------------------
    def _batch_terms(self, data, seed, training):
        if "attributes" not in data:
            raise ValueError("JointGibbsNet trains on batches with 'image' and 'attributes' [B, A]; this batch has "
                             f"{sorted(data)}")
        return self.per_example_terms(data["image"], data["attributes"], seed, training=training)

    def per_example_terms(self, images, attributes, seed, training, return_chain=False):
        """Losses of one simultaneous step on (images [B, H, W, C], attributes [B, A]) with a [2] seed.

        Per-example [B] values: d_loss, g_loss (= g_fake + g_real + g_attributes), g_fake, g_real,
        g_attributes, real_logit, fake_logit; "_real" [B, heads], "_fake" [B, M·heads]. With `return_chain`
        also "x_chain", "y_chain" (sampled attributes of the earlier steps), "z_chain" (pre-stop-gradient; only
        x_N and, with `chain_encoder_gradient`, z_{N−1} receive gradient), "z_real",
        "attribute_logits" [B, A] of the last step, "attribute_draws" [M, B, A] and "weights" [M, B].
        """
        seed = seed_pair(seed)
        batch = tf.shape(images)[0]
        y_real = tf.cast(attributes, images.dtype)
        z_real = self.infer(images, y_real, seed=_fold(seed, 1), training=training)
        z = tf.random.stateless_normal(tf.stack([batch, self.latent_dim]), seed=_fold(seed, 2), dtype=images.dtype)
        xs, ys, zs = [], [], [z]
        for step in range(self.train_steps - 1):
            step_seed_ = _fold(seed, 10 + step)
            x, logits = self.decode_joint(tf.stop_gradient(z), seed=_fold(step_seed_, 0), training=training)
            y = tf.cast(_bernoulli(tf.stop_gradient(logits), _fold(step_seed_, 2)), images.dtype)
            z = self.infer(tf.stop_gradient(x), y, seed=_fold(step_seed_, 1), training=training)
            xs, ys, zs = xs + [x], ys + [y], zs + [z]
        z_last = self._fake_pair_z(z)
        x_fake, logits = self.decode_joint(z_last, seed=_fold(seed, 3), training=training)
        m = self.attribute_samples
        u = tf.random.stateless_uniform(tf.stack([m, batch, self.num_attributes]), seed=_fold(seed, 4))
        draws = tf.cast(u < tf.sigmoid(tf.stop_gradient(logits))[None], tf.float32)
        d_images = tf.concat([images, tf.tile(x_fake, tf.concat([[m], tf.ones([3], tf.int32)], 0))], 0)
        d_attributes = tf.concat([y_real, tf.cast(tf.reshape(draws, [m * batch, -1]), images.dtype)], 0)
        d_z = tf.concat([z_real, tf.tile(z_last, [m, 1])], 0)
        d_logits = tf.cast(self.discriminator([d_images, d_attributes, d_z], training=training), tf.float32)
        d_logits = tf.reshape(d_logits, [(m + 1) * batch, -1])
        real = d_logits[:batch]
        fake_mb = tf.reshape(d_logits[batch:], [m, batch, -1])
        fake = tf.reshape(tf.transpose(fake_mb, [1, 0, 2]), [batch, -1])
        d_loss = gan.discriminator_loss(real, fake, reduction="none")
        g_fake = gan.bgan_generator_loss(fake, self.log_z_fake if self.log_z_ema else None, reduction="none")
        g_real = gan.bgan_generator_loss(-real, self.log_z_real if self.log_z_ema else None, reduction="none")
        weights = tf.stop_gradient(tf.nn.softmax(tf.reduce_mean(fake_mb, -1), axis=0))
        log_p = -tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(
            labels=draws, logits=tf.broadcast_to(logits[None], tf.shape(draws))), -1)
        g_attributes = -tf.reduce_sum(weights * log_p, 0)
        terms = {"d_loss": d_loss, "g_loss": g_fake + g_real + g_attributes, "g_fake": g_fake, "g_real": g_real,
                 "g_attributes": g_attributes, "real_logit": tf.reduce_mean(real, 1),
                 "fake_logit": tf.reduce_mean(fake, 1), "_real": real, "_fake": fake}
        if return_chain:
            terms.update(x_chain=xs + [x_fake], y_chain=ys, z_chain=zs, z_real=z_real, attribute_logits=logits,
                         attribute_draws=draws, weights=weights)
        return terms

    # ---- export -------------------------------------------------------------------------------------
    serving_default = "sample"
    serving_input_ranges = {"images": (0.0, 1.0), "mask": (0.0, 1.0), "attributes": (0.0, 1.0)}

    def serving_endpoints(self):
        """Serving signatures: {name: (fn, input_signature)}, each returning a dict of float32 tensors.

        sample(n, steps, seed) → images [n, H, W, C], attributes [n, A] (probabilities);
        inpaint(images, mask, steps) → images, attributes (mask > 0.5 observed; seed 0);
        predict_attributes(images, steps) → attributes [B, A] (image clamped; seed 0);
        generate(attributes, steps, seed) → images (attributes clamped);
        encode(images, attributes) → z_mean, z_sigma; decode(z) → images, attributes (decoder noise 0).
        """
        image_spec = tf.TensorSpec((None,) + self.image_shape, tf.float32, name="images")
        mask_spec = tf.TensorSpec((None,) + self.image_shape, tf.float32, name="mask")
        attribute_spec = tf.TensorSpec((None, self.num_attributes), tf.float32, name="attributes")
        z_spec = tf.TensorSpec((None, self.latent_dim), tf.float32, name="z")
        int_spec = lambda name: tf.TensorSpec([], tf.int32, name=name)  # noqa: E731
        seed_spec = tf.TensorSpec([], tf.int64, name="seed")
        as_seed = lambda seed: tf.stack([tf.cast(seed, tf.int32), 0])  # noqa: E731

        def sample(n, steps, seed):
            out = self.complete(n, steps, as_seed(seed))
            return {"images": out["images"], "attributes": out["attributes"]}

        def inpaint(images, mask, steps):
            out = self.complete(tf.shape(images)[0], steps, 0, images=images, image_mask=mask)
            return {"images": out["images"], "attributes": out["attributes"]}

        def predict_attributes(images, steps):
            return {"attributes": self.predict_attributes(images, steps)}

        def generate(attributes, steps, seed):
            return {"images": self.generate(attributes, steps, as_seed(seed))}

        def encode(images, attributes):
            z_mean, sigma = self.encode(images, attributes)
            return {"z_mean": z_mean, "z_sigma": sigma}

        def decode(z):
            images, logits = self.decode_joint(z)
            return {"images": images, "attributes": tf.sigmoid(logits)}

        return {
            "sample": (sample, [int_spec("n"), int_spec("steps"), seed_spec]),
            "inpaint": (inpaint, [image_spec, mask_spec, int_spec("steps")]),
            "predict_attributes": (predict_attributes, [image_spec, int_spec("steps")]),
            "generate": (generate, [attribute_spec, int_spec("steps"), seed_spec]),
            "encode": (encode, [image_spec, attribute_spec]),
            "decode": (decode, [z_spec]),
        }

    def onnx_graphs(self):
        """Deterministic sub-graphs for ONNX: the encoder mean (before any z standardization) and the decoder."""
        image_spec = tf.TensorSpec((None,) + self.image_shape, tf.float32, name="images")
        attribute_spec = tf.TensorSpec((None, self.num_attributes), tf.float32, name="attributes")
        z_spec = tf.TensorSpec((None, self.latent_dim), tf.float32, name="z")

        def decoder(z):
            images, logits = self.decode_joint(z)
            return {"images": images, "attributes": tf.sigmoid(logits)}

        return {"encoder_mean": (lambda images, attributes: {"z_mean": self.encode(images, attributes)[0]},
                                 [image_spec, attribute_spec]),
                "decoder": (decoder, [z_spec])}

    def get_config(self):
        return {**super().get_config(), "attribute_samples": self.attribute_samples}
