"""Joint image–attribute ALI vs GibbsNet on CelebA 64×64 (thesis §3.6.3, fig. 3.6; METHODS.md §3).

q(z|x, y) and p(x, y|z) over faces and their 40 binary attributes (ALI's CelebA convolutions for the image,
MLP branches for the attributes), continuous BGAN on the image side and discrete BGAN on the attributes.
Trains the 40-attribute scoring classifier, then joint ALI (N = 1) and joint GibbsNet (N = 3) with the same
architecture, seed and budget, and writes: samples with their attributes (fig. 3.6), 20-step chains,
inpainting chains (left half given, 4 steps: Table 3.1's protocol; --inpaint-given, --inpaint-steps), a 1000-step
chain, attribute prediction (image clamped), attribute-conditioned
generation (attributes clamped), an attribute probe on the inferred z, Inception-style scores and FID, a
table in metrics.json, and the exports.

    python -m recipes.gibbsnet_celeba_attributes --quick                # built-in faces, minutes on a CPU
    python -m recipes.gibbsnet_celeba_attributes                        # TFDS celeb_a
    python -m recipes.gibbsnet_celeba_attributes --celeba-dir ~/celeba  # the files CelebA's authors distribute
"""

import dataclasses
import os
import sys
import time

from recipes import _gibbsnet_common as common
from recipes._cli import parse_config
from recipes._run import export_models, start_run, train_stage

RECIPE = "gibbsnet_celeba_attributes"
DATASETS = "celeb_a (TFDS), celeba_local (--celeba-dir), builtin_faces, npz (--data-path, y = N×K attributes)"


@dataclasses.dataclass
class Config(common.GibbsConfig):
    data: str = dataclasses.field(default="celeb_a", metadata={"help": DATASETS})
    celeba_dir: str = dataclasses.field(default="", metadata={
        "help": "folder with img_align_celeba.zip (or img_align_celeba/), list_attr_celeba.txt, "
                "list_eval_partition.txt; implies --data celeba_local"})
    latent_dim: int = dataclasses.field(default=256, metadata={"help": "latent dimension (ALI's CelebA)"})
    optimizer: str = dataclasses.field(default="adam", metadata={"help": "adam (β1 0.5; ALI's CelebA) | rmsprop"})
    attribute_samples: int = dataclasses.field(default=8, metadata={
        "help": "M: attribute draws per fake pair for discrete BGAN's importance weights"})
    gan_epochs: int = dataclasses.field(default=30, metadata={"help": "epochs of each model"})
    classifier_learning_rate: float = dataclasses.field(default=0.002, metadata={
        "help": "Adam learning rate of the 40-attribute scoring classifier"})

    @staticmethod
    def quick_overrides():
        return {**common.GibbsConfig.quick_overrides(), "data": "builtin_faces", "train_examples": 1024,
                "eval_examples": 256, "gan_epochs": 3, "classifier_epochs": 3, "attribute_samples": 4}


def _datasets(cfg):
    from recipes.discreg_celeba import _data_name
    from recipes.discreg_celeba import _datasets as celeba_splits

    splits, num_attributes = celeba_splits(cfg, ("train", "test"), RECIPE)
    splits = {k: ds.map(lambda d: {"image": d["image"], "attributes": d["attributes"]}).cache()
              for k, ds in splits.items()}
    return splits, _data_name(cfg), num_attributes


def _builder(cfg, name, num_attributes):
    from tfgm.models import JointGibbsNet
    from tfgm.nets import ali_joint_nets

    def build():
        nets = ali_joint_nets.celeba_joint(cfg.latent_dim, cfg.width, cfg.noise_dim, cfg.heads, num_attributes)
        model = JointGibbsNet(*nets, train_steps=1 if name == "ali" else cfg.train_steps,
                              attribute_samples=cfg.attribute_samples, log_z_ema=cfg.log_z_ema,
                              bounded_sigma=cfg.bounded_sigma, standardize_z=cfg.standardize_z,
                              chain_encoder_gradient=cfg.chain_encoder_gradient, seed=cfg.seed, name=name)
        model.compile(common._optimizer(cfg), common._optimizer(cfg))
        return model

    return build


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
        images, probs = model.sample_joint(8, steps=min(cfg.chain_steps, 10), seed=cfg.seed)
        images = np.asarray(images)
        return np.stack([images, attribute_panel(probs, images.shape[1])], axis=1)

    def inpainting(model):
        return common.inpainting_rows(model, fixed, min(cfg.inpaint_steps, 10), cfg.seed, cfg.inpaint_given)

    return {"joint_samples": samples, "inpainting": inpainting}


def _joint_figure(run, name, model, names, cfg):
    """Fig. 3.6: samples after `chain_steps` steps beside their attributes (PNG + a text list)."""
    import numpy as np

    from tfgm.training import make_grid, save_png

    images, probs = (np.asarray(t) for t in model.sample_joint(8, steps=cfg.chain_steps, seed=cfg.seed))
    save_png(os.path.join(run.images_dir, f"{name}_joint_samples_with_attributes.png"),
             make_grid(np.stack([images, attribute_panel(probs, images.shape[1])], axis=1)))
    lines = [f"sample {i}: " + ", ".join(n for n, p in zip(names, row) if p > 0.5) for i, row in enumerate(probs)]
    path = os.path.join(run.images_dir, f"{name}_joint_samples_attributes.txt")
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(path + ".tmp", path)


def _conditional_figure(run, name, model, test_batch, cfg):
    """Rows: a test image, then 4 images generated from its attributes (attributes clamped)."""
    import numpy as np

    from tfgm.training import make_grid, save_png

    images, attrs = np.asarray(test_batch["image"][:8]), np.asarray(test_batch["attributes"][:8])
    generated = [np.asarray(model.generate(attrs, steps=cfg.chain_steps, seed=[cfg.seed, k])) for k in range(4)]
    save_png(os.path.join(run.images_dir, f"{name}_generated_from_test_attributes.png"),
             make_grid(np.stack([images] + generated, axis=1)))


def attribute_inception_score(probs, splits):
    """Mean over attributes of the 2-class Inception Score of each attribute's probabilities [N, A] (in [1, 2])."""
    import numpy as np

    from tfgm.metrics import inception_score

    scores = [inception_score(np.stack([1.0 - probs[:, a], probs[:, a]], -1), splits=splits)
              for a in range(probs.shape[1])]
    return float(np.mean([s[0] for s in scores])), float(np.mean([s[1] for s in scores]))


def _evaluate(cfg, model, classifier, train, test, real_features, data_rates):
    """Scores of one joint model (see the protocol written beside them)."""
    import keras
    import numpy as np

    from tfgm.metrics import attribute_probe_accuracy, feature_statistics, frechet_distance

    net = keras.Model(classifier.input, [classifier.get_layer("hidden_relu").output, classifier.output])
    steps = cfg.chain_steps

    def scores(images):
        feats, logits = net.predict(images, batch_size=256, verbose=0)
        probs = 1.0 / (1.0 + np.exp(-logits))
        splits = min(cfg.score_splits, len(images))
        is_mean, is_std = attribute_inception_score(probs, splits)
        fid = frechet_distance(*feature_statistics(real_features), *feature_statistics(feats))
        return {"attribute_inception_score": is_mean, "attribute_inception_score_std": is_std, "fid": fid,
                "count": int(len(images)), "splits": splits}, logits

    samples, sample_probs = [], []
    for i in range(0, cfg.score_samples, cfg.batch_size):
        images, probs = model.sample_joint(min(cfg.batch_size, cfg.score_samples - i), steps=steps,
                                           seed=[cfg.seed, i + 1])
        samples.append(np.asarray(images))
        sample_probs.append(np.asarray(probs))
    samples, sample_probs = np.concatenate(samples), np.concatenate(sample_probs)
    sample_scores, sample_logits = scores(samples)
    inpaintings, predicted, conditional_hits, truths = [], [], [], []
    for k, batch in enumerate(test):
        images, attrs = np.asarray(batch["image"]), np.asarray(batch["attributes"]) > 0.5
        inpaintings.append(np.asarray(model.inpaint(images, common.half_mask(images, cfg.inpaint_given),
                                                    steps=cfg.inpaint_steps, seed=cfg.seed)))
        predicted.append(np.asarray(model.predict_attributes(images, steps=steps, seed=cfg.seed)) > 0.5)
        generated = model.generate(attrs.astype("float32"), steps=steps, seed=[cfg.seed, k])
        conditional_hits.append((np.asarray(classifier(generated, training=False)) > 0) == attrs)
        truths.append(attrs)
    truths = np.concatenate(truths)
    inpainting_scores, _ = scores(np.concatenate(inpaintings))
    predict_z = lambda x: model.complete(len(x), steps, cfg.seed, images=x)["z"]  # noqa: E731
    return {
        "scores": {"samples": sample_scores, "inpainting": inpainting_scores},
        "attribute_prediction_accuracy": float(np.mean(np.concatenate(predicted) == truths)),
        "conditional_generation_agreement": float(np.mean(np.concatenate(conditional_hits))),
        "sample_coherence": float(np.mean((sample_logits > 0) == (sample_probs > 0.5))),
        "attribute_rate_error": float(np.mean(np.abs(sample_probs.mean(0) - data_rates))),
        "latent_probe": attribute_probe_accuracy(predict_z, train, test, hidden=cfg.probe_hidden,
                                                 epochs=cfg.probe_epochs, seed=cfg.seed),
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


def summary(table, classifier_accuracy, majority, protocol):
    """Plain-text table of this run, each row followed by its protocol (`protocol`: metrics.json's)."""
    lines = [f"{'metric':38s} {'ALI':>10s} {'GibbsNet':>10s}  protocol", "-" * 100]
    lines += [f"{label:38s} {table['ali'][key]:10.4f} {table['gibbsnet'][key]:10.4f}  {protocol[ROW_PROTOCOL[key]]}"
              for key, label in ROWS]
    lines.append(f"{'classifier accuracy (real test images)':38s} {classifier_accuracy:10.4f}")
    lines.append(f"{'majority-vote attribute accuracy':38s} {majority:10.4f}")
    return "\n".join(lines)


def main(argv=None):
    cfg = parse_config(Config, __doc__, argv)
    try:
        common.check_config(cfg)
    except ValueError as exc:
        print(f"\n{exc}", file=sys.stderr)
        return 2
    from tfgm.training import quiet_tensorflow

    quiet_tensorflow(cfg.verbose)
    import keras
    import numpy as np

    from recipes._data import batched, first_images
    from recipes.discreg_celeba import _attribute_names, attribute_classifier
    from tfgm.data import DataError
    from tfgm.training import ImageGridCallback, TrainingDiverged, set_seed, strategy

    started = time.time()
    set_seed(cfg.seed, cfg.deterministic)
    strat = strategy(cfg.strategy)
    try:
        splits, data_name, num_attributes = _datasets(cfg)
    except DataError as exc:
        print(f"\ndata: {exc}", file=sys.stderr)
        return 2
    run = start_run(cfg, RECIPE, strat)
    names = _attribute_names(num_attributes)
    train = batched(splits["train"], cfg.batch_size, shuffle_seed=cfg.seed, drop_remainder=True)
    test = batched(splits["test"], cfg.batch_size)
    fixed = first_images(splits["test"], 8)
    epochs = cfg.epochs or cfg.gan_epochs
    try:
        pairs = lambda ds: ds.map(lambda d: (d["image"], d["attributes"]))  # noqa: E731
        classifier = train_stage(run, strat, "classifier", lambda: attribute_classifier(cfg, num_attributes),
                                 dict(x=pairs(train), validation_data=pairs(test),
                                      epochs=cfg.epochs or cfg.classifier_epochs))
        models = {}
        for name in ("ali", "gibbsnet"):
            grids = ImageGridCallback(run.images_dir, os.path.join(run.logs_dir, name), joint_panels(cfg, fixed),
                                      every=cfg.image_every, prefix=f"{name}_")
            models[name] = train_stage(run, strat, name, _builder(cfg, name, num_attributes),
                                       dict(x=train, epochs=epochs), [grids])
    except TrainingDiverged as exc:
        print(f"\nstopped: {exc}", file=sys.stderr)
        return 1

    print("evaluating ...")
    classifier_accuracy = float(classifier.evaluate(pairs(test), verbose=0, return_dict=True)["accuracy"])
    hidden = keras.Model(classifier.input, classifier.get_layer("hidden_relu").output)
    real_features = hidden.predict(test.map(lambda d: d["image"]), verbose=0)
    data_rates = np.concatenate([np.asarray(b["attributes"]) for b in train]).mean(0)
    test_attrs = np.concatenate([np.asarray(b["attributes"]) for b in test]) > 0.5
    majority = float(np.mean((data_rates > 0.5)[None] == test_attrs))
    results = {}
    for name, model in models.items():
        results[name] = _evaluate(cfg, model, classifier, train, test, real_features, data_rates)
        results[name].update(common._images(run, name, model, fixed, cfg))
        _joint_figure(run, name, model, names, cfg)
        _conditional_figure(run, name, model, next(iter(test)), cfg)
    table = {name: {"attribute_inception_score_samples": r["scores"]["samples"]["attribute_inception_score"],
                    "attribute_inception_score_inpainting": r["scores"]["inpainting"]["attribute_inception_score"],
                    "fid_samples": r["scores"]["samples"]["fid"], "fid_inpainting": r["scores"]["inpainting"]["fid"],
                    "latent_probe_accuracy": r["latent_probe"]["accuracy"],
                    **{k: r[k] for k in ("attribute_prediction_accuracy", "conditional_generation_agreement",
                                         "sample_coherence", "attribute_rate_error")}}
             for name, r in results.items()}
    protocol = {
        "scoring_network": f"the 40-attribute classifier (discgen) trained on --data {data_name} "
                           f"({classifier_accuracy:.3f} mean test accuracy); not Inception, so no number is "
                           "comparable with published ones",
        "attribute_inception_score": "mean over attributes of exp(E_x KL(p(a|x) || p(a))) with the classifier's "
                                     f"sigmoid as p(a|x), {cfg.score_splits} splits; range [1, 2]",
        "fid": f"Fréchet distance on the classifier's 1000-d 'hidden_relu' features; {len(real_features)} "
               "real test images",
        "samples": f"unclamped chain after {cfg.chain_steps} steps from z0 ~ N(0, I); {cfg.score_samples} samples",
        "inpainting": common.inpainting_protocol(cfg) + "; attributes free",
        "attribute_prediction": f"test images clamped, {cfg.chain_steps} steps, p(y|z) > 0.5 vs the truth",
        "conditional_generation": f"test attributes clamped, {cfg.chain_steps} steps; the classifier's "
                                  "predictions on the images vs the clamped attributes",
        "sample_coherence": "classifier's predictions on sampled images vs the sampled p(y|z) > 0.5",
        "attribute_rate_error": "mean over attributes of |mean sampled p(y|z) - training rate|",
        "latent_probe": f"MLP {list(cfg.probe_hidden)} from z of the image-clamped chain (no true attributes "
                        f"enter the model) to the 40 attributes, {cfg.probe_epochs} epochs",
    }
    run.write_metrics({
        **results,
        "table": {"this_run": table, "thesis": "the thesis shows this model as figure 3.6 only (no numbers)"},
        "classifier_accuracy": classifier_accuracy, "majority_attribute_accuracy": majority,
        "protocol": protocol,
        "data": data_name, "train_steps": {"ali": 1, "gibbsnet": cfg.train_steps},
        "gibbsnet_chain_encoder_gradient": cfg.chain_encoder_gradient, "attribute_samples": cfg.attribute_samples,
        "encoder_options": {"bounded_sigma": cfg.bounded_sigma, "standardize_z": cfg.standardize_z,
                            "applies_to": "ALI and GibbsNet alike"},
    })
    status = 0
    if cfg.export and run.is_chief:
        status = export_models(run, models)
    run.cleanup()
    print()
    print(summary(table, classifier_accuracy, majority, protocol))
    print(f"\nrun directory: {run.path}  ({time.time() - started:.0f} s)")
    return status


if __name__ == "__main__":
    sys.exit(main())
