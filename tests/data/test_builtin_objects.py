"""builtin_objects: determinism, splits, shapes and ranges, balanced labels, learnability."""

import os

import numpy as np

from tfgm.data import available_datasets, load
from tfgm.data import builtin_objects as bo


def _first(ds, n):
    return list(ds.take(n).as_numpy_iterator())


def _pooled(x):
    """(n, 32, 32, c) uint8 pixels (scaled to [0, 1]) or floats -> float32 (n, 16 * 16 * c), 2x2 averages."""
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
    return x.reshape(len(x), 16, 2, 16, 2, -1).mean(axis=(2, 4)).reshape(len(x), -1)


def _contrast(x):
    """Per-pixel distance (L1 over RGB) to the image's background colour, the median of a 2-pixel frame."""
    x = x.astype(np.float32) / 255.0
    frame = np.concatenate(
        [x[:, :2].reshape(len(x), -1, 3), x[:, -2:].reshape(len(x), -1, 3),
         x[:, 2:-2, :2].reshape(len(x), -1, 3), x[:, 2:-2, -2:].reshape(len(x), -1, 3)], axis=1,
    )  # fmt: skip
    return np.abs(x - np.median(frame, axis=1)[:, None, None]).sum(axis=-1, keepdims=True)


def _ridge_accuracy(f_train, y_train, f_test, y_test, lam=10.0):
    """Least-squares linear classifier on one-hot targets (closed form)."""
    center = f_train.mean(axis=0)
    a, b = f_train - center, f_test - center
    targets = np.eye(10, dtype=np.float32)[y_train] - 0.1
    w = np.linalg.solve(a.T @ a + np.float32(lam) * np.eye(a.shape[1], dtype=np.float32), a.T @ targets)
    return ((b @ w).argmax(axis=1) == y_test).mean()


def test_deterministic_cached_and_seed_dependent():
    a = _first(load("builtin_objects", "validation", num_examples=40), 40)
    cached = os.listdir(bo.cache_dir())
    assert any("seed0_validation_40" in f for f in cached) and not any(f.endswith(".tmp") for f in cached)
    b = _first(load("builtin_objects", "validation", num_examples=40), 40)  # read back from the cache
    c = _first(load("builtin_objects", "validation", num_examples=40, seed=1), 40)
    fresh, fresh_labels = bo.generate(40, 0, "validation")
    for i, (x, y) in enumerate(zip(a, b)):
        np.testing.assert_array_equal(x["image"], y["image"])
        assert x["label"] == y["label"] == fresh_labels[i]
        np.testing.assert_array_equal(np.rint(x["image"] * 255).astype(np.uint8), fresh[i])
    assert np.mean([np.abs(x["image"] - y["image"]).mean() for x, y in zip(a, c)]) > 0.1
    assert not np.array_equal([x["label"] for x in a], [y["label"] for y in c])


def test_splits_differ_and_prefixes_agree():
    train, train_labels = bo.generate(300, 0, "train")
    test, _ = bo.generate(300, 0, "test")
    a, b = _pooled(train), _pooled(test)
    squared = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2 * a @ b.T
    closest = np.sqrt(np.maximum(squared, 0) / a.shape[1]).min()
    assert closest > 0.04, f"a test image is within RMS {closest:.3f} of a train image"
    short, short_labels = bo.generate(100, 0, "train")
    np.testing.assert_array_equal(short, train[:100])  # 300 spans two chunks of 250
    np.testing.assert_array_equal(short_labels, train_labels[:100])


def test_shapes_ranges_and_balanced_labels():
    assert "builtin_objects" in available_datasets()
    examples = list(load("builtin_objects", "test", num_examples=1030).as_numpy_iterator())
    assert len(examples) == 1030  # more than the default test split of 1000
    ex = examples[-1]
    assert set(ex) == {"image", "label"}
    assert ex["image"].shape == (32, 32, 3) and ex["image"].dtype == np.float32
    assert ex["label"].shape == () and ex["label"].dtype == np.int32
    images = np.stack([e["image"] for e in examples])
    labels = np.array([e["label"] for e in examples])
    assert images.min() >= 0.0 and images.max() <= 1.0 and images.std() > 0.15
    # varied colours: per-image mean colours spread over the cube, not one palette
    assert images.mean(axis=(1, 2)).std(axis=0).min() > 0.1
    assert set(labels) == set(range(10))
    np.testing.assert_array_equal(np.bincount(labels[:1000], minlength=10), np.full(10, 100))
    assert bo.SPLIT_SIZES == {"train": 10000, "validation": 1000, "test": 1000}
    assert len(bo.CLASS_NAMES) == 10


def test_every_object_stands_out_from_its_background():
    images, labels = bo.generate(500, 2, "train")
    contrast = _contrast(images)[..., 0]
    peak = contrast.max(axis=(1, 2))
    assert peak.min() > 0.3, f"an object barely differs from its background (contrast {peak.min():.2f})"
    # objects sit near the middle: the centre differs from the background more than the border does
    center = contrast[:, 12:20, 12:20].mean(axis=(1, 2))
    border = np.concatenate([contrast[:, :3], contrast[:, -3:]], axis=1).mean(axis=(1, 2))
    solid = np.isin(labels, [bo.CIRCLE, bo.SQUARE, bo.TRIANGLE, bo.CROSS, bo.DIAMOND])
    assert (center > border + 0.1)[solid].mean() > 0.95
    assert (center > border).mean() > 0.85


def test_channels_and_image_size_options():
    ds = load("builtin_objects", "validation", num_examples=6, channels=1, image_size=(28, 28))
    assert ds.element_spec["image"].shape == (28, 28, 1)
    examples = list(ds.as_numpy_iterator())
    assert len(examples) == 6 and all(0.0 <= e["image"].min() and e["image"].max() <= 1.0 for e in examples)
    np.testing.assert_array_equal([e["label"] for e in examples], bo.generate(6, 0, "validation")[1])


def test_classes_are_learnable():
    """~2000 training images; chance is 0.1. Colours are random and either lighter or darker than the
    background, so (as with SVHN) linear models on raw RGB stay weak but above chance; the distance of
    each pixel to the background colour (a fixed per-image transform) exposes the shapes.
    Measured at seed 0: raw-pixel ridge 0.21; contrast class means 0.42, contrast ridge 0.56."""
    x_train, y_train = bo.generate(2000, 0, "train")
    x_test, y_test = bo.generate(1000, 0, "test")
    raw = _ridge_accuracy(_pooled(x_train), y_train, _pooled(x_test), y_test)
    assert raw > 0.15, f"raw-pixel linear accuracy {raw:.3f} (measured 0.21 at seed 0)"
    c_train, c_test = _pooled(_contrast(x_train)), _pooled(_contrast(x_test))
    means = np.stack([c_train[y_train == k].mean(axis=0) for k in range(10)])
    dist = (c_test**2).sum(1)[:, None] - 2 * c_test @ means.T + (means**2).sum(1)[None, :]
    ncm = (dist.argmin(axis=1) == y_test).mean()
    assert ncm > 0.3, f"nearest class mean accuracy {ncm:.3f} (measured 0.42 at seed 0)"
    linear = _ridge_accuracy(c_train, y_train, c_test, y_test)
    assert linear > 0.4, f"linear accuracy on contrast maps {linear:.3f} (measured 0.56 at seed 0)"
    # every pair of classes has a clearly different mean contrast map (shape, not colour)
    gaps = np.sqrt(((means[:, None] - means[None, :]) ** 2).mean(axis=-1))
    smallest = gaps[~np.eye(10, dtype=bool)].min()
    assert smallest > 0.02, f"two class-mean contrast maps are within RMS {smallest:.3f} (measured 0.04)"
