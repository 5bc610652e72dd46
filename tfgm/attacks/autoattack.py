"""AutoAttack (Croce & Hein, 2020): APGD-CE, APGD-T, FAB-T and Square with fixed settings, each run only on the
points every earlier attack failed to break; L∞."""

import time
import warnings

import numpy as np
import tensorflow as tf

from tfgm.attacks import _common, _runs
from tfgm.attacks.apgd import apgd
from tfgm.attacks.fab import fab
from tfgm.attacks.square import square

_FAB = {"steps": 100, "restarts": 1, "alpha_max": 0.1, "eta": 1.05, "beta": 0.9}
DEFAULTS = {
    "apgd-ce": {"steps": 100, "restarts": 1, "rho": 0.75, "eot_samples": 1},
    "apgd-dlr": {"steps": 100, "restarts": 1, "rho": 0.75, "eot_samples": 1},
    "apgd-t": {"steps": 100, "restarts": 1, "targets": 9, "rho": 0.75, "eot_samples": 1},
    "fab": dict(_FAB),
    "fab-t": dict(_FAB, targets=9),
    "square": {"queries": 5000, "restarts": 1, "p_init": 0.8},
}
VERSIONS = {
    "standard": (("apgd-ce", "apgd-t", "fab-t", "square"), {}),
    "plus": (("apgd-ce", "apgd-dlr", "fab", "square", "apgd-t", "fab-t"),
             {"apgd-ce": {"restarts": 5}, "apgd-dlr": {"restarts": 5}, "fab": {"restarts": 5}}),
    "rand": (("apgd-ce", "apgd-dlr"), {"apgd-ce": {"eot_samples": 20}, "apgd-dlr": {"eot_samples": 20}}),
}
_MIN_CLASSES = {"apgd-dlr": 3, "apgd-t": 4}


def _run_attack(name, model, x, y, eps, seed, clip, settings):
    if name == "square":
        return square(model, x, y, eps=eps, seed=seed, clip=clip, **settings)
    if name.startswith("fab"):
        return fab(model, x, y, eps=eps, targeted=name == "fab-t", seed=seed, clip=clip, **settings)
    loss = {"apgd-ce": "ce", "apgd-dlr": "dlr", "apgd-t": None}[name]
    return apgd(model, x, y, eps=eps, loss=loss, seed=seed, clip=clip, **settings)


def plan(version="standard", attacks=None, num_classes=10, steps=None, queries=None, targets=None):
    """The attacks to run, in order, with their settings: [(name, settings)], and the notes on settings changed
    from the version's (`steps`, `queries`, `targets` overrides; targets above K − 1 are lowered to K − 1)."""
    if version not in VERSIONS:
        raise ValueError(f"autoattack: version must be one of {sorted(VERSIONS)}; got {version!r}")
    names, version_settings = VERSIONS[version]
    if attacks is not None:
        unknown = [a for a in attacks if a not in DEFAULTS]
        if unknown or not attacks:
            raise ValueError(f"autoattack: attacks must be a non-empty list of {sorted(DEFAULTS)}; got {attacks!r}")
        names = tuple(attacks)
    for name in names:
        if num_classes < _MIN_CLASSES.get(name, 2):
            raise ValueError(f"autoattack: {name} needs at least {_MIN_CLASSES[name]} classes and the model has "
                             f"{num_classes}; pass attacks=[...] without it, e.g. attacks=['apgd-ce', 'fab-t', "
                             f"'square'] with targets={num_classes - 1}")
    deviations = {}
    out = []
    for name in names:
        settings = dict(DEFAULTS[name], **version_settings.get(name, {}))
        for key, value in (("steps", steps), ("queries", queries), ("targets", targets)):
            if value is not None and key in settings and settings[key] != int(value):
                deviations[f"{name}.{key}"] = f"{settings[key]} -> {int(value)} (requested)"
                settings[key] = int(value)
        if "targets" in settings and settings["targets"] > num_classes - 1:
            deviations[f"{name}.targets"] = (f"{settings['targets']} -> {num_classes - 1} "
                                             f"(the model has {num_classes} classes)")
            settings["targets"] = num_classes - 1
        out.append((name, settings))
    return out, deviations


def _model_checks(model, x, version):
    """AutoAttack's sanity checks on one batch: randomness (outside version 'rand') and probability outputs."""
    notes = []
    first, second = np.asarray(model(x), np.float64), np.asarray(model(x), np.float64)
    if version != "rand" and not np.allclose(first, second, rtol=0.0, atol=1e-4 * (np.abs(first).max() + 1e-10)):
        notes.append("the model's outputs change between two calls on the same input: it seems randomized; "
                     "use version='rand' (EOT over 20 samples)")
    if first.min() > -1e-5 and first.max() < 1.0 + 1e-5 and np.allclose(first.sum(-1), 1.0, atol=1e-5):
        notes.append("the model's outputs look like probabilities: the attacks expect logits")
    return notes


def autoattack(model, x, y, eps=0.3, version="standard", attacks=None, seed=None, batch_size=250, clip=(0.0, 1.0),
               steps=None, queries=None, targets=None, progress=None):
    """Run AutoAttack's L∞ ensemble and return the per-example worst inputs and a report.

    model: any callable images [B, ...] → logits [B, K] (deterministic, or use version="rand").
    x: float images [N, ...] in `clip` (default [0, 1]). y: int labels [N] (required: accuracy needs truth).
    eps: L∞ radius, a float. version: "standard" (APGD-CE, APGD-T 9 targets, FAB-T 9 targets, Square 5000
    queries; 100 iterations, 1 restart each), "plus" (+ APGD-DLR and FAB with 5 restarts; APGD-CE 5 restarts),
    "rand" (APGD-CE and APGD-DLR with EOT over 20 samples). attacks: an optional subset/order of
    "apgd-ce", "apgd-dlr", "apgd-t", "fab", "fab-t", "square" with the version's settings. steps / queries /
    targets: override the iterations of APGD and FAB / the Square queries / the target classes (recorded in
    report["deviations"]; a number computed with overrides is not a standard AutoAttack number).
    Each attack runs in batches of `batch_size` only on the points still correctly classified; a point counts
    as broken when the model misclassifies the attack's output. seed: int or None (drawn and recorded).
    progress: None, or a callable(attack name, its index, number of attacks, points still robust, all points,
    seconds the attack took) called after each attack (the clean pass is index 0, name "clean").

    Returns (x_adv float32 [N, ...], report): x_adv[i] is the adversarial input that broke point i, else x[i].
    report: version, norm, eps, num_points, num_classes, clean_accuracy, robust_accuracy,
    robust_accuracy_after {attack: accuracy after it, cumulative}, broken_by (per point: "clean" if misclassified
    on x, the attack's name, or None if robust), seconds / cpu_seconds {attack and "total"}, hyperparameters
    {attack: settings}, deviations, seed, batch_size, max_perturbation, warnings.
    """
    x = _common.as_images(x)
    y = np.asarray(y).astype(np.int32).reshape(-1) if y is not None else None
    if y is None or y.shape[0] != x.shape[0]:
        raise ValueError(f"autoattack: y must hold one int label per input ({x.shape[0]}); got "
                         f"{None if y is None else y.shape}")
    if np.ndim(eps) != 0 or not float(eps) >= 0.0:
        raise ValueError(f"autoattack: eps must be one float >= 0; got {eps!r}")
    if int(batch_size) < 1:
        raise ValueError(f"autoattack: batch_size must be >= 1; got {batch_size}")
    lo, hi = _runs.check_clip(clip, "autoattack")
    if x.shape[0] == 0:
        raise ValueError("autoattack: x holds no examples")
    x_np = x.numpy()
    if x_np.min() < lo - 1e-6 or x_np.max() > hi + 1e-6:
        raise ValueError(f"autoattack: inputs must lie in clip=({lo:g}, {hi:g}); got values in "
                         f"[{x_np.min():.4g}, {x_np.max():.4g}] (rescale them, or pass the right clip)")
    k = int(model(x[:1]).shape[-1])
    runs, deviations = plan(version, attacks, k, steps, queries, targets)
    if any(name == "square" for name, _ in runs) and x.shape.rank not in (2, 4):
        raise ValueError(f"autoattack: Square needs images [N, H, W, C] or vectors [N, D]; got shape {x.shape} "
                         "(add a channel axis, or leave 'square' out of attacks=)")
    seed_pair = [int(v) for v in _common.as_seed(seed).numpy()]
    notes = _model_checks(model, x[:batch_size], version)
    n = x_np.shape[0]
    wall0, cpu0 = time.perf_counter(), time.process_time()
    predicted = np.concatenate([np.asarray(_runs.predict(model, x[i:i + batch_size]))
                                for i in range(0, n, batch_size)])
    robust = predicted == y
    if progress is not None:
        progress("clean", 0, len(runs), int(robust.sum()), n, time.perf_counter() - wall0)
    broken_by = [None if ok else "clean" for ok in robust]
    x_adv = x_np.copy()
    after, seconds, cpu = {}, {}, {}
    for a, (name, settings) in enumerate(runs):
        wall, clock = time.perf_counter(), time.process_time()
        todo = np.flatnonzero(robust)
        for start in range(0, todo.size, int(batch_size)):
            chunk = todo[start:start + int(batch_size)]
            chunk_seed = tf.random.experimental.stateless_fold_in(
                tf.random.experimental.stateless_fold_in(tf.constant(seed_pair, tf.int32), a), start)
            adv = _run_attack(name, model, tf.gather(x, chunk), tf.constant(y[chunk]), float(eps), chunk_seed,
                              (lo, hi), settings)
            fooled = np.asarray(_runs.predict(model, adv)) != y[chunk]
            hit = chunk[fooled]
            x_adv[hit] = np.asarray(adv)[fooled]
            robust[hit] = False
            for i in hit:
                broken_by[i] = name
        after[name] = float(robust.mean())
        seconds[name], cpu[name] = time.perf_counter() - wall, time.process_time() - clock
        if progress is not None:
            progress(name, a + 1, len(runs), int(robust.sum()), n, seconds[name])
    seconds["total"], cpu["total"] = time.perf_counter() - wall0, time.process_time() - cpu0
    by_square = sum(b == "square" for b in broken_by)
    if "square" in after and by_square > 0.002 * n and len(runs) > 1:
        notes.append(f"Square (no gradients) broke {by_square} of {n} points the gradient-based attacks before it "
                     "missed: a sign of gradient masking; the evaluation may be unreliable")
    for note in notes:
        warnings.warn(f"autoattack: {note}", stacklevel=2)
    report = {
        "version": version, "norm": "Linf", "eps": float(eps), "clip": [lo, hi], "num_points": n, "num_classes": k,
        "clean_accuracy": float(np.mean(predicted == y)), "robust_accuracy": float(robust.mean()),
        "robust_accuracy_after": after, "broken_by": broken_by, "seconds": seconds, "cpu_seconds": cpu,
        "attacks": [name for name, _ in runs], "hyperparameters": {name: s for name, s in runs},
        "deviations": deviations, "seed": seed_pair, "batch_size": int(batch_size),
        "max_perturbation": float(np.abs(x_adv - x_np).max()), "warnings": notes,
    }
    return tf.constant(x_adv), report
