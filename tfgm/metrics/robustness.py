"""Robust accuracy under a set of attacks, and the gradient-masking checks of thesis §2.6.2 / fig. 2.5."""

import numpy as np
import tensorflow as tf

from tfgm.attacks.fgsm import fgsm
from tfgm.attacks.pgd import pgd


def _batches(dataset, max_batches=None):
    for i, batch in enumerate(dataset):
        if max_batches is not None and i >= max_batches:
            return
        if isinstance(batch, dict):
            yield batch["image"], batch["label"]
        else:
            yield batch[0], batch[1]


def _correct(model, x, y):
    predicted = tf.argmax(model(x), axis=-1, output_type=tf.int32)
    return np.asarray(predicted == tf.reshape(tf.cast(y, tf.int32), [-1]))


def robust_accuracy(model, dataset, attacks, max_batches=None):
    """Accuracy on clean inputs and under each attack.

    model: callable images → logits [B, K]. dataset: iterable of {"image", "label"} dicts or (x, y) pairs.
    attacks: {name: callable (model, x, y) → x̃}, e.g. `functools.partial(tfgm.attacks.pgd, eps=0.1)`.
    Returns {"clean": acc, <name>: acc, ..., "num_examples": n}; accuracies in [0, 1].
    """
    correct = {"clean": 0, **{name: 0 for name in attacks}}
    n = 0
    for x, y in _batches(dataset, max_batches):
        x = tf.convert_to_tensor(x, tf.float32)
        correct["clean"] += int(_correct(model, x, y).sum())
        for name, attack in attacks.items():
            correct[name] += int(_correct(model, attack(model, x, y), y).sum())
        n += int(x.shape[0])
    if n == 0:
        raise ValueError("robust_accuracy: the dataset yielded no examples")
    result = {name: c / n for name, c in correct.items()}
    result["num_examples"] = n
    return result


def gradient_masking_report(model, dataset, eps=0.3, eps_grid=(0.1, 0.3, 0.6, 1.0), steps=40, step_size=None,
                            blackbox_accuracy=None, max_unbounded_accuracy=0.05, tolerance=0.01, seed=0,
                            max_batches=None):
    """Three checks that a defense is not winning by masking gradients (Athalye et al., 2018).

    - unbounded_pgd: PGD accuracy at the largest ε of `eps_grid` (1.0 = unbounded) ≤ `max_unbounded_accuracy`.
    - pgd_vs_fgsm: at `eps`, PGD accuracy ≤ FGSM accuracy + `tolerance` (iterative at least as strong).
    - whitebox_vs_blackbox: PGD accuracy at `eps` ≤ `blackbox_accuracy` + `tolerance` (skipped, passed=None,
      when no black-box accuracy is given; compute one with `tfgm.attacks.blackbox_substitute`).
    PGD uses step α = 2.5·ε/steps unless `step_size` is given (so every ε of the grid is reachable).
    Returns {"pgd_accuracy": {ε: acc}, "fgsm_accuracy", "clean_accuracy", "checks": {name: {"passed", numbers}},
    "lines": human-readable PASS/FAIL lines, "passed": all run checks passed}.
    """
    grid = sorted({float(e) for e in eps_grid} | {float(eps)})

    def pgd_at(e):
        alpha = 2.5 * e / max(int(steps), 1) if step_size is None else float(step_size)
        return lambda m, x, y: pgd(m, x, y, eps=e, step_size=alpha, steps=steps, seed=seed)

    attacks = {f"pgd@{e:g}": pgd_at(e) for e in grid}
    attacks["fgsm"] = lambda m, x, y: fgsm(m, x, y, eps=eps)
    acc = robust_accuracy(model, dataset, attacks, max_batches=max_batches)
    pgd_acc = {f"{e:g}": acc[f"pgd@{e:g}"] for e in grid}
    largest, at_eps = grid[-1], acc[f"pgd@{float(eps):g}"]
    checks = {
        "unbounded_pgd": {"passed": acc[f"pgd@{largest:g}"] <= max_unbounded_accuracy, "eps": largest,
                          "accuracy": acc[f"pgd@{largest:g}"], "max_allowed": max_unbounded_accuracy},
        "pgd_vs_fgsm": {"passed": at_eps <= acc["fgsm"] + tolerance, "eps": float(eps),
                        "pgd_accuracy": at_eps, "fgsm_accuracy": acc["fgsm"]},
    }
    if blackbox_accuracy is None:
        checks["whitebox_vs_blackbox"] = {"passed": None, "whitebox_accuracy": at_eps, "blackbox_accuracy": None}
    else:
        checks["whitebox_vs_blackbox"] = {"passed": at_eps <= float(blackbox_accuracy) + tolerance,
                                          "whitebox_accuracy": at_eps, "blackbox_accuracy": float(blackbox_accuracy)}
    lines = [
        f"{_verdict(checks['unbounded_pgd']['passed'])} PGD at eps={largest:g}: accuracy "
        f"{checks['unbounded_pgd']['accuracy']:.4f} (must be <= {max_unbounded_accuracy:g})",
        f"{_verdict(checks['pgd_vs_fgsm']['passed'])} eps={float(eps):g}: PGD accuracy {at_eps:.4f} vs FGSM "
        f"{acc['fgsm']:.4f} (PGD must be at least as strong)",
        f"{_verdict(checks['whitebox_vs_blackbox']['passed'])} white-box PGD accuracy {at_eps:.4f} vs black-box "
        + ("(not given)" if blackbox_accuracy is None else f"{float(blackbox_accuracy):.4f}")
        + " (white-box must be at least as strong)",
    ]
    ran = [c["passed"] for c in checks.values() if c["passed"] is not None]
    return {"clean_accuracy": acc["clean"], "pgd_accuracy": pgd_acc, "fgsm_accuracy": acc["fgsm"],
            "checks": checks, "lines": lines, "passed": all(ran), "num_examples": acc["num_examples"]}


def _verdict(passed):
    return "SKIP" if passed is None else ("PASS" if passed else "FAIL")
