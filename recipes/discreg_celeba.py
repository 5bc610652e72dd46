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

from recipes._cli import CommonConfig, parse_config
from recipes._run import export_models, start_run, train_stage

RECIPE = "discreg_celeba"
IMAGE_SIZE = (64, 64)
DATASETS = "celeb_a (TFDS), celeba_local (--celeba-dir), builtin_faces, npz (--data-path, y = N×K attributes), folder"


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
                "none). Not in the paper: it stops the first Adam steps' |z| ≈ 3000 that overflowed float16 decoders"})
    learning_rate: float = dataclasses.field(default=0.002, metadata={"help": "Adam learning rate of the VAEs"})
    vae_epochs: int = dataclasses.field(default=75, metadata={"help": "epochs of each VAE"})
    classifier_epochs: int = dataclasses.field(default=50, metadata={"help": "epochs of the attribute classifier"})
    classifier_learning_rate: float = dataclasses.field(default=0.002, metadata={
        "help": "Adam learning rate of the classifier (Blocks' Adam() default)"})
    layers: tuple[str, ...] = dataclasses.field(default=("strided1_bn", "strided2_bn", "strided3_bn"), metadata={
        "help": "classifier layers to regularize (BN outputs of the strided convs)"})
    layer_weight: float = dataclasses.field(default=1.0, metadata={"help": "weight of every discreg term"})
    discreg_to_encoder: bool = dataclasses.field(default=True, metadata={
        "help": "let the discreg gradient reach the encoder (--no-discreg-to-encoder: decoder only)"})
    train_examples: int = dataclasses.field(default=0, metadata={"help": "use only this many training examples (0: all)"})
    eval_examples: int = dataclasses.field(default=0, metadata={"help": "test examples for evaluation (0: all)"})
    iw_examples: int = dataclasses.field(default=1000, metadata={"help": "test examples for the IW-NLL estimate"})
    iw_samples: int = dataclasses.field(default=100, metadata={"help": "importance samples K per example"})
    fd_samples: int = dataclasses.field(default=2000, metadata={"help": "samples for the Fréchet distance"})
    image_every: int = dataclasses.field(default=1, metadata={"help": "write image grids every N epochs"})

    @staticmethod
    def quick_overrides():
        """--quick: built-in faces, small budget; proves the whole path in minutes on a 2-core CPU."""
        return {"data": "builtin_faces", "train_examples": 3000, "eval_examples": 500, "iw_examples": 100,
                "iw_samples": 10, "fd_samples": 500, "vae_epochs": 4, "classifier_epochs": 5, "batch_size": 50}

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


def _builders(cfg, num_attributes, classifier=None):
    import keras

    from tfgm.models import DiscRegVAE, VAE
    from tfgm.nets import discgen

    def build_classifier():
        model = discgen.celeba_classifier(IMAGE_SIZE + (3,), num_attributes)
        model.compile(keras.optimizers.Adam(cfg.classifier_learning_rate),
                      loss=keras.losses.BinaryCrossentropy(from_logits=True),
                      metrics=[keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")])
        return model

    def nets():
        return (discgen.celeba_encoder(IMAGE_SIZE + (3,), cfg.latent_dim),
                discgen.celeba_decoder(cfg.latent_dim, IMAGE_SIZE + (3,)))

    def build_vae():
        model = VAE(*nets(), likelihood=cfg.likelihood, min_log_sigma=cfg.min_log_sigma, max_log_var=cfg.max_log_var,
                    seed=cfg.seed, name="vae")
        model.compile(keras.optimizers.Adam(cfg.learning_rate))
        return model

    def build_discreg():
        features = discgen.feature_extractor(classifier, cfg.layers)
        model = DiscRegVAE(*nets(), features, layer_weights={n: cfg.layer_weight for n in cfg.layers},
                           discreg_to_encoder=cfg.discreg_to_encoder, likelihood=cfg.likelihood,
                           min_log_sigma=cfg.min_log_sigma, max_log_var=cfg.max_log_var, seed=cfg.seed,
                           name="discreg_vae")
        model.compile(keras.optimizers.Adam(cfg.learning_rate))
        return model

    return build_classifier, build_vae, build_discreg


def _evaluate(cfg, model, classifier, test, names):
    """The comparison numbers of one VAE, with their protocol."""
    import numpy as np

    from tfgm import metrics
    from tfgm.nets.discgen import feature_extractor

    iw_batches = test.unbatch().take(cfg.iw_examples).batch(cfg.batch_size)
    elbo = metrics.elbo(model, test, seed=cfg.seed)
    iw = metrics.importance_weighted_nll(model, iw_batches, num_samples=cfg.iw_samples, seed=cfg.seed)
    agreement = metrics.attribute_agreement(classifier, test, transform=model.reconstruct, attribute_names=names)
    features = feature_extractor(classifier, ["hidden_relu"], name="fd_features")
    real = np.concatenate([features(b["image"])["hidden_relu"].numpy() for b in test.unbatch().take(
        cfg.fd_samples).batch(cfg.batch_size)])
    fake = np.concatenate([features(model.sample(min(cfg.batch_size, cfg.fd_samples - i), seed=cfg.seed + i))
                           ["hidden_relu"].numpy() for i in range(0, cfg.fd_samples, cfg.batch_size)])
    fd = metrics.frechet_distance(*metrics.feature_statistics(real), *metrics.feature_statistics(fake))
    return {
        "elbo": elbo["elbo"], "kl": elbo["kl"], "log_px": elbo["log_px"],
        "reconstruction_mse": elbo["reconstruction_mse"],
        "iw_nll": iw["iw_nll"], "iw_bits_per_dim": iw["bits_per_dim"],
        "attribute_agreement": agreement["mean"], "attribute_agreement_per_attribute": agreement["per_attribute"],
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
    ("frechet_distance_classifier_features", "Fréchet distance, classifier features", False),
)


def summary_table(results, classifier_accuracy):
    """Plain-text comparison table of the two VAEs."""
    lines = [f"{'metric':42s} {'plain VAE':>14s} {'discreg VAE':>14s}  better", "-" * 80]
    for key, label, higher in ROWS:
        a, b = results["vae"][key], results["discreg_vae"][key]
        winner = "discreg" if (b > a) == higher else "plain"
        lines.append(f"{label:42s} {a:14.4f} {b:14.4f}  {winner}")
    lines.append(f"{'classifier accuracy on real test images':42s} {classifier_accuracy:14.4f}  (ceiling of agreement)")
    return "\n".join(lines)


def _comparison_images(run, fixed, vae, discreg, seed):
    import numpy as np

    from tfgm.training import make_grid, save_png

    rows = np.stack([fixed, np.asarray(vae.reconstruct(fixed)), np.asarray(discreg.reconstruct(fixed))])
    save_png(os.path.join(run.images_dir, "comparison_reconstructions.png"), make_grid(rows))
    for name, model in (("vae", vae), ("discreg_vae", discreg)):
        save_png(os.path.join(run.images_dir, f"final_samples_{name}.png"),
                 make_grid(np.asarray(model.sample(64, seed=seed))))


def main(argv=None):
    cfg = parse_config(Config, __doc__, argv)
    from tfgm.training import quiet_tensorflow

    quiet_tensorflow(cfg.verbose)
    from recipes._data import batched, first_images
    from tfgm.data import DataError
    from tfgm.training import ImageGridCallback, TrainingDiverged, latent_model_panels, set_seed, strategy

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
            grids = ImageGridCallback(run.images_dir, os.path.join(run.logs_dir, name),
                                      latent_model_panels(fixed, seed=cfg.seed), every=cfg.image_every,
                                      prefix=f"{name}_")
            models[name] = train_stage(run, strat, name, build, {"x": train, "validation_data": validation,
                                                                 "epochs": cfg.stage_epochs(cfg.vae_epochs)}, [grids])
    except TrainingDiverged as exc:
        print(f"\nstopped: {exc}", file=sys.stderr)
        return 1

    print("evaluating ...")
    from tfgm.metrics import attribute_agreement

    ceiling = attribute_agreement(classifier, test, attribute_names=names)
    results = {name: _evaluate(cfg, model, classifier, test, names) for name, model in models.items()}
    _comparison_images(run, fixed, models["vae"], models["discreg_vae"], cfg.seed)
    run.write_metrics({
        "classifier": {"attribute_accuracy": ceiling["mean"], "per_attribute": ceiling["per_attribute"],
                       "examples": ceiling["num_examples"]},
        **results,
        "comparison": {key: {"vae": results["vae"][key], "discreg_vae": results["discreg_vae"][key],
                             "higher_is_better": higher} for key, _, higher in ROWS},
        "data": _data_name(cfg),
    })
    status = 0
    if cfg.export and run.is_chief:
        status = export_models(run, models)
    run.cleanup()
    print()
    print(summary_table(results, ceiling["mean"]))
    print(f"\nrun directory: {run.path}  ({time.time() - started:.0f} s)")
    return status


if __name__ == "__main__":
    sys.exit(main())
