"""builtin_faces: determinism, ranges, attributes that really change the picture, learnability."""

import os

import numpy as np
import pytest

from tfgm.data import CELEBA_ATTRIBUTES, load
from tfgm.data import builtin_faces as bf

# Rows (y ranges, 64x64 image) where an attribute's change must concentrate.
REGIONS = {
    "Smiling": (38, 52), "Mouth_Slightly_Open": (38, 52), "Wearing_Lipstick": (38, 52), "Mustache": (36, 50),
    "Eyeglasses": (22, 38), "Narrow_Eyes": (24, 36), "Heavy_Makeup": (22, 36), "Bushy_Eyebrows": (20, 32),
    "Wearing_Hat": (0, 26), "Bangs": (12, 30), "Goatee": (42, 58), "Wearing_Necktie": (48, 64),
}  # fmt: skip


def _first(ds, n):
    return list(ds.take(n).as_numpy_iterator())


def test_deterministic_cached_and_seed_dependent():
    a = _first(load("builtin_faces", "validation", num_examples=40), 40)
    cached = os.listdir(bf.cache_dir())
    assert any("seed0_validation_40" in f for f in cached) and not any(f.endswith(".tmp") for f in cached)
    b = _first(load("builtin_faces", "validation", num_examples=40), 40)
    c = _first(load("builtin_faces", "validation", num_examples=40, seed=1), 40)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x["image"], y["image"])
        np.testing.assert_array_equal(x["attributes"], y["attributes"])
    assert np.mean([np.abs(x["image"] - y["image"]).mean() for x, y in zip(a, c)]) > 0.05


def test_splits_differ_and_prefixes_agree():
    train, _ = bf.generate(300, 0, "train")
    test, _ = bf.generate(300, 0, "test")
    a, b = train.reshape(300, -1).astype(np.float32), test.reshape(300, -1).astype(np.float32)
    squared = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2 * a @ b.T
    assert np.sqrt(np.maximum(squared, 0) / a.shape[1]).min() > 20  # no test image is close to a train one
    short, short_attrs = bf.generate(100, 0, "train")
    longer, longer_attrs = bf.generate(300, 0, "train")
    np.testing.assert_array_equal(short, longer[:100])
    np.testing.assert_array_equal(short_attrs, longer_attrs[:100])


def test_shapes_ranges_and_any_count():
    examples = list(load("builtin_faces", "test", num_examples=1030).as_numpy_iterator())
    assert len(examples) == 1030  # more than the default test split of 1000
    ex = examples[-1]
    assert set(ex) == {"image", "attributes"}
    assert ex["image"].shape == (64, 64, 3) and ex["image"].dtype == np.float32
    assert ex["attributes"].shape == (40,) and ex["attributes"].dtype == np.float32
    images = np.stack([e["image"] for e in examples])
    attrs = np.stack([e["attributes"] for e in examples])
    assert images.min() >= 0.0 and images.max() <= 1.0 and images.std() > 0.1
    assert set(np.unique(attrs)) == {0.0, 1.0}
    assert 0.35 < attrs[:, CELEBA_ATTRIBUTES.index("Male")].mean() < 0.5
    assert bf.SPLIT_SIZES == {"train": 10000, "validation": 1000, "test": 1000}


def test_attribute_rules():
    attrs = bf.sample_attributes(np.random.default_rng(3), 20000)
    col = {a: attrs[:, i] for i, a in enumerate(CELEBA_ATTRIBUTES)}
    assert np.sum([col[h] for h in bf.HAIR_COLORS], axis=0).max() == 1
    assert not np.any(col["Wavy_Hair"] * col["Straight_Hair"])
    np.testing.assert_array_equal(col["No_Beard"], 1 - np.maximum(col["Goatee"], col["Mustache"]))
    assert not np.any(col["Goatee"] * (1 - col["Male"]))
    assert col["Gray_Hair"][col["Young"] == 1].mean() < col["Gray_Hair"][col["Young"] == 0].mean() / 4
    assert set(bf.DRAWN_ATTRIBUTES) | set(bf.NOISE_ATTRIBUTES) == set(CELEBA_ATTRIBUTES)
    assert len(bf.DRAWN_ATTRIBUTES) >= 15 and not set(bf.DRAWN_ATTRIBUTES) & set(bf.NOISE_ATTRIBUTES)


@pytest.mark.parametrize("name", bf.DRAWN_ATTRIBUTES)
def test_each_drawn_attribute_changes_the_image(name):
    context = {} if name in ("Wearing_Hat", "Bald") else {"Wearing_Hat": 0, "Bald": 0}
    on, attrs_on = bf.generate(32, 7, "train", {**context, name: 1})
    off, attrs_off = bf.generate(32, 7, "train", {**context, name: 0})
    i = CELEBA_ATTRIBUTES.index(name)
    assert attrs_on[:, i].min() == 1 and attrs_off[:, i].max() == 0
    diff = np.abs(on.astype(np.float32) - off.astype(np.float32)).max(axis=-1) / 255.0
    assert (diff > 0.1).sum(axis=(1, 2)).mean() >= 8  # at least 8 clearly changed pixels per face
    if name in REGIONS:
        lo, hi = REGIONS[name]
        inside = diff[:, lo:hi].mean()
        outside = np.concatenate([diff[:, :lo], diff[:, hi:]], axis=1).mean()
        assert inside > 0.004 and inside > 3 * outside


@pytest.mark.parametrize("name", bf.NOISE_ATTRIBUTES)
def test_noise_attributes_leave_pixels_alone(name):
    on, attrs_on = bf.generate(16, 7, "train", {name: 1})
    off, attrs_off = bf.generate(16, 7, "train", {name: 0})
    np.testing.assert_array_equal(on, off)
    assert not np.array_equal(attrs_on, attrs_off)


def _auc(score, label):
    ranks = np.empty(len(score))
    ranks[np.argsort(score)] = np.arange(1, len(score) + 1)
    pos = label > 0.5
    n1, n0 = pos.sum(), (~pos).sum()
    return (ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)


def test_linear_model_learns_drawn_not_noise_attributes():
    """Kernel ridge regression on 32x32 pixels: drawn attributes well above chance, noise at chance."""
    x_train, y_train = bf.generate(1500, 0, "train")
    x_test, y_test = bf.generate(600, 0, "test")

    def features(x):
        x = x.astype(np.float32).reshape(len(x), 32, 2, 32, 2, 3).mean(axis=(2, 4)) / 255.0
        return x.reshape(len(x), -1)

    f_train, f_test = features(x_train), features(x_test)
    mean = f_train.mean(axis=0)
    f_train, f_test = f_train - mean, f_test - mean
    alpha = np.linalg.solve(f_train @ f_train.T + 10.0 * np.eye(len(f_train)), y_train - y_train.mean(axis=0))
    scores = f_test @ (f_train.T @ alpha)
    auc = {a: _auc(scores[:, i], y_test[:, i]) for i, a in enumerate(CELEBA_ATTRIBUTES)}
    clear = ("Male", "Black_Hair", "Blond_Hair", "Gray_Hair", "Eyeglasses", "Wearing_Lipstick", "Pale_Skin")
    for name in clear:
        assert auc[name] > 0.9, (name, auc[name])
    for name in ("Smiling", "Oval_Face", "Wearing_Hat", "Goatee", "Bangs"):
        assert auc[name] > 0.7, (name, auc[name])
    for name in bf.NOISE_ATTRIBUTES:
        assert abs(auc[name] - 0.5) < 0.12, (name, auc[name])


def test_plain_background_changes_only_the_background():
    gradient, attrs = bf.generate(60, 0, "train")
    plain, plain_attrs = bf.generate(60, 0, "train", background="plain")
    np.testing.assert_array_equal(attrs, plain_attrs)
    np.testing.assert_array_equal(gradient, bf.generate(60, 0, "train", background="gradient")[0])
    same = (gradient == plain).all(-1)
    assert same[:, 28:36, 28:36].all() and 0.2 < same.mean() < 0.6  # the face is untouched, the field is not
    top, middle = plain[:, 2, 0].astype(np.float32), plain[:, 40, 0].astype(np.float32)
    gradient_drop = np.abs(gradient[:, 2, 0].astype(np.float32) - gradient[:, 40, 0]).mean()
    assert np.abs(top - middle).mean() < 0.4 * gradient_drop  # one colour from top to bottom
    served = np.stack([e["image"] for e in load("builtin_faces_plain", "train", num_examples=60).as_numpy_iterator()])
    np.testing.assert_allclose(served, plain / 255.0, atol=1e-6)
    with pytest.raises(bf.DataError, match="unknown background 'stripes'"):
        bf.generate(4, 0, "train", background="stripes")
