"""discreg_celeba's evaluation of one VAE: the comparison numbers and which attributes the images show."""

from recipes._celeba import data_name


def drawn_attributes(cfg, names):
    """The attributes the built-in faces' renderer draws (the rest are random bits no image shows), or None
    for real data, where every attribute is in the picture."""
    from tfgm.data.builtin_faces import DRAWN_ATTRIBUTES

    builtin = data_name(cfg) in ("builtin_faces", "builtin_faces_plain")
    return DRAWN_ATTRIBUTES if builtin and len(names) == 40 else None


def vae_scores(cfg, model, classifier, test, names, drawn, sample_scores):
    """The comparison numbers of one VAE, with their protocol: held-out ELBO, IW-NLL, attribute agreement of its
    reconstructions (`drawn`: the attributes averaged apart, or None) and the Fréchet distance of its samples
    (`sample_scores`: a `GeneratorEvaluator` in the classifier's 'hidden_relu' space)."""
    from tfgm import metrics

    iw_batches = test.unbatch().take(cfg.iw_examples).batch(cfg.batch_size)
    elbo = metrics.elbo(model, test, seed=cfg.seed)
    iw = metrics.importance_weighted_nll(model, iw_batches, num_samples=cfg.iw_samples, seed=cfg.seed)
    agreement = metrics.attribute_agreement(classifier, test, transform=model.reconstruct, attribute_names=names)
    fd = sample_scores.evaluate(model, cfg.fd_samples, seed=cfg.seed)
    return {
        "elbo": elbo["elbo"], "kl": elbo["kl"], "log_px": elbo["log_px"],
        "reconstruction_mse": elbo["reconstruction_mse"],
        "iw_nll": iw["iw_nll"], "iw_bits_per_dim": iw["bits_per_dim"],
        "attribute_agreement": agreement["mean"], "attribute_agreement_per_attribute": agreement["per_attribute"],
        "attribute_agreement_drawn": metrics.subset_mean(agreement["per_attribute"], drawn) if drawn else None,
        "frechet_distance_classifier_features": fd["fid"],
        "protocol": {"elbo_examples": elbo["num_examples"], "iw_examples": iw["num_examples"],
                     "iw_samples": iw["num_samples"], "agreement_examples": agreement["num_examples"],
                     "fd_features": "attribute classifier 'hidden_relu' (1000-d), not Inception",
                     "fd_samples": fd["num_generated"], "fd_real_examples": fd["num_real"]},
    }
