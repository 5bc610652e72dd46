"""ALI vs GibbsNet on a labelled image dataset (thesis ch. 3, table 3.1, fig. 3.3): the experiment of
gibbsnet_mnist, _mnist2d, _svhn and _cifar10, each an instance with its dataset, nets and latent size. It trains
the scoring classifier, then ALI and GibbsNet (`GibbsExperiment.train_pair`), and writes chains, inpaintings,
a long chain, the latent probe, IS/FID in the classifier's space with their protocol, table 3.1 and the export."""

import dataclasses
import os

from recipes._data_help import data_help
from recipes._gibbsnet_common import (PAIR, GibbsConfig, GibbsExperiment, model_options, optimizer, score_entry,
                                      scoring_evaluator)
from recipes._gibbsnet_figures import chain_figures, chain_panels, half_mask, latent_scatter
from recipes._gibbsnet_table_3_1 import summary as table_3_1_text, table_metrics


def dataset_config(data, quick_data, latent_dim, latent_help="latent dimension"):
    """A recipe's config: `GibbsConfig` with its --data default (the flag's help lists the catalogued labelled
    image datasets), its --quick data and its latent size."""
    help_text = data_help(("image", "label"), notes={"npz": "x images, y labels, in a local .npz (--data-path)"})
    fields = [("data", str, dataclasses.field(default=data, metadata={"help": help_text})),
              ("latent_dim", int, dataclasses.field(default=latent_dim, metadata={"help": latent_help}))]
    quick = {**GibbsConfig.quick_overrides(), "data": quick_data}
    return dataclasses.make_dataclass("Config", fields, bases=(GibbsConfig,),
                                      namespace={"quick_overrides": staticmethod(lambda: dict(quick))})


@dataclasses.dataclass
class Data:
    """The loaded data: the training and test batches, 8 fixed test images [8, H, W, C], the number of classes."""

    train: object
    test: object
    fixed: object
    num_classes: int


class GibbsNetDataset(GibbsExperiment):
    """The experiment on one dataset. `nets`: the builder in `tfgm.nets.ali_nets`; `image_shape` (H, W, C);
    `classes`: the labels to keep, renumbered 0… (default: all); `scatter`: draw the inferred 2-D z per class."""

    nets = ""
    image_shape = ()
    classes = ()
    scatter = False

    def check(self, cfg):
        super().check(cfg)
        self._check_latent(cfg.latent_dim)

    def _check_latent(self, latent_dim):
        if self.nets == "mnist2d_ali" and latent_dim != 2:
            raise ValueError(f"flags: {self.recipe} is the 2-D-latent model; got --latent-dim {latent_dim}")

    def build_nets(self, latent_dim, width, noise_dim, heads):
        """(encoder, decoder, discriminator) of `tfgm.nets.ali_nets.<nets>`."""
        from tfgm.nets import ali_nets

        self._check_latent(latent_dim)
        if self.nets == "mnist2d_ali":
            return ali_nets.mnist2d_ali(width, noise_dim, heads)
        return getattr(ali_nets, self.nets)(latent_dim, width, noise_dim, heads)

    def load(self, cfg):
        from recipes._data import batched, first_images

        splits = {split: self._split(cfg, split, count)
                  for split, count in (("train", cfg.train_examples), ("test", cfg.eval_examples))}
        test = batched(splits["test"], cfg.batch_size)
        num_classes = len(self.classes) or int(max(int(b["label"].numpy().max()) for b in test)) + 1
        train = batched(splits["train"], cfg.batch_size, shuffle_seed=cfg.seed, drop_remainder=True)
        return Data(train, test, first_images(splits["test"], 8), num_classes)

    def _split(self, cfg, split, count):
        from recipes._data import load_split
        from tfgm.data import DataError

        ds = load_split(cfg, split, image_size=self.image_shape[:2], channels=self.image_shape[2],
                        num_examples=count)
        if "label" not in ds.element_spec:
            raise DataError(f"{self.recipe} needs labels (latent probe, scoring classifier); "
                            f"--data {cfg.data} has none")
        if self.classes:
            import tensorflow as tf

            keep = tf.constant(self.classes, tf.int32)
            ds = ds.filter(lambda d: tf.reduce_any(tf.equal(tf.cast(d["label"], tf.int32), keep)))
            index = {c: i for i, c in enumerate(self.classes)}
            table = tf.constant([index.get(c, 0) for c in range(max(self.classes) + 1)], tf.int32)
            ds = ds.map(lambda d: {"image": d["image"], "label": tf.gather(table, tf.cast(d["label"], tf.int32))})
            # The filter leaves the size unknown, and Keras warns "input ran out of data" at the end of the first
            # epoch over such a dataset. One counting pass makes it known and fills the cache that training reads
            # (4 s for 60,000 digits in memory).
            ds = ds.cache()
            return ds.apply(tf.data.experimental.assert_cardinality(int(ds.reduce(0, lambda n, _: n + 1))))
        return ds.cache()

    def train(self, data):
        import keras

        from tfgm.models.gibbsnet import ALI, GibbsNet
        from tfgm.nets.score_nets import score_classifier

        cfg = self.cfg

        def build_classifier():
            model = score_classifier(self.image_shape, data.num_classes)
            model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                          metrics=["accuracy"])
            return model

        def builder(name):
            def build():
                nets = self.build_nets(cfg.latent_dim, cfg.width, cfg.noise_dim, cfg.heads)
                options = dict(loss=cfg.loss, log_z_ema=cfg.log_z_ema, bounded_sigma=cfg.bounded_sigma,
                               standardize_z=cfg.standardize_z, seed=cfg.seed, name=name)
                if name == "ali":
                    model = ALI(*nets, **options)
                else:
                    model = GibbsNet(*nets, train_steps=cfg.train_steps,
                                     chain_encoder_gradient=cfg.chain_encoder_gradient, **options)
                model.compile(optimizer(cfg), optimizer(cfg))
                return model

            return build

        classifier = self.stage("score_classifier", build_classifier,
                                dict(x=_pairs(data.train), validation_data=_pairs(data.test),
                                     epochs=cfg.stage_epochs(cfg.classifier_epochs)))
        return {"score_classifier": classifier, **self.train_pair(builder, data.train, chain_panels(cfg, data.fixed))}

    def evaluate(self, models, data):
        from tfgm.metrics.latent_probe import latent_probe_accuracy

        cfg, classifier = self.cfg, models["score_classifier"]
        accuracy = float(classifier.evaluate(_pairs(data.test), verbose=0, return_dict=True)["accuracy"])
        evaluator = scoring_evaluator(classifier, "features", data.test, cfg.score_splits)
        results = {}
        for name in PAIR:
            model = models[name]
            result = {"latent_probe": latent_probe_accuracy(lambda x, m=model: m.infer(x), data.train, data.test,
                                                            hidden=cfg.probe_hidden, epochs=cfg.probe_epochs,
                                                            seed=cfg.seed)}
            result.update(chain_figures(self.run, name, model, data.fixed, cfg))
            result["scores"] = scores(cfg, model, evaluator, data.test)
            if self.scatter:
                path = latent_scatter(self.run, name, model, data.test, self.classes)
                result["latent_scatter_png"] = os.path.relpath(path, self.run.path)
            results[name] = result
        self.scoring = (f"small CNN trained on --data {cfg.data} train split ({accuracy:.3f} test accuracy): its "
                        "softmax for IS, its 128-d 'features' layer for FID; not Inception")
        return {**results, **table_metrics(cfg, results, self.scoring, evaluator.real().stats.count), "data": cfg.data,
                **model_options(cfg)}

    def summary(self, models, metrics):
        table = metrics["table_3_1"]
        return table_3_1_text(table["this_run"], table["this_run_protocol"], self.scoring, self.cfg.data)


def _pairs(ds):
    return ds.map(lambda d: (d["image"], d["label"]))


def scores(cfg, model, evaluator, test):
    """{"samples", "inpainting"} → IS and FID (`score_entry`; `evaluator`: `scoring_evaluator`'s) of
    --score-samples chain samples and of the test set's inpaintings (`inpainting_protocol`)."""
    import numpy as np

    samples, inpaintings = [], []
    for i in range(0, cfg.score_samples, cfg.batch_size):
        n = min(cfg.batch_size, cfg.score_samples - i)
        samples.append(np.asarray(model.sample(n, steps=cfg.chain_steps, seed=[cfg.seed, i + 1],
                                               batch_statistics=cfg.chain_batch_statistics)))
    for batch in test:
        images = np.asarray(batch["image"])
        inpaintings.append(np.asarray(model.inpaint(images, half_mask(images, cfg.inpaint_given),
                                                    steps=cfg.inpaint_steps, seed=cfg.seed,
                                                    batch_statistics=cfg.chain_batch_statistics)))
    return {key: score_entry(evaluator.evaluate_images(np.concatenate(images)))
            for key, images in (("samples", samples), ("inpainting", inpaintings))}
