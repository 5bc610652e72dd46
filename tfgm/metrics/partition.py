"""The partition function of a binary RBM (`tfgm.models.RBM`) and its log-likelihood (thesis §1.2.2): Annealed
Importance Sampling (Neal 2001; Salakhutdinov & Murray 2008), reverse AIS (Burda et al. 2015), and exact
enumeration over the hidden units of a small model.

The annealing path of Salakhutdinov & Murray: p_β(v, h) ∝ exp((1 − β) b_Aᵀv + β (vᵀWh + bᵀv + cᵀh)), from the base
model β = 0 (independent visible units with the data's marginal biases b_A; its hidden units uniform) to the RBM at
β = 1. Marginally log p*_β(v) = (1 − β) b_Aᵀv + β bᵀv + Σ_j softplus(β (c_j + vᵀW_j)), log Z_0 = Σ_i softplus(b_A,i)
+ H log 2; one block-Gibbs step at β leaves p_β invariant.
"""

import math
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from tfgm._random import bernoulli, seed_pair

MAX_ENUMERATED_HIDDEN = 24  # 2^24 hidden configurations: seconds on a CPU


def salakhutdinov_murray_betas():
    """The 14,500 inverse temperatures of Salakhutdinov & Murray (2008): 500 in [0, 0.5), 4,000 in [0.5, 0.9),
    10,000 in [0.9, 1] → float64 [14500] from 0 to 1."""
    return np.concatenate([np.linspace(0.0, 0.5, 500, endpoint=False), np.linspace(0.5, 0.9, 4000, endpoint=False),
                           np.linspace(0.9, 1.0, 10000)])


def _betas(betas):
    betas = np.linspace(0.0, 1.0, int(betas)) if np.ndim(betas) == 0 else np.asarray(betas, np.float64)
    if betas.ndim != 1 or len(betas) < 2 or betas[0] != 0.0 or betas[-1] != 1.0 or np.any(np.diff(betas) <= 0):
        raise ValueError("betas: an int >= 2 (evenly spaced) or increasing inverse temperatures from 0 to 1")
    return tf.constant(betas, tf.float32)


def base_visible_bias(data, smoothing=0.01):
    """b_A of the base model from the data's marginals p_i, clipped to [smoothing, 1 − smoothing]: data [N, V] in
    [0, 1] → float32 [V]."""
    p = np.clip(np.asarray(data, np.float64).reshape(len(data), -1).mean(0), smoothing, 1.0 - smoothing)
    return tf.constant(np.log(p) - np.log1p(-p), tf.float32)


class _Path(NamedTuple):
    """The annealing path between the base model (visible biases `base` [V]) and an RBM (W [V, H], b [V], c [H])."""

    w: tf.Tensor
    b: tf.Tensor
    c: tf.Tensor
    base: tf.Tensor


def _path(rbm, data):
    """(_Path, log Z_0) of `rbm` with the base model fitted to data [N, V]."""
    base = base_visible_bias(data)
    log_z0 = float(tf.reduce_sum(tf.nn.softplus(base))) + rbm.hidden * math.log(2.0)
    return _Path(*(tf.convert_to_tensor(x) for x in (rbm.kernel, rbm.visible_bias, rbm.hidden_bias)), base), log_z0


def _log_p(path, v, pre, beta):
    """log p*_β(v) [M] given pre = vW + c [M, H]."""
    return tf.linalg.matvec(v, (1.0 - beta) * path.base + beta * path.b) + tf.reduce_sum(
        tf.nn.softplus(beta * pre), axis=-1)


def _gibbs_step(path, v, pre, beta, seed):
    """One block-Gibbs step at β, leaving p_β invariant: v [M, V] (pre = vW + c) → v' [M, V]."""
    seeds = tf.random.experimental.stateless_split(seed, 2)
    h = bernoulli(tf.sigmoid(beta * pre), seeds[0])
    logits = (1.0 - beta) * path.base + beta * (path.b + tf.matmul(h, path.w, transpose_b=True))
    return bernoulli(tf.sigmoid(logits), seeds[1])


@tf.function(reduce_retracing=True)
def _anneal(path, v, betas, seed):
    """log weights [M] of chains from v [M, V] along `betas` (forward 0 → 1; reverse AIS passes them reversed):
    Σ_k log p*_{β_k}(v_{k−1}) − log p*_{β_{k−1}}(v_{k−1}), v_k a Gibbs step at β_k from v_{k−1}."""
    def body(k, v, log_w):
        pre = tf.matmul(v, path.w) + path.c
        log_w += _log_p(path, v, pre, betas[k]) - _log_p(path, v, pre, betas[k - 1])
        v = _gibbs_step(path, v, pre, betas[k], tf.random.experimental.stateless_fold_in(seed, k))
        return k + 1, v, log_w

    count = tf.shape(betas)[0]
    _, _, log_w = tf.while_loop(lambda k, *_: k < count, body, (tf.constant(1), v, tf.zeros([tf.shape(v)[0]])))
    return log_w


def _estimate(log_z0, log_w, sign):
    """log Z = log Z_0 + sign · log mean exp(log_w), with the ±3σ range of the mean weight (in ratio space)."""
    log_w = np.asarray(log_w, np.float64)
    top = log_w.max()
    w = np.exp(log_w - top)
    mean, err = w.mean(), 3.0 * w.std(ddof=1) / math.sqrt(len(w)) if len(w) > 1 else 0.0
    lo = top + (math.log(mean - err) if mean > err else -math.inf)
    hi = top + math.log(mean + err)
    centre = top + math.log(mean)
    if sign > 0:
        return {"log_z": log_z0 + centre, "lower": log_z0 + lo, "upper": log_z0 + hi, "log_weights": log_w}
    return {"log_z": log_z0 - centre, "lower": log_z0 - hi, "upper": log_z0 - lo, "log_weights": log_w}


def ais_log_partition(rbm, data, chains=100, betas=None, seed=0):
    """AIS estimate of log Z of `rbm` (a stochastic lower bound: E[Ẑ] = Z, so E[log Ẑ] ≤ log Z).

    data: [N, V] in [0, 1], for the base model's biases (`base_visible_bias`). chains: M independent runs.
    betas: an int (evenly spaced) or increasing floats from 0 to 1; None: `salakhutdinov_murray_betas()`.
    Returns {"log_z", "lower", "upper" (log(Ẑ ∓ 3σ̂), σ̂ the standard error of the mean weight; lower may be
    −inf), "log_weights" [M], "chains", "betas"}.
    """
    path, log_z0 = _path(rbm, data)
    beta = _betas(salakhutdinov_murray_betas() if betas is None else betas)
    seed = seed_pair(seed)
    start = bernoulli(tf.broadcast_to(tf.sigmoid(path.base), [chains, rbm.visible]),
                      tf.random.experimental.stateless_fold_in(seed, -1))
    log_w = _anneal(path, start, beta, seed)
    return {**_estimate(log_z0, log_w, +1), "chains": int(chains), "betas": int(beta.shape[0])}


def rais_log_partition(rbm, data, samples, betas=None, seed=0):
    """Reverse AIS (Burda et al. 2015): anneal from the RBM (β = 1) to the base model, starting at `samples`
    [M, V] binary. With exact samples of the RBM, E[1/Ẑ] = 1/Z, so E[log Ẑ] ≥ log Z (a stochastic upper bound);
    chains started from approximate samples (long Gibbs chains, the data) only approximate that. data, betas,
    seed: as `ais_log_partition`. Returns the same keys."""
    path, log_z0 = _path(rbm, data)
    beta = _betas(salakhutdinov_murray_betas() if betas is None else betas)
    start = tf.reshape(tf.cast(samples, tf.float32), [-1, rbm.visible])
    log_w = _anneal(path, start, tf.reverse(beta, [0]), seed_pair(seed))
    return {**_estimate(log_z0, log_w, -1), "chains": int(start.shape[0]), "betas": int(beta.shape[0])}


def _hidden_log_weights(rbm):
    """All 2^H hidden configurations h [2^H, H] and log p*(h) = cᵀh + Σ_i softplus(b_i + W_i h) [2^H]."""
    if rbm.hidden > MAX_ENUMERATED_HIDDEN:
        raise ValueError(f"exact enumeration needs at most {MAX_ENUMERATED_HIDDEN} hidden units, the RBM has "
                         f"{rbm.hidden}: use ais_log_partition")
    codes = np.arange(2 ** rbm.hidden, dtype=np.int64)[:, None] >> np.arange(rbm.hidden)
    h = tf.constant(codes & 1, tf.float32)
    logits = tf.matmul(h, rbm.kernel, transpose_b=True) + rbm.visible_bias
    return h, tf.linalg.matvec(h, tf.convert_to_tensor(rbm.hidden_bias)) + tf.reduce_sum(tf.nn.softplus(logits), -1)


def exact_log_partition(rbm):
    """log Z of an RBM with at most MAX_ENUMERATED_HIDDEN hidden units, summing out v analytically, float."""
    return float(tf.reduce_logsumexp(tf.cast(_hidden_log_weights(rbm)[1], tf.float64)))


def exact_samples(rbm, n, seed=0):
    """n exact samples v [n, V] (binary float32) of a small RBM: h from its enumerated marginal, then v | h."""
    h, log_p = _hidden_log_weights(rbm)
    seeds = tf.random.experimental.stateless_split(seed_pair(seed), 2)
    index = tf.random.stateless_categorical(log_p[None], n, seeds[0])[0]
    return bernoulli(rbm.visible_probabilities(tf.gather(h, index)), seeds[1])


def rbm_log_likelihood(rbm, data, log_z):
    """log p(v) = −F(v) − log Z per example: data [N, V] binary (binarize first) → float64 [N] nats."""
    v = tf.reshape(tf.cast(data, tf.float32), [-1, rbm.visible])
    return -np.asarray(rbm.free_energy(v), np.float64) - float(log_z)
