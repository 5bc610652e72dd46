"""Projected gradient descent (Madry et al., 2017; thesis eq. 2.7), L∞, with restarts and EOT."""

import tensorflow as tf

from tfgm.attacks import _common, _runs


def _keep_best(best_x, best_loss, x, loss):
    better = loss > best_loss
    return tf.where(_runs.expand(better, x), x, best_x), tf.where(better, loss, best_loss)


def _pgd_core(model, x, y, eps, step_size, seed, lo, hi, steps, random_start, restarts, eot_samples):
    best_x, best_loss = x, tf.fill(tf.shape(y), float("-inf"))
    for restart in range(restarts):
        start = x
        if random_start:
            restart_seed = tf.random.experimental.stateless_fold_in(seed, restart)
            start = x + tf.random.stateless_uniform(tf.shape(x), restart_seed, -eps, eps)
        start = tf.clip_by_value(start, lo, hi)

        def body(i, xt, run_x, run_loss):
            loss, grad = _common.loss_and_gradient(model, xt, y, eot_samples)
            run_x, run_loss = _keep_best(run_x, run_loss, xt, loss)
            step = xt + step_size * tf.sign(grad)
            step = tf.clip_by_value(tf.clip_by_value(step, x - eps, x + eps), lo, hi)
            return i + 1, step, run_x, run_loss

        _, last, run_x, run_loss = tf.while_loop(
            lambda i, *_: i < steps, body, (tf.constant(0), start, start, tf.fill(tf.shape(y), float("-inf"))),
            maximum_iterations=steps)
        last_loss, _ = _common.loss_and_gradient(model, last, y, eot_samples)
        run_x, run_loss = _keep_best(run_x, run_loss, last, last_loss)
        best_x, best_loss = _keep_best(best_x, best_loss, run_x, run_loss)
    return best_x


def pgd(model, x, y=None, eps=0.3, step_size=0.01, steps=40, random_start=True, restarts=1, clip=(0.0, 1.0),
        seed=None, eot_samples=1):
    """L∞ PGD: x_{t+1} = Π_{B∞(x, ε) ∩ [lo, hi]}(x_t + α·sign(∇ CE)); x_0 = x + U(−ε, ε) if `random_start`
    (clipped), else x.

    model: any callable images [B, ...] → logits [B, K]. y: int labels [B], or None for the model's
    predictions. Each run returns, per example, the iterate of highest loss seen (start included), so
    it is never weaker than its start; `restarts` runs (restart r seeded with fold_in(seed, r)) keep the
    per-example worst, so more restarts never lower the loss of restart 0. `eot_samples` > 1 averages
    loss and gradient over that many calls of a stochastic model (expectation over transformation).
    seed: int, [2] int tensor, or None (random). Returns x̃ float32, same shape as x.
    """
    if int(steps) < 0 or int(restarts) < 1 or int(eot_samples) < 1:
        raise ValueError(f"pgd needs steps >= 0, restarts >= 1, eot_samples >= 1; got steps={steps}, "
                         f"restarts={restarts}, eot_samples={eot_samples}")
    x = _common.as_images(x)
    y = _common.labels_for(model, x, y)
    lo, hi = (float("-inf"), float("inf")) if clip is None else (float(clip[0]), float(clip[1]))
    tensors = (x, y, tf.constant(float(eps)), tf.constant(float(step_size)), _common.as_seed(seed),
               tf.constant(lo), tf.constant(hi))
    static = {"steps": int(steps), "random_start": bool(random_start), "restarts": int(restarts),
              "eot_samples": int(eot_samples)}
    return tf.stop_gradient(_common.run(_pgd_core, model, tensors, static))
