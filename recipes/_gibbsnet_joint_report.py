"""The joint image–attribute GibbsNet's table (recipes.gibbsnet_celeba_attributes): each model's row from its
`joint_scores` result, the protocol of every number, and the plain-text summary."""

from recipes._gibbsnet_common import inpainting_protocol


def table_row(result):
    """A model's row of the table (`ROWS`' keys) from its `joint_scores` result."""
    scores = result["scores"]
    return {"attribute_inception_score_samples": scores["samples"]["attribute_inception_score"],
            "attribute_inception_score_inpainting": scores["inpainting"]["attribute_inception_score"],
            "fid_samples": scores["samples"]["fid"], "fid_inpainting": scores["inpainting"]["fid"],
            "latent_probe_accuracy": result["latent_probe"]["accuracy"],
            **{k: result[k] for k in ("attribute_prediction_accuracy", "conditional_generation_agreement",
                                      "sample_coherence", "attribute_rate_error")}}


def protocol(cfg, data_name, classifier_accuracy, real_count):
    """The protocol of every number of the table, in words."""
    return {
        "scoring_network": f"the 40-attribute classifier (discgen) trained on --data {data_name} "
                           f"({classifier_accuracy:.3f} mean test accuracy); not Inception, so no number is "
                           "comparable with published ones",
        "attribute_inception_score": "mean over attributes of exp(E_x KL(p(a|x) || p(a))) with the classifier's "
                                     f"sigmoid as p(a|x), {cfg.score_splits} splits; range [1, 2]",
        "fid": f"Fréchet distance on the classifier's 1000-d 'hidden_relu' features; {real_count} "
               "real test images",
        "samples": f"unclamped chain after {cfg.chain_steps} steps from z0 ~ N(0, I); {cfg.score_samples} samples",
        "inpainting": inpainting_protocol(cfg) + "; attributes free",
        "attribute_prediction": f"test images clamped, {cfg.chain_steps} steps, p(y|z) > 0.5 vs the truth",
        "conditional_generation": f"test attributes clamped, {cfg.chain_steps} steps; the classifier's "
                                  "predictions on the images vs the clamped attributes",
        "sample_coherence": "classifier's predictions on sampled images vs the sampled p(y|z) > 0.5",
        "attribute_rate_error": "mean over attributes of |mean sampled p(y|z) - training rate|",
        "latent_probe": f"MLP {list(cfg.probe_hidden)} from z of the image-clamped chain (no true attributes "
                        f"enter the model) to the 40 attributes, {cfg.probe_epochs} epochs",
    }


ROWS = (("attribute_inception_score_samples", "attribute IS, chain samples"),
        ("attribute_inception_score_inpainting", "attribute IS, inpainting"),
        ("fid_samples", "FID (classifier feats), samples"), ("fid_inpainting", "FID (classifier feats), inpaint"),
        ("attribute_prediction_accuracy", "attribute prediction (x clamped)"),
        ("conditional_generation_agreement", "generation from attributes"),
        ("sample_coherence", "sample image/attribute coherence"),
        ("attribute_rate_error", "attribute rate error (lower better)"),
        ("latent_probe_accuracy", "attribute probe on inferred z"))


ROW_PROTOCOL = {"attribute_inception_score_samples": "samples", "attribute_inception_score_inpainting": "inpainting",
                "fid_samples": "samples", "fid_inpainting": "inpainting",
                "attribute_prediction_accuracy": "attribute_prediction",
                "conditional_generation_agreement": "conditional_generation", "sample_coherence": "sample_coherence",
                "attribute_rate_error": "attribute_rate_error", "latent_probe_accuracy": "latent_probe"}


def summary_text(table, classifier_accuracy, majority, protocol):
    """Plain-text table of this run, each row followed by its protocol (`protocol`: metrics.json's)."""
    lines = [f"{'metric':38s} {'ALI':>10s} {'GibbsNet':>10s}  protocol", "-" * 100]
    lines += [f"{label:38s} {table['ali'][key]:10.4f} {table['gibbsnet'][key]:10.4f}  {protocol[ROW_PROTOCOL[key]]}"
              for key, label in ROWS]
    lines.append(f"{'classifier accuracy (real test images)':38s} {classifier_accuracy:10.4f}")
    lines.append(f"{'majority-vote attribute accuracy':38s} {majority:10.4f}")
    return "\n".join(lines)
