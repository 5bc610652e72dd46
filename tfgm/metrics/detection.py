"""Off-manifold detection metrics: AUROC (rank-based), ROC curve, the adversarial/clean error ratio (thesis §2.6.3)."""

import numpy as np


def _average_ranks(values):
    """1-based ranks of `values`, ties sharing their mean rank."""
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    _, first, counts = np.unique(sorted_values, return_index=True, return_counts=True)
    mean_rank = first + (counts + 1) / 2.0
    ranks = np.empty(len(values), np.float64)
    ranks[order] = np.repeat(mean_rank, counts)
    return ranks


def detection_auroc(clean_scores, adv_scores):
    """P(score_adv > score_clean) + ½·P(tie): the AUROC of "higher score = adversarial" (Mann–Whitney U).

    clean_scores [N], adv_scores [M]: any real scores, e.g. per-example reconstruction error.
    1.0 = perfect separation, 0.5 = chance or identical scores, 0.0 = perfectly reversed.
    """
    clean = np.asarray(clean_scores, np.float64).ravel()
    adv = np.asarray(adv_scores, np.float64).ravel()
    if clean.size == 0 or adv.size == 0:
        raise ValueError(f"detection_auroc needs scores for both groups, got {clean.size} clean, "
                         f"{adv.size} adversarial")
    if not (np.all(np.isfinite(clean)) and np.all(np.isfinite(adv))):
        raise ValueError("detection_auroc: scores must be finite (found NaN or inf)")
    ranks = _average_ranks(np.concatenate([clean, adv]))
    u = ranks[clean.size:].sum() - adv.size * (adv.size + 1) / 2.0
    return float(u / (clean.size * adv.size))


def roc_curve(clean_scores, adv_scores):
    """(false-alarm rates, detection rates) of "score > t" over every threshold t, from (0, 0) to (1, 1).

    clean_scores [N], adv_scores [M]: real scores, higher = more likely adversarial / off-manifold.
    Both arrays are non-decreasing; the trapezoid area under them equals `detection_auroc`.
    """
    clean = np.sort(np.asarray(clean_scores, np.float64).ravel())
    adv = np.sort(np.asarray(adv_scores, np.float64).ravel())
    if clean.size == 0 or adv.size == 0:
        raise ValueError(f"roc_curve needs scores for both groups, got {clean.size} clean, {adv.size} adversarial")
    thresholds = np.unique(np.concatenate([clean, adv]))[::-1]
    fpr = 1.0 - np.searchsorted(clean, thresholds, side="right") / clean.size
    tpr = 1.0 - np.searchsorted(adv, thresholds, side="right") / adv.size
    return np.concatenate([[0.0], fpr, [1.0]]), np.concatenate([[0.0], tpr, [1.0]])


def reconstruction_error_ratio(clean_errors, adv_errors):
    """mean(adversarial error) / mean(clean error); > 1 when adversarial inputs sit further off-manifold."""
    clean = float(np.mean(np.asarray(clean_errors, np.float64)))
    adv = float(np.mean(np.asarray(adv_errors, np.float64)))
    if clean <= 0.0:
        raise ValueError(f"reconstruction_error_ratio: mean clean error must be > 0, got {clean}")
    return adv / clean
