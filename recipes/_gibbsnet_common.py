"""Shared body of the GibbsNet recipes (thesis ch. 3): train ALI and GibbsNet with the same architecture,
options, seed and budget (with chain and inpainting grids every epoch: `chain_panels`), then write chains,
inpaintings, a long chain, the latent probe, IS/FID and the export. Default encoder options: the authors'
code's σ = sigmoid(s) and batch-standardized ẑ (METHODS.md §3), for both models (--no-bounded-sigma,
--no-standardize-z switch them off)."""

import dataclasses
import os
import sys
import time

from recipes._cli import CommonConfig, parse_config
from recipes._run import export_models, start_run, train_stage

THESIS_TABLE_3_1 = {"ali": {"inception_score_samples": 5.41, "inception_score_inpainting": 5.59},
                    "gibbsnet": {"inception_score_samples": 5.69, "inception_score_inpainting": 6.15},
                    "protocol": "CIFAR-10 (thesis §3.6.2: 'inception scores on CIFAR-10 using the standard method and "
                                "code released from Salimans et al.'; real images 11.24), the Inception network; "
                                "inpainting: left half fixed, the chain run for four steps (Table 3.1's caption); "
                                "samples: unconditional (steps not stated); authors' code: 2 splits"}
TABLE_3_1_INPAINTING = ("left", 4)  # the given half and chain steps of Table 3.1's inpainting scores
HALVES = ("left", "right")


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
    bounded_sigma: bool = dataclasses.field(default=True, metadata={
        "help": "encoder σ = sigmoid(s) ∈ (0, 1), as in the authors' code (default on, ALI and GibbsNet alike); "
                "--no-bounded-sigma: σ = exp(s), the published ALI's"})
    standardize_z: bool = dataclasses.field(default=True, metadata={
        "help": "batch-standardize every ẑ = q(x) (per dimension, no learned scale), as in the authors' code "
                "(default on, ALI and GibbsNet alike). It keeps q(z|x) near N(0, I), where the chain starts: "
                "without it GibbsNet's chain collapses to one class (BUILD.md, GibbsNet ablation); "
                "--no-standardize-z turns it off"})
    noise_dim: int = dataclasses.field(default=0, metadata={"help": "extra decoder noise input (0: none)"})
    width: float = dataclasses.field(default=1.0, metadata={"help": "channel multiplier of the nets (1: published)"})
    optimizer: str = dataclasses.field(default="rmsprop", metadata={"help": "rmsprop | adam (β1 0.5)"})
    learning_rate: float = dataclasses.field(default=1e-4, metadata={"help": "learning rate of D and (G, E)"})
    gan_epochs: int = dataclasses.field(default=100, metadata={"help": "epochs of each model"})
    train_examples: int = dataclasses.field(default=0, metadata={"help": "training examples (0: all)"})
    eval_examples: int = dataclasses.field(default=0, metadata={"help": "test examples for evaluation (0: all)"})
    chain_encoder_gradient: bool = dataclasses.field(default=True, metadata={
        "help": "GibbsNet: the fake pair's gradient reaches the encoder through z_{N-1} = q(x_{N-1}) (thesis "
                "§3.3); --no-chain-encoder-gradient stops it there (ablation: the encoder learns as in ALI)"})
    chain_steps: int = dataclasses.field(default=20, metadata={"help": "steps of the sample chains"})
    inpaint_given: str = dataclasses.field(default="left", metadata={
        "help": "half of each test image given (clamped) in the scored inpainting: left (Table 3.1) | right "
                "(fig. 3.5)"})
    inpaint_steps: int = dataclasses.field(default=4, metadata={
        "help": "chain steps of the scored inpainting (Table 3.1: 4; fig. 3.5: 20)"})
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


def check_config(cfg):
    """Raise ValueError naming the flag when a GibbsNet setting is out of range (before any work)."""
    if cfg.inpaint_given not in HALVES:
        raise ValueError(f"--inpaint-given must be one of {', '.join(HALVES)}, got {cfg.inpaint_given!r}")
    for flag in ("inpaint_steps", "chain_steps", "train_steps"):
        if int(getattr(cfg, flag)) < 1:
            raise ValueError(f"--{flag.replace('_', '-')} must be >= 1, got {getattr(cfg, flag)}")
    if cfg.optimizer not in ("adam", "rmsprop"):
        raise ValueError(f"--optimizer must be rmsprop or adam, got {cfg.optimizer!r}")


def inpainting_protocol(cfg):
    """The scored inpainting's protocol in words, saying whether it is Table 3.1's."""
    given, steps = cfg.inpaint_given, int(cfg.inpaint_steps)
    same = (given, steps) == TABLE_3_1_INPAINTING
    return (f"test images, {given} half given (clamped), the other half inpainted by {steps} chain steps"
            + ("; Table 3.1's protocol" if same else "; NOT Table 3.1's protocol (left half given, 4 steps)"))


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
        if name == "ali":
            model = ALI(*nets, **options)
        else:
            model = GibbsNet(*nets, train_steps=cfg.train_steps, chain_encoder_gradient=cfg.chain_encoder_gradient,
                             **options)
        model.compile(_optimizer(cfg), _optimizer(cfg))
        return model

    return build


def chain_rows(model, n, steps, seed):
    """n unclamped chains of `steps` steps from z₀ ~ N(0, I) (stateless in `seed`): [n, steps, H, W, C]."""
    import numpy as np

    return np.swapaxes(np.asarray(model.sample(n, steps=steps, seed=seed, return_chain=True)), 0, 1)


def inpainting_rows(model, images, steps, seed, given="left"):
    """Inpainting chains of images [R, H, W, C] with the `given` half ("left" | "right") clamped: per row the
    original, the given half (the other grey), then the chain's `steps` images: [R, 2 + steps, H, W, C]."""
    import numpy as np

    images = np.asarray(images, "float32")
    mask = half_mask(images, given)
    chain = np.asarray(model.inpaint(images, mask, steps=steps, seed=seed, return_chain=True))
    given = np.where(mask > 0.5, images, 0.5)
    return np.concatenate([images[:, None], given[:, None], np.swapaxes(chain, 0, 1)], axis=1)


def chain_panels(cfg, fixed, chains=8, max_steps=10):
    """Panels for `tfgm.training.ImageGridCallback` during training, cheap enough for every epoch:
    "chain": `chains` unclamped chains of min(cfg.chain_steps, max_steps) steps from fixed noise (seed
    cfg.seed), [chains, steps, H, W, C]; "inpainting": the inpainting chains (cfg.inpaint_given half given,
    min(cfg.inpaint_steps, max_steps) steps) of the fixed test images `fixed` [R, H, W, C],
    [R, 2 + steps, H, W, C]. The model needs GibbsNet's `sample` and `inpaint`."""
    import numpy as np

    steps = max(1, min(int(cfg.chain_steps), int(max_steps)))
    inpaint_steps = max(1, min(int(cfg.inpaint_steps), int(max_steps)))
    fixed = np.asarray(fixed, "float32")
    return {"chain": lambda model: chain_rows(model, chains, steps, cfg.seed),
            "inpainting": lambda model: inpainting_rows(model, fixed, inpaint_steps, cfg.seed, cfg.inpaint_given)}


def image_callback(run, cfg, name, fixed):
    """The per-epoch ImageGridCallback of stage `name`: `chain_panels` as images/<name>_<panel>_epochNNN.png
    (and _latest.png) and TensorBoard images in logs/<name>/, every `cfg.image_every` epochs."""
    from tfgm.training import ImageGridCallback

    return ImageGridCallback(run.images_dir, os.path.join(run.logs_dir, name), chain_panels(cfg, fixed),
                             every=cfg.image_every, prefix=f"{name}_")


def _images(run, name, model, fixed, cfg):
    """PNG strips: 8 chains of `chain_steps` from noise, the scored inpainting protocol's chains, long chain."""
    import numpy as np

    from tfgm.training import make_grid, save_png

    save_png(os.path.join(run.images_dir, f"{name}_chain_{cfg.chain_steps}_steps.png"),
             make_grid(chain_rows(model, 8, cfg.chain_steps, cfg.seed)))
    save_png(os.path.join(run.images_dir, inpainting_png(name, cfg)),
             make_grid(inpainting_rows(model, fixed, cfg.inpaint_steps, cfg.seed, cfg.inpaint_given)))
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


def inpainting_png(name, cfg):
    """File name of model `name`'s inpainting strip, which states its protocol."""
    return f"{name}_inpainting_{cfg.inpaint_given}_half_given_{cfg.inpaint_steps}_steps.png"


def half_mask(images, given):
    """Mask [B, H, W, 1] for images [B, H, W, C]: 1 on the `given` half of the columns ("left" | "right")."""
    import numpy as np

    if given not in HALVES:
        raise ValueError(f"given must be one of {HALVES}, got {given!r}")
    mask = np.zeros(images.shape[:3] + (1,), "float32")
    half = images.shape[2] // 2
    if given == "left":
        mask[:, :, :half] = 1.0
    else:
        mask[:, :, half:] = 1.0
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
    """IS and FID (scoring-classifier features) of chain samples and of inpaintings (`inpainting_protocol`)."""
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
        inpaintings.append(np.asarray(model.inpaint(images, half_mask(images, cfg.inpaint_given),
                                                    steps=cfg.inpaint_steps, seed=cfg.seed)))
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
    try:
        check_config(cfg)
    except ValueError as exc:
        print(f"\n{exc}", file=sys.stderr)
        return 2
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
    scoring = (f"small CNN trained on --data {cfg.data} train split ({classifier_accuracy:.3f} test accuracy): its "
               "softmax for IS, its 128-d 'features' layer for FID; not Inception")
    protocols = row_protocols(cfg, int(len(real_features)))
    run.write_metrics({
        **results,
        "table_3_1": {"this_run": table, "this_run_protocol": protocols, "thesis": THESIS_TABLE_3_1,
                      "comparable_with_thesis": False,
                      "why_not": f"this run scores --data {cfg.data} with a {scoring}; the thesis scores "
                                 "CIFAR-10 with the Inception network"},
        "protocol": {
            "scoring_network": scoring + ", so numbers are not comparable with the thesis'",
            "samples": f"unclamped chain after {cfg.chain_steps} steps from z0 ~ N(0, I)",
            "inpainting": inpainting_protocol(cfg),
            "inception_score_splits": cfg.score_splits, "fid_real_examples": int(len(real_features)),
            "latent_probe": protocols["latent_probe_accuracy"],
        },
        "data": cfg.data, "train_steps": {"ali": 1, "gibbsnet": cfg.train_steps},
        "gibbsnet_chain_encoder_gradient": cfg.chain_encoder_gradient,
        "encoder_options": {"bounded_sigma": cfg.bounded_sigma, "standardize_z": cfg.standardize_z,
                            "applies_to": "ALI and GibbsNet alike"},
    })
    status = export_models(run, models) if cfg.export and run.is_chief else 0
    print()
    print(summary(table, protocols, scoring, cfg.data))
    print(f"\nrun directory: {run.path}  ({time.time() - started:.0f} s)")
    return status


ROWS = (("inception_score_samples", "IS, chain samples"), ("inception_score_inpainting", "IS, inpainting"),
        ("fid_samples", "FID, chain samples"), ("fid_inpainting", "FID, inpainting"),
        ("latent_probe_accuracy", "latent probe accuracy"))


def row_protocols(cfg, real_count):
    """The protocol of each number of the table, in words (key → text)."""
    samples = f"{cfg.chain_steps}-step chain from N(0, I), {cfg.score_samples} samples"
    inpainting = inpainting_protocol(cfg).replace("test images, ", "test set, ")
    return {"inception_score_samples": f"{samples}, {cfg.score_splits} splits",
            "inception_score_inpainting": f"{inpainting}; {cfg.score_splits} splits",
            "fid_samples": f"{samples} vs {real_count} test images",
            "fid_inpainting": f"{inpainting}; vs {real_count} test images",
            "latent_probe_accuracy": f"MLP {list(cfg.probe_hidden)} on the posterior mean of q(z|x), "
                                     f"{cfg.probe_epochs} epochs, test accuracy"}


def summary(table, protocols, scoring, data):
    """Plain-text table 3.1 of this run (ALI vs GibbsNet), the protocol beside every row, and the thesis' row
    with its own protocol and why it is not comparable."""
    lines = [f"{'metric':24s} {'ALI':>9s} {'GibbsNet':>9s}  protocol", "-" * 100]
    lines += [f"{label:24s} {table['ali'][key]:9.4f} {table['gibbsnet'][key]:9.4f}  {protocols[key]}"
              for key, label in ROWS]
    ali, gibbs = THESIS_TABLE_3_1["ali"], THESIS_TABLE_3_1["gibbsnet"]
    other = ("another scoring network" if data == "cifar10" else "another dataset and scoring network")
    lines += ["", f"IS and FID: {scoring}.",
              "Thesis Table 3.1 (CIFAR-10, Inception network; inpainting: left half given, 4 steps): IS of samples "
              f"ALI {ali['inception_score_samples']} / GibbsNet {gibbs['inception_score_samples']}, of inpaintings "
              f"ALI {ali['inception_score_inpainting']} / GibbsNet {gibbs['inception_score_inpainting']}; "
              f"{other}: not comparable with the numbers above."]
    return "\n".join(lines)
