"""Attribute Inception Score: the Inception Score of a multi-label (attribute) classifier, NumPy only.

Each attribute a is a 2-class problem with p(a|x) from the classifier's sigmoid; its IS is
exp(E_x KL(p(a|x) ‖ p(a))) over `splits` splits (`tfgm.metrics.inception_score`), and the score is the mean
over attributes of those means (and of their split stds). Range [1, 2].
"""

import numpy as np

from tfgm.metrics.inception_score import inception_score


def attribute_inception_score(probs, splits):
    """Attribute probabilities [N, A] in [0, 1] (N ≥ splits) → (mean, std) as floats: the mean over attributes
    of each attribute's 2-class Inception Score (mean in [1, 2]) and of its std over splits."""
    scores = [inception_score(np.stack([1.0 - probs[:, a], probs[:, a]], -1), splits=splits)
              for a in range(probs.shape[1])]
    return float(np.mean([s[0] for s in scores])), float(np.mean([s[1] for s in scores]))
