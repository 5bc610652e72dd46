"""The image GAN experiment of gan_mnist and gan_cifar10: DCGAN-style nets with a variant's paper settings
(`recipes.gan_presets`), sample grids and loss curves each epoch, FID/IS/KID over training through
`tfgm.metrics.GeneratorEvaluator`, export of the generator."""

import dataclasses
import os

from recipes import gan_presets
from recipes._cli import CommonConfig
from recipes._experiment import Experiment
from recipes._gan_feature_networks import classifier_network, count, pretrained_network
from tfgm.losses import registry

FID_NETWORKS = ("classifier", "inception_v3", "inception2015", "none")


@dataclasses.dataclass
class ImageConfig(CommonConfig):
    """Flags of the image GAN recipes (gan_mnist, gan_cifar10); each recipe sets its data and budget."""

    variant: str = dataclasses.field(default="dcgan", metadata={
        "help": f"{' | '.join(gan_presets.VARIANTS)} (paper defaults)"})
    loss: str = dataclasses.field(default="", metadata={
        "help": f"override the variant's loss: {' | '.join(registry.GAN_LOSSES)}"})
    regularizer: tuple[str, ...] = dataclasses.field(default=(), metadata={
        "help": f"name or name=value added to the variant's, repeatable ({', '.join(registry.PENALTIES)}); "
                "'none' drops the variant's"})
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
    fid_samples: int = dataclasses.field(default=10000, metadata={"help": "generated samples per FID/IS/KID",
                                                                  "min": 2})
    fid_real: int = dataclasses.field(default=10000, metadata={"help": "real test images for the statistics",
                                                               "min": 2})
    fid_every: int = dataclasses.field(default=1, metadata={"help": "score every N epochs (and at the end)"})
    classifier_epochs: int = dataclasses.field(default=5, metadata={"help": "epochs of the feature classifier",
                                                                    "min": 1})
    image_every: int = dataclasses.field(default=1, metadata={"help": "write sample grids every N epochs", "min": 1})

    @staticmethod
    def quick_overrides():
        return {"train_examples": 2000, "gan_epochs": 2, "width": 16, "latent_dim": 32, "fid_network": "classifier",
                "fid_samples": 500, "fid_real": 500, "classifier_epochs": 2}


class ImageGan(Experiment):
    """A variant of `gan_presets.VARIANTS` on images of `image_shape` (H, W, C), scored every `fid_every` epochs.
    Stages: "fid_classifier" (under --fid-network classifier), then "gan" (its scores over training included)."""

    image_shape = ()
    stage_flags = {**dict.fromkeys(("variant", "loss", "regularizer", "sn", "n_critic", "learning_rate", "batch_size",
                                    "latent_dim", "width", "gan_epochs", "fid_samples", "fid_every", "inception_graph",
                                    "image_every"), ("gan",)),
                   "classifier_epochs": ("fid_classifier",),
                   **dict.fromkeys(("fid_network", "fid_real"), ("fid_classifier", "gan"))}
    epoch_flags = {"gan": "gan_epochs"}  # the classifier trains --classifier-epochs, whatever --epochs says

    def arguments(self, argv):
        return gan_presets.merge_repeated(argv)

    def check(self, cfg):
        self.settings = gan_presets.gan_settings(cfg, cfg.variant)
        if cfg.fid_network not in FID_NETWORKS:
            raise ValueError(f"--fid-network must be one of {', '.join(FID_NETWORKS)}, got {cfg.fid_network!r}")
        if cfg.fid_network == "inception2015" and not os.path.isfile(cfg.inception_graph):
            raise ValueError("--fid-network inception2015 needs --inception-graph PATH to classify_image_graph_def.pb "
                             "(from inception-2015-12-05.tgz); or use --fid-network inception_v3 / classifier")

    def load(self, cfg):
        """(train, test) cached datasets; also the pretrained feature network, so a missing file or download fails
        before the run directory exists."""
        from recipes._data import load_split
        from tfgm.data import DataError

        shape = self.image_shape
        train = load_split(cfg, "train", image_size=shape[:2], channels=shape[2], num_examples=cfg.train_examples)
        test = load_split(cfg, "test", image_size=shape[:2], channels=shape[2], num_examples=cfg.fid_real)
        if cfg.fid_network == "classifier" and "label" not in train.element_spec:
            raise DataError(f"--fid-network classifier trains on labels and --data {cfg.data} has none; "
                            "use --fid-network inception_v3 or inception2015")
        self.network = pretrained_network(cfg)
        return train.cache(), test.cache()

    def train(self, data):
        from recipes._data import batched
        from recipes._gan_callbacks import LossCurves, Scores
        from tfgm.data import DataError
        from tfgm.metrics.evaluator import GeneratorEvaluator
        from tfgm.training import ImageGridCallback

        cfg, run, settings, (train, test) = self.cfg, self.run, self.settings, data
        print(f"[gan] variant {cfg.variant}: {gan_presets.describe(settings)}")
        network, self.notes = self.network, {}
        if cfg.fid_network == "classifier":
            network, self.notes = classifier_network(self, train, test)
        examples = count(train)
        steps_per_epoch = examples // (cfg.batch_size * settings["n_critic"])
        if steps_per_epoch < 1:
            raise DataError(f"{examples} training examples make no batch of {cfg.batch_size} × n_critic "
                            f"{settings['n_critic']}; lower --batch-size or use more --train-examples")
        self.epochs = cfg.stage_epochs(cfg.gan_epochs)
        self.evaluator = None if network is None else GeneratorEvaluator(network, test, num_real=cfg.fid_real,
                                                                          batch_size=100)
        callbacks = [ImageGridCallback(run.images_dir, os.path.join(run.logs_dir, "gan"),
                                       {"samples": lambda m: m.sample(64, seed=cfg.seed)}, every=cfg.image_every),
                     LossCurves(os.path.join(run.images_dir, "loss_curves.png"))]
        self.scores = None
        if self.evaluator is not None:
            history = list(run.read_metrics().get("scores_over_training", []))
            self.scores = Scores(run, self.evaluator, cfg, history)
            callbacks.append(self.scores)
        batches = batched(train, cfg.batch_size * settings["n_critic"], shuffle_seed=cfg.seed, drop_remainder=True)
        build = self._gan_builder(self.epochs * steps_per_epoch)
        model = self.stage("gan", build, {"x": batches, "epochs": self.epochs}, callbacks)
        return {"gan": model}

    def evaluate(self, models, data):
        model, final = models["gan"], None
        if self.scores is not None:
            done, final = self.scores.last
            if done != self.epochs:
                final = self.evaluator.evaluate(model, self.cfg.fid_samples, seed=self.cfg.seed)
        return {"final": final, "settings": {k: v for k, v in self.settings.items() if k != "make_optimizers"},
                "generator_steps": int(model.g_optimizer.iterations.numpy()), "notes": self.notes}

    def summary(self, models, metrics):
        settings, final = self.settings, metrics["final"]
        extra = {"generator steps": metrics["generator_steps"], **self.notes}
        lines = [f"variant {settings['variant']}: {gan_presets.describe(settings)}", "-" * 72]
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
                      f"samples {final['num_generated']} generated vs {final['num_real']} real; "
                      f"resize: {final['resize']}"]
        lines += [f"{k}: {v}" for k, v in extra.items()]
        return "\n".join(lines)

    def _gan_builder(self, total_steps):
        from tfgm.models.gan import GAN
        from tfgm.nets import dcgan

        cfg, settings, shape = self.cfg, self.settings, self.image_shape

        def build():
            generator = dcgan.generator(cfg.latent_dim, shape, width=cfg.width)
            discriminator = dcgan.discriminator(shape, width=cfg.width, batch_norm=settings["critic_batch_norm"],
                                                spectral_norm=settings["spectral_norm"])
            model = GAN(generator, discriminator, loss=settings["loss"], regularizers=settings["regularizers"],
                        n_critic=settings["n_critic"], critic_batches="split", total_steps=total_steps, seed=cfg.seed,
                        name="gan")
            model.compile(*settings["make_optimizers"]())
            return model

        return build
