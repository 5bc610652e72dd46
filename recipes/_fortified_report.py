"""Reports of the Fortified Networks image recipes: the thesis-style table, metrics.json and the summary."""

from recipes._fortified_attacks import train_attack
from recipes._fortified_config import BASELINE, FORTIFIED, MODEL_LABELS


def row_label(row):
    """"fgsm@0.3" → "FGSM ε=0.3"."""
    kind, eps = row.rsplit("@", 1)
    return {"clean": "clean", "fgsm": "FGSM", "pgd": "PGD", "blackbox_fgsm": "black-box FGSM",
            "autoattack": "AutoAttack"}[kind] + f" ε={eps}"


def thesis_for(spec, row):
    """(adv. training %, fortified %, source) the thesis reports for a table row, or None."""
    kind, _, eps = row.partition("@")
    return spec.thesis.get((kind, float(eps))) if eps else None


def table_rows(spec, accuracy, autoattack=None):
    """Rows of the thesis-style table: measured accuracies, their number of test points and, where the thesis
    has one, its number; then the AutoAttack row (on its own first points) when `autoattack` {model: report}."""
    rows = []
    for row in [r for r in accuracy[FORTIFIED] if r != "num_examples"]:
        thesis = thesis_for(spec, row)
        rows.append({"row": row, "label": "clean" if row == "clean" else row_label(row),
                     BASELINE: accuracy[BASELINE][row], FORTIFIED: accuracy[FORTIFIED][row],
                     "num_examples": accuracy[FORTIFIED]["num_examples"],
                     "thesis_reference_percent": None if thesis is None else
                     {BASELINE: thesis[0], FORTIFIED: thesis[1], "source": thesis[2]}})
    if autoattack:
        report = autoattack[FORTIFIED]
        row = f"autoattack@{report['eps']:g}"
        rows.append({"row": row, "label": f"{row_label(row)} ({report['version']})",
                     BASELINE: autoattack[BASELINE]["robust_accuracy"],
                     FORTIFIED: autoattack[FORTIFIED]["robust_accuracy"], "num_examples": report["num_points"],
                     "thesis_reference_percent": None})
    return rows


def autoattack_metrics(cfg, eps, autoattack):
    """metrics.json's "autoattack": version, ε, points and per model the report (robust accuracy after each
    attack, points broken by each, PGD on the same points, seconds); None under --no-autoattack."""
    if not autoattack:
        return None
    return {"version": cfg.autoattack_version, "norm": "Linf", "eps": eps,
            "num_points": autoattack[FORTIFIED]["num_points"],
            "protocol": "tfgm.metrics.robust_accuracy's 'autoattack' entry (tfgm.attacks.autoattack: each attack "
                        "only on the points still correctly classified) on the first num_points test points (after "
                        "the black-box holdout); pgd_accuracy: the table's PGD at the same ε on the same points; "
                        "seconds/cpu_seconds per attack summed over batches, wall_seconds the whole AutoAttack call",
            "models": autoattack}


def thesis_reference(spec, cfg, eps):
    """The thesis' numbers for this dataset, labeled as a reference (metrics.json "thesis_reference")."""
    return {
        "note": "numbers reported in the thesis (Lamb, ch. 2), NOT measured in this run; percent test accuracy. "
                "Each comes from models adversarially trained with that row's attack and ε on the full dataset; "
                "this run trained once, with the attack in train_attack",
        "units": "percent",
        "rows": [{"attack": k[0], "eps": k[1], BASELINE: v[0], FORTIFIED: v[1], "source": v[2],
                  "same_training_attack_as_this_run": (k[0], k[1]) == (cfg.attack, eps)}
                 for k, v in spec.thesis.items()],
        "autoattack": "the thesis reports no AutoAttack numbers (AutoAttack, Croce & Hein 2020, came later)",
    }


def summary_table(rows, detection, masking, threshold, cfg):
    """Plain-text summary: the table (percent), detection and the gradient-masking lines."""
    lines = [f"{'test accuracy (%)':30s} {'adv. training':>13s} {'fortified':>10s} {'points':>7s}   "
             "thesis adv./fort. (reference)", "-" * 98]
    for r in rows:
        ref = r["thesis_reference_percent"]
        ref_text = "" if ref is None else f"{ref[BASELINE]:.2f} / {ref[FORTIFIED]:.2f} ({ref['source']})"
        lines.append(f"{r['label']:30s} {100 * r[BASELINE]:13.2f} {100 * r[FORTIFIED]:10.2f} {r['num_examples']:7d}"
                     f"   {ref_text}")
    score = detection["score"]
    lines += ["", f"off-manifold detection (fortified; score {score}; threshold {threshold:.4g} at "
                  f"{cfg.false_alarm_rate:.0%} false alarms on validation, {detection['clean_false_alarm_rate']:.1%} "
                  "on clean test):",
              f"  {'inputs':24s} {'AUROC ' + score:>14s} {'successful':>10s} {'AUROC raw':>10s} {'raw ratio':>10s} "
              f"{'flagged':>8s} {'AUROC doubt':>12s}"]
    named = [(row_label(row), d) for row, d in detection["attacks"].items()]
    named += [(f"OOD {name}", d) for name, d in detection["out_of_distribution"].items()]
    for label, d in named:
        successful = d.get("auroc_successful_only")
        doubt = d.get("auroc_doubt")
        lines.append(f"  {label:24s} {d['auroc']:14.3f} {'-' if successful is None else f'{successful:.3f}':>10s} "
                     f"{d['auroc_raw']:10.3f} {d['error_ratio']:10.2f} {d['detection_rate']:8.1%} "
                     f"{'-' if doubt is None else f'{doubt:.3f}':>12s}")
    lines.append("  (successful: only inputs whose correct prediction the attack changed, against correctly classified "
                 "clean inputs, the detection literature's protocol (Lee et al. 2018); doubt: 1 − max softmax alone, "
                 "the blind baseline without the DAE)")
    lines.append("")
    for name, report in masking.items():
        lines.append(f"gradient-masking checks, {MODEL_LABELS[name]}:")
        lines += [f"  {line}" for line in report["lines"]]
    return "\n".join(lines)


DETECTION_PROTOCOL = (
    "fortified model's noise-free scores per example: `auroc`/`threshold`/`detection_rate` use `score`, "
    "`auroc_raw`/`error_ratio` the thesis' summed error Σ_k ‖D_k(E_k(h_k)) − h_k‖², `auroc_doubt` the classifier's "
    "1 − max softmax alone (a blind baseline without the DAE); attacks crafted white-box on the "
    "fortified model, AUROC against all clean test inputs (`auroc_successful_only`: inputs whose correct prediction "
    "the attack changed, against correctly classified clean inputs: the protocol of the adversarial-detection "
    "literature, e.g. Lee et al. 2018); out_of_distribution: inputs of another built-in "
    "dataset converted to the test shape, and uniform noise")


def run_metrics(cfg, spec, eps, data, results, fortified, images):
    """metrics.json of an image recipe: table, thesis reference, detection (with the calibrated threshold),
    gradient masking, ε-sweep and protocol. results: `evaluate_models`' output; images: paths in the run."""
    threshold = fortified.threshold
    return {
        "data": cfg.data, "num_classes": data["num_classes"],
        "train_attack": train_attack(cfg, eps),
        "accuracy": results["accuracy"],
        "table": table_rows(spec, results["accuracy"], results["autoattack"]),
        "thesis_reference": thesis_reference(spec, cfg, eps),
        "autoattack": autoattack_metrics(cfg, eps, results["autoattack"]),
        "detection": {**results["detection"], "threshold": threshold, "false_alarm_rate_target": cfg.false_alarm_rate,
                      "calibration_examples": len(data["validation"][0]), "protocol": DETECTION_PROTOCOL},
        "gradient_masking": results["masking"],
        "eps_sweep": results["sweep"],
        "protocol": {
            "test_examples": results["num_test"],
            "pgd": {"step_size": cfg.pgd_step_size, "steps": cfg.pgd_steps, "restarts": cfg.pgd_restarts,
                    "random_start": True},
            "sweep_pgd": "step 2.5·ε/steps (tfgm.metrics.gradient_masking_report)",
            "blackbox": None if not cfg.blackbox else {
                "holdout": cfg.blackbox_holdout, "rounds": cfg.blackbox_rounds, "lambda": cfg.blackbox_lambda,
                "epochs_per_round": cfg.blackbox_epochs, "substitute": "MLP 200-200 (tfgm.nets mlp)",
                "attack": f"FGSM ε={eps:g} crafted on the substitute, transferred",
                "note": "the adversary's holdout points are the first test examples, excluded from every number"},
            "reconstruction_loss": {"reduction": fortified.rec_reduction, "lambda_rec": fortified.lambda_rec,
                                    "lambda_adv": fortified.lambda_adv},
            "baseline": "same classifier and train step with the fortified slot a frozen identity (λ = 0, σ = 0): "
                        "CE(clean) + CE(adversarial)",
            "epochs": cfg.stage_epochs(cfg.train_epochs), "batch_size": cfg.batch_size, "seed": cfg.seed,
        },
        "images": images,
    }
