"""Discriminative regularization of a VAE on CelebA 64×64 (thesis ch. 4; METHODS.md §1).

Three stages, each resumable: (1) the 40-attribute classifier, (2) a plain VAE, (3) the discriminatively
regularized VAE with the same architecture, seed and budget, regularized on the classifier's strided-conv
BN outputs. Then both VAEs are evaluated (held-out ELBO, importance-weighted NLL, reconstruction MSE,
attribute agreement of reconstructions, Fréchet distance in the classifier's feature space), image grids
are written, both are exported (SavedModel + ONNX), and a comparison table is printed.

    python -m recipes.discreg_celeba --quick                 # built-in faces, a few minutes on a CPU
    python -m recipes.discreg_celeba                         # TFDS celeb_a (prepared or manual files)
    python -m recipes.discreg_celeba --celeba-dir ~/celeba   # the files CelebA's authors distribute
"""

import dataclasses
import os
import sys
import time

from recipes._cli import CommonConfig, paper_differences, parse_config
from recipes._run import export_models, start_run, train_stage

RECIPE = "discreg_celeba"
IMAGE_SIZE = (64, 64)
DATASETS = ("celeb_a (TFDS), celeba_local (--celeba-dir), builtin_faces, builtin_faces_plain (muted one-colour "
            "backgrounds), npz (--data-path, y = N×K attributes), folder")


@dataclasses.dataclass
class Config(CommonConfig):
    data: str = dataclasses.field(default="celeb_a", metadata={"help": DATASETS})
    celeba_dir: str = dataclasses.field(default="", metadata={
        "help": "folder with img_align_celeba.zip (or img_align_celeba/), list_attr_celeba.txt, "
                "list_eval_partition.txt; implies --data celeba_local"})
    batch_size: int = dataclasses.field(default=100, metadata={"help": "global batch size"})
    latent_dim: int = dataclasses.field(default=500, metadata={"help": "latent dimension"})
    likelihood: str = dataclasses.field(default="gaussian", metadata={
        "help": "pixel likelihood: gaussian (learned per-pixel σ) | bernoulli | discretized_logistic"})
    min_log_sigma: float = dataclasses.field(default=-5.0, metadata={"help": "floor of every learned log σ"})
    max_log_var: float = dataclasses.field(default=8.0, metadata={
        "help": "ceiling of the encoder's log σ² (unchanged below it − 4, an exponential knee above; inf: "
                "none). Not in the paper: it stops the first Adam steps' |z| ≈ 3000 that overflowed float16 "
                "decoders"})
    learning_rate: float = dataclasses.field(default=0.002, metadata={"help": "Adam learning rate of the VAEs"})
    sigma_lr_multiplier: float = dataclasses.field(default=1.0, metadata={
        "help": "step-size multiplier of every learned log σ (pixels, classifier layers; stored as log σ / m). "
                "Paper: 1. From σ = 1 (the paper's init) a scale needs ~|log σ̂| / lr Adam steps to reach its "
                "maximum-likelihood value; short runs need more (--quick: 10)"})
    kl_warmup_steps: int = dataclasses.field(default=0, metadata={
        "help": "KL annealing: the KL term is weighed by min(1, step / N) for the first N steps (0: none, the "
                "paper's objective); evaluation always uses the full ELBO"})
    bn_recalibration_batches: int = dataclasses.field(default=20, metadata={
        "help": "before every validation and at the end of each VAE stage, set the VAEs' batch-norm statistics to "
                "the average over this many training batches of the current weights (0: Keras' moving averages "
                "only). The original recomputed its decoder's statistics after training; moving averages trail "
                "fast-changing weights (validation KL 633 vs training KL 19 in a 4-epoch run)"})
    vae_epochs: int = dataclasses.field(default=75, metadata={"help": "epochs of each VAE"})
    classifier_epochs: int = dataclasses.field(default=50, metadata={"help": "epochs of the attribute classifier"})
    classifier_learning_rate: float = dataclasses.field(default=0.002, metadata={
        "help": "Adam learning rate of the classifier (Blocks' Adam() default)"})
    layers: tuple[str, ...] = dataclasses.field(default=("strided1_bn", "strided2_bn", "strided3_bn"), metadata={
        "help": "classifier layers to regularize (BN outputs of the strided convs)"})
    layer_weight: float = dataclasses.field(default=1.0, metadata={"help": "weight of every discreg term"})
    discreg_to_encoder: bool = dataclasses.field(default=True, metadata={
        "help": "let the discreg gradient reach the encoder (--no-discreg-to-encoder: decoder only)"})
    train_examples: int = dataclasses.field(default=0, metadata={
        "help": "use only this many training examples (0: all)"})
    eval_examples: int = dataclasses.field(default=0, metadata={"help": "test examples for evaluation (0: all)"})
    iw_examples: int = dataclasses.field(default=1000, metadata={"help": "test examples for the IW-NLL estimate"})
    iw_samples: int = dataclasses.field(default=100, metadata={"help": "importance samples K per example"})
    fd_samples: int = dataclasses.field(default=2000, metadata={"help": "samples for the Fréchet distance"})
    image_every: int = dataclasses.field(default=1, metadata={"help": "write image grids every N epochs"})
    baseline_examples: int = dataclasses.field(default=10000, metadata={
        "help": "training examples read for the blind baselines (majority attribute values, mean image)"})

    @staticmethod
    def quick_overrides():
        """--quick: built-in faces on muted one-colour backgrounds, a budget of minutes on a 2-core CPU, and the
        quick-only settings a 360-step VAE needs (σ step multiplier, KL warm-up); the summary lists them."""
        return {"data": "builtin_faces_plain", "train_examples": 3000, "eval_examples": 500, "iw_examples": 100,
                "iw_samples": 10, "fd_samples": 500, "vae_epochs": 6, "classifier_epochs": 5, "batch_size": 50,
                "sigma_lr_multiplier": 10.0, "kl_warmup_steps": 120}

    def stage_epochs(self, stage_default):
        return self.epochs or stage_default


def _data_name(cfg):
    return "celeba_local" if cfg.celeba_dir else cfg.data


def _datasets(cfg, names=("train", "validation", "test"), recipe=RECIPE):
    """{split: unbatched dicts with "image" [64, 64, 3] and "attributes" [K]} for `names`, and K. Shared with
    recipes.gibbsnet_celeba_attributes (same flags: --data, --celeba-dir, --train/eval-examples)."""
    from recipes._data import load_split

    cfg_data = dataclasses.replace(cfg, data=_data_name(cfg))
    path = cfg.celeba_dir or None
    size = None if cfg_data.data in ("celeb_a", "celeba_local") else IMAGE_SIZE
    splits = {}
    for split in names:
        count = cfg.train_examples if split == "train" else cfg.eval_examples
        splits[split] = load_split(cfg_data, split, image_size=size, channels=3, num_examples=count, path=path)
    spec = splits["train"].element_spec
    if "attributes" not in spec:
        from tfgm.data import DataError

        raise DataError(f"{recipe} needs per-image attributes, and --data {cfg_data.data} has none: give an npz "
                        "whose y is N×K attributes in {0, 1}, or use celeb_a, --celeba-dir or builtin_faces")
    return splits, int(spec["attributes"].shape[-1])


def _attribute_names(num_attributes):
    from tfgm.data import CELEBA_ATTRIBUTES

    if num_attributes == len(CELEBA_ATTRIBUTES):
        return list(CELEBA_ATTRIBUTES)
    return [f"attribute_{k}" for k in range(num_attributes)]


def attribute_classifier(cfg, num_attributes):
    """The attribute classifier (64×64×3 → `num_attributes` logits), compiled with binary cross-entropy and
    Adam(--classifier-learning-rate). Shared with recipes.gibbsnet_celeba_attributes (its attribute scorer)."""
    import keras

    from tfgm.nets import discgen

    model = discgen.celeba_classifier(IMAGE_SIZE + (3,), num_attributes)
    model.compile(keras.optimizers.Adam(cfg.classifier_learning_rate),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")])
    return model


def _builders(cfg, num_attributes, classifier=None):
    import keras

    from tfgm.models import DiscRegVAE, VAE
    from tfgm.nets import discgen

    def build_classifier():
        return attribute_classifier(cfg, num_attributes)

    def nets():
        return (discgen.celeba_encoder(IMAGE_SIZE + (3,), cfg.latent_dim),
                discgen.celeba_decoder(cfg.latent_dim, IMAGE_SIZE + (3,)))

    def vae_options():
        return dict(likelihood=cfg.likelihood, min_log_sigma=cfg.min_log_sigma, max_log_var=cfg.max_log_var,
                    kl_warmup_steps=cfg.kl_warmup_steps, sigma_lr_multiplier=cfg.sigma_lr_multiplier, seed=cfg.seed)

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


def _drawn_attributes(cfg, names):
    """The attributes the built-in faces' renderer draws (the rest are random bits no image shows), or None
    for real data, where every attribute is in the picture."""
    from tfgm.data.builtin_faces import DRAWN_ATTRIBUTES

    builtin = _data_name(cfg) in ("builtin_faces", "builtin_faces_plain")
    return DRAWN_ATTRIBUTES if builtin and len(names) == 40 else None


def _fd_features(classifier):
    """The Fréchet distance's feature network: the classifier's 1000-d 'hidden_relu' layer."""
    from tfgm.nets.discgen import feature_extractor

    return feature_extractor(classifier, ["hidden_relu"], name="fd_features")


def _real_features(cfg, features, test):
    """Features of the first `fd_samples` test images (computed once, shared by both VAEs)."""
    import numpy as np

    return np.concatenate([features(b["image"])["hidden_relu"].numpy() for b in test.unbatch().take(
        cfg.fd_samples).batch(cfg.batch_size)])


def _evaluate(cfg, model, classifier, test, names, drawn, features, real):
    """The comparison numbers of one VAE, with their protocol."""
    import numpy as np

    from tfgm import metrics

    iw_batches = test.unbatch().take(cfg.iw_examples).batch(cfg.batch_size)
    elbo = metrics.elbo(model, test, seed=cfg.seed)
    iw = metrics.importance_weighted_nll(model, iw_batches, num_samples=cfg.iw_samples, seed=cfg.seed)
    agreement = metrics.attribute_agreement(classifier, test, transform=model.reconstruct, attribute_names=names)
    fake = np.concatenate([features(model.sample(min(cfg.batch_size, cfg.fd_samples - i), seed=cfg.seed + i))
                           ["hidden_relu"].numpy() for i in range(0, cfg.fd_samples, cfg.batch_size)])
    fd = metrics.frechet_distance(*metrics.feature_statistics(real), *metrics.feature_statistics(fake))
    return {
        "elbo": elbo["elbo"], "kl": elbo["kl"], "log_px": elbo["log_px"],
        "reconstruction_mse": elbo["reconstruction_mse"],
        "iw_nll": iw["iw_nll"], "iw_bits_per_dim": iw["bits_per_dim"],
        "attribute_agreement": agreement["mean"], "attribute_agreement_per_attribute": agreement["per_attribute"],
        "attribute_agreement_drawn": metrics.subset_mean(agreement["per_attribute"], drawn) if drawn else None,
        "frechet_distance_classifier_features": fd,
        "protocol": {"elbo_examples": elbo["num_examples"], "iw_examples": iw["num_examples"],
                     "iw_samples": iw["num_samples"], "agreement_examples": agreement["num_examples"],
                     "fd_features": "attribute classifier 'hidden_relu' (1000-d), not Inception",
                     "fd_samples": len(fake), "fd_real_examples": len(real)},
    }


ROWS = (  # (key, label, higher is better)
    ("elbo", "held-out ELBO (nats/example)", True),
    ("iw_nll", "IW-NLL (nats/example)", False),
    ("reconstruction_mse", "reconstruction MSE", False),
    ("attribute_agreement", "attribute agreement of reconstructions", True),
    ("attribute_agreement_drawn", "  ... on the drawn attributes only", True),
    ("frechet_distance_classifier_features", "Fréchet distance, classifier features", False),
)


def _baselines(cfg, classifier, train, test, names, drawn):
    """Blind baselines of attribute agreement on the test split: (a) each attribute's majority value on the
    training split, (b) the classifier's attributes of the mean training image (a model that returns the
    average face for every input)."""
    import numpy as np

    from tfgm import metrics

    attributes, image_sum, count = [], 0.0, 0
    for batch in train.unbatch().take(cfg.baseline_examples).batch(500):
        attributes.append(batch["attributes"].numpy())
        image_sum = image_sum + batch["image"].numpy().sum(axis=0)
        count += len(attributes[-1])
    results = {"majority": metrics.majority_baseline(np.concatenate(attributes), test, names),
               "mean_image": metrics.mean_image_baseline(classifier, image_sum / count, test, names)}
    for result in results.values():
        result["drawn"] = metrics.subset_mean(result["per_attribute"], drawn) if drawn else None
    results["protocol"] = {"training_examples": count, "drawn_attributes": list(drawn) if drawn else None}
    return results


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


def _figures(run, fixed, vae, discreg, results, classifier, baselines, names, seed):
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


def main(argv=None):
    cfg = parse_config(Config, __doc__, argv)
    from tfgm.training import quiet_tensorflow

    quiet_tensorflow(cfg.verbose)
    from recipes._data import batched, first_images
    from tfgm.data import DataError
    from tfgm.training import (BatchNormRecalibration, ImageGridCallback, TrainingDiverged, latent_model_panels,
                               set_seed, strategy)

    started = time.time()
    set_seed(cfg.seed, cfg.deterministic)
    strat = strategy(cfg.strategy)
    try:
        splits, num_attributes = _datasets(cfg)
    except DataError as exc:
        print(f"\ndata: {exc}", file=sys.stderr)
        return 2
    run = start_run(cfg, RECIPE, strat)
    names = _attribute_names(num_attributes)
    train = batched(splits["train"], cfg.batch_size, shuffle_seed=cfg.seed, drop_remainder=True)
    validation = batched(splits["validation"], cfg.batch_size)
    test = batched(splits["test"], cfg.batch_size)
    fixed = first_images(splits["validation"], 16)
    try:
        build_classifier, _, _ = _builders(cfg, num_attributes)
        pairs = lambda ds: ds.map(lambda d: (d["image"], d["attributes"]))  # noqa: E731
        classifier = train_stage(run, strat, "classifier", build_classifier,
                                 {"x": pairs(train), "validation_data": pairs(validation),
                                  "epochs": cfg.stage_epochs(cfg.classifier_epochs)})
        _, build_vae, build_discreg = _builders(cfg, num_attributes, classifier)
        models = {}
        for name, build in (("vae", build_vae), ("discreg_vae", build_discreg)):
            callbacks = [ImageGridCallback(run.images_dir, os.path.join(run.logs_dir, name),
                                           latent_model_panels(fixed, seed=cfg.seed), every=cfg.image_every,
                                           prefix=f"{name}_")]
            if cfg.bn_recalibration_batches:
                callbacks.insert(0, BatchNormRecalibration(train, cfg.bn_recalibration_batches))
            models[name] = train_stage(run, strat, name, build, {"x": train, "validation_data": validation,
                                                                 "epochs": cfg.stage_epochs(cfg.vae_epochs)}, callbacks)
    except TrainingDiverged as exc:
        print(f"\nstopped: {exc}", file=sys.stderr)
        return 1

    print("evaluating ...")
    from tfgm.metrics import attribute_agreement, subset_mean

    drawn = _drawn_attributes(cfg, names)
    differences = paper_differences(cfg)
    ceiling = attribute_agreement(classifier, test, attribute_names=names)
    ceiling["drawn"] = subset_mean(ceiling["per_attribute"], drawn) if drawn else None
    baselines = _baselines(cfg, classifier, train, test, names, drawn)
    features = _fd_features(classifier)
    real = _real_features(cfg, features, test)
    results = {name: _evaluate(cfg, model, classifier, test, names, drawn, features, real)
               for name, model in models.items()}
    _figures(run, fixed, models["vae"], models["discreg_vae"], results, ceiling, baselines, names, cfg.seed)
    run.write_metrics({
        "classifier": {"attribute_accuracy": ceiling["mean"], "attribute_accuracy_drawn": ceiling["drawn"],
                       "per_attribute": ceiling["per_attribute"], "examples": ceiling["num_examples"]},
        **results,
        "baselines": baselines,
        "comparison": {key: {"vae": results["vae"][key], "discreg_vae": results["discreg_vae"][key],
                             "higher_is_better": higher} for key, _, higher in ROWS if results["vae"][key] is not None},
        "differs_from_paper": {flag: value for flag, value, _ in differences},
        "data": _data_name(cfg),
    })
    table = summary_table(results, ceiling, baselines, differences)
    run.write_summary(table)
    status = 0
    if cfg.export and run.is_chief:
        status = export_models(run, models)
    run.cleanup()
    print()
    print(table)
    print(f"\nrun directory: {run.path}  ({time.time() - started:.0f} s)")
    return status


if __name__ == "__main__":
    sys.exit(main())
