"""Shared pieces of the GAN recipes: repeatable flags, variant settings, stage training, curves, export, and
the whole body of the image recipes (gan_mnist, gan_cifar10)."""

import dataclasses
import os
import sys

from recipes._cli import CommonConfig, parse_config
from recipes._run import export_models, start_run, train_stage

REPEATABLE = ("--regularizer", "--variant")


def merge_repeated(argv, flags=REPEATABLE):
    """Fold repeated `--flag a --flag b` (or `--flag=a`) into one `--flag a b` for argparse's nargs='+'."""
    values, rest, current = {}, [], None
    for arg in argv:
        name, eq, value = arg.partition("=")
        if name in flags:
            current = name
            values.setdefault(name, [])
            if eq:
                values[name].append(value)
            continue
        if current is not None and not arg.startswith("--"):
            values[current].append(arg)
            continue
        current = None
        rest.append(arg)
    for name, items in values.items():
        rest += [name, *items]
    return rest


def parse_regularizers(specs, base=None):
    """`["gradient_penalty=5", "r1"]` on top of `base` ({name: params}) → {name: value or None}.

    "name" keeps the defaults (or the variant's value), "name=value" sets the main parameter, "none" drops
    everything given before it (the variant's regularizers included).
    """
    result = dict(base or {})
    for spec in specs:
        name, eq, value = spec.partition("=")
        if name == "none":
            result = {}
            continue
        result[name] = float(value) if eq else result.get(name)
    return result


def gan_settings(cfg, variant_name):
    """Loss, regularizers, n_critic and critic architecture of `variant_name` with the flags applied;
    "make_optimizers" returns a fresh (d_optimizer, g_optimizer) pair per call."""
    from tfgm.models.gan import get_variant

    variant = get_variant(variant_name)
    regularizers = parse_regularizers(cfg.regularizer, variant.regularizers)
    penalized = bool({"gradient_penalty", "roth", "r1"} & set(regularizers))
    return {
        "variant": variant_name,
        "loss": cfg.loss or variant.loss,
        "regularizers": regularizers,
        "n_critic": cfg.n_critic or variant.n_critic,
        "spectral_norm": bool(cfg.sn or variant.spectral_norm),
        "critic_batch_norm": variant.critic_batch_norm and not penalized,
        "make_optimizers": lambda: variant.optimizers(cfg.learning_rate or None),
        "optimizers": {"d": variant.d_optimizer, "g": variant.g_optimizer,
                       "learning_rate_override": cfg.learning_rate or None},
        "reference": variant.reference,
    }


def describe(settings, batch_norm=True):
    """One line: loss, regularizers, n_critic, SN (and the critic's BN when `batch_norm`)."""
    regs = ", ".join(f"{k}={v}" if v is not None else k for k, v in settings["regularizers"].items()) or "none"
    text = (f"loss {settings['loss']}, regularizers {regs}, n_critic {settings['n_critic']}, "
            f"SN {'on' if settings['spectral_norm'] else 'off'}")
    return text + (f", critic BN {'on' if settings['critic_batch_norm'] else 'off'}" if batch_norm else "")


def loss_curves_callback(path, points_per_epoch=50):
    """A callback recording the running logs about `points_per_epoch` times per epoch (and at its end) and
    drawing them to `path` (PNG) at each epoch end: d_loss / g_loss together, one panel per other value."""
    import keras

    class LossCurves(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.series = {}
            self._step = 0

        def _record(self, logs):
            for key, value in (logs or {}).items():
                points = self.series.setdefault(key, [])
                if not points or points[-1][0] != self._step:
                    points.append((self._step, float(value)))

        def on_epoch_begin(self, epoch, logs=None):
            self._step = epoch * (self.params.get("steps") or 0)

        def on_train_batch_end(self, batch, logs=None):
            self._step += 1
            if (batch + 1) % max(1, (self.params.get("steps") or 0) // points_per_epoch) == 0:
                self._record(logs)

        def on_epoch_end(self, epoch, logs=None):
            self._record({k: v for k, v in (logs or {}).items() if not k.startswith("val_")})
            plot_series(path, self.series, xlabel="train step (generator updates)")

    return LossCurves()


def plot_series(path, series, xlabel, title=""):
    """Line plots of {name: [(x, y), ...]}: d_loss and g_loss together, every other name in its own panel."""
    from tfgm.training import pyplot

    plt = pyplot()

    from tfgm.training.atomic import atomic_path

    if not series:
        return
    groups = [[k for k in ("d_loss", "g_loss") if k in series]]
    groups = [g for g in groups if g] + [[k] for k in series if k not in ("d_loss", "g_loss")]
    fig, axes = plt.subplots(len(groups), 1, figsize=(7, 2.4 * len(groups)), squeeze=False, sharex=True)
    for ax, names in zip(axes[:, 0], groups):
        for name in names:
            xs, ys = zip(*series[name])
            ax.plot(xs, ys, label=name, lw=1)
        ax.legend(loc="best", fontsize=8)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel(xlabel)
    if title:
        axes[0, 0].set_title(title)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)


FID_NETWORKS = ("classifier", "inception_v3", "inception2015", "none")


@dataclasses.dataclass
class ImageConfig(CommonConfig):
    """Flags of the image GAN recipes (gan_mnist, gan_cifar10); each recipe sets its data and budget."""

    variant: str = dataclasses.field(default="dcgan", metadata={
        "help": "dcgan | wgan | wgan_gp | sngan | roth | instance_noise | jacobian_clamping (paper defaults)"})
    loss: str = dataclasses.field(default="", metadata={
        "help": "override the variant's loss: minimax | nonsaturating | wasserstein | least_squares | hinge | bgan"})
    regularizer: tuple[str, ...] = dataclasses.field(default=(), metadata={
        "help": "name or name=value added to the variant's, repeatable (gradient_penalty, weight_clipping, roth, "
                "r1, instance_noise, jacobian_clamping); 'none' drops the variant's"})
    sn: bool = dataclasses.field(default=False, metadata={"help": "spectral normalization in the discriminator"})
    n_critic: int = dataclasses.field(default=0, metadata={"help": "critic steps per generator step (0: variant's)"})
    learning_rate: float = dataclasses.field(default=0.0, metadata={"help": "both learning rates (0: variant's)"})
    batch_size: int = dataclasses.field(default=64, metadata={"help": "batch of each critic and generator step"})
    latent_dim: int = dataclasses.field(default=100, metadata={"help": "latent dimension"})
    width: int = dataclasses.field(default=64, metadata={"help": "channels of G's last / D's first conv layer"})
    gan_epochs: int = dataclasses.field(default=25, metadata={
        "help": "epochs (generator steps: examples / batch / n_critic each)"})
    train_examples: int = dataclasses.field(default=0, metadata={"help": "training examples (0: all)"})
    fid_network: str = dataclasses.field(default="classifier", metadata={
        "help": "feature network of FID/IS/KID: classifier (trained here on the labels) | inception_v3 (Keras; "
                "weights fetched on first use) | inception2015 (--inception-graph; comparable with papers) | none"})
    inception_graph: str = dataclasses.field(default="", metadata={
        "help": "classify_image_graph_def.pb of inception-2015-12-05.tgz, for --fid-network inception2015"})
    fid_samples: int = dataclasses.field(default=10000, metadata={"help": "generated samples per FID/IS/KID"})
    fid_real: int = dataclasses.field(default=10000, metadata={"help": "real test images for the statistics"})
    fid_every: int = dataclasses.field(default=1, metadata={"help": "score every N epochs (and at the end)"})
    classifier_epochs: int = dataclasses.field(default=5, metadata={"help": "epochs of the feature classifier"})
    image_every: int = dataclasses.field(default=1, metadata={"help": "write sample grids every N epochs"})

    @staticmethod
    def quick_overrides():
        return {"train_examples": 2000, "gan_epochs": 2, "width": 16, "latent_dim": 32, "fid_network": "classifier",
                "fid_samples": 500, "fid_real": 500, "classifier_epochs": 2}

    def stage_epochs(self, stage_default):
        return self.epochs or stage_default


@dataclasses.dataclass
class Spec:
    """What an image recipe fixes: its name and image shape."""

    recipe: str
    image_shape: tuple


def _check_settings(cfg):
    """The variant's settings with the flags applied, validated before anything is written."""
    from tfgm.losses.gan import get_gan_loss
    from tfgm.models.gan import canonical_regularizers

    settings = gan_settings(cfg, cfg.variant)
    get_gan_loss(settings["loss"])
    canonical_regularizers(settings["regularizers"])
    if cfg.fid_network not in FID_NETWORKS:
        raise ValueError(f"--fid-network must be one of {', '.join(FID_NETWORKS)}, got {cfg.fid_network!r}")
    if cfg.fid_network == "inception2015" and not os.path.isfile(cfg.inception_graph):
        raise ValueError("--fid-network inception2015 needs --inception-graph PATH to classify_image_graph_def.pb "
                         "(from inception-2015-12-05.tgz); or use --fid-network inception_v3 / classifier")
    return settings


def _load(cfg, spec):
    from recipes._data import load_split
    from tfgm.data import DataError

    shape = spec.image_shape
    train = load_split(cfg, "train", image_size=shape[:2], channels=shape[2], num_examples=cfg.train_examples)
    test = load_split(cfg, "test", image_size=shape[:2], channels=shape[2], num_examples=cfg.fid_real)
    if cfg.fid_network == "classifier" and "label" not in train.element_spec:
        raise DataError(f"--fid-network classifier trains on labels and --data {cfg.data} has none; "
                        "use --fid-network inception_v3 or inception2015")
    return train.cache(), test.cache()


def _count(dataset):
    import tensorflow as tf

    n = int(dataset.cardinality())
    return n if n >= 0 else int(dataset.reduce(tf.constant(0, tf.int64), lambda c, _: c + 1))


def _pretrained_network(cfg):
    """The feature network for --fid-network inception_v3 / inception2015 / none (built before the run
    directory exists, so that a missing file or download fails first); None for the other choices."""
    from tfgm.metrics import evaluator

    if cfg.fid_network == "inception_v3":
        try:
            return evaluator.keras_inception_v3()
        except Exception as exc:
            raise ValueError(f"cannot load Keras' InceptionV3 ImageNet weights ({exc}); Keras fetches them once "
                             "and caches them in ~/.keras/models: connect once, or use --fid-network classifier "
                             "or inception2015") from exc
    if cfg.fid_network == "inception2015":
        return evaluator.inception_2015_graph(cfg.inception_graph)
    return None


def _classifier_network(cfg, spec, run, strategy, train, test):
    """(FeatureNetwork, notes): a DCGAN-style classifier trained here on the labels, its 'features' layer."""
    import keras
    import tensorflow as tf

    from tfgm.metrics import evaluator
    from tfgm.nets import dcgan

    num_classes = int(train.map(lambda d: tf.cast(d["label"], tf.int32)).reduce(0, tf.maximum)) + 1
    pairs = lambda ds: ds.map(lambda d: (d["image"], d["label"])).batch(128)  # noqa: E731

    def build():
        model = dcgan.classifier(spec.image_shape, num_classes, name="fid_classifier")
        model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    classifier = train_stage(run, strategy, "fid_classifier", build,
                             {"x": pairs(train.shuffle(10_000, seed=cfg.seed)), "validation_data": pairs(test),
                              "epochs": cfg.classifier_epochs})
    accuracy = float(classifier.evaluate(pairs(test), verbose=0, return_dict=True)["accuracy"])
    label = (f"FD-{spec.recipe}-classifier (DCGAN-style CNN trained on {cfg.data} in this run, 'features' "
             "layer; not Inception: not comparable with published FID/IS)")
    return evaluator.keras_classifier(classifier, "features", label=label), {"classifier_test_accuracy": accuracy}


def _score_callback(run, evaluator, cfg, history):
    """Scores every `fid_every` epochs into `history` (list), metrics.json, logs/scores and images/scores.png."""
    import keras
    import tensorflow as tf

    class Scores(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.writer = tf.summary.create_file_writer(os.path.join(run.logs_dir, "scores"))
            self.last = (None, None)

        def on_epoch_end(self, epoch, logs=None):
            last = (self.params or {}).get("epochs") == epoch + 1
            if (epoch + 1) % cfg.fid_every and not last:
                return
            scores = evaluator.evaluate(self.model, cfg.fid_samples, seed=cfg.seed)
            self.last = (epoch + 1, scores)
            history.append({"epoch": epoch + 1, "fid": scores["fid"], "kid": scores["kid"]["mean"],
                            "inception_score": (scores["inception_score"] or {}).get("mean")})
            run.write_metrics({"scores_over_training": history, "scores_protocol": _protocol(scores)})
            with self.writer.as_default():
                for key in ("fid", "kid", "inception_score"):
                    if history[-1][key] is not None:
                        tf.summary.scalar(key, history[-1][key], step=epoch + 1)
            self.writer.flush()
            series = {k: [(h["epoch"], h[k]) for h in history if h[k] is not None]
                      for k in ("fid", "kid", "inception_score")}
            plot_series(os.path.join(run.images_dir, "scores.png"), {k: v for k, v in series.items() if v},
                        xlabel="epoch", title=f"{scores['network'].split(' (')[0]}, {cfg.fid_samples} samples")
            print(f"  epoch {epoch + 1}: FID {scores['fid']:.3f}, KID {scores['kid']['mean']:.4f}, "
                  f"IS {history[-1]['inception_score'] or float('nan'):.3f}  [{scores['network'].split(' ')[0]}]")

    return Scores()


def _protocol(scores):
    keys = ("network", "comparable_with_published", "feature_dim", "num_generated", "num_real", "resize")
    return {k: scores[k] for k in keys}


def _gan_builder(cfg, spec, settings, total_steps):
    from tfgm.models.gan import GAN
    from tfgm.nets import dcgan

    def build():
        generator = dcgan.generator(cfg.latent_dim, spec.image_shape, width=cfg.width)
        discriminator = dcgan.discriminator(spec.image_shape, width=cfg.width,
                                            batch_norm=settings["critic_batch_norm"],
                                            spectral_norm=settings["spectral_norm"])
        model = GAN(generator, discriminator, loss=settings["loss"], regularizers=settings["regularizers"],
                    n_critic=settings["n_critic"], critic_batches="split", total_steps=total_steps, seed=cfg.seed,
                    name="gan")
        model.compile(*settings["make_optimizers"]())
        return model

    return build


def summary_table(settings, final, extra):
    lines = [f"variant {settings['variant']}: {describe(settings)}", "-" * 72]
    if final is None:
        lines.append("no scores (--fid-network none)")
    else:
        is_mean = (final["inception_score"] or {}).get("mean")
        real_is = (final["inception_score_real"] or {}).get("mean")
        lines += [f"{'FID':30s} {final['fid']:12.4f}",
                  f"{'KID':30s} {final['kid']['mean']:12.5f} ± {final['kid']['std']:.5f}",
                  f"{'Inception Score (samples)':30s} {is_mean if is_mean is not None else float('nan'):12.4f}",
                  f"{'Inception Score (real images)':30s} {real_is if real_is is not None else float('nan'):12.4f}",
                  f"network: {final['network']}",
                  f"samples {final['num_generated']} generated vs {final['num_real']} real; resize: {final['resize']}"]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    return "\n".join(lines)


def main(spec, config_cls, description, argv=None):
    """The body of gan_mnist / gan_cifar10."""
    cfg = parse_config(config_cls, description, merge_repeated(sys.argv[1:] if argv is None else argv))
    from tfgm.training import quiet_tensorflow

    quiet_tensorflow(cfg.verbose)
    import time

    from recipes._data import batched
    from tfgm.data import DataError
    from tfgm.metrics.evaluator import GeneratorEvaluator
    from tfgm.training import ImageGridCallback, TrainingDiverged, set_seed, strategy

    started = time.time()
    set_seed(cfg.seed, cfg.deterministic)
    strat = strategy(cfg.strategy)  # before any tensor: multi-worker collectives are configured at start-up
    try:
        settings = _check_settings(cfg)
        train, test = _load(cfg, spec)
        network, notes = _pretrained_network(cfg), {}
    except (ValueError, DataError) as exc:
        print(f"\n{exc}", file=sys.stderr)
        return 2
    run = start_run(cfg, spec.recipe, strat)
    print(f"[gan] variant {cfg.variant}: {describe(settings)}")
    try:
        if cfg.fid_network == "classifier":
            network, notes = _classifier_network(cfg, spec, run, strat, train, test)
        steps_per_epoch = _count(train) // (cfg.batch_size * settings["n_critic"])
        if steps_per_epoch < 1:
            raise DataError(f"{_count(train)} training examples make no batch of {cfg.batch_size} × n_critic "
                            f"{settings['n_critic']}; lower --batch-size or use more --train-examples")
        epochs = cfg.stage_epochs(cfg.gan_epochs)
        evaluator = None if network is None else GeneratorEvaluator(network, test, num_real=cfg.fid_real,
                                                                     batch_size=100)
        history = list(run.read_metrics().get("scores_over_training", []))
        callbacks = [ImageGridCallback(run.images_dir, os.path.join(run.logs_dir, "gan"),
                                       {"samples": lambda m: m.sample(64, seed=cfg.seed)}, every=cfg.image_every),
                     loss_curves_callback(os.path.join(run.images_dir, "loss_curves.png"))]
        scores = None if evaluator is None else _score_callback(run, evaluator, cfg, history)
        data = batched(train, cfg.batch_size * settings["n_critic"], shuffle_seed=cfg.seed, drop_remainder=True)
        model = train_stage(run, strat, "gan", _gan_builder(cfg, spec, settings, epochs * steps_per_epoch),
                            {"x": data, "epochs": epochs}, callbacks + ([scores] if scores else []))
    except DataError as exc:
        print(f"\ndata: {exc}", file=sys.stderr)
        return 2
    except TrainingDiverged as exc:
        print(f"\nstopped: {exc}", file=sys.stderr)
        return 1
    final = None
    if scores is not None:
        done, final = scores.last
        if done != epochs:
            final = evaluator.evaluate(model, cfg.fid_samples, seed=cfg.seed)
    run.write_metrics({"final": final, "settings": {k: v for k, v in settings.items() if k != "make_optimizers"},
                       "generator_steps": int(model.g_optimizer.iterations), "notes": notes})
    status = export_models(run, {"gan": model}) if cfg.export and run.is_chief else 0
    print()
    print(summary_table(settings, final, {"generator steps": int(model.g_optimizer.iterations), **notes}))
    print(f"\nrun directory: {run.path}  ({time.time() - started:.0f} s)")
    return status
