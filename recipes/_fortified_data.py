"""Data of the Fortified Networks classifier recipes: the labelled splits, batches, out-of-distribution sets."""

import numpy as np


def load_arrays(dataset, batch=1000):
    """(images, labels) numpy arrays of an unbatched dict dataset."""
    xs, ys = [], []
    for b in dataset.batch(batch):
        xs.append(b["image"].numpy())
        ys.append(b["label"].numpy())
    if not xs:
        from tfgm.data import DataError

        raise DataError("the split yielded no examples; check --data-path or the *-examples flags")
    return np.concatenate(xs), np.concatenate(ys).astype(np.int32)


def load_image_data(cfg, recipe, input_shape):
    """{"train": tf.data of {"image", "label"}, "validation"/"test": (x, y) arrays, "num_classes": K} at
    `input_shape` (H, W, C); DataError for a dataset without class labels or too small for --blackbox."""
    from recipes._data import load_split
    from tfgm.data import DataError

    size, channels = input_shape[:2], input_shape[2]
    splits = {split: load_split(cfg, split, image_size=size, channels=channels, num_examples=count)
              for split, count in (("train", cfg.train_examples), ("validation", cfg.validation_examples),
                                   ("test", cfg.eval_examples))}
    if "label" not in splits["train"].element_spec:
        raise DataError(f"{recipe} trains a classifier and --data {cfg.data} has no class labels: give an "
                        "npz whose y is N integer labels")
    validation, test = load_arrays(splits["validation"]), load_arrays(splits["test"])
    if getattr(cfg, "blackbox", False) and len(test[0]) <= cfg.blackbox_holdout:
        raise DataError(f"--blackbox holds out the first {cfg.blackbox_holdout} test examples and needs more than "
                        f"that; the test split has {len(test[0])} (raise --eval-examples or use --no-blackbox)")
    num_classes = int(max(validation[1].max(), test[1].max())) + 1
    if min(validation[1].min(), test[1].min()) < 0 or num_classes < 2:
        raise DataError(f"--data {cfg.data}: labels must be integers 0..K-1 with K >= 2")
    train = splits["train"].map(lambda d: {"image": d["image"], "label": d["label"]})
    return {"train": train, "validation": validation, "test": test, "num_classes": num_classes}


def fit_data(cfg, data):
    """(training batches: shuffled, whole; validation batches in order) for `model.fit`."""
    from recipes._data import batched

    train = batched(data["train"], cfg.batch_size, shuffle_seed=cfg.seed, drop_remainder=True)
    return train, dict_dataset(*data["validation"], cfg.batch_size)


def array_batches(x, y, batch_size):
    """[(x_batch, y_batch), ...] of numpy arrays."""
    return [(x[i:i + batch_size], y[i:i + batch_size]) for i in range(0, len(x), batch_size)]


def dict_dataset(x, y, batch_size):
    """Batched {"image", "label"} tf.data from arrays (in order)."""
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices({"image": x, "label": y}).batch(batch_size)


def ood_sets(cfg, spec, count):
    """{"<built-in dataset>": images, "uniform_noise": images}: `count` (or --ood-examples) inputs of the test
    images' shape the model never saw: the spec's other built-in dataset converted to that shape, and pixels
    drawn uniformly in [0, 1] (seeded)."""
    from tfgm.data import load

    n = cfg.ood_examples or count
    height, width, channels = spec.input_shape
    other = load(spec.ood_data, "test", image_size=(height, width), channels=channels, num_examples=n,
                 seed=cfg.seed)
    images = np.concatenate([b["image"].numpy() for b in other.batch(1000)])
    noise = np.random.default_rng(cfg.seed).random((n, *spec.input_shape)).astype(np.float32)
    return {spec.ood_data: images, "uniform_noise": noise}
