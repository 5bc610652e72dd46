"""Inception Score (Salimans et al. 2016) from class probabilities. NumPy only, float64.

IS = exp(E_x KL(p(y|x) ‖ p(y))), p(y) the mean prediction within a split; reported as mean ± std
over ``splits`` equal splits. As in the reference code, each split holds N // splits consecutive
rows and the remaining N mod splits rows are left out. Range [1, K]. Published numbers use the
2015 Inception graph; state the classifier and N with the number.
"""

import numpy as np

_EPS = 1e-16


def inception_score(probs, splits=10):
    """Inception Score of probabilities ``probs`` [N, K] (rows sum to 1), N ≥ splits.

    Returns (mean, std) as Python floats, std over splits (ddof=0).
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"inception_score: expected probabilities of shape [N, K], got {p.shape}.")
    splits = int(splits)
    if splits < 1 or p.shape[0] < splits:
        raise ValueError(
            f"inception_score: need N >= splits >= 1, got N={p.shape[0]} and splits={splits}."
        )
    if np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError(
            "inception_score: rows must be probabilities (non-negative, summing to 1); pass "
            "softmax outputs, not logits."
        )
    size = p.shape[0] // splits
    log_p = np.log(np.clip(p, _EPS, None))
    scores = []
    for k in range(splits):
        part, log_part = p[k * size : (k + 1) * size], log_p[k * size : (k + 1) * size]
        log_marginal = np.log(np.clip(part.mean(axis=0, keepdims=True), _EPS, None))
        kl = np.sum(part * (log_part - log_marginal), axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))
