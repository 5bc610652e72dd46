"""Per-example log-likelihoods and the analytic Gaussian KL, built on `tfp.distributions`.

Every function takes batched tensors [B, ...] and returns one value per example, shape [B]
(summed over all non-batch axes). Images are float32 in [0, 1].
"""

import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions

MIN_LOG_SIGMA = -5.0
# Learned log σ: unchanged above MIN_LOG_SIGMA + LOG_SIGMA_KNEE, approaching MIN_LOG_SIGMA smoothly below.
LOG_SIGMA_KNEE = 1.0
# Posterior log σ²: unchanged below MAX_LOG_VAR − LOG_VAR_KNEE, saturating at MAX_LOG_VAR (σ ≤ e⁴ ≈ 55).
MAX_LOG_VAR = 8.0
LOG_VAR_KNEE = 4.0
_PROB_EPS = 1e-6


def _sum_per_example(x):
    return tf.reduce_sum(tf.reshape(x, [tf.shape(x)[0], -1]), axis=1)


def soft_floor(x, floor, knee=LOG_SIGMA_KNEE):
    """Bound x from below with a gradient everywhere: unchanged above s = `floor + knee`, then
    floor + knee·exp((x − s)/knee) (C¹ at s, > `floor`, gradient exp((x − s)/knee) > 0).

    Unlike max(x, floor), whose gradient is exactly 0 below the floor (a learned log σ pushed there stays
    trapped), the parameter can always climb back. Any shape.
    """
    if not knee > 0:
        raise ValueError(f"soft_floor needs knee > 0, got {knee}")
    start = floor + knee
    below = tf.minimum(x - start, 0.0)  # keeps exp finite in the branch tf.where discards
    return tf.where(x > start, x, floor + knee * tf.exp(below / knee))


def gaussian_log_likelihood(x, mean, log_sigma, min_log_sigma=MIN_LOG_SIGMA):
    """log N(x | mean, diag σ²), σ = exp(soft_floor(log_sigma, min_log_sigma)).

    x, mean: [B, ...]; log_sigma broadcasts against them (e.g. one value per pixel, shape [H, W, C]).
    The floor stops a learned variance from collapsing and dominating the objective (METHODS.md §1); it is
    soft (`soft_floor`: unchanged above min_log_sigma + 1), so a log σ below it still gets a gradient.
    Returns [B].
    """
    log_sigma = soft_floor(tf.cast(log_sigma, x.dtype), min_log_sigma)
    dist = tfd.Normal(loc=mean, scale=tf.exp(log_sigma))
    return _sum_per_example(dist.log_prob(x))


def bernoulli_log_likelihood(x, probs):
    """log Bernoulli(x | probs) with x in [0, 1] (soft targets allowed), probs clipped to (ε, 1−ε). Returns [B]."""
    probs = tf.clip_by_value(probs, _PROB_EPS, 1.0 - _PROB_EPS)
    logits = tf.math.log(probs) - tf.math.log1p(-probs)
    return -_sum_per_example(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits))


def discretized_logistic_log_likelihood(x, mean, log_scale, bins=256, min_log_scale=-7.0):
    """Discretized logistic over `bins` levels (PixelCNN++ edges): x, mean in [0, 1]; log_scale in [0, 1] units.

    log_scale passes `soft_floor(·, min_log_scale)`. Built from `tfd.QuantizedDistribution` (TFP has no
    discretized logistic class): the pixel value k = round(x·(bins−1)) gets the logistic mass of
    [k − ½, k + ½], the first and last bins take the tails.
    Returns [B].
    """
    top = float(bins - 1)
    log_scale = soft_floor(tf.cast(log_scale, x.dtype), min_log_scale)
    loc = mean * top
    scale = tf.exp(log_scale) * top * tf.ones_like(loc)
    # Quantized Y = ceil(X): shift by ½ so that bin k covers X in (k − ½, k + ½].
    dist = tfd.QuantizedDistribution(tfd.Logistic(loc=loc - 0.5, scale=scale), low=0.0, high=top)
    return _sum_per_example(dist.log_prob(tf.round(x * top)))


def gaussian_kl(mean, log_var):
    """KL(N(mean, diag exp(log_var)) || N(0, I)), analytic. mean, log_var: [B, D]. Returns [B]."""
    return 0.5 * tf.reduce_sum(tf.square(mean) + tf.exp(log_var) - 1.0 - log_var, axis=-1)


def bound_log_var(log_var, limit=MAX_LOG_VAR, knee=LOG_VAR_KNEE):
    """Bound a posterior log σ² from above: unchanged below s = `limit − knee`, then
    limit − knee·exp(−(x − s)/knee) (C¹ at s, ≤ `limit`).

    A posterior wider than the N(0, I) prior only costs KL, so training keeps values under the knee; it bounds
    the transient of Adam's first steps (log σ² jumped from 4 to 16 in one step on a fresh CelebA encoder,
    |z| ≈ 3000, and a float16 decoder overflowed). Gradient 1 below s, exp(−(x − s)/knee) > 0 above it (no
    tanh: its float32 gradient is exactly 0 from x ≈ s + 9·knee). Any shape.
    """
    if not knee > 0:
        raise ValueError(f"bound_log_var needs knee > 0, got {knee}")
    start = limit - knee
    past = tf.maximum(log_var - start, 0.0)  # keeps exp finite in the branch tf.where discards
    return tf.where(log_var < start, log_var, limit - knee * tf.exp(-past / knee))


def gaussian_log_density(z, mean, log_var):
    """log N(z | mean, diag exp(log_var)) summed over the last axis; broadcasts leading axes."""
    return tf.reduce_sum(tfd.Normal(mean, tf.exp(0.5 * log_var)).log_prob(z), axis=-1)


LIKELIHOODS = ("gaussian", "bernoulli", "discretized_logistic")
