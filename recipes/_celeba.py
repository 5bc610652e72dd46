"""CelebA for the recipes that use it (discreg_celeba, gibbsnet_celeba_attributes): the dataset flags → splits,
the attribute names, the attribute classifier."""

import dataclasses

IMAGE_SIZE = (64, 64)
DATASETS = ("celeb_a (TFDS), celeba_local (--celeba-dir), builtin_faces, builtin_faces_plain (muted one-colour "
            "backgrounds), npz (--data-path, y = N×K attributes), folder")


def data_name(cfg):
    """The dataset --data/--celeba-dir name: celeba_local when --celeba-dir is given."""
    return "celeba_local" if cfg.celeba_dir else cfg.data


def splits(cfg, recipe, names=("train", "validation", "test")):
    """{split: unbatched dicts with "image" [64, 64, 3] and "attributes" [K]} for `names`, and K. Flags read:
    --data, --celeba-dir, --train-examples, --eval-examples, --seed."""
    from recipes._data import load_split

    cfg_data = dataclasses.replace(cfg, data=data_name(cfg))
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


def attribute_names(num_attributes):
    """CelebA's 40 attribute names, or attribute_k for another count."""
    from tfgm.data import CELEBA_ATTRIBUTES

    if num_attributes == len(CELEBA_ATTRIBUTES):
        return list(CELEBA_ATTRIBUTES)
    return [f"attribute_{k}" for k in range(num_attributes)]


def attribute_classifier(cfg, num_attributes):
    """The attribute classifier (64×64×3 → `num_attributes` logits), compiled with binary cross-entropy and
    Adam(--classifier-learning-rate)."""
    import keras

    from tfgm.nets import discgen

    model = discgen.celeba_classifier(IMAGE_SIZE + (3,), num_attributes)
    model.compile(keras.optimizers.Adam(cfg.classifier_learning_rate),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")])
    return model


def check_splits(data, num_attributes, batch_size):
    """DataError when the training split makes no batch (zero steps per epoch would 'finish' untrained models)
    or a split's attributes differ in count from the training split's. data: {split: unbatched dicts}."""
    import tensorflow as tf

    from tfgm.data import DataError

    count = int(tf.data.experimental.cardinality(data["train"]))
    if 0 <= count < batch_size:
        raise DataError(f"the training split has {count} examples, fewer than one batch of {batch_size}: every "
                        "epoch would take zero steps; lower --batch-size or raise --train-examples")
    for split, ds in data.items():
        width = int(ds.element_spec["attributes"].shape[-1])
        if width != num_attributes:
            raise DataError(f"the {split} split has {width} attributes per image, the training split "
                            f"{num_attributes}: every split must have the same attributes")
