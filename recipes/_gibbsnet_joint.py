"""The joint image–attribute GibbsNet's figures and scores (recipes.gibbsnet_celeba_attributes): attribute
cells beside images, the per-epoch panels, samples with their attributes (fig. 3.6), images generated from test
attributes, and the scores of one joint model in the 40-attribute classifier's space."""

import os

from recipes._gibbsnet_common import score_entry
from recipes._gibbsnet_figures import half_mask, inpainting_rows
from tfgm.training.atomic import atomic_path


def attribute_panel(probs, size):
    """Attribute probabilities [N, A] → [N, size, size, 3] tiles: a grid of A cells (white = 1, black = 0)."""
    import numpy as np

    probs = np.asarray(probs, np.float32)
    n, a = probs.shape
    cols = int(np.ceil(np.sqrt(a)))
    rows = int(np.ceil(a / cols))
    cells = np.zeros((n, rows * cols), np.float32)
    cells[:, :a] = probs
    cells = cells.reshape(n, rows, cols)
    ys = np.minimum(np.arange(size) * rows // size, rows - 1)
    xs = np.minimum(np.arange(size) * cols // size, cols - 1)
    tiles = cells[:, ys][:, :, xs]
    tiles[:, np.r_[False, ys[1:] != ys[:-1]]] = 0.5  # grey lines between cells
    tiles[:, :, np.r_[False, xs[1:] != xs[:-1]]] = 0.5
    return np.repeat(tiles[..., None], 3, axis=-1)


def joint_panels(cfg, fixed):
    """Per-epoch panels: joint samples (image | attribute cells) and inpainting chains of `fixed` (the
    --inpaint-given half clamped, at most 10 steps)."""
    import numpy as np

    def samples(model):
        images, probs = model.sample_joint(8, steps=min(cfg.chain_steps, 10), seed=cfg.seed,
                                           batch_statistics=cfg.chain_batch_statistics)
        images = np.asarray(images)
        return np.stack([images, attribute_panel(probs, images.shape[1])], axis=1)

    def inpainting(model):
        return inpainting_rows(model, fixed, min(cfg.inpaint_steps, 10), cfg.seed, cfg.inpaint_given,
                               cfg.chain_batch_statistics)

    return {"joint_samples": samples, "inpainting": inpainting}


def joint_figure(run, name, model, names, cfg):
    """Fig. 3.6: samples after `chain_steps` steps beside their attributes (PNG + a text list)."""
    import numpy as np

    from tfgm.training import make_grid, save_png

    images, probs = (np.asarray(t) for t in model.sample_joint(8, steps=cfg.chain_steps, seed=cfg.seed))
    save_png(os.path.join(run.images_dir, f"{name}_joint_samples_with_attributes.png"),
             make_grid(np.stack([images, attribute_panel(probs, images.shape[1])], axis=1)))
    lines = [f"sample {i}: " + ", ".join(n for n, p in zip(names, row) if p > 0.5) for i, row in enumerate(probs)]
    path = os.path.join(run.images_dir, f"{name}_joint_samples_attributes.txt")
    with atomic_path(path, suffix=".txt") as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def conditional_figure(run, name, model, test_batch, cfg):
    """Rows: a test image, then 4 images generated from its attributes (attributes clamped)."""
    import numpy as np

    from tfgm.training import make_grid, save_png

    images, attrs = np.asarray(test_batch["image"][:8]), np.asarray(test_batch["attributes"][:8])
    generated = [np.asarray(model.generate(attrs, steps=cfg.chain_steps, seed=[cfg.seed, k])) for k in range(4)]
    save_png(os.path.join(run.images_dir, f"{name}_generated_from_test_attributes.png"),
             make_grid(np.stack([images] + generated, axis=1)))


def joint_scores(cfg, model, classifier, train, test, evaluator, data_rates):
    """Scores of one joint model (see the protocol written beside them): attribute IS and FID of samples and
    inpaintings in the classifier's space, attribute prediction, generation from attributes, coherence, attribute
    rates and the attribute probe on the inferred z. evaluator: `scoring_evaluator`'s on the classifier's
    "hidden_relu" features and sigmoid; data_rates [A]: the training set's attribute rates."""
    import numpy as np

    from tfgm.metrics import attribute_probe_accuracy

    steps, bs = cfg.chain_steps, cfg.chain_batch_statistics
    key = "attribute_inception_score"

    samples, sample_probs = [], []
    for i in range(0, cfg.score_samples, cfg.batch_size):
        images, probs = model.sample_joint(min(cfg.batch_size, cfg.score_samples - i), steps=steps,
                                           seed=[cfg.seed, i + 1], batch_statistics=bs)
        samples.append(np.asarray(images))
        sample_probs.append(np.asarray(probs))
    samples, sample_probs = np.concatenate(samples), np.concatenate(sample_probs)
    sample_result, classifier_probs = evaluator.evaluate_images(samples, return_probabilities=True)
    inpaintings, predicted, conditional_hits, truths = [], [], [], []
    for k, batch in enumerate(test):
        images, attrs = np.asarray(batch["image"]), np.asarray(batch["attributes"]) > 0.5
        inpaintings.append(np.asarray(model.inpaint(images, half_mask(images, cfg.inpaint_given),
                                                    steps=cfg.inpaint_steps, seed=cfg.seed, batch_statistics=bs)))
        predicted.append(np.asarray(model.predict_attributes(images, steps=steps, seed=cfg.seed,
                                                             batch_statistics=bs)) > 0.5)
        generated = model.generate(attrs.astype("float32"), steps=steps, seed=[cfg.seed, k], batch_statistics=bs)
        conditional_hits.append((np.asarray(classifier(generated, training=False)) > 0) == attrs)
        truths.append(attrs)
    truths = np.concatenate(truths)
    inpainting_result = evaluator.evaluate_images(np.concatenate(inpaintings))
    predict_z = lambda x: model.complete(len(x), steps, cfg.seed, images=x, batch_statistics=bs)["z"]  # noqa: E731
    return {
        "scores": {"samples": score_entry(sample_result, key), "inpainting": score_entry(inpainting_result, key)},
        "attribute_prediction_accuracy": float(np.mean(np.concatenate(predicted) == truths)),
        "conditional_generation_agreement": float(np.mean(np.concatenate(conditional_hits))),
        "sample_coherence": float(np.mean((classifier_probs > 0.5) == (sample_probs > 0.5))),
        "attribute_rate_error": float(np.mean(np.abs(sample_probs.mean(0) - data_rates))),
        "latent_probe": attribute_probe_accuracy(predict_z, train, test, hidden=cfg.probe_hidden,
                                                 epochs=cfg.probe_epochs, seed=cfg.seed),
    }
