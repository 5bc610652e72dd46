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
from tfgm.losses.gan import (
    GAN_LOSSES,
    LogZEstimate,
    bgan_generator_loss,
    discriminator_loss,
    generator_loss_minimax,
    generator_loss_nonsaturating,
    get_gan_loss,
    hinge_discriminator_loss,
    hinge_generator_loss,
    least_squares_discriminator_loss,
    least_squares_generator_loss,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from tfgm.losses.mixtures import (
    gaussian_mixture,
    gaussian_mixture_head_size,
    gaussian_mixture_log_likelihood,
    gaussian_mixture_sample,
    logistic_mixture_channels,
    logistic_mixture_log_likelihood,
    logistic_mixture_mean,
    logistic_mixture_sample,
    split_gaussian_mixture,
    split_logistic_mixture,
)
from tfgm.losses.regularizers import (
    annealed_gamma,
    annealed_stddev,
    clip_weights,
    gradient_penalty,
    instance_noise,
    jacobian_clamping,
    r1_penalty,
    roth_regularizer,
)
