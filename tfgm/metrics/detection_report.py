"""An off-manifold detector's report: each group of suspect inputs (attacks, out-of-distribution sets) against
clean inputs, with the detector's score and the thesis' raw error side by side (thesis §2.6.3).

Scored inputs are dicts {"scores": {"raw": [N], <score>: [N]}, "predictions": [N] int, "labels": [N] int or
None}: per-example scores (higher = more off-manifold; "raw" is the summed reconstruction error Σ_k ‖D_k(E_k(h_k))
− h_k‖²) and the model's predicted classes. An adversarial group carries the labels of its clean inputs, aligned
with the clean group (example i of both comes from the same test input); an out-of-distribution group has None.
"""

import numpy as np

from tfgm.metrics.detection import detection_auroc, reconstruction_error_ratio


def successful_pairs(clean, group):
    """([N] bool, [N] bool): the correctly classified clean inputs, and those among them whose prediction the
    adversarial `group` changed (aligned scored-input dicts, module docstring; the group carries labels)."""
    hit = clean["predictions"] == clean["labels"]
    return hit, hit & (group["predictions"] != group["labels"])


def group_detection(clean, group, score, threshold):
    """How well `score` separates `group` from `clean` inputs (scored-input dicts, module docstring).

    Returns {"auroc" (of `score`), "auroc_raw", "error_ratio" (mean raw error group / clean), "detection_rate"
    (fraction of the group with score > threshold), "mean_score", "mean_raw_error", "num_examples"}, and
    "auroc_doubt" when the inputs carry a "doubt" score (1 − max softmax: the classifier alone, no DAE); for an
    adversarial group (labels not None) also "attack_success_rate" (fraction of correctly classified clean
    inputs whose prediction the attack changed) and "auroc_successful_only" (those fooled inputs against the
    correctly classified clean ones; None when either set is empty).
    """
    values, raw = group["scores"][score], group["scores"]["raw"]
    result = {"auroc": detection_auroc(clean["scores"][score], values),
              "auroc_raw": detection_auroc(clean["scores"]["raw"], raw),
              "error_ratio": reconstruction_error_ratio(clean["scores"]["raw"], raw),
              "detection_rate": float(np.mean(values > threshold)),
              "mean_score": float(np.mean(values)), "mean_raw_error": float(np.mean(raw)),
              "num_examples": int(len(values))}
    if "doubt" in clean["scores"]:
        result["auroc_doubt"] = detection_auroc(clean["scores"]["doubt"], group["scores"]["doubt"])
    if group["labels"] is not None:
        hit, fooled = successful_pairs(clean, group)
        result["attack_success_rate"] = float(np.sum(fooled) / max(np.sum(hit), 1))
        result["auroc_successful_only"] = (detection_auroc(clean["scores"][score][hit], values[fooled])
                                           if hit.any() and fooled.any() else None)
    return result


def detection_summary(clean, attacks, out_of_distribution, score, threshold):
    """The detector on clean inputs (false-alarm rate at `threshold`, mean score and raw error) and
    `group_detection` of each group: attacks {name: scored inputs}, out_of_distribution {name: scored inputs}."""
    return {"clean_false_alarm_rate": float(np.mean(clean["scores"][score] > threshold)),
            "clean_mean_score": float(np.mean(clean["scores"][score])),
            "clean_mean_error": float(np.mean(clean["scores"]["raw"])),
            "attacks": {name: group_detection(clean, g, score, threshold) for name, g in attacks.items()},
            "out_of_distribution": {name: group_detection(clean, g, score, threshold)
                                    for name, g in out_of_distribution.items()}}
