"""Held-out likelihood estimates for latent-variable models: ELBO and importance-weighted NLL.

`model` is duck-typed: `encode(images) -> (z_mean, z_log_var)`, `decode(z) -> x_mean`,
`log_px_given_z(images, x_mean) -> [B]` and `latent_dim` (tfgm.models.VAE provides them).
Numbers are nats per example; `bits_per_dim` divides by H·W·C·ln 2 (meaningful for discrete likelihoods).
"""

import math

import numpy as np
import tensorflow as tf

from tfgm.losses.likelihoods import gaussian_kl, gaussian_log_density


def _images(batch):
    return batch["image"] if isinstance(batch, dict) else batch


def elbo(model, dataset, seed=0, max_batches=None):
    """Mean one-sample ELBO over `dataset` (batched dicts with "image"). Returns a dict of floats:
    elbo, kl, log_px (all nats per example), reconstruction_mse (decoder mean at the posterior mean vs x),
    and num_examples.
    """
    totals = {"elbo": 0.0, "kl": 0.0, "log_px": 0.0, "reconstruction_mse": 0.0}
    count = 0
    step = _elbo_step(model)
    for i, batch in enumerate(dataset):
        if max_batches is not None and i >= max_batches:
            break
        values = step(_images(batch), tf.constant([seed, i], tf.int32))
        n = int(values["kl"].shape[0])
        for key in totals:
            totals[key] += float(tf.reduce_sum(values[key]))
        count += n
    if count == 0:
        raise ValueError("elbo: the dataset yielded no examples")
    result = {k: v / count for k, v in totals.items()}
    result["num_examples"] = count
    return result


def _head(model, z):
    """What `log_px_given_z` takes: the decoder's head (a logistic mixture's parameters), else `decode(z)`."""
    return getattr(model, "decode_head", model.decode)(z)


def _elbo_step(model):
    @tf.function
    def step(images, seed):
        z_mean, z_log_var = model.encode(images)
        eps = tf.random.stateless_normal(tf.shape(z_mean), seed=seed)
        z = z_mean + tf.exp(0.5 * z_log_var) * eps
        log_px = model.log_px_given_z(images, _head(model, z))
        kl = gaussian_kl(z_mean, z_log_var)
        recon = model.decode(z_mean)
        mse = tf.reduce_mean(tf.reshape(tf.square(recon - images), [tf.shape(images)[0], -1]), axis=1)
        return {"elbo": log_px - kl, "kl": kl, "log_px": log_px, "reconstruction_mse": mse}

    return step


def importance_weighted_nll(model, dataset, num_samples=100, chunk=25, seed=0, max_batches=None):
    """−log p(x) ≈ −log (1/K) Σ_k p(x|z_k) p(z_k) / q(z_k|x), z_k ~ q(z|x) (Burda et al.), K = num_samples.

    Decodes `chunk` samples per example at a time to bound memory. Returns {"iw_nll", "bits_per_dim",
    "num_samples", "num_examples"}.
    """
    if num_samples % chunk:
        chunk = math.gcd(num_samples, chunk)
    step = _log_weights_step(model, chunk)
    nll_sum, count, dims = 0.0, 0, None
    for i, batch in enumerate(dataset):
        if max_batches is not None and i >= max_batches:
            break
        images = _images(batch)
        dims = int(np.prod(images.shape[1:]))
        log_w = [step(images, tf.constant([seed + 1, i * num_samples + c], tf.int32))
                 for c in range(num_samples // chunk)]
        log_w = tf.concat(log_w, axis=0)  # [K, B]
        log_px = tf.reduce_logsumexp(log_w, axis=0) - math.log(num_samples)
        nll_sum += float(-tf.reduce_sum(log_px))
        count += int(images.shape[0])
    if count == 0:
        raise ValueError("importance_weighted_nll: the dataset yielded no examples")
    nll = nll_sum / count
    return {"iw_nll": nll, "bits_per_dim": nll / (dims * math.log(2.0)), "num_samples": num_samples,
            "num_examples": count}


def _log_weights_step(model, chunk):
    @tf.function
    def step(images, seed):
        z_mean, z_log_var = model.encode(images)
        batch = tf.shape(z_mean)[0]
        eps = tf.random.stateless_normal([chunk, batch, model.latent_dim], seed=seed)
        z = z_mean[None] + tf.exp(0.5 * z_log_var)[None] * eps  # [K, B, D]
        flat_z = tf.reshape(z, [-1, model.latent_dim])
        tiled = tf.reshape(tf.tile(images[None], [chunk] + [1] * len(images.shape)),
                           tf.concat([[-1], tf.shape(images)[1:]], axis=0))
        log_px = tf.reshape(model.log_px_given_z(tiled, _head(model, flat_z)), [chunk, batch])
        log_pz = gaussian_log_density(z, tf.zeros_like(z), tf.zeros_like(z))
        log_qz = gaussian_log_density(z, z_mean[None], z_log_var[None])
        return log_px + log_pz - log_qz

    return step
