"""Helpers shared by APGD, FAB and Square: settings checks, per-example ε, EOT gradients, and the driver that
runs an attack's successive runs (restarts, target classes) only on the points no earlier run has broken."""

import tensorflow as tf


def check_clip(clip, attack):
    """(lo, hi) floats with lo < hi; these attacks need a finite box."""
    try:
        lo, hi = float(clip[0]), float(clip[1])
    except (TypeError, IndexError, ValueError):
        raise ValueError(f"{attack}: clip must be the valid input range (lo, hi), e.g. (0.0, 1.0); got {clip!r}")
    if not lo < hi:
        raise ValueError(f"{attack}: clip=(lo, hi) needs lo < hi; got {clip!r}")
    return lo, hi


def check_positive(attack, **settings):
    for name, value in settings.items():
        if int(value) < 1:
            raise ValueError(f"{attack}: {name} must be >= 1; got {value}")


def per_example_eps(eps, x, attack):
    """ε as a float or [B] values ≥ 0 → float32 [B] for the batch x."""
    eps = tf.cast(tf.convert_to_tensor(eps), tf.float32)
    n = x.shape[0]
    if eps.shape.rank not in (0, 1) or (eps.shape.rank == 1 and None not in (n, eps.shape[0]) and eps.shape[0] != n):
        raise ValueError(f"{attack}: eps must be a float or one value per example ([{n}]); got shape {eps.shape}")
    if tf.executing_eagerly() and bool(tf.reduce_any(eps < 0.0)):
        raise ValueError(f"{attack}: eps must be >= 0; got {eps.numpy()}")
    return tf.broadcast_to(eps, tf.shape(x)[:1])


def num_classes(model, x, attack, minimum=2, why=""):
    """K from the model's logits on one example; raises if K < minimum."""
    k = int(model(x[:1]).shape[-1])
    if k < minimum:
        raise ValueError(f"{attack}: needs a model with at least {minimum} classes{why}; this one returns {k} logits")
    return k


def expand(v, x):
    """[B] → [B, 1, ..., 1] broadcastable against x."""
    return tf.reshape(v, tf.concat([tf.shape(v), tf.ones([tf.rank(x) - 1], tf.int32)], axis=0))


def linf(d):
    """max_i |d_i| per example: [B]."""
    return tf.reduce_max(tf.abs(tf.reshape(d, [tf.shape(d)[0], -1])), axis=1)


def loss_gradient_logits(model, x, loss_fn, samples=1):
    """Per-example loss [B] and its gradient wrt x, averaged over `samples` model calls (EOT), plus the logits
    [B, K] of the last call. loss_fn: logits → [B]."""
    def one():
        with tf.GradientTape() as tape:
            tape.watch(x)
            # A served signature's outputs can lose the static batch size (its request checks run at run time);
            # the attack loops need it back.
            logits = tf.ensure_shape(tf.cast(model(x), tf.float32), [x.shape[0], None])
            loss = loss_fn(logits)
        grad = tape.gradient(loss, x)
        return loss, tf.zeros_like(x) if grad is None else tf.ensure_shape(grad, x.shape), logits

    loss, grad, logits = one()
    if int(samples) == 1:
        return loss, grad, logits

    def body(i, loss_sum, grad_sum, _):
        loss, grad, logits = one()
        return i + 1, loss_sum + loss, grad_sum + grad, logits

    _, loss_sum, grad_sum, logits = tf.while_loop(lambda i, *_: i < samples, body, (tf.constant(1), loss, grad, logits),
                                                  maximum_iterations=int(samples) - 1)
    return loss_sum / float(samples), grad_sum / float(samples), logits


def predict(model, x):
    return tf.argmax(model(x), axis=-1, output_type=tf.int32)


def run_on_remaining(model, x, y, runs, single_run):
    """Run `single_run` once per entry of `runs`, each time only on the points still correctly classified.

    single_run(idx, run) attacks the points x[idx] (idx int64 [b]) → (x̃_sub, fooled_sub bool [b], score_sub [b])
    where score ranks the unfooled points' x̃ (higher = closer to adversarial). Points misclassified on x are
    left as x. Returns x̃ [B, ...]: the first run's adversarial point for each broken example, else the
    best-scored x̃ over the runs.
    """
    active = tf.equal(predict(model, x), y)
    result = x
    best = tf.fill(tf.shape(y), float("-inf"))
    for run in runs:
        idx = tf.where(active)[:, 0]
        if tf.executing_eagerly() and int(tf.size(idx)) == 0:
            break
        adv, fooled, score = single_run(idx, run)
        keep = fooled | (score > tf.gather(best, idx))
        rows = tf.boolean_mask(idx, keep)[:, None]
        result = tf.tensor_scatter_nd_update(result, rows, tf.boolean_mask(adv, keep))
        best = tf.tensor_scatter_nd_update(best, rows, tf.boolean_mask(tf.where(fooled, float("inf"), score), keep))
        active = tf.tensor_scatter_nd_update(active, idx[:, None], tf.logical_not(fooled))
    return result
