"""The feature networks of the image GAN recipes' scores (FID/IS/KID): a classifier trained in the run, Keras'
InceptionV3 or the 2015 Inception graph."""


def classifier_network(experiment, train, test):
    """(FeatureNetwork, notes) of an `ImageGan` run: a DCGAN-style classifier trained on the labels as the run's
    "fid_classifier" stage, its 'features' layer."""
    import keras
    import tensorflow as tf

    from tfgm.metrics import evaluator
    from tfgm.nets import dcgan
    from tfgm.training import shuffle_by_epoch

    cfg = experiment.cfg
    num_classes = int(train.map(lambda d: tf.cast(d["label"], tf.int32)).reduce(0, tf.maximum)) + 1
    pairs = lambda ds: ds.map(lambda d: (d["image"], d["label"])).batch(128)  # noqa: E731

    def build():
        model = dcgan.classifier(experiment.image_shape, num_classes, name="fid_classifier")
        model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    fit = {"x": pairs(shuffle_by_epoch(train, 10_000, cfg.seed)), "validation_data": pairs(test),
           "epochs": cfg.classifier_epochs}
    classifier = experiment.stage("fid_classifier", build, fit)
    accuracy = float(classifier.evaluate(pairs(test), verbose=0, return_dict=True)["accuracy"])
    label = (f"FD-{experiment.recipe}-classifier (DCGAN-style CNN trained on {cfg.data} in this run, 'features' "
             "layer; not Inception: not comparable with published FID/IS)")
    return evaluator.keras_classifier(classifier, "features", label=label), {"classifier_test_accuracy": accuracy}


def count(dataset):
    """The number of elements of `dataset` (counted when its cardinality is unknown)."""
    import tensorflow as tf

    n = int(dataset.cardinality())
    return n if n >= 0 else int(dataset.reduce(tf.constant(0, tf.int64), lambda c, _: c + 1))


def pretrained_network(cfg):
    """The feature network for --fid-network inception_v3 / inception2015; None for the other choices."""
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
