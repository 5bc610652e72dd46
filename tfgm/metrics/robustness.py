"""Robust accuracy under a set of attacks, and the gradient-masking checks of thesis §2.6.2 / fig. 2.5."""

import numpy as np
import tensorflow as tf

from tfgm.attacks.autoattack import DEFAULTS as _AUTOATTACK_ATTACKS
from tfgm.attacks.autoattack import autoattack
from tfgm.attacks.fgsm import fgsm
from tfgm.attacks.pgd import pgd
from tfgm.attacks.square import square


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


_SPEC_KEYS = {"name", "eps", "version", "attacks", "steps", "queries", "targets", "batch_size", "seed"}


def _resolve(name, attack, eps, seed):
    """An attack entry → (callable (model, x, y) → x̃, or None, AutoAttack settings dict or None)."""
    if callable(attack):
        return attack, None
    spec = {"name": attack} if isinstance(attack, str) else dict(attack) if isinstance(attack, dict) else None
    known = ("autoattack",) + tuple(_AUTOATTACK_ATTACKS)
    if spec is None or spec.get("name") not in known:
        raise ValueError(f"robust_accuracy: attack {name!r} must be a callable (model, x, y) -> x_adv or one of "
                         f"{list(known)} (a name or a dict with 'name'); got {attack!r}")
    unknown = set(spec) - _SPEC_KEYS
    if unknown:
        raise ValueError(f"robust_accuracy: attack {name!r} takes settings {sorted(_SPEC_KEYS - {'name'})}; "
                         f"got unknown {sorted(unknown)}")
    spec.setdefault("eps", eps)
    if spec["eps"] is None:
        raise ValueError(f"robust_accuracy: attack {name!r} needs an L-inf radius: pass eps=... to robust_accuracy "
                         f"or put 'eps' in its spec")
    spec.setdefault("seed", seed)
    if spec["seed"] is None:
        spec["seed"] = int(np.random.default_rng().integers(2**31 - 1))
    if spec.pop("name") != "autoattack":
        spec["attacks"] = [attack if isinstance(attack, str) else attack["name"]]
    return None, spec


def _merge(total, report, n, seed):
    """Accumulate an AutoAttack report over batches (counts of points, seconds); batch b ran with seed [seed, b]."""
    if total is None:
        total = {k: report[k] for k in ("version", "norm", "eps", "attacks", "hyperparameters", "deviations",
                                        "num_classes")}
        total["seed"] = seed
        total.update(num_points=0, broken={"clean": 0, **{a: 0 for a in report["attacks"]}}, seconds={},
                     cpu_seconds={}, warnings=[], max_perturbation=0.0)
    total["num_points"] += n
    for b in report["broken_by"]:
        if b is not None:
            total["broken"][b] += 1
    for key in ("seconds", "cpu_seconds"):
        for attack, sec in report[key].items():
            total[key][attack] = total[key].get(attack, 0.0) + sec
    total["warnings"] += [w for w in report["warnings"] if w not in total["warnings"]]
    total["max_perturbation"] = max(total["max_perturbation"], report["max_perturbation"])
    return total


def _finish(total):
    n, remaining = total["num_points"], total["num_points"] - total["broken"]["clean"]
    total["clean_accuracy"] = remaining / n
    total["robust_accuracy_after"] = {}
    for attack in total["attacks"]:
        remaining -= total["broken"][attack]
        total["robust_accuracy_after"][attack] = remaining / n
    total["robust_accuracy"] = remaining / n
    return total


def robust_accuracy(model, dataset, attacks, max_batches=None, eps=None, seed=0):
    """Accuracy on clean inputs and under each attack.

    model: callable images → logits [B, K]. dataset: iterable of {"image", "label"} dicts or (x, y) pairs.
    attacks: {name: attack} or a list of attacks named by themselves. An attack is a callable (model, x, y) → x̃,
    e.g. `functools.partial(tfgm.attacks.pgd, eps=0.1)`, or an AutoAttack entry: "autoattack" (the standard
    ensemble), one of its attacks ("apgd-ce", "apgd-dlr", "apgd-t", "fab", "fab-t", "square", with AutoAttack's
    settings), or a dict {"name": ..., "eps", "version", "attacks", "steps", "queries", "targets",
    "batch_size", "seed"} (see `tfgm.attacks.autoattack`); their ε is `eps` unless the dict gives one, and each
    batch is attacked with the seed folded with the batch index.
    Returns {"clean": acc, <name>: acc, ..., "num_examples": n}; accuracies in [0, 1]. With AutoAttack entries
    also "autoattack_reports": {name: report summed over batches (clean/robust accuracy, robust_accuracy_after
    each attack, points broken by each, seconds, cpu_seconds, hyperparameters, deviations, warnings)}.
    """
    if not isinstance(attacks, dict):
        attacks = list(attacks)
        names = [a if isinstance(a, str) else a.get("name") if isinstance(a, dict) else None for a in attacks]
        if None in names or len(set(names)) != len(names):
            raise ValueError(f"robust_accuracy: a list of attacks must hold distinct names or specs with 'name'; "
                             f"got {attacks!r} (use a dict {{name: attack}} for anything else)")
        attacks = dict(zip(names, attacks))
    resolved = {name: _resolve(name, attack, eps, seed) for name, attack in attacks.items()}
    correct = {"clean": 0, **{name: 0 for name in attacks}}
    reports = {}
    n = 0
    for b, (x, y) in enumerate(_batches(dataset, max_batches)):
        x = tf.convert_to_tensor(x, tf.float32)
        correct["clean"] += int(_correct(model, x, y).sum())
        for name, (attack, spec) in resolved.items():
            if attack is not None:
                adv = attack(model, x, y)
            else:
                adv, report = autoattack(model, x, np.asarray(y), **dict(spec, seed=[int(spec["seed"]), b]))
                reports[name] = _merge(reports.get(name), report, int(x.shape[0]), spec["seed"])
            correct[name] += int(_correct(model, adv, y).sum())
        n += int(x.shape[0])
    if n == 0:
        raise ValueError("robust_accuracy: the dataset yielded no examples")
    result = {name: c / n for name, c in correct.items()}
    result["num_examples"] = n
    if reports:
        result["autoattack_reports"] = {name: _finish(r) for name, r in reports.items()}
    return result


def gradient_masking_report(model, dataset, eps=0.3, eps_grid=(0.1, 0.3, 0.6, 1.0), steps=40, step_size=None,
                            blackbox_accuracy=None, max_unbounded_accuracy=0.05, tolerance=0.01, seed=0,
                            max_batches=None, square_queries=None):
    """Checks that a defense is not winning by masking gradients (Athalye et al., 2018).

    - unbounded_pgd: PGD accuracy at the largest ε of `eps_grid` (1.0 = unbounded) ≤ `max_unbounded_accuracy`.
    - pgd_vs_fgsm: at `eps`, PGD accuracy ≤ FGSM accuracy + `tolerance` (iterative at least as strong).
    - whitebox_vs_blackbox: PGD accuracy at `eps` ≤ `blackbox_accuracy` + `tolerance` (skipped, passed=None,
      when no black-box accuracy is given; compute one with `tfgm.attacks.blackbox_substitute`).
    - whitebox_vs_square (only when `square_queries` is given): PGD accuracy at `eps` ≤ accuracy under the
      Square attack (`tfgm.attacks.square`, scores only, no gradients) with that many queries + `tolerance`.
    PGD uses step α = 2.5·ε/steps unless `step_size` is given (so every ε of the grid is reachable).
    Returns {"pgd_accuracy": {ε: acc}, "fgsm_accuracy", "clean_accuracy", "checks": {name: {"passed", numbers}},
    "lines": human-readable PASS/FAIL lines, "passed": all run checks passed, "square_accuracy" if asked}.
    """
    grid = sorted({float(e) for e in eps_grid} | {float(eps)})

    def pgd_at(e):
        alpha = 2.5 * e / max(int(steps), 1) if step_size is None else float(step_size)
        return lambda m, x, y: pgd(m, x, y, eps=e, step_size=alpha, steps=steps, seed=seed)

    attacks = {f"pgd@{e:g}": pgd_at(e) for e in grid}
    attacks["fgsm"] = lambda m, x, y: fgsm(m, x, y, eps=eps)
    if square_queries is not None:
        attacks["square"] = lambda m, x, y: square(m, x, y, eps=eps, queries=square_queries, seed=seed)
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
    if square_queries is not None:
        checks["whitebox_vs_square"] = {"passed": at_eps <= acc["square"] + tolerance, "eps": float(eps),
                                        "whitebox_accuracy": at_eps, "square_accuracy": acc["square"],
                                        "square_queries": int(square_queries)}
    lines = [
        f"{_verdict(checks['unbounded_pgd']['passed'])} PGD at eps={largest:g}: accuracy "
        f"{checks['unbounded_pgd']['accuracy']:.4f} (must be <= {max_unbounded_accuracy:g})",
        f"{_verdict(checks['pgd_vs_fgsm']['passed'])} eps={float(eps):g}: PGD accuracy {at_eps:.4f} vs FGSM "
        f"{acc['fgsm']:.4f} (PGD must be at least as strong)",
        f"{_verdict(checks['whitebox_vs_blackbox']['passed'])} white-box PGD accuracy {at_eps:.4f} vs black-box "
        + ("(not given)" if blackbox_accuracy is None else f"{float(blackbox_accuracy):.4f}")
        + " (white-box must be at least as strong)",
    ]
    if square_queries is not None:
        lines.append(f"{_verdict(checks['whitebox_vs_square']['passed'])} eps={float(eps):g}: PGD accuracy "
                     f"{at_eps:.4f} vs Square ({int(square_queries)} queries, no gradients) {acc['square']:.4f} "
                     "(PGD must be at least as strong)")
    ran = [c["passed"] for c in checks.values() if c["passed"] is not None]
    return {"clean_accuracy": acc["clean"], "pgd_accuracy": pgd_acc, "fgsm_accuracy": acc["fgsm"],
            "checks": checks, "lines": lines, "passed": all(ran), "num_examples": acc["num_examples"],
            **({} if square_queries is None else {"square_accuracy": acc["square"]})}


def autoattack_vs_pgd(autoattack_accuracy, pgd_accuracy, eps, num_points, version="standard"):
    """The check "AutoAttack ≤ PGD": robust accuracy under AutoAttack must not exceed PGD's on the same points
    (accuracies in [0, 1]); a violation is evidence of a broken attack (or of an evaluation on other points).
    Returns (check {"passed", "eps", "autoattack_accuracy", "pgd_accuracy", "num_points", "version"}, one
    PASS/FAIL line for a gradient-masking report's "lines")."""
    aa, pg = float(autoattack_accuracy), float(pgd_accuracy)
    check = {"passed": aa <= pg, "eps": float(eps), "autoattack_accuracy": aa, "pgd_accuracy": pg,
             "num_points": int(num_points), "version": version}
    line = (f"{_verdict(check['passed'])} eps={float(eps):g}: AutoAttack ({version}) accuracy {aa:.4f} vs PGD "
            f"{pg:.4f} on the same {int(num_points)} points (AutoAttack must not exceed PGD"
            + ("" if check["passed"] else ": evidence of a broken attack") + ")")
    return check, line


def _verdict(passed):
    return "SKIP" if passed is None else ("PASS" if passed else "FAIL")
