"""Pure functions on tensors: likelihoods (via TFP), GAN losses, penalties, and `registry` (the GAN losses and
penalties by name). Names load on first use, so `tfgm.losses.registry` is read without importing TensorFlow."""

import importlib

_NAMES = {
    "likelihoods": ("LIKELIHOODS", "MIN_LOG_SIGMA", "bernoulli_log_likelihood", "discretized_logistic_log_likelihood",
                    "gaussian_kl", "gaussian_log_density", "gaussian_log_likelihood"),
    "gan": ("bgan_generator_loss", "discriminator_loss", "generator_loss_minimax",
            "generator_loss_nonsaturating", "hinge_discriminator_loss", "hinge_generator_loss",
            "least_squares_discriminator_loss", "least_squares_generator_loss", "wasserstein_critic_loss",
            "wasserstein_generator_loss"),
    "registry": ("GAN_LOSSES", "PENALTIES", "canonical_regularizers", "get_gan_loss"),
    "mixtures": ("gaussian_mixture", "gaussian_mixture_head_size", "gaussian_mixture_log_likelihood",
                 "gaussian_mixture_sample", "logistic_mixture_channels", "logistic_mixture_log_likelihood",
                 "logistic_mixture_mean", "logistic_mixture_sample", "split_gaussian_mixture",
                 "split_logistic_mixture"),
    "regularizers": ("annealed_gamma", "annealed_stddev", "clip_weights", "gradient_penalty", "instance_noise",
                     "jacobian_clamping", "r1_penalty", "roth_regularizer"),
}
_EXPORTS = {name: module for module, names in _NAMES.items() for name in names}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _NAMES:
        return importlib.import_module(f"{__name__}.{name}")
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value
