"""Square attack (Andriushchenko et al., 2020), L∞: score-based random search, no gradients, as run in AutoAttack."""

import tensorflow as tf

from tfgm.attacks import _common, _losses, _runs

_HALVINGS = (10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000)


def square_fraction(iteration, p_init=0.8):
    """p at `iteration`: p_init halved after iterations 10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000."""
    i = tf.cast(iteration, tf.int32)
    halvings = tf.reduce_sum(tf.cast(tf.constant(_HALVINGS) < i, tf.float32))
    return p_init * tf.pow(0.5, halvings)


def _window_sides(p, height, width, flat):
    """Side lengths of the window covering a fraction p of the pixels: a square for images, a segment for
    vectors (height 1)."""
    if flat:
        return tf.constant(1), tf.clip_by_value(tf.cast(tf.round(p * tf.cast(width, tf.float32)), tf.int32), 1, width)
    side = tf.cast(tf.round(tf.sqrt(p * tf.cast(height * width, tf.float32))), tf.int32)
    side = tf.clip_by_value(side, 1, tf.minimum(height, width))
    return side, side


def _square_core(model, x, y, eps, seed, lo, hi, queries, p_init, flat):
    """One Square run on images x [B, H, W, C] (a vector batch [B, D] is viewed as [B, 1, D, 1]).
    Returns (x_best, its margin [B]); margin ≤ 0 means broken."""
    in_shape = tf.shape(x)
    if flat:
        x = x[:, None, :, None]
    n, height, width, channels = tf.unstack(tf.shape(x))

    def margin_of(z, labels):
        logits = tf.cast(model(tf.reshape(z, tf.concat([tf.shape(z)[:1], in_shape[1:]], 0))), tf.float32)
        return _losses.margin(logits, labels)

    e = _runs.expand(eps, x)
    stripes = tf.sign(tf.random.stateless_uniform([n, 1, width, channels], seed, -1.0, 1.0))
    x_best = tf.clip_by_value(x + e * stripes, lo, hi)
    best_margin = margin_of(x_best, y)
    rows = tf.range(height)[None, :, None, None]
    cols = tf.range(width)[None, None, :, None]

    def body(i, x_best, best_margin):
        step_seed = tf.random.experimental.stateless_fold_in(seed, i + 1)
        side_h, side_w = _window_sides(square_fraction(i, p_init), height, width, flat)
        u = tf.random.stateless_uniform([n, 2], step_seed, 0.0, 1.0)
        top = tf.cast(u[:, 0] * tf.cast(height - side_h + 1, tf.float32), tf.int32)
        left = tf.cast(u[:, 1] * tf.cast(width - side_w + 1, tf.float32), tf.int32)
        signs = tf.sign(tf.random.stateless_uniform([n, 1, 1, channels],
                                                    tf.random.experimental.stateless_fold_in(step_seed, 1), -1.0, 1.0))
        idx = tf.where(best_margin > 0.0)[:, 0]
        top, left = tf.gather(top, idx)[:, None, None, None], tf.gather(left, idx)[:, None, None, None]
        window = (rows >= top) & (rows < top + side_h) & (cols >= left) & (cols < left + side_w)
        xs, es = tf.gather(x, idx), tf.gather(e, idx)
        candidate = tf.gather(x_best, idx) + tf.cast(window, tf.float32) * 2.0 * es * tf.gather(signs, idx)
        candidate = tf.clip_by_value(tf.clip_by_value(candidate, xs - es, xs + es), lo, hi)
        new_margin = margin_of(candidate, tf.gather(y, idx))
        improved = new_margin < tf.gather(best_margin, idx)
        rows_idx = tf.boolean_mask(idx, improved)[:, None]
        x_best = tf.tensor_scatter_nd_update(x_best, rows_idx, tf.boolean_mask(candidate, improved))
        best_margin = tf.tensor_scatter_nd_update(best_margin, rows_idx, tf.boolean_mask(new_margin, improved))
        return i + 1, x_best, best_margin

    _, x_best, best_margin = tf.while_loop(
        lambda i, _, m: (i < queries) & tf.reduce_any(m > 0.0), body, (tf.constant(0), x_best, best_margin),
        maximum_iterations=queries)
    return tf.reshape(x_best, in_shape), best_margin


def square(model, x, y=None, eps=0.3, queries=5000, p_init=0.8, restarts=1, clip=(0.0, 1.0), seed=None):
    """L∞ Square attack: start from random vertical stripes of ±ε, then for `queries` iterations change one random
    square window (fraction p of the pixels, `square_fraction`) to x ± ε (one random sign per channel) and keep
    it if the margin z_y − max_{j≠y} z_j drops; stop on each example once it is misclassified.

    Uses only the model's outputs (no gradients), so gradient masking does not stop it. model: any callable
    images → logits [B, K]. x: images [B, H, W, C] (channels last) or vectors [B, D] (then the window is a
    segment of about p·D entries), in `clip`. y: int labels [B] or None for the model's predictions.
    eps: float or [B]. Each restart (seeded with fold_in(seed, r)) attacks only the points not yet broken.
    Returns x̃ float32 like x: a misclassified point for each example broken, else the lowest-margin point;
    examples misclassified on x are returned unchanged.
    """
    _runs.check_positive("square", queries=queries, restarts=restarts)
    if not 0.0 < float(p_init) <= 1.0:
        raise ValueError(f"square: p_init must be in (0, 1]; got {p_init}")
    lo, hi = _runs.check_clip(clip, "square")
    x = _common.as_images(x)
    if x.shape.rank not in (2, 4):
        raise ValueError(f"square: x must be images [B, H, W, C] or vectors [B, D]; got shape {x.shape}")
    y = _common.labels_for(model, x, y)
    eps = _runs.per_example_eps(eps, x, "square")
    seed = _common.as_seed(seed)
    static = {"queries": int(queries), "p_init": float(p_init), "flat": x.shape.rank == 2}

    def single_run(idx, restart):
        tensors = (tf.gather(x, idx), tf.gather(y, idx), tf.gather(eps, idx),
                   tf.random.experimental.stateless_fold_in(seed, restart), tf.constant(lo), tf.constant(hi))
        x_best, best_margin = _common.run(_square_core, model, tensors, static)
        return x_best, best_margin <= 0.0, -best_margin

    return tf.stop_gradient(_runs.run_on_remaining(model, x, y, list(range(int(restarts))), single_run))
