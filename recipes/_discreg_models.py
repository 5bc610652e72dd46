"""discreg_celeba's models: the attribute classifier, the plain VAE and the discreg VAE, built from its config."""

from recipes._celeba import IMAGE_SIZE, attribute_classifier


def builders(cfg, num_attributes, classifier=None):
    """(build_classifier, build_vae, build_discreg): functions building discreg_celeba's compiled models from its
    config — the 40-attribute classifier, the plain VAE and the discriminatively regularized VAE (discgen's CelebA
    64×64 encoder and decoder, channels × --vae-width, the same options; discreg on `classifier`'s --layers,
    needed by build_discreg)."""
    import keras

    from tfgm.losses import logistic_mixture_channels
    from tfgm.models import DiscRegVAE, VAE
    from tfgm.nets import discgen

    def build_classifier():
        return attribute_classifier(cfg, num_attributes)

    def nets():
        head = logistic_mixture_channels(cfg.mixture_components, 3) if cfg.likelihood == "logistic_mixture" else 0
        return discgen.celeba_vae_nets(IMAGE_SIZE + (3,), cfg.latent_dim, cfg.vae_width, head)

    def vae_options():
        return dict(likelihood=cfg.likelihood, min_log_sigma=cfg.min_log_sigma, max_log_var=cfg.max_log_var,
                    kl_warmup_steps=cfg.kl_warmup_steps, sigma_lr_multiplier=cfg.sigma_lr_multiplier,
                    pixel_sigma=cfg.pixel_sigma or None, seed=cfg.seed)

    def build_vae():
        model = VAE(*nets(), name="vae", **vae_options())
        model.compile(keras.optimizers.Adam(cfg.learning_rate))
        return model

    def build_discreg():
        features = discgen.feature_extractor(classifier, cfg.layers)
        model = DiscRegVAE(*nets(), features, layer_weights={n: cfg.layer_weight for n in cfg.layers},
                           discreg_to_encoder=cfg.discreg_to_encoder, name="discreg_vae", **vae_options())
        model.compile(keras.optimizers.Adam(cfg.learning_rate))
        return model

    return build_classifier, build_vae, build_discreg
