"""builtin_digits: determinism, splits, shapes and ranges, balanced labels, learnability, speed."""

import os
import time

import numpy as np

from tfgm.data import available_datasets, load
from tfgm.data import builtin_digits as bd


def _first(ds, n):
    return list(ds.take(n).as_numpy_iterator())


def _flat(x):
    return x.reshape(len(x), -1).astype(np.float32) / 255.0


def test_deterministic_cached_and_seed_dependent():
    a = _first(load("builtin_digits", "validation", num_examples=40), 40)
    cached = os.listdir(bd.cache_dir())
    assert any("seed0_validation_40" in f for f in cached) and not any(f.endswith(".tmp") for f in cached)
    b = _first(load("builtin_digits", "validation", num_examples=40), 40)  # read back from the cache
    c = _first(load("builtin_digits", "validation", num_examples=40, seed=1), 40)
    fresh, fresh_labels = bd.generate(40, 0, "validation")
    for i, (x, y) in enumerate(zip(a, b)):
        np.testing.assert_array_equal(x["image"], y["image"])
        assert x["label"] == y["label"] == fresh_labels[i]
        np.testing.assert_array_equal(np.rint(x["image"] * 255).astype(np.uint8), fresh[i])
    assert np.mean([np.abs(x["image"] - y["image"]).mean() for x, y in zip(a, c)]) > 0.05
    assert not np.array_equal([x["label"] for x in a], [y["label"] for y in c])


def test_splits_differ_and_prefixes_agree():
    train, _ = bd.generate(300, 0, "train")
    test, _ = bd.generate(300, 0, "test")
    a, b = _flat(train), _flat(test)
    squared = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2 * a @ b.T
    closest = np.sqrt(np.maximum(squared, 0) / a.shape[1]).min()
    assert closest > 0.02, f"a test digit is within RMS {closest:.3f} of a train digit"
    short, short_labels = bd.generate(100, 0, "train")
    np.testing.assert_array_equal(short, train[:100])  # 300 spans two chunks of 250
    np.testing.assert_array_equal(short_labels, bd.generate(300, 0, "train")[1][:100])


def test_shapes_ranges_and_balanced_labels():
    assert "builtin_digits" in available_datasets()
    examples = list(load("builtin_digits", "test", num_examples=1030).as_numpy_iterator())
    assert len(examples) == 1030  # more than the default test split of 1000
    ex = examples[-1]
    assert set(ex) == {"image", "label"}
    assert ex["image"].shape == (28, 28, 1) and ex["image"].dtype == np.float32
    assert ex["label"].shape == () and ex["label"].dtype == np.int32
    images = np.stack([e["image"] for e in examples])
    labels = np.array([e["label"] for e in examples])
    assert images.min() >= 0.0 and images.max() <= 1.0
    # white strokes on black: a dark frame, bright ink covering a minority of the pixels
    assert images[:, :2].mean() < 0.03 and images.max(axis=(1, 2, 3)).min() > 0.7
    assert 0.08 < (images > 0.5).mean() < 0.35
    assert set(labels) == set(range(10))
    np.testing.assert_array_equal(np.bincount(labels[:1000], minlength=10), np.full(10, 100))
    assert bd.SPLIT_SIZES == {"train": 10000, "validation": 1000, "test": 1000}


def test_channels_and_image_size_options():
    ds = load("builtin_digits", "validation", num_examples=6, channels=3, image_size=(32, 32))
    assert ds.element_spec["image"].shape == (32, 32, 3)
    examples = list(ds.as_numpy_iterator())
    assert len(examples) == 6 and all(0.0 <= e["image"].min() and e["image"].max() <= 1.0 for e in examples)
    np.testing.assert_allclose(examples[0]["image"][..., 0], examples[0]["image"][..., 2])
    np.testing.assert_array_equal([e["label"] for e in examples], bd.generate(6, 0, "validation")[1])


def _softmax_regression(x, y, steps=100, lr=2.0, l2=1e-3):
    """Full-batch gradient descent on the softmax cross-entropy; returns (W, b)."""
    w = np.zeros((x.shape[1], 10), np.float32)
    b = np.zeros(10, np.float32)
    onehot = np.eye(10, dtype=np.float32)[y]
    for _ in range(steps):
        z = x @ w + b
        p = np.exp(z - z.max(axis=1, keepdims=True))
        g = (p / p.sum(axis=1, keepdims=True) - onehot) / np.float32(len(x))
        w -= np.float32(lr) * (x.T @ g + np.float32(l2) * w)
        b -= np.float32(lr) * g.sum(axis=0)
    return w, b


def test_classes_are_learnable_from_raw_pixels():
    """~2000 training digits; chance is 0.1. Measured at seed 0: class means 0.81, logistic 0.92."""
    x_train, y_train = bd.generate(2000, 0, "train")
    x_test, y_test = bd.generate(1000, 0, "test")
    f_train, f_test = _flat(x_train), _flat(x_test)
    means = np.stack([f_train[y_train == k].mean(axis=0) for k in range(10)])
    dist = (f_test**2).sum(1)[:, None] - 2 * f_test @ means.T + (means**2).sum(1)[None, :]
    ncm = (dist.argmin(axis=1) == y_test).mean()
    assert ncm > 0.6, f"nearest class mean accuracy {ncm:.3f} (measured 0.81 at seed 0)"

    def pooled(x):  # 2x2 average pooling keeps the regression cheap: 196 raw-pixel features
        return _flat(x.reshape(len(x), 14, 2, 14, 2).mean(axis=(2, 4)))

    p_train, p_test = pooled(x_train), pooled(x_test)
    center = p_train.mean(axis=0)
    w, b = _softmax_regression(p_train - center, y_train)
    logistic = (((p_test - center) @ w + b).argmax(axis=1) == y_test).mean()
    assert logistic > 0.8, f"logistic regression accuracy {logistic:.3f} (measured 0.92 at seed 0)"
    # every pair of class-mean images differs clearly (RMS over pixels)
    gaps = np.sqrt(((means[:, None] - means[None, :]) ** 2).mean(axis=-1))
    smallest = gaps[~np.eye(10, dtype=bool)].min()
    assert smallest > 0.05, f"two class means are within RMS {smallest:.3f}"


def test_generation_speed_reported(record_property):
    """10000 digits (the default train split): time recorded, not asserted; the output is checked."""
    start = time.perf_counter()
    images, labels = bd.generate(10000, 3, "train")
    seconds = time.perf_counter() - start
    record_property("builtin_digits_10000_seconds", round(seconds, 2))
    print(f"builtin_digits: 10000 images in {seconds:.2f} s")
    assert images.shape == (10000, 28, 28, 1) and images.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(labels, minlength=10), np.full(10, 1000))
    assert images.reshape(10000, -1).max(axis=1).min() > 150  # no blank image anywhere
