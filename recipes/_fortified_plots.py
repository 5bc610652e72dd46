"""Figures of the Fortified Networks image recipes: the ε-sweep (fig. 2.5), the detection histograms and ROC
curves (raw error and the model's score side by side; attacks also over their successful inputs only), a grid of
adversarial examples."""

import os

import numpy as np

from recipes._fortified_config import BASELINE, FORTIFIED, MODEL_LABELS


def plot_sweep(path, sweep, title):
    """Fig. 2.5: accuracy vs ε under PGD and FGSM for both models."""
    from tfgm.training import pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, color in ((BASELINE, "tab:blue"), (FORTIFIED, "tab:red")):
        ax.plot(sweep["eps"], sweep[name]["pgd"], "-o", color=color, label=f"{MODEL_LABELS[name]}, PGD")
        ax.plot(sweep["eps"], sweep[name]["fgsm"], "--s", color=color, label=f"{MODEL_LABELS[name]}, FGSM")
    ax.set(xlabel="ε (L∞, pixel units)", ylabel="test accuracy", ylim=(-0.02, 1.02),
           title=f"{title}: accuracy vs ε ({sweep['num_examples']} test examples)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


SCORE_AXIS = {"raw": "raw: Σ‖D(E(h)) − h‖²", "relative": "relative: ‖D(E(h)) − h‖² / ‖h‖²",
              "cosine": "cosine: 1 − cos∠(D(E(h)), h)",
              "cosine_confidence": "cosine_confidence: z(cosine) + z(1 − max softmax)"}


def plot_detection(images_dir, clean, groups, ood, threshold, score, main_row, title):
    """detection_histogram.png and detection_roc.png, each with two panels side by side: the raw summed error
    (the thesis' score) and the model's `score` (its threshold drawn); clean test inputs vs the `main_row`
    attack and the out-of-distribution sets."""
    from tfgm.training import pyplot, save_figure

    plt = pyplot()
    panels = list(dict.fromkeys(["raw", score]))
    shown = {"clean test": clean, main_row: groups[main_row], **ood}
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4), squeeze=False)
    for ax, name in zip(axes[0], panels):
        values = {label: g["scores"][name] for label, g in shown.items()}
        everything = np.concatenate(list(values.values()))
        upper = np.percentile(everything, 99.5)
        if name == score:
            upper = max(upper, threshold * 1.05)
        bins = np.linspace(min(0.0, everything.min()), upper, 50)
        for label, v in values.items():
            ax.hist(np.clip(v, None, upper), bins=bins, alpha=0.5, density=True, label=f"{label} (n={len(v)})")
        if name == score:
            ax.axvline(threshold, color="k", linestyle="--", label=f"threshold {threshold:.3g} (calibrated)")
        kind = "model's score" if name == score else "thesis' score"
        ax.set(xlabel=SCORE_AXIS[name] + "\n(values above the axis end in the last bin)", ylabel="density",
               title=f"{title}: {name} ({kind})")
        ax.legend(fontsize=7)
    hist = save_figure(fig, os.path.join(images_dir, "detection_histogram.png"))
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 5), squeeze=False)
    for ax, name in zip(axes[0], panels):
        for curve in roc_curves(clean, {**groups, **ood}, name):
            color = f"C{curve['group']}"
            ax.plot(curve["fpr"], curve["tpr"], "--" if curve["successful_only"] else "-", color=color,
                    label=f"{curve['label']} (AUROC {curve['auroc']:.3f})")
        ax.plot([0, 1], [0, 1], ":", color="gray")
        ax.set(xlabel="false-alarm rate on clean test inputs\n(dashed: successful attacks vs correctly classified clean)",
               ylabel="detection rate", title=f"{title}: ROC, {name} score")
        ax.legend(fontsize=7)
    return hist, save_figure(fig, os.path.join(images_dir, "detection_roc.png"))


def roc_curves(clean, groups, name):
    """The ROC curves of score `name` drawn per group of scored inputs (tfgm.metrics.detection_report): each group
    against all clean inputs, and each adversarial group's fooled inputs against the correctly classified clean
    ones (the detection literature's protocol; `auroc_successful_only` of the report), when both exist.
    Returns [{"label", "group" (index), "successful_only", "fpr", "tpr", "auroc"}]."""
    from tfgm.metrics import detection_auroc, roc_curve
    from tfgm.metrics.detection_report import successful_pairs

    curves = []
    for index, (label, g) in enumerate(groups.items()):
        pairs = [(label, False, clean["scores"][name], g["scores"][name])]
        if g.get("labels") is not None:
            hit, fooled = successful_pairs(clean, g)
            if hit.any() and fooled.any():
                pairs.append((f"{label}, successful only", True, clean["scores"][name][hit],
                              g["scores"][name][fooled]))
        for text, successful, negatives, positives in pairs:
            fpr, tpr = roc_curve(negatives, positives)
            curves.append({"label": text, "group": index, "successful_only": successful, "fpr": fpr, "tpr": tpr,
                           "auroc": detection_auroc(negatives, positives)})
    return curves


def save_adversarial_grid(path, clean, recorders):
    """Rows: clean test images, then each table attack's x̃ on the fortified model."""
    from tfgm.training import make_grid, save_png

    rows = [clean[:8]] + [np.concatenate(rec.examples)[:8] for rec in recorders.values()]
    n = min(len(r) for r in rows)
    save_png(path, make_grid(np.stack([r[:n] for r in rows])))
    return path
