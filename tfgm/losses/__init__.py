"""Pure functions on tensors: likelihoods (via TFP), GAN losses, penalties."""

from tfgm.losses.likelihoods import (
    LIKELIHOODS,
    MIN_LOG_SIGMA,
    bernoulli_log_likelihood,
    discretized_logistic_log_likelihood,
    gaussian_kl,
    gaussian_log_density,
    gaussian_log_likelihood,
)
