"""Evaluation: likelihood estimates, attribute agreement, sample-quality scores, detection."""

from tfgm.metrics.attributes import attribute_agreement
from tfgm.metrics.likelihood import elbo, importance_weighted_nll
