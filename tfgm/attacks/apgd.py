"""Auto-PGD (Croce & Hein, 2020, "Reliable evaluation of adversarial robustness with an ensemble of diverse
parameter-free attacks"), L∞, on cross-entropy, DLR or targeted DLR; restarts and EOT."""

import tensorflow as tf

from tfgm.attacks import _common, _losses, _runs


def checkpoints(steps):
    """Iterations after which APGD may halve its step: the paper's p_0 = 0, p_1 = 0.22, p_{j+1} = p_j +
    max(p_j − p_{j−1} − 0.03, 0.06) times `steps`, with the spacings in whole iterations (rounded down, at
    least 1) as in the authors' code. For steps = 100: [22, 41, 57, 70, 80, 87, 93, 99]."""
    steps = int(steps)
    gap, min_gap, shrink = max(int(0.22 * steps), 1), max(int(0.06 * steps), 1), max(int(0.03 * steps), 1)
    out, w = [], gap
    while w <= steps:
        out.append(w)
        gap = max(gap - shrink, min_gap)
        w += gap
    return out


def _loss_fn(loss, y, target):
    if loss == "ce":
        return lambda logits: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
    if loss == "dlr":
        return lambda logits: _losses.dlr(logits, y)
    return lambda logits: _losses.dlr_targeted(logits, y, target)


def _apgd_core(model, x, y, target, eps, seed, lo, hi, steps, loss, rho, eot_samples):
    """One APGD run from a random start. Returns (highest-loss iterate, still robust [B] bool, its loss [B],
    last misclassified iterate or the start)."""
    e = _runs.expand(eps, x)

    def project(z):
        return tf.clip_by_value(tf.clip_by_value(z, x - e, x + e), lo, hi)

    loss_fn = _loss_fn(loss, y, target)

    def evaluate(z):
        return _runs.loss_gradient_logits(model, z, loss_fn, eot_samples)

    noise = tf.random.stateless_uniform(tf.shape(x), seed, -1.0, 1.0)
    start = tf.clip_by_value(x + e * noise / _runs.expand(_runs.linf(noise) + 1e-12, x), lo, hi)
    loss0, grad0, logits0 = evaluate(start)
    robust0 = tf.equal(tf.argmax(logits0, axis=-1, output_type=tf.int32), y)
    marks = checkpoints(steps)
    window = [0] * steps  # window[i] > 0: iteration i ends a checkpoint window of that many iterations
    for prev, w in zip([0] + marks, marks):
        window[w - 1] = w - prev
    window = tf.constant(window, tf.float32)
    zeros = tf.zeros_like(loss0)

    def body(i, x_adv, x_old, grad, prev_loss, robust, x_best, grad_best, loss_best, x_best_adv, step, increases,
             loss_at_check, reduced_at_check):
        momentum = tf.where(i > 0, 0.75, 1.0)
        z = project(x_adv + _runs.expand(step, x) * tf.sign(grad))
        x_new = project(x_adv + momentum * (z - x_adv) + (1.0 - momentum) * (x_adv - x_old))
        loss_new, grad_new, logits = evaluate(x_new)
        correct = tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32), y)
        robust = robust & correct
        x_best_adv = tf.where(_runs.expand(correct, x), x_best_adv, x_new)
        increases = increases + tf.cast(loss_new > prev_loss, tf.float32)
        improved = loss_new > loss_best
        x_best = tf.where(_runs.expand(improved, x), x_new, x_best)
        grad_best = tf.where(_runs.expand(improved, x), grad_new, grad_best)
        loss_best = tf.where(improved, loss_new, loss_best)
        k = window[i]
        at_check = k > 0.0
        # Halve the step where (1) the loss increased in at most a fraction rho of the steps since the last
        # checkpoint, or (2) the step was not halved at the last checkpoint and the best loss has not improved.
        oscillating = increases <= k * rho
        stalled = tf.logical_not(reduced_at_check) & (loss_at_check >= loss_best)
        halve = at_check & (oscillating | stalled)
        step = tf.where(halve, 0.5 * step, step)
        x_next = tf.where(_runs.expand(halve, x), x_best, x_new)
        grad_next = tf.where(_runs.expand(halve, x), grad_best, grad_new)
        reduced_at_check = tf.where(at_check, oscillating | stalled, reduced_at_check)
        loss_at_check = tf.where(at_check, loss_best, loss_at_check)
        increases = tf.where(at_check, zeros, increases)
        return (i + 1, x_next, x_adv, grad_next, loss_new, robust, x_best, grad_best, loss_best, x_best_adv, step,
                increases, loss_at_check, reduced_at_check)

    state = (tf.constant(0), start, start, grad0, loss0, robust0, start, grad0, loss0, start, 2.0 * eps, zeros, loss0,
             tf.ones_like(robust0))
    out = tf.while_loop(lambda i, *_: i < steps, body, state, maximum_iterations=steps)
    return out[6], out[5], out[8], out[9]


def apgd(model, x, y=None, eps=0.3, steps=100, loss=None, restarts=1, targets=None, rho=0.75, eot_samples=1,
         clip=(0.0, 1.0), seed=None):
    """L∞ Auto-PGD: momentum 0.75, step 2ε halved at the checkpoints (`checkpoints`) where the loss increased in
    at most a fraction rho of the window's steps, or where the step was not halved at the previous checkpoint
    and the best loss has not improved since; each halving restarts from the best point; a uniform random start
    in the ε-ball per run.

    model: any callable images [B, ...] → logits [B, K]. x: float images in `clip` (default [0, 1]). y: int
    labels [B], or None for the model's predictions. eps: float or [B] per-example radii.
    loss: "ce" (default) or "dlr" (≥ 3 classes). targets: None (untargeted) or n ≥ 1 for APGD-T: the targeted
    DLR loss (≥ 4 classes) towards each of the n highest-scored wrong classes of the clean input in turn.
    Every run (`restarts` per target; run r seeded with fold_in(seed, r)) attacks only the points no earlier run
    broke. eot_samples > 1 averages loss and gradient over that many calls of a stochastic model (EOT).
    seed: int, [2] int tensor, or None (random).
    Returns x̃ float32 like x: a misclassified point for each example broken, else the highest-loss point found;
    examples misclassified on x are returned unchanged.
    """
    if loss not in (None, "ce", "dlr"):
        raise ValueError(f"apgd: loss must be 'ce' or 'dlr'; got {loss!r}")
    if targets is not None and loss == "ce":
        raise ValueError("apgd: APGD-T (targets set) uses the targeted DLR loss; pass loss='dlr' or leave it None")
    _runs.check_positive("apgd", steps=steps, restarts=restarts, eot_samples=eot_samples,
                         **({} if targets is None else {"targets": targets}))
    lo, hi = _runs.check_clip(clip, "apgd")
    x = _common.as_images(x)
    y = _common.labels_for(model, x, y)
    eps = _runs.per_example_eps(eps, x, "apgd")
    name = "ce" if targets is None and loss in (None, "ce") else ("dlr" if targets is None else "dlr-targeted")
    if name == "dlr":
        _runs.num_classes(model, x, "apgd", 3, " for the DLR loss")
    elif name == "dlr-targeted":
        _runs.num_classes(model, x, "apgd", max(4, int(targets) + 1),
                          f" for the targeted DLR loss with targets={int(targets)}")
    seed = _common.as_seed(seed)
    static = {"steps": int(steps), "loss": name, "rho": float(rho), "eot_samples": int(eot_samples)}
    ranks = [None] if targets is None else list(range(2, int(targets) + 2))
    runs = [(rank, r) for rank in ranks for r in range(int(restarts))]

    def single_run(idx, run):
        rank, _ = run
        xs, ys = tf.gather(x, idx), tf.gather(y, idx)
        target = tf.zeros_like(ys) if rank is None else _losses.ranked_class(tf.cast(model(xs), tf.float32), rank)
        run_seed = tf.random.experimental.stateless_fold_in(seed, runs.index(run))
        tensors = (xs, ys, target, tf.gather(eps, idx), run_seed, tf.constant(lo), tf.constant(hi))
        x_best, robust, loss_best, x_adv = _common.run(_apgd_core, model, tensors, static)
        fooled = tf.logical_not(robust)
        return tf.where(_runs.expand(fooled, xs), x_adv, x_best), fooled, loss_best

    return tf.stop_gradient(_runs.run_on_remaining(model, x, y, runs, single_run))
