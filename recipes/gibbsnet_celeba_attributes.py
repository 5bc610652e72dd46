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
import sys

from recipes._data_help import data_help
from recipes._gibbsnet_common import PAIR, GibbsConfig, GibbsExperiment, model_options, optimizer, scoring_evaluator
from recipes._gibbsnet_figures import chain_figures
from recipes._gibbsnet_joint import conditional_figure, joint_figure, joint_panels, joint_scores
from recipes._gibbsnet_joint_report import ROWS, protocol, summary_text, table_row  # noqa: F401 (ROWS: tests)

DATASETS = data_help(("image", "attributes"), notes={
    "celeba_local": "the files CelebA's authors distribute (--celeba-dir)",
    "npz": "x images, y N×K attributes, in a local .npz (--data-path)"})


@dataclasses.dataclass
class Config(GibbsConfig):
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
        return {**GibbsConfig.quick_overrides(), "data": "builtin_faces", "train_examples": 1024,
                "eval_examples": 256, "gan_epochs": 3, "classifier_epochs": 3, "attribute_samples": 4}


@dataclasses.dataclass
class Data:
    """The loaded data: training and test batches, 8 fixed test images, the dataset's name, its attributes' names."""

    train: object
    test: object
    fixed: object
    name: str
    attributes: list


class JointGibbs(GibbsExperiment):
    recipe, config = "gibbsnet_celeba_attributes", Config
    stage_flags = {**GibbsExperiment.stage_flags, "attribute_samples": PAIR,
                   "classifier_learning_rate": ("classifier",)}

    def load(self, cfg):
        from recipes._data import batched, first_images
        from recipes._celeba import attribute_names, data_name, splits as celeba_splits

        splits, num_attributes = celeba_splits(cfg, self.recipe, ("train", "test"))
        splits = {k: ds.map(lambda d: {"image": d["image"], "attributes": d["attributes"]}).cache()
                  for k, ds in splits.items()}
        return Data(batched(splits["train"], cfg.batch_size, shuffle_seed=cfg.seed, drop_remainder=True),
                    batched(splits["test"], cfg.batch_size), first_images(splits["test"], 8), data_name(cfg),
                    attribute_names(num_attributes))

    def train(self, data):
        from recipes._celeba import attribute_classifier
        from tfgm.models import JointGibbsNet
        from tfgm.nets import ali_joint_nets

        cfg, num_attributes = self.cfg, len(data.attributes)

        def builder(name):
            def build():
                nets = ali_joint_nets.celeba_joint(cfg.latent_dim, cfg.width, cfg.noise_dim, cfg.heads,
                                                   num_attributes)
                model = JointGibbsNet(*nets, train_steps=1 if name == "ali" else cfg.train_steps,
                                      attribute_samples=cfg.attribute_samples, log_z_ema=cfg.log_z_ema,
                                      bounded_sigma=cfg.bounded_sigma, standardize_z=cfg.standardize_z,
                                      chain_encoder_gradient=cfg.chain_encoder_gradient, seed=cfg.seed, name=name)
                model.compile(optimizer(cfg), optimizer(cfg))
                return model

            return build

        classifier = self.stage("classifier", lambda: attribute_classifier(cfg, num_attributes),
                                dict(x=_pairs(data.train), validation_data=_pairs(data.test),
                                     epochs=cfg.stage_epochs(cfg.classifier_epochs)))
        return {"classifier": classifier, **self.train_pair(builder, data.train, joint_panels(cfg, data.fixed))}

    def evaluate(self, models, data):
        import numpy as np

        cfg, classifier = self.cfg, models["classifier"]
        accuracy = float(classifier.evaluate(_pairs(data.test), verbose=0, return_dict=True)["accuracy"])
        evaluator = scoring_evaluator(classifier, "hidden_relu", data.test, cfg.score_splits, probabilities="sigmoid")
        data_rates = np.concatenate([np.asarray(b["attributes"]) for b in data.train]).mean(0)
        test_attrs = np.concatenate([np.asarray(b["attributes"]) for b in data.test]) > 0.5
        majority = float(np.mean((data_rates > 0.5)[None] == test_attrs))
        results = {}
        for name in PAIR:
            model = models[name]
            results[name] = joint_scores(cfg, model, classifier, data.train, data.test, evaluator, data_rates)
            results[name].update(chain_figures(self.run, name, model, data.fixed, cfg))
            joint_figure(self.run, name, model, data.attributes, cfg)
            conditional_figure(self.run, name, model, next(iter(data.test)), cfg)
        table = {name: table_row(r) for name, r in results.items()}
        return {**results, "table": {"this_run": table,
                                     "thesis": "the thesis shows this model as figure 3.6 only (no numbers)"},
                "classifier_accuracy": accuracy, "majority_attribute_accuracy": majority,
                "protocol": protocol(cfg, data.name, accuracy, evaluator.real().stats.count), "data": data.name,
                **model_options(cfg), "attribute_samples": cfg.attribute_samples}

    def summary(self, models, metrics):
        return summary_text(metrics["table"]["this_run"], metrics["classifier_accuracy"],
                            metrics["majority_attribute_accuracy"], metrics["protocol"])


def _pairs(ds):
    return ds.map(lambda d: (d["image"], d["attributes"]))


main = JointGibbs(description=__doc__).main

if __name__ == "__main__":
    sys.exit(main())
