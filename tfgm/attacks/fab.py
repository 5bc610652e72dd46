"""Fast Adaptive Boundary attack (Croce & Hein, 2020, "Minimally distorted adversarial examples with a fast
adaptive boundary attack"), L∞, untargeted or targeted (FAB-T)."""

import tensorflow as tf

from tfgm.attacks import _common, _losses, _runs


def project_linf(t, w, b, lo, hi):
    """Smallest-L∞ step d onto the hyperplane w·z = b inside the box [lo, hi]^D: argmin ‖d‖∞ s.t.
    w·(t + d) = b, lo ≤ t + d ≤ hi; where the box cannot reach the plane, the box corner closest to it.

    t, w: [N, D]; b: [N]. Returns d [N, D]. With s = sign(w·t − b) each coordinate moves by
    −s·sign(w_i)·min(λ, room_i) (room_i: distance to the box face it moves towards); λ is the smallest value
    with Σ_i |w_i| min(λ, room_i) ≥ |w·t − b| (a piecewise-linear, nondecreasing function, solved exactly
    after sorting the rooms).
    """
    c = tf.reduce_sum(w * t, axis=1) - b
    w = w * tf.where(c >= 0.0, 1.0, -1.0)[:, None]
    need = tf.abs(c)
    room = tf.where(w > 0.0, t - lo, hi - t)
    order = tf.argsort(room, axis=1)
    room_sorted = tf.gather(room, order, batch_dims=1)
    weight_sorted = tf.gather(tf.abs(w), order, batch_dims=1)
    # For λ = room_(k): gain_k = Σ_{j≤k} |w|_(j) room_(j) + room_(k) Σ_{j>k} |w|_(j).
    below = tf.cumsum(weight_sorted * room_sorted, axis=1)
    above = tf.cumsum(weight_sorted, axis=1, reverse=True, exclusive=True)
    gain = below + room_sorted * above
    short = tf.reduce_sum(tf.cast(gain < need[:, None], tf.int32), axis=1)
    dims = tf.shape(t)[1]
    feasible = short < dims
    m = tf.minimum(short, dims - 1)
    reached = tf.where(m > 0, tf.gather(below, tf.maximum(m - 1, 0), batch_dims=1), 0.0)
    rest = tf.gather(above, m, batch_dims=1) + tf.gather(weight_sorted, m, batch_dims=1)
    lam = tf.maximum((need - reached) / tf.maximum(rest, 1e-30), 0.0)
    lam = tf.where(feasible, lam, float("inf"))
    return -tf.sign(w) * tf.minimum(lam[:, None], room)


def _differences(model, x, y, target, targeted):
    """Logit differences f_j = z_j − z_y [B, J] and their gradients [B, J, D] (J = 1 towards `target` if targeted,
    else every class, with f_y set to 1e10 so the true class is never chosen)."""
    with tf.GradientTape(persistent=not targeted) as tape:
        tape.watch(x)
        logits = tf.cast(model(x), tf.float32)
        if targeted:
            diff = tf.gather(logits, target, batch_dims=1) - tf.gather(logits, y, batch_dims=1)
    flat = tf.reshape(x, [tf.shape(x)[0], -1])
    if targeted:
        grad = tape.gradient(diff, x, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return diff[:, None], tf.reshape(grad, tf.shape(flat))[:, None, :]
    jac = tape.batch_jacobian(logits, x, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    del tape
    jac = tf.reshape(jac, [tf.shape(x)[0], tf.shape(logits)[1], -1])
    diff = logits - tf.gather(logits, y, batch_dims=1)[:, None]
    diff = tf.where(tf.one_hot(y, tf.shape(logits)[1]) > 0, 1e10, diff)
    return diff, jac - tf.gather(jac, y, batch_dims=1)[:, None, :]


def _fab_core(model, x, y, target, eps, seed, lo, hi, steps, targeted, random_start, alpha_max, eta, beta):
    """One FAB run. Returns (smallest-L∞ adversarial point found or x, its L∞ distance or 1e10 if none)."""
    n = tf.shape(x)[0]
    x0 = tf.reshape(x, [n, -1])
    if random_start:
        noise = tf.random.stateless_uniform(tf.shape(x), seed, -1.0, 1.0)
        start = x + _runs.expand(0.5 * eps / (_runs.linf(noise) + 1e-12), x) * noise
        start = tf.clip_by_value(start, lo, hi)
    else:
        start = x

    def body(i, x1, adv, dist):
        diff, grad = _differences(model, x1, y, target, targeted)
        reach = tf.abs(diff) / (1e-12 + tf.reduce_sum(tf.abs(grad), axis=2))
        j = tf.argmin(reach, axis=1, output_type=tf.int32)
        w = tf.gather(grad, j, batch_dims=1)
        flat1 = tf.reshape(x1, [n, -1])
        b = -tf.gather(diff, j, batch_dims=1) + tf.reduce_sum(w * flat1, axis=1)
        d = project_linf(tf.concat([flat1, x0], 0), tf.concat([w, w], 0), tf.concat([b, b], 0), lo, hi)
        size = tf.maximum(tf.reduce_max(tf.abs(d), axis=1), 1e-8)
        d1, d2, a1, a2 = d[:n], d[n:], size[:n], size[n:]
        alpha = tf.clip_by_value(a1 / (a1 + a2), 0.0, alpha_max)[:, None]
        moved = tf.clip_by_value((flat1 + eta * d1) * (1.0 - alpha) + (x0 + eta * d2) * alpha, lo, hi)
        moved = tf.reshape(moved, tf.shape(x))
        fooled = tf.not_equal(_runs.predict(model, moved), y)
        size_now = _runs.linf(moved - x)
        better = fooled & (size_now < dist)
        adv = tf.where(_runs.expand(better, x), moved, adv)
        dist = tf.where(better, size_now, dist)
        x1 = tf.where(_runs.expand(fooled, x), x + beta * (moved - x), moved)
        return i + 1, x1, adv, dist

    state = (tf.constant(0), start, x, tf.fill([n], 1e10))
    _, _, adv, dist = tf.while_loop(lambda i, *_: i < steps, body, state, maximum_iterations=steps)
    return adv, dist


def fab(model, x, y=None, eps=0.3, targeted=True, targets=9, steps=100, restarts=1, alpha_max=0.1, eta=1.05,
        beta=0.9, clip=(0.0, 1.0), seed=None):
    """L∞ FAB: step to the projection onto the linearized decision boundary (the closest class's, or the target
    class's for FAB-T), mixed with the projection from the original point by α = min(‖d‖/(‖d‖ + ‖d₀‖),
    α_max), overshoot η; after each success, move back towards x by β. Keeps the smallest adversarial found.

    model: any callable images [B, ...] → logits [B, K]. x: images in `clip`. y: int labels [B] or None for the
    model's predictions. eps: float or [B]; a point counts as broken only if its perturbation is ≤ ε, and the
    random starts of restarts 2, 3, … are drawn at ε/2. targeted: FAB-T with the `targets` highest-scored
    wrong classes of the clean input in turn (targets ≤ K − 1), else one untargeted attack over all classes
    (a full Jacobian per step). Each run (`restarts` per target) attacks only the points not yet broken.
    seed: int, [2] int tensor, or None. Returns x̃ float32 like x: the smallest adversarial found within ε,
    else x.
    """
    _runs.check_positive("fab", steps=steps, restarts=restarts, **({"targets": targets} if targeted else {}))
    if not (0.0 <= float(alpha_max) <= 1.0 and float(eta) >= 1.0 and 0.0 < float(beta) <= 1.0):
        raise ValueError(f"fab: needs 0 <= alpha_max <= 1, eta >= 1, 0 < beta <= 1; got alpha_max={alpha_max}, "
                         f"eta={eta}, beta={beta}")
    lo, hi = _runs.check_clip(clip, "fab")
    x = _common.as_images(x)
    y = _common.labels_for(model, x, y)
    eps = _runs.per_example_eps(eps, x, "fab")
    if targeted:
        _runs.num_classes(model, x, "fab", int(targets) + 1, f" for targets={int(targets)}")
    seed = _common.as_seed(seed)
    static = {"steps": int(steps), "targeted": bool(targeted), "alpha_max": float(alpha_max), "eta": float(eta),
              "beta": float(beta)}
    ranks = list(range(2, int(targets) + 2)) if targeted else [None]
    runs = [(rank, r) for rank in ranks for r in range(int(restarts))]

    def single_run(idx, run):
        rank, restart = run
        xs, ys, es = tf.gather(x, idx), tf.gather(y, idx), tf.gather(eps, idx)
        target = tf.zeros_like(ys) if rank is None else _losses.ranked_class(tf.cast(model(xs), tf.float32), rank)
        run_seed = tf.random.experimental.stateless_fold_in(seed, runs.index(run))
        tensors = (xs, ys, target, es, run_seed, tf.constant(lo), tf.constant(hi))
        adv, dist = _common.run(_fab_core, model, tensors, dict(static, random_start=restart > 0))
        fooled = dist <= es
        return tf.where(_runs.expand(fooled, xs), adv, xs), fooled, tf.fill(tf.shape(ys), float("-inf"))

    return tf.stop_gradient(_runs.run_on_remaining(model, x, y, runs, single_run))
