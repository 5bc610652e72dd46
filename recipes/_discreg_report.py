"""discreg_celeba's report: the comparison table (both VAEs beside the blind baselines and the classifier's
ceiling) and the labelled figures."""

import os

ROWS = (  # (key, label, higher is better)
    ("elbo", "held-out ELBO (nats/example)", True),
    ("iw_nll", "IW-NLL (nats/example)", False),
    ("iw_bits_per_dim", "IW-NLL (bits/dim)", False),
    ("reconstruction_mse", "reconstruction MSE", False),
    ("attribute_agreement", "attribute agreement of reconstructions", True),
    ("attribute_agreement_drawn", "  ... on the drawn attributes only", True),
    ("frechet_distance_classifier_features", "Fréchet distance, classifier features", False),
)


def summary_table(results, classifier, baselines, differences=()):
    """Plain-text comparison table of the two VAEs, with the blind baselines and the classifier's ceiling."""
    lines = [f"{'metric':42s} {'plain VAE':>14s} {'discreg VAE':>14s}  better", "-" * 80]
    for key, label, higher in ROWS:
        a, b = results["vae"][key], results["discreg_vae"][key]
        if a is None:
            continue
        winner = "discreg" if (b > a) == higher else "plain"
        lines.append(f"{label:42s} {a:14.4f} {b:14.4f}  {winner}")
    lines.append("-" * 80)
    lines.append(f"{'attribute agreement of references':42s} {'all':>14s} {'drawn':>14s}")
    for label, block in (("classifier on real test images (ceiling)", classifier),
                         ("blind: majority value of each attribute", baselines["majority"]),
                         ("blind: classifier on the mean train image", baselines["mean_image"])):
        drawn = "" if block["drawn"] is None else f"{block['drawn']:14.4f}"
        lines.append(f"{label:42s} {block['mean']:14.4f} {drawn}")
    if differences:
        lines.append("-" * 80)
        lines.append("this run differs from the paper's settings (METHODS.md §1) in:")
        lines += [f"  {flag} {_show(value)}  (paper: {_show(default)})" for flag, value, default in differences]
    return "\n".join(lines)


def _show(value):
    return " ".join(map(str, value)) if isinstance(value, tuple) else str(value)


def figures(run, fixed, vae, discreg, results, classifier, baselines, names, seed):
    """Labelled figures: reconstructions (original / plain / discreg rows), samples, per-attribute agreement."""
    import numpy as np

    from tfgm.training import grouped_bar_chart, labelled_image_rows

    rows = np.stack([fixed, np.asarray(vae.reconstruct(fixed)), np.asarray(discreg.reconstruct(fixed))])
    labelled_image_rows(os.path.join(run.images_dir, "comparison_reconstructions.png"), rows,
                        ["original", "plain VAE", "discreg VAE"],
                        title="Reconstructions of held-out validation faces (decoder mean at the posterior mean)")
    samples = np.stack([np.asarray(m.sample(12, seed=seed)) for m in (vae, discreg)])
    labelled_image_rows(os.path.join(run.images_dir, "comparison_samples.png"), samples, ["plain VAE", "discreg VAE"],
                        title="Samples: decoder mean of z ~ N(0, I), same z in both rows")
    order = sorted(names, key=lambda n: classifier["per_attribute"][n] - baselines["majority"]["per_attribute"][n],
                   reverse=True)
    grouped_bar_chart(
        os.path.join(run.images_dir, "attribute_agreement.png"), order,
        {"plain VAE": [results["vae"]["attribute_agreement_per_attribute"][n] for n in order],
         "discreg VAE": [results["discreg_vae"]["attribute_agreement_per_attribute"][n] for n in order]},
        reference={"classifier on real images (ceiling)": [classifier["per_attribute"][n] for n in order],
                   "blind: majority value": [baselines["majority"]["per_attribute"][n] for n in order]},
        title="Attribute agreement of reconstructions: classifier(reconstruction) vs true attribute, test split "
              "(sorted by ceiling − blind)", ylabel="agreement", ylim=(0.0, 1.02))
