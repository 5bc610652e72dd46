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

from recipes import _discreg_report as report
from recipes._celeba import DATASETS, attribute_names, check_splits, data_name, splits
from recipes._discreg_checks import check_config, check_layers
from recipes._discreg_eval import drawn_attributes, vae_scores
from recipes._discreg_models import builders as _builders
from recipes._cli import CommonConfig, paper_differences
from recipes._experiment import Experiment

RECIPE = "discreg_celeba"


@dataclasses.dataclass
class Config(CommonConfig):
    data: str = dataclasses.field(default="celeb_a", metadata={"help": DATASETS})
    celeba_dir: str = dataclasses.field(default="", metadata={
        "help": "folder with img_align_celeba.zip (or img_align_celeba/), list_attr_celeba.txt, "
                "list_eval_partition.txt; implies --data celeba_local"})
    batch_size: int = dataclasses.field(default=100, metadata={"help": "global batch size"})
    latent_dim: int = dataclasses.field(default=500, metadata={"help": "latent dimension"})
    vae_width: float = dataclasses.field(default=1.0, metadata={
        "help": "multiplier of the VAEs' convolution channels (encoder 32/64/128/256 × w, decoder the reverse; the "
                "dense layers keep 1000 units); 1: the paper's. --quick: 0.5, whose steps run ~2.5× (plain) and ~2× "
                "(discreg) as fast as the full width's and whose plain VAE reaches the same test MSE per step "
                "(BUILD.md)"})
    likelihood: str = dataclasses.field(default="gaussian", metadata={
        "help": "pixel likelihood: gaussian (learned per-pixel σ) | bernoulli | discretized_logistic | "
                "logistic_mixture (PixelCNN++'s discretized logistic mixture, --mixture-components per pixel; "
                "the decoder's 1×1 head gives its parameters; reports bits/dim)"})
    mixture_components: int = dataclasses.field(default=10, metadata={
        "help": "components K of --likelihood logistic_mixture (PixelCNN++: 10)", "min": 1})
    min_log_sigma: float = dataclasses.field(default=-5.0, metadata={
        "help": "soft floor of every learned log σ (pixels, classifier layers; unchanged above it + 1). --quick: "
                "−2.3, which keeps the per-pixel σ's of the easy background from outweighing the face's pixels "
                "(plain VAE test MSE 0.0158 vs 0.0175 at −5)"})
    pixel_sigma: float = dataclasses.field(default=0.0, metadata={
        "help": "fix every pixel's σ of the gaussian likelihood at this value instead of learning it (0: learned per "
                "pixel, the paper's). A learned σ grows with the error it explains and weighs the reconstruction "
                "term down by σ⁻². On the quick run 0.1 gives a sharper plain VAE (test MSE 0.0127 vs 0.0152) but "
                "halves discreg's lead in attribute agreement (+0.022 vs +0.044 over 3 seeds; BUILD.md)"})
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
    vae_epochs: int = dataclasses.field(default=75, metadata={
        "help": "epochs of each VAE. --quick: 12 (about 10 minutes in all on an idle 2-core Zen 4); 20 take "
                "~1.7× as long and sharpen the plain VAE (test MSE 0.0130 vs 0.0152 over 3 seeds, with the "
                "paper's three --layers; BUILD.md)"})
    classifier_epochs: int = dataclasses.field(default=50, metadata={"help": "epochs of the attribute classifier"})
    classifier_learning_rate: float = dataclasses.field(default=0.002, metadata={
        "help": "Adam learning rate of the classifier (Blocks' Adam() default)"})
    layers: tuple[str, ...] = dataclasses.field(default=("strided1_bn", "strided2_bn", "strided3_bn"), metadata={
        "help": "classifier layers to regularize (BN outputs of the strided convs). --quick: strided2_bn "
                "strided3_bn: the first layer's term (30×30×32 units) is 69–73 %% of the discreg nats and, in a "
                "short run, outweighs the upper layers' semantic terms; without it discreg's attribute agreement "
                "rises from 0.820 to 0.836 (3 seeds; blind majority 0.808; BUILD.md)"})
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
        quick-only settings a 720-step VAE needs (σ step multiplier, KL warm-up, learning rate 0.001: reconstruction
        MSE 0.0179 vs 0.0255 at 0.002; a log σ floor of −2.3: 0.0158 vs 0.0175), half-width VAE nets (12 epochs in
        about the time of the paper widths' 6), BN statistics from 10 batches, bfloat16 where the CPU has it (1.4×
        the float32 step), the discreg terms on the two upper strided layers only; the summary lists them."""
        return {"data": "builtin_faces_plain", "train_examples": 3000, "eval_examples": 500, "iw_examples": 100,
                "iw_samples": 10, "fd_samples": 500, "vae_epochs": 12, "vae_width": 0.5, "classifier_epochs": 5,
                "batch_size": 50, "sigma_lr_multiplier": 10.0, "kl_warmup_steps": 120, "learning_rate": 0.001,
                "min_log_sigma": -2.3, "precision": "auto", "bn_recalibration_batches": 10,
                "layers": ("strided2_bn", "strided3_bn")}


class DiscReg(Experiment):
    """Classifier, plain VAE, discreg VAE (three resumable stages); both VAEs scored beside the blind baselines."""

    recipe, config = RECIPE, Config
    _vaes = ("vae", "discreg_vae")
    stage_flags = {"classifier_epochs": ("classifier",), "classifier_learning_rate": ("classifier",),
                   **dict.fromkeys(("latent_dim", "vae_width", "likelihood", "mixture_components", "min_log_sigma",
                                    "pixel_sigma", "max_log_var", "learning_rate", "sigma_lr_multiplier",
                                    "kl_warmup_steps", "bn_recalibration_batches", "vae_epochs", "image_every"), _vaes),
                   **dict.fromkeys(("layers", "layer_weight", "discreg_to_encoder"), ("discreg_vae",)),
                   **dict.fromkeys(("eval_examples", "iw_examples", "iw_samples", "fd_samples", "baseline_examples"),
                                   ())}

    def check(self, cfg):
        check_config(cfg)

    def load(self, cfg):
        from recipes._data import batched, first_images

        check_layers(cfg)
        data, num_attributes = splits(cfg, RECIPE)
        check_splits(data, num_attributes, cfg.batch_size)
        return {"train": batched(data["train"], cfg.batch_size, shuffle_seed=cfg.seed, drop_remainder=True),
                "validation": batched(data["validation"], cfg.batch_size),
                "test": batched(data["test"], cfg.batch_size),
                "fixed": first_images(data["validation"], 16), "names": attribute_names(num_attributes)}

    def train(self, data):
        from tfgm.training import BatchNormRecalibration, ImageGridCallback, latent_model_panels

        cfg, run, train = self.cfg, self.run, data["train"]
        num_attributes = len(data["names"])
        pairs = lambda ds: ds.map(lambda d: (d["image"], d["attributes"]))  # noqa: E731
        build_classifier, _, _ = _builders(cfg, num_attributes)
        classifier = self.stage("classifier", build_classifier,
                                {"x": pairs(train), "validation_data": pairs(data["validation"]),
                                 "epochs": cfg.stage_epochs(cfg.classifier_epochs)})
        _, build_vae, build_discreg = _builders(cfg, num_attributes, classifier)
        models = {"classifier": classifier}
        for name, build in (("vae", build_vae), ("discreg_vae", build_discreg)):
            callbacks = [ImageGridCallback(run.images_dir, os.path.join(run.logs_dir, name),
                                           latent_model_panels(data["fixed"], seed=cfg.seed), every=cfg.image_every,
                                           prefix=f"{name}_")]
            if cfg.bn_recalibration_batches:
                callbacks.insert(0, BatchNormRecalibration(train, cfg.bn_recalibration_batches))
            models[name] = self.stage(name, build, {"x": train, "validation_data": data["validation"],
                                                    "epochs": cfg.stage_epochs(cfg.vae_epochs)}, callbacks)
        return models

    def evaluate(self, models, data):
        from tfgm.metrics import attribute_agreement, blind_baselines, subset_mean
        from tfgm.metrics.evaluator import GeneratorEvaluator, keras_classifier

        cfg, names, test, classifier = self.cfg, data["names"], data["test"], models["classifier"]
        drawn = drawn_attributes(cfg, names)
        ceiling = attribute_agreement(classifier, test, attribute_names=names)
        ceiling["drawn"] = subset_mean(ceiling["per_attribute"], drawn) if drawn else None
        baselines = blind_baselines(classifier, data["train"], test, names, cfg.baseline_examples, drawn)
        sample_scores = GeneratorEvaluator(keras_classifier(classifier, "hidden_relu"), test, num_real=cfg.fd_samples,
                                           batch_size=cfg.batch_size)
        results = {name: vae_scores(cfg, models[name], classifier, test, names, drawn, sample_scores)
                   for name in ("vae", "discreg_vae")}
        report.figures(self.run, data["fixed"], models["vae"], models["discreg_vae"], results, ceiling, baselines,
                       names, cfg.seed)
        return {
            "classifier": {"attribute_accuracy": ceiling["mean"], "attribute_accuracy_drawn": ceiling["drawn"],
                           "per_attribute": ceiling["per_attribute"], "examples": ceiling["num_examples"]},
            **results,
            "baselines": baselines,
            "comparison": {key: {"vae": results["vae"][key], "discreg_vae": results["discreg_vae"][key],
                                 "higher_is_better": higher}
                           for key, _, higher in report.ROWS if results["vae"][key] is not None},
            "differs_from_paper": {flag: value for flag, value, _ in paper_differences(cfg)},
            "data": data_name(cfg),
        }

    def exports(self, models):
        return {name: models[name] for name in ("vae", "discreg_vae")}

    def summary(self, models, metrics):
        ceiling = {"mean": metrics["classifier"]["attribute_accuracy"],
                   "drawn": metrics["classifier"]["attribute_accuracy_drawn"]}
        return report.summary_table(metrics, ceiling, metrics["baselines"], paper_differences(self.cfg))


main = DiscReg(description=__doc__).main


if __name__ == "__main__":
    sys.exit(main())
