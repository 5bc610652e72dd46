"""What the GibbsNet recipes share (thesis ch. 3): their flags (`GibbsConfig`) and checks, ALI and GibbsNet
trained with the same architecture, options, seed and budget, with chain and inpainting grids every epoch
(`GibbsExperiment.train_pair`; the figures: `recipes._gibbsnet_figures`), and the evaluator of IS/FID in a
scoring classifier's space. Default encoder options: the authors' code's
σ = sigmoid(s) and batch-standardized ẑ (METHODS.md §3), for both models (--no-bounded-sigma,
--no-standardize-z switch them off)."""

import dataclasses
import os

from recipes._cli import CommonConfig
from recipes._experiment import Experiment

TABLE_3_1_INPAINTING = ("left", 4)  # the given half and chain steps of Table 3.1's inpainting scores
HALVES = ("left", "right")
PAIR = ("ali", "gibbsnet")


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
    chain_batch_statistics: bool = dataclasses.field(default=True, metadata={
        "help": "evaluation chains (samples, inpaintings, the long chain, the grids) run batch norm on the chains' "
                "own batch statistics, as the training chain does (no moving average changes). Measured "
                "(builtin_digits, 10 epochs): GibbsNet's 100-step chain keeps IS 6.63 this way and collapses to "
                "one image (IS 1.00) on the moving averages; --no-chain-batch-statistics: moving averages, each "
                "chain on its own, as the exported sample endpoint runs"})
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


PAIR_FLAGS = ("latent_dim", "train_steps", "loss", "heads", "log_z_ema", "bounded_sigma", "standardize_z", "noise_dim",
              "width", "optimizer", "learning_rate", "gan_epochs", "chain_encoder_gradient", "chain_steps",
              "chain_batch_statistics", "inpaint_given", "inpaint_steps", "image_every")
"""GibbsConfig's flags that affect only ALI and GibbsNet (their nets, training and the grids drawn during it)."""
EVALUATION_FLAGS = ("long_chain_steps", "probe_epochs", "probe_hidden", "score_samples", "score_splits")
CLASSIFIERS = ("score_classifier", "classifier")  # the scoring classifier's stage: dataset recipes, CelebA's joint


class GibbsExperiment(Experiment):
    """A GibbsNet recipe: the flags checked before any work, ALI and GibbsNet trained alike (`train_pair`),
    the two of them exported (any other stage, such as a scoring classifier, is not)."""

    config = GibbsConfig
    stage_flags = {**dict.fromkeys(PAIR_FLAGS, PAIR), **dict.fromkeys(EVALUATION_FLAGS, ()),
                   "classifier_epochs": CLASSIFIERS}
    epoch_flags = {**dict.fromkeys(PAIR, "gan_epochs"), **dict.fromkeys(CLASSIFIERS, "classifier_epochs")}

    def check(self, cfg):
        check_config(cfg)

    def train_pair(self, builder, train, panels):
        """{"ali", "gibbsnet"} → the stage of `builder(name)` (a build function) on the batches `train`, for
        --epochs or --gan-epochs, drawing `panels` (`tfgm.training.ImageGridCallback`'s) every --image-every
        epochs as images/<name>_<panel>_epochNNN.png (and _latest.png) and TensorBoard images in logs/<name>/."""
        from tfgm.training import ImageGridCallback

        epochs = self.cfg.stage_epochs(self.cfg.gan_epochs)
        models = {}
        for name in PAIR:
            grids = ImageGridCallback(self.run.images_dir, os.path.join(self.run.logs_dir, name), panels,
                                      every=self.cfg.image_every, prefix=f"{name}_")
            models[name] = self.stage(name, builder(name), dict(x=train, epochs=epochs), [grids])
        return models

    def exports(self, models):
        return {name: models[name] for name in PAIR}


def check_config(cfg):
    """Raise ValueError naming the flag when a GibbsNet setting is out of range (before any work)."""
    if cfg.inpaint_given not in HALVES:
        raise ValueError(f"--inpaint-given must be one of {', '.join(HALVES)}, got {cfg.inpaint_given!r}")
    for flag in ("inpaint_steps", "chain_steps", "train_steps"):
        if int(getattr(cfg, flag)) < 1:
            raise ValueError(f"--{flag.replace('_', '-')} must be >= 1, got {getattr(cfg, flag)}")
    if cfg.optimizer not in ("adam", "rmsprop"):
        raise ValueError(f"--optimizer must be rmsprop or adam, got {cfg.optimizer!r}")


def model_options(cfg):
    """metrics.json's record of how ALI and GibbsNet were trained (chain lengths, encoder options)."""
    return {"train_steps": {"ali": 1, "gibbsnet": cfg.train_steps},
            "gibbsnet_chain_encoder_gradient": cfg.chain_encoder_gradient,
            "encoder_options": {"bounded_sigma": cfg.bounded_sigma, "standardize_z": cfg.standardize_z,
                                "applies_to": "ALI and GibbsNet alike"}}


def inpainting_protocol(cfg):
    """The scored inpainting's protocol in words, saying whether it is Table 3.1's."""
    given, steps = cfg.inpaint_given, int(cfg.inpaint_steps)
    same = (given, steps) == TABLE_3_1_INPAINTING
    return (f"test images, {given} half given (clamped), the other half inpainted by {steps} chain steps"
            + ("; Table 3.1's protocol" if same else "; NOT Table 3.1's protocol (left half given, 4 steps)"))


def optimizer(cfg):
    """--optimizer at --learning-rate: RMSprop, or Adam with β1 0.5."""
    import keras

    if cfg.optimizer == "adam":
        return keras.optimizers.Adam(cfg.learning_rate, beta_1=0.5)
    if cfg.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(cfg.learning_rate)
    raise ValueError(f"--optimizer must be rmsprop or adam, got {cfg.optimizer!r}")


def scoring_evaluator(classifier, feature_layer, test, splits, probabilities="softmax"):
    """`tfgm.metrics.GeneratorEvaluator` in a scoring classifier's space: features of its `feature_layer`, IS of its
    softmax (or, `probabilities="sigmoid"`, the attribute IS of its sigmoid) over `splits` splits, every image of
    `test` (batches of dicts with "image") as the real side, no KID; images scored in batches of 256."""
    from tfgm.metrics.evaluator import GeneratorEvaluator, keras_classifier

    network = keras_classifier(classifier, feature_layer, probabilities=probabilities)
    return GeneratorEvaluator(network, test, num_real=None, batch_size=256, splits=splits, kid_subsets=0)


def score_entry(result, key="inception_score"):
    """metrics.json's scores of a set of images from its `GeneratorEvaluator` result: {key, key_std, "fid",
    "count", "splits"} (IS over min(splits, N) splits)."""
    score = result["inception_score"]
    return {key: score["mean"], f"{key}_std": score["std"], "fid": result["fid"], "count": result["num_generated"],
            "splits": score["splits"]}
