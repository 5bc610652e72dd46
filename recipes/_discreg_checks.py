"""discreg_celeba's flag checks, run before any data is read or any step taken."""

import math

from recipes._celeba import IMAGE_SIZE


def check_config(cfg):
    """ValueError naming every flag of this recipe that cannot work (before any data is read or step taken)."""
    from tfgm.models.vae import VAE_LIKELIHOODS
    from tfgm.nets import discgen

    positive = {"--latent-dim": cfg.latent_dim, "--learning-rate": cfg.learning_rate,
                "--classifier-learning-rate": cfg.classifier_learning_rate, "--vae-epochs": cfg.vae_epochs,
                "--classifier-epochs": cfg.classifier_epochs, "--sigma-lr-multiplier": cfg.sigma_lr_multiplier,
                "--iw-examples": cfg.iw_examples, "--iw-samples": cfg.iw_samples, "--image-every": cfg.image_every,
                "--baseline-examples": cfg.baseline_examples}
    problems = [f"{flag} {value}: must be > 0" for flag, value in positive.items() if not value > 0]
    problems += [f"{flag} {value}: must be ≥ 0" for flag, value in (
        ("--kl-warmup-steps", cfg.kl_warmup_steps), ("--bn-recalibration-batches", cfg.bn_recalibration_batches),
        ("--layer-weight", cfg.layer_weight), ("--train-examples", cfg.train_examples),
        ("--eval-examples", cfg.eval_examples)) if value < 0]
    try:
        discgen.celeba_vae_widths(cfg.vae_width)
    except ValueError as error:
        problems.append(f"--vae-width {cfg.vae_width}: {error}")
    if not (math.isfinite(cfg.pixel_sigma) and cfg.pixel_sigma >= 0):
        problems.append(f"--pixel-sigma {cfg.pixel_sigma}: must be a finite σ > 0, or 0 (learned)")
    elif cfg.pixel_sigma and cfg.likelihood != "gaussian":
        problems.append(f"--pixel-sigma {cfg.pixel_sigma}: only the gaussian likelihood has a σ (--likelihood "
                        f"{cfg.likelihood}); drop the flag or use --likelihood gaussian")
    if cfg.fd_samples < 2:
        problems.append(f"--fd-samples {cfg.fd_samples}: the Fréchet distance needs ≥ 2 samples")
    if cfg.likelihood not in VAE_LIKELIHOODS:
        problems.append(f"--likelihood {cfg.likelihood}: choose one of {' | '.join(VAE_LIKELIHOODS)}")
    if problems:
        raise ValueError("flags: " + "; ".join(problems))


def check_layers(cfg):
    """ValueError when --layers names no layer of the attribute classifier (builds the net: call it after the
    strategy exists, since multi-worker collectives must be configured before any tensor)."""
    from tfgm.nets import discgen

    names = {layer.name for layer in discgen.celeba_classifier(IMAGE_SIZE + (3,), 1).layers}
    unknown = [name for name in cfg.layers if name not in names]
    if unknown or not cfg.layers:
        bn = " ".join(sorted(n for n in names if n.endswith("_bn")))
        raise ValueError(f"flags: --layers {' '.join(cfg.layers) or '(none)'}: not layers of the attribute "
                         f"classifier ({', '.join(unknown) or 'give at least one'}); its batch-norm outputs: {bn}")
