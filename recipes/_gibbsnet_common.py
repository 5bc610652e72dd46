"""Shared body of the GibbsNet recipes (thesis ch. 3): train ALI and GibbsNet with the same architecture,
seed and budget (with chain and inpainting grids every epoch: `chain_panels`), then write chains,
inpaintings, a long chain, the latent probe, IS/FID and the export."""

import dataclasses
import os
import sys
import time

from recipes._cli import CommonConfig, parse_config
from recipes._run import export_models, start_run, train_stage

THESIS_TABLE_3_1 = {"ali": {"inception_score_samples": 5.41, "inception_score_inpainting": 5.59},
                    "gibbsnet": {"inception_score_samples": 5.69, "inception_score_inpainting": 6.15},
                    "note": "SVHN, authors' code (Inception network, 2 splits)"}


@dataclasses.dataclass
class GibbsConfig(CommonConfig):
    """Settings shared by every GibbsNet recipe; each recipe overrides the defaults with its paper's."""

    batch_size: int = dataclasses.field(default=64, metadata={"help": "global batch size"})
    latent_dim: int = dataclasses.field(default=256, metadata={"help": "latent dimension"})
    train_steps: int = dataclasses.field(default=3, metadata={
        "help": "GibbsNet's unclamped chain length N in training"})
    loss: str = dataclasses.field(default="bgan", metadata={"help": "bgan | ls_multihead"})
    heads: int = dataclasses.field(default=1, metadata={"help": "discriminator heads (ls_multihead averages them)"})
    log_z_ema: bool = dataclasses.field(default=False, metadata={"help": "BGAN target log Z as an EMA (γ 0.995)"})
    bounded_sigma: bool = dataclasses.field(default=False, metadata={"help": "encoder σ = sigmoid(s) ∈ (0, 1)"})
    standardize_z: bool = dataclasses.field(default=False, metadata={"help": "batch-standardize every ẑ"})
    noise_dim: int = dataclasses.field(default=0, metadata={"help": "extra decoder noise input (0: none)"})
    width: float = dataclasses.field(default=1.0, metadata={"help": "channel multiplier of the nets (1: published)"})
    optimizer: str = dataclasses.field(default="rmsprop", metadata={"help": "rmsprop | adam (β1 0.5)"})
    learning_rate: float = dataclasses.field(default=1e-4, metadata={"help": "learning rate of D and (G, E)"})
    gan_epochs: int = dataclasses.field(default=100, metadata={"help": "epochs of each model"})
    train_examples: int = dataclasses.field(default=0, metadata={"help": "training examples (0: all)"})
    eval_examples: int = dataclasses.field(default=0, metadata={"help": "test examples for evaluation (0: all)"})
    chain_steps: int = dataclasses.field(default=20, metadata={"help": "steps of the sample/inpainting chains"})
    image_every: int = dataclasses.field(default=1, metadata={
        "help": "write the chain and inpainting grids every N epochs during training (and after the last)"})
    long_chain_steps: int = dataclasses.field(default=1000, metadata={"help": "steps of the long chain"})
    probe_epochs: int = dataclasses.field(default=50, metadata={"help": "epochs of the latent probe"})
    probe_hidden: tuple[int, ...] = dataclasses.field(default=(512, 512), metadata={"help": "latent probe layers"})
    score_samples: int = dataclasses.field(default=10000, metadata={"help": "samples for IS and FID"})
    score_splits: int = dataclasses.field(default=10, metadata={"help": "Inception Score splits"})
    classifier_epochs: int = dataclasses.field(default=10, metadata={
        "help": "epochs of the scoring classifier (trained on the data; the features and classes of IS/FID)"})

    @staticmethod
    def quick_overrides():
        return {"train_examples": 512, "eval_examples": 200, "gan_epochs": 2, "classifier_epochs": 2,
                "probe_epochs": 5, "probe_hidden": (64, 64), "score_samples": 200, "long_chain_steps": 1000,
                "width": 0.125, "batch_size": 32}


@dataclasses.dataclass
class Spec:
    """What a recipe fixes: its name, architecture builder (latent_dim, width, noise_dim, heads) → nets,
    image size, and optionally the classes to keep."""

    recipe: str
    build_nets: object
    image_shape: tuple
    classes: tuple = ()
    scatter: bool = False


def _load(cfg, spec):
    from recipes._data import load_split

    splits = {}
    for split, count in (("train", cfg.train_examples), ("test", cfg.eval_examples)):
        ds = load_split(cfg, split, image_size=spec.image_shape[:2], channels=spec.image_shape[2], num_examples=count)
        if "label" not in ds.element_spec:
            from tfgm.data import DataError

            raise DataError(f"{spec.recipe} needs labels (latent probe, scoring classifier); "
                            f"--data {cfg.data} has none")
        if spec.classes:
            import tensorflow as tf

            keep = tf.constant(spec.classes, tf.int32)
            ds = ds.filter(lambda d: tf.reduce_any(tf.equal(tf.cast(d["label"], tf.int32), keep)))
            index = {c: i for i, c in enumerate(spec.classes)}
            table = tf.constant([index.get(c, 0) for c in range(max(spec.classes) + 1)], tf.int32)
            ds = ds.map(lambda d: {"image": d["image"], "label": tf.gather(table, tf.cast(d["label"], tf.int32))})
        splits[split] = ds.cache()
    return splits


def _score_classifier(spec, num_classes):
    """A small CNN on the data: the class probabilities (IS) and 'features' layer (FID) of the scores."""
    import keras
    from keras import layers

    x_in = keras.Input(spec.image_shape)
    x = x_in
    for filters in (32, 64):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu", name="features")(x)
    model = keras.Model(x_in, layers.Dense(num_classes)(x), name="score_classifier")
    model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def _optimizer(cfg):
    import keras

    if cfg.optimizer == "adam":
        return keras.optimizers.Adam(cfg.learning_rate, beta_1=0.5)
    if cfg.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(cfg.learning_rate)
    raise ValueError(f"--optimizer must be rmsprop or adam, got {cfg.optimizer!r}")


def _builder(cfg, spec, name):
    from tfgm.models.gibbsnet import ALI, GibbsNet

    def build():
        nets = spec.build_nets(cfg.latent_dim, cfg.width, cfg.noise_dim, cfg.heads)
        options = dict(loss=cfg.loss, log_z_ema=cfg.log_z_ema, bounded_sigma=cfg.bounded_sigma,
                       standardize_z=cfg.standardize_z, seed=cfg.seed, name=name)
        model = ALI(*nets, **options) if name == "ali" else GibbsNet(*nets, train_steps=cfg.train_steps, **options)
        model.compile(_optimizer(cfg), _optimizer(cfg))
        return model

    return build


def chain_rows(model, n, steps, seed):
    """n unclamped chains of `steps` steps from z₀ ~ N(0, I) (stateless in `seed`): [n, steps, H, W, C]."""
    import numpy as np

    return np.swapaxes(np.asarray(model.sample(n, steps=steps, seed=seed, return_chain=True)), 0, 1)


def inpainting_rows(model, images, steps, seed):
    """Right-half inpainting chains of images [R, H, W, C]: per row the original, the given right half (left
    half grey), then the chain's `steps` images: [R, 2 + steps, H, W, C]."""
    import numpy as np

    images = np.asarray(images, "float32")
    mask = _right_half(images)
    chain = np.asarray(model.inpaint(images, mask, steps=steps, seed=seed, return_chain=True))
    given = np.where(mask > 0.5, images, 0.5)
    return np.concatenate([images[:, None], given[:, None], np.swapaxes(chain, 0, 1)], axis=1)


def chain_panels(cfg, fixed, chains=8, max_steps=10):
    """Panels for `tfgm.training.ImageGridCallback` during training, cheap enough for every epoch:
    "chain": `chains` unclamped chains of min(cfg.chain_steps, max_steps) steps from fixed noise (seed
    cfg.seed), [chains, steps, H, W, C]; "inpainting": the right-half inpainting chains of the fixed test
    images `fixed` [R, H, W, C], [R, 2 + steps, H, W, C]. The model needs GibbsNet's `sample` and `inpaint`."""
    import numpy as np

    steps = max(1, min(int(cfg.chain_steps), int(max_steps)))
    fixed = np.asarray(fixed, "float32")
    return {"chain": lambda model: chain_rows(model, chains, steps, cfg.seed),
            "inpainting": lambda model: inpainting_rows(model, fixed, steps, cfg.seed)}


def image_callback(run, cfg, name, fixed):
    """The per-epoch ImageGridCallback of stage `name`: `chain_panels` as images/<name>_<panel>_epochNNN.png
    (and _latest.png) and TensorBoard images in logs/<name>/, every `cfg.image_every` epochs."""
    from tfgm.training import ImageGridCallback

    return ImageGridCallback(run.images_dir, os.path.join(run.logs_dir, name), chain_panels(cfg, fixed),
                             every=cfg.image_every, prefix=f"{name}_")


def _images(run, name, model, fixed, cfg):
    """PNG strips: 8 chains of `chain_steps` from noise, inpainting chains (right half given), long chain."""
    import numpy as np

    from tfgm.training import make_grid, save_png

    save_png(os.path.join(run.images_dir, f"{name}_chain_{cfg.chain_steps}_steps.png"),
             make_grid(chain_rows(model, 8, cfg.chain_steps, cfg.seed)))
    save_png(os.path.join(run.images_dir, f"{name}_inpainting_right_half_given.png"),
             make_grid(inpainting_rows(model, fixed, cfg.chain_steps, cfg.seed)))
    snapshots = []
    z = np.random.default_rng(cfg.seed).normal(size=(8, cfg.latent_dim)).astype("float32")
    every = max(1, cfg.long_chain_steps // 10)
    for k in range(0, cfg.long_chain_steps, every):
        x, z, _ = model.run_chain(z, min(every, cfg.long_chain_steps - k), seed=[cfg.seed, k + 1])
        snapshots.append(np.asarray(x))
    save_png(os.path.join(run.images_dir, f"{name}_long_chain_{cfg.long_chain_steps}_steps.png"),
             make_grid(np.stack(snapshots, 1)))
    return {"long_chain_final_pixel_std_across_chains": float(np.mean(np.std(snapshots[-1], axis=0))),
            "long_chain_final_mean_intensity": float(np.mean(snapshots[-1]))}


def _right_half(images):
    import numpy as np

    mask = np.zeros(images.shape[:3] + (1,), "float32")
    mask[:, :, images.shape[2] // 2:] = 1.0
    return mask


def _scatter(run, name, model, test, classes):
    """Inferred ẑ (2-D, posterior mean) of the test set coloured by class (thesis fig. 3.3)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    z, y = [], []
    for batch in test:
        z.append(np.asarray(model.infer(batch["image"])))
        y.append(np.asarray(batch["label"]))
    z, y = np.concatenate(z), np.concatenate(y)
    fig, ax = plt.subplots(figsize=(5, 5))
    for i, c in enumerate(classes):
        ax.scatter(z[y == i, 0], z[y == i, 1], s=4, label=f"digit {c}")
    ax.legend()
    ax.set_title(f"{name}: inferred z (posterior mean) per class")
    path = os.path.join(run.images_dir, f"{name}_latent_scatter.png")
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)
    return path


def _scores(cfg, model, classifier, test, real_features):
    """IS and FID (scoring-classifier features) of chain samples and of right-half inpaintings."""
    import keras
    import numpy as np

    from tfgm.metrics import feature_statistics, frechet_distance, inception_score

    features = keras.Model(classifier.input, [classifier.get_layer("features").output, classifier.output])
    samples, inpaintings = [], []
    for i in range(0, cfg.score_samples, cfg.batch_size):
        n = min(cfg.batch_size, cfg.score_samples - i)
        samples.append(np.asarray(model.sample(n, steps=cfg.chain_steps, seed=[cfg.seed, i + 1])))
    for batch in test:
        images = np.asarray(batch["image"])
        inpaintings.append(np.asarray(model.inpaint(images, _right_half(images), steps=cfg.chain_steps,
                                                    seed=cfg.seed)))
    out = {}
    for key, images in (("samples", np.concatenate(samples)), ("inpainting", np.concatenate(inpaintings))):
        feats, logits = features.predict(images, batch_size=256, verbose=0)
        probs = np.asarray(keras.ops.softmax(logits))
        splits = min(cfg.score_splits, len(images))
        mean, std = inception_score(probs, splits=splits)
        fid = frechet_distance(*feature_statistics(real_features), *feature_statistics(feats))
        out[key] = {"inception_score": mean, "inception_score_std": std, "fid": fid, "count": len(images),
                    "splits": splits}
    return out


def main(spec, config_cls, description, argv=None):
    cfg = parse_config(config_cls, description, argv)
    from tfgm.training import quiet_tensorflow

    quiet_tensorflow(cfg.verbose)
    import keras

    from recipes._data import batched, first_images
    from tfgm.data import DataError
    from tfgm.metrics.latent_probe import latent_probe_accuracy
    from tfgm.training import TrainingDiverged, set_seed, strategy

    started = time.time()
    set_seed(cfg.seed, cfg.deterministic)
    strat = strategy(cfg.strategy)
    try:
        splits = _load(cfg, spec)
    except DataError as exc:
        print(f"\ndata: {exc}", file=sys.stderr)
        return 2
    run = start_run(cfg, spec.recipe, strat)
    train = batched(splits["train"], cfg.batch_size, shuffle_seed=cfg.seed, drop_remainder=True)
    test = batched(splits["test"], cfg.batch_size)
    num_classes = len(spec.classes) or int(max(int(b["label"].numpy().max()) for b in test)) + 1
    epochs = cfg.epochs or cfg.gan_epochs
    fixed = first_images(splits["test"], 8)
    try:
        pairs = lambda ds: ds.map(lambda d: (d["image"], d["label"]))  # noqa: E731
        classifier = train_stage(run, strat, "score_classifier", lambda: _score_classifier(spec, num_classes),
                                 dict(x=pairs(train), validation_data=pairs(test),
                                      epochs=cfg.epochs or cfg.classifier_epochs))
        models = {name: train_stage(run, strat, name, _builder(cfg, spec, name), dict(x=train, epochs=epochs),
                                    [image_callback(run, cfg, name, fixed)])
                  for name in ("ali", "gibbsnet")}
    except TrainingDiverged as exc:
        print(f"\nstopped: {exc}", file=sys.stderr)
        return 1

    print("evaluating ...")
    classifier_accuracy = float(classifier.evaluate(pairs(test), verbose=0, return_dict=True)["accuracy"])
    feature_net = keras.Model(classifier.input, classifier.get_layer("features").output)
    real_features = feature_net.predict(test.map(lambda d: d["image"]), verbose=0)
    results = {}
    for name, model in models.items():
        result = {"latent_probe": latent_probe_accuracy(lambda x, m=model: m.infer(x), train, test,
                                                        hidden=cfg.probe_hidden, epochs=cfg.probe_epochs,
                                                        seed=cfg.seed)}
        result.update(_images(run, name, model, fixed, cfg))
        result["scores"] = _scores(cfg, model, classifier, test, real_features)
        if spec.scatter:
            result["latent_scatter_png"] = os.path.relpath(_scatter(run, name, model, test, spec.classes), run.path)
        results[name] = result
    table = {name: {"inception_score_samples": r["scores"]["samples"]["inception_score"],
                    "inception_score_inpainting": r["scores"]["inpainting"]["inception_score"],
                    "fid_samples": r["scores"]["samples"]["fid"], "fid_inpainting": r["scores"]["inpainting"]["fid"],
                    "latent_probe_accuracy": r["latent_probe"]["accuracy"]} for name, r in results.items()}
    run.write_metrics({
        **results,
        "table_3_1": {"this_run": table, "thesis": THESIS_TABLE_3_1},
        "protocol": {
            "scoring_network": f"small CNN trained on --data {cfg.data} train split ({classifier_accuracy:.3f} test "
                               "accuracy): its softmax for IS, its 128-d 'features' layer for FID; not Inception, "
                               "so numbers are not comparable with the thesis'",
            "samples": f"unclamped chain after {cfg.chain_steps} steps from z0 ~ N(0, I)",
            "inpainting": f"test images, right half given, {cfg.chain_steps} steps",
            "inception_score_splits": cfg.score_splits, "fid_real_examples": int(len(real_features)),
            "latent_probe": f"MLP {list(cfg.probe_hidden)} on the posterior mean of q(z|x), {cfg.probe_epochs} epochs",
        },
        "data": cfg.data, "train_steps": {"ali": 1, "gibbsnet": cfg.train_steps},
    })
    status = export_models(run, models) if cfg.export and run.is_chief else 0
    print()
    print(summary(table))
    print(f"\nrun directory: {run.path}  ({time.time() - started:.0f} s)")
    return status


def summary(table):
    """Plain-text table 3.1 of this run (ALI vs GibbsNet)."""
    rows = (("inception_score_samples", "IS, chain samples"), ("inception_score_inpainting", "IS, inpainting"),
            ("fid_samples", "FID, chain samples"), ("fid_inpainting", "FID, inpainting"),
            ("latent_probe_accuracy", "latent probe accuracy"))
    lines = [f"{'metric':28s} {'ALI':>10s} {'GibbsNet':>10s}", "-" * 50]
    lines += [f"{label:28s} {table['ali'][key]:10.4f} {table['gibbsnet'][key]:10.4f}" for key, label in rows]
    return "\n".join(lines)
