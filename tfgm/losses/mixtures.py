"""Mixture likelihoods (thesis eq. 1.17, q(x) = Σ_k π_k q_k(x)): Gaussian mixtures for vectors, and the
discretized logistic mixture of PixelCNN++ (Salimans et al. 2017) for pixels.

Log-likelihoods take batched tensors and return one value per example, shape [B], like
`tfgm.losses.likelihoods`. Samplers are stateless: the same [2] int32 seed gives the same draw.
"""

import math

import tensorflow as tf
import tensorflow_probability as tfp

from tfgm._random import seed_pair
from tfgm.losses.likelihoods import MIN_LOG_SIGMA, _sum_per_example, soft_floor

tfd = tfp.distributions

MIN_LOG_SCALE = -7.0
# PixelCNN++'s switch to the density at the bin centre when the bin's CDF difference is this small.
_CDF_DELTA_MIN = 1e-5
# PixelCNN++'s sampler draws u ~ U(ε, 1 − ε): the logistic noise is truncated at ±log((1 − ε)/ε) ≈ ±11.5 scales.
_UNIFORM_EPS = 1e-5


def _floored(log_sigma, floor):
    return log_sigma if floor is None else soft_floor(log_sigma, floor)


def _gaussian_parameters(logits, means, log_sigmas, where):
    """Cast to float32 and check logits [..., K], means [..., K, D], log_sigmas broadcastable to means."""
    logits, means, log_sigmas = (tf.convert_to_tensor(t, tf.float32) for t in (logits, means, log_sigmas))
    if logits.shape.rank is None or means.shape.rank is None or logits.shape.rank < 1:
        raise ValueError(f"{where}: logits must be [..., K] and means [..., K, D] with known ranks, got "
                         f"{logits.shape} and {means.shape}")
    if means.shape.rank != logits.shape.rank + 1 or not means.shape[:-1].is_compatible_with(logits.shape):
        raise ValueError(f"{where}: means must be [..., K, D] with the [..., K] of logits {logits.shape}, got "
                         f"{means.shape} (one row of D means per component)")
    try:
        tf.broadcast_static_shape(log_sigmas.shape, means.shape)
    except ValueError:
        raise ValueError(f"{where}: log_sigmas {log_sigmas.shape} does not broadcast against means "
                         f"{means.shape}; give one log σ per component and dimension, [..., K, D]") from None
    return logits, means, log_sigmas


# ----------------------------------------------------------------------------------------------------------
# Gaussian mixtures for vectors


def gaussian_mixture(logits, means, log_sigmas, min_log_sigma=MIN_LOG_SIGMA):
    """The mixture Σ_k softmax(logits)_k N(means_k, diag σ_k²) as a `tfd.MixtureSameFamily`, event shape [D].

    logits [..., K]; means, log_sigmas [..., K, D] (broadcast together; leading axes are batch axes, none for
    one shared mixture). σ = exp(soft_floor(log_sigmas, min_log_sigma)) as in `gaussian_log_likelihood`
    (unchanged above min_log_sigma + 1); min_log_sigma=None: no floor.
    """
    logits, means, log_sigmas = _gaussian_parameters(logits, means, log_sigmas, "gaussian_mixture")
    scale = tf.exp(_floored(log_sigmas, min_log_sigma))
    components = tfd.Independent(tfd.Normal(loc=means, scale=scale), reinterpreted_batch_ndims=1)
    return tfd.MixtureSameFamily(tfd.Categorical(logits=logits), components)


def gaussian_mixture_log_likelihood(y, logits, means, log_sigmas, min_log_sigma=MIN_LOG_SIGMA):
    """log Σ_k π_k N(y | means_k, diag σ_k²) per example: y [B, D]; parameters as in `gaussian_mixture`
    (per example [B, K], [B, K, D], or one shared mixture [K], [K, D]). Returns [B]."""
    y = tf.convert_to_tensor(y, tf.float32)
    mixture = gaussian_mixture(logits, means, log_sigmas, min_log_sigma)
    d = mixture.event_shape[-1]
    if y.shape.rank != 2 or (d is not None and y.shape[-1] is not None and y.shape[-1] != d):
        raise ValueError(f"gaussian_mixture_log_likelihood: y must be [B, D] with D = {d} (the means' last "
                         f"axis), got {y.shape}")
    return mixture.log_prob(y)


def gaussian_mixture_sample(logits, means, log_sigmas, seed, n=None, min_log_sigma=MIN_LOG_SIGMA):
    """Stateless draws from the mixture: a component k ~ Categorical(softmax(logits)), then means_k + σ_k·ε.

    Per-example parameters [B, K], [B, K, D] give one draw each, [B, D]; one shared mixture ([K], [K, D])
    needs `n` and gives [n, D]. seed: int or [2] int32 tensor.
    """
    seed = seed_pair(seed)
    logits, means, log_sigmas = _gaussian_parameters(logits, means, log_sigmas, "gaussian_mixture_sample")
    shared = logits.shape.rank == 1
    if shared != (n is not None) or logits.shape.rank > 2:
        raise ValueError(f"gaussian_mixture_sample: give either per-example parameters (logits [B, K], "
                         f"means [B, K, D], n=None) or one shared mixture (logits [K], means [K, D]) with n; "
                         f"got logits {logits.shape} and n={n!r}")
    log_sigmas = tf.broadcast_to(log_sigmas, tf.shape(means))
    if n is not None:
        k, d = tf.shape(means)[-2], tf.shape(means)[-1]
        logits = tf.broadcast_to(logits, tf.stack([n, k]))
        means = tf.broadcast_to(means, tf.stack([n, k, d]))
        log_sigmas = tf.broadcast_to(log_sigmas, tf.stack([n, k, d]))
    component = tf.random.stateless_categorical(logits, 1, tf.random.experimental.stateless_fold_in(seed, 0))[:, 0]
    mean = tf.gather(means, component, axis=1, batch_dims=1)
    sigma = tf.exp(_floored(tf.gather(log_sigmas, component, axis=1, batch_dims=1), min_log_sigma))
    noise = tf.random.stateless_normal(tf.shape(mean), tf.random.experimental.stateless_fold_in(seed, 1))
    return mean + sigma * noise


def gaussian_mixture_head_size(num_components, dims):
    """Network outputs for a K-component diagonal Gaussian mixture over D dims (an MDN head): K·(1 + 2D)."""
    if int(num_components) < 1 or int(dims) < 1:
        raise ValueError(f"gaussian_mixture_head_size: num_components and dims must be >= 1, got "
                         f"{num_components!r} and {dims!r}")
    return int(num_components) * (1 + 2 * int(dims))


def split_gaussian_mixture(head, dims):
    """Split a linear head [..., K·(1 + 2D)] into (logits [..., K], means [..., K, D], log_sigmas [..., K, D]):
    channels [0, K) are the logits, then K·D means and K·D log σ, component-major."""
    head = tf.cast(head, tf.float32)
    per = gaussian_mixture_head_size(1, dims)
    width = head.shape[-1]
    if width is None or width % per:
        raise ValueError(f"split_gaussian_mixture: the head has {width} outputs; a mixture over {dims} dims needs "
                         f"a multiple of {per} (use gaussian_mixture_head_size(K, {dims}) linear outputs)")
    k, d = width // per, int(dims)
    shape = tf.concat([tf.shape(head)[:-1], [k, d]], axis=0)
    return head[..., :k], tf.reshape(head[..., k:k + k * d], shape), tf.reshape(head[..., k + k * d:], shape)


# ----------------------------------------------------------------------------------------------------------
# Discretized logistic mixture (PixelCNN++)


def logistic_mixture_channels(num_components, channels=3):
    """Decoder output channels per pixel for a K-component mixture over C colour channels:
    K·(1 + 2C + C(C−1)/2) — K logits, K·C means, K·C log-scales, K·C(C−1)/2 coefficients (10K for RGB as in
    PixelCNN++, 3K for grey)."""
    if int(num_components) < 1 or int(channels) < 1:
        raise ValueError(f"logistic_mixture_channels: num_components and channels must be >= 1, got "
                         f"{num_components!r} and {channels!r}")
    c = int(channels)
    return int(num_components) * (1 + 2 * c + c * (c - 1) // 2)


def _num_components(params_channels, channels, where):
    per = logistic_mixture_channels(1, channels)
    if params_channels is None or params_channels % per:
        raise ValueError(f"{where}: the decoder gives {params_channels} channels per pixel; a logistic mixture "
                         f"over {channels} colour channel(s) needs a multiple of {per} (K components × {per}: "
                         f"use logistic_mixture_channels(K, {channels}) output channels, linear activation)")
    return params_channels // per


def split_logistic_mixture(params, channels=3):
    """Split a decoder head [..., P] (P = logistic_mixture_channels(K, C), linear outputs) into the mixture's
    parameters, all float32:

    logits [..., K]: component log-weights (softmax per pixel), channels [0, K);
    means [..., K, C]: channel offsets in [0, 1] pixel units (0.5 = mid grey; unconstrained, no squashing),
        channel K + k·C + c;
    log_scales [..., K, C]: log of the logistic scale in [0, 1] pixel units (before the floor), next K·C channels;
    coeffs [..., K, C(C−1)/2]: tanh of the last channels, the linear dependence of a channel's mean on the
        earlier channels' values, pairs (c, j < c) in the order (1, 0), (2, 0), (2, 1), … (for RGB: g←r, b←r, b←g).
    """
    params = tf.cast(params, tf.float32)
    c = int(channels)
    k = _num_components(params.shape[-1], c, "split_logistic_mixture")
    lead = tf.shape(params)[:-1]
    shape = lambda width: tf.concat([lead, [k, width]], axis=0)  # noqa: E731
    logits = params[..., :k]
    means = tf.reshape(params[..., k:k + k * c], shape(c))
    log_scales = tf.reshape(params[..., k + k * c:k + 2 * k * c], shape(c))
    pairs = c * (c - 1) // 2
    coeffs = tf.tanh(tf.reshape(params[..., k + 2 * k * c:], shape(pairs)))
    return {"logits": logits, "means": means, "log_scales": log_scales, "coeffs": coeffs}


def _chained_means(means, coeffs, values):
    """μ_c = means_c + Σ_{j<c} coeff_(c,j)·values_j per component: means [..., K, C], values [..., K or 1, C]."""
    channels = means.shape[-1]
    out, pair = [], 0
    for c in range(channels):
        mean = means[..., c]
        for j in range(c):
            mean = mean + coeffs[..., pair] * values[..., j]
            pair += 1
        out.append(mean)
    return tf.stack(out, axis=-1)


def _log_sigmoid(z):
    return -tf.nn.softplus(-z)


def _log_bin_mass(min_in, plus_in):
    """log(σ(plus_in) − σ(min_in)) for min_in < plus_in without cancellation: on the upper side use
    σ(b) − σ(a) = σ(−a) − σ(−b), then log σ(hi) + log(1 − exp(log σ(lo) − log σ(hi)))."""
    upper = (min_in + plus_in) > 0.0
    hi = tf.where(upper, -min_in, plus_in)
    lo = tf.where(upper, -plus_in, min_in)
    log_hi = _log_sigmoid(hi)
    gap = tf.minimum(_log_sigmoid(lo) - log_hi, -1e-30)  # < 0 even where float32 rounds the bin to a point
    return log_hi + tfp.math.log1mexp(gap)


def _check_pixels(x, params, where):
    x = tf.convert_to_tensor(x, tf.float32)
    params = tf.convert_to_tensor(params, tf.float32)
    if x.shape.rank != 4 or x.shape[-1] is None:
        raise ValueError(f"{where}: x must be images [B, H, W, C] with a known C, got {x.shape}")
    if params.shape.rank != 4 or not params.shape[:-1].is_compatible_with(x.shape[:-1]):
        raise ValueError(f"{where}: params must be the decoder head [B, H, W, P] for x {x.shape}, got "
                         f"{params.shape}")
    return x, params


def logistic_mixture_log_likelihood(x, params, bins=256, min_log_scale=MIN_LOG_SCALE, exact_tails=False):
    """log p(x) of PixelCNN++'s discretized logistic mixture, summed over pixels: x [B, H, W, C] in [0, 1];
    params [B, H, W, P], the linear decoder head of `split_logistic_mixture` (P = logistic_mixture_channels(K, C)).
    Returns [B] (nats per example; bits/dim = −value / (H·W·C·ln 2)).

    Per pixel: p(x) = Σ_k π_k Π_c P_k(x_c | x_<c), each channel a logistic of scale s_kc and mean
    μ_kc = means_kc + Σ_{j<c} coeff_kcj·x_j (the paper's linear dependence on the earlier channels' values),
    discretized into `bins` levels: the value k = round(x·(bins−1)) gets the mass of [k − ½, k + ½]/(bins−1); the
    first and last bins take the tails (edges at 0 and 255 for 256 bins), so the bins sum to 1.

    exact_tails=False (default) is the paper's numerically stable form: log σ via softplus at the edges,
    log(CDF difference) inside, and the density at the bin centre times the bin width where the CDF difference
    is below 1e-5 (float32 cancellation). That replacement is always ≤ the true log-mass, by up to
    log(sinh(h)/h), h = bin width / (2s): 0.1 nats at log s = −6, 0.6 at −7. exact_tails=True computes every
    inner bin's log-mass without cancellation instead (equal to the paper's form wherever the mass is > 1e-5).
    log s passes soft_floor(·, min_log_scale) exactly like `discretized_logistic_log_likelihood`, which this
    equals for K = 1, C = 1 (the paper clamps log s at −7 in [−1, 1] units, i.e. −7 − log 2 in these [0, 1]
    units; the soft floor, unchanged above min_log_scale + 1, keeps a gradient).
    """
    x, params = _check_pixels(x, params, "logistic_mixture_log_likelihood")
    if not int(bins) >= 2:
        raise ValueError(f"logistic_mixture_log_likelihood: bins must be >= 2, got {bins!r}")
    channels = x.shape[-1]
    parts = split_logistic_mixture(params, channels)
    top = float(int(bins) - 1)
    level = tf.clip_by_value(tf.round(x * top), 0.0, top)  # [B, H, W, C]
    xq = level / top
    means = _chained_means(parts["means"], parts["coeffs"], xq[..., None, :])  # [B, H, W, K, C]
    log_scales = soft_floor(parts["log_scales"], min_log_scale)
    centered = xq[..., None, :] - means
    inv_scale = tf.exp(-log_scales)
    half = 0.5 / top
    plus_in = inv_scale * (centered + half)
    min_in = inv_scale * (centered - half)
    log_cdf_plus = _log_sigmoid(plus_in)  # the bottom bin: P(X < ½ bin)
    log_one_minus_cdf_min = _log_sigmoid(-min_in)  # the top bin: P(X > 1 − ½ bin)
    if exact_tails:
        inner = _log_bin_mass(min_in, plus_in)
    else:
        cdf_delta = tf.sigmoid(plus_in) - tf.sigmoid(min_in)
        mid_in = inv_scale * centered
        log_pdf_mid = mid_in - log_scales - 2.0 * tf.nn.softplus(mid_in)
        inner = tf.where(cdf_delta > _CDF_DELTA_MIN, tf.math.log(tf.maximum(cdf_delta, 1e-12)),
                         log_pdf_mid - math.log(top))
    level = level[..., None, :]
    log_probs = tf.where(level < 0.5, log_cdf_plus, tf.where(level > top - 0.5, log_one_minus_cdf_min, inner))
    per_component = tf.reduce_sum(log_probs, axis=-1) + tf.nn.log_softmax(parts["logits"], axis=-1)
    return _sum_per_example(tf.reduce_logsumexp(per_component, axis=-1))


def logistic_mixture_sample(params, channels, seed, bins=256, min_log_scale=MIN_LOG_SCALE):
    """Images [B, H, W, C] drawn from the mixture given its head params [B, H, W, P]; values k/(bins−1).

    Per pixel: a component from softmax(logits), then channel by channel a logistic draw around
    μ_c = means_c + Σ_{j<c} coeff_cj·x_j of the values x_j already drawn, quantized to the nearest level and
    clipped to [0, 1] (which is exactly the discretized distribution's bin mass, the edge bins taking the tails;
    the logistic noise is PixelCNN++'s, u ~ U(1e-5, 1 − 1e-5)). seed: int or [2] int32 tensor (stateless).
    """
    seed = seed_pair(seed)
    c = int(channels)
    params = tf.convert_to_tensor(params, tf.float32)
    if params.shape.rank != 4:
        raise ValueError(f"logistic_mixture_sample: params must be the decoder head [B, H, W, P], got {params.shape}")
    parts = split_logistic_mixture(params, c)
    top = float(int(bins) - 1)
    logits = parts["logits"]
    k = logits.shape[-1]
    flat = tf.reshape(logits, [-1, k])
    component = tf.random.stateless_categorical(flat, 1, tf.random.experimental.stateless_fold_in(seed, 0))[:, 0]
    pick = tf.reshape(tf.one_hot(component, k), tf.shape(logits))[..., None]  # [B, H, W, K, 1]

    def chosen(t):
        return tf.reduce_sum(t * pick, axis=-2)

    means, coeffs = chosen(parts["means"]), chosen(parts["coeffs"])
    scales = tf.exp(soft_floor(chosen(parts["log_scales"]), min_log_scale))
    u = tf.random.stateless_uniform(tf.shape(means), tf.random.experimental.stateless_fold_in(seed, 1),
                                    minval=_UNIFORM_EPS, maxval=1.0 - _UNIFORM_EPS)
    noise = tf.math.log(u) - tf.math.log1p(-u)
    values, pair = [], 0
    for ch in range(c):
        mean = means[..., ch]
        for j in range(ch):
            mean = mean + coeffs[..., pair] * values[j]
            pair += 1
        values.append(tf.clip_by_value(tf.round((mean + scales[..., ch] * noise[..., ch]) * top), 0.0, top) / top)
    return tf.stack(values, axis=-1)


def logistic_mixture_mean(params, channels, min_log_scale=MIN_LOG_SCALE):
    """A deterministic display image [B, H, W, C] in [0, 1]: Σ_k π_k E_k[x], params [B, H, W, P] as in
    `split_logistic_mixture`.

    Per component and channel the mean of the logistic clipped to [0, 1] (where the edge bins put their tails),
    E[clip(Y)] = s·(softplus(μ/s) − softplus((μ − 1)/s)), with μ chained on the component's own expected earlier
    channels. Exact for one channel up to the quantization (< ½ bin); with channel dependence an approximation
    (the clip is not linear), exact when no mass reaches the edges.
    """
    parts = split_logistic_mixture(params, channels)
    means, coeffs = parts["means"], parts["coeffs"]
    scales = tf.exp(soft_floor(parts["log_scales"], min_log_scale))
    expected, pair = [], 0
    for ch in range(int(channels)):
        mean = means[..., ch]
        for j in range(ch):
            mean = mean + coeffs[..., pair] * expected[j]
            pair += 1
        s = scales[..., ch]
        expected.append(s * (tf.nn.softplus(mean / s) - tf.nn.softplus((mean - 1.0) / s)))
    weights = tf.nn.softmax(parts["logits"], axis=-1)[..., None]
    return tf.clip_by_value(tf.reduce_sum(weights * tf.stack(expected, axis=-1), axis=-2), 0.0, 1.0)
