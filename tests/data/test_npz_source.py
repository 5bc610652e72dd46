"""The .npz loader and the options every loader shares (image_size, channels, num_examples)."""

import numpy as np
import pytest

from tfgm.data import DataError, load

SPLITS = ("train", "validation", "test")


def _save(tmp_path, name="data.npz", **arrays):
    file = tmp_path / name
    np.savez(file, **arrays)
    return str(file)


def _all(ds):
    return list(ds.as_numpy_iterator())


def test_uint8_hw_gets_channel_axis_and_labels(tmp_path):
    x = np.arange(20 * 4 * 5, dtype=np.int64).reshape(20, 4, 5) % 256
    file = _save(tmp_path, x=x.astype(np.uint8), y=np.arange(20))
    examples = _all(load("npz", "train", path=file))
    assert len(examples) == 16
    first = examples[0]
    assert set(first) == {"image", "label"}
    assert first["image"].shape == (4, 5, 1) and first["image"].dtype == np.float32
    assert first["label"].dtype == np.int32
    np.testing.assert_allclose(first["image"][..., 0], x[0] / 255.0, atol=1e-7)


def test_float_input_and_attributes(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((10, 3, 3, 3)).astype(np.float32)
    y = rng.integers(0, 2, (10, 4)).astype(np.float32)
    ex = _all(load("npz", "validation", path=_save(tmp_path, x=x, y=y)))
    assert len(ex) == 1 and set(ex[0]) == {"image", "attributes"}
    np.testing.assert_allclose(ex[0]["image"], x[8])
    np.testing.assert_array_equal(ex[0]["attributes"], y[8])
    assert ex[0]["attributes"].dtype == np.float32


def test_interleaved_split_is_disjoint_and_complete(tmp_path):
    file = _save(tmp_path, x=np.zeros((25, 2, 2), np.uint8), y=np.arange(25))
    ids = {s: [int(e["label"]) for e in _all(load("npz", s, path=file))] for s in SPLITS}
    assert ids["validation"] == [8, 18] and ids["test"] == [9, 19]
    assert len(ids["train"]) == 21
    assert sorted(sum(ids.values(), [])) == list(range(25))


def test_per_split_keys_and_carved_validation(tmp_path):
    file = _save(
        tmp_path, x_train=np.zeros((20, 2, 2), np.uint8), y_train=np.arange(20),
        x_test=np.ones((3, 2, 2), np.uint8), y_test=np.array([7, 8, 9]),
    )  # fmt: skip
    labels = {s: [int(e["label"]) for e in _all(load("npz", s, path=file))] for s in SPLITS}
    assert labels == {"train": list(range(18)), "validation": [18, 19], "test": [7, 8, 9]}


def test_image_size_channels_num_examples(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (20, 8, 8, 3), dtype=np.uint8)
    file = _save(tmp_path, x=x)
    gray = _all(load("npz", path=file, channels=1, num_examples=3))
    assert len(gray) == 3 and gray[0]["image"].shape == (8, 8, 1)
    expected = (x[0].astype(np.float64) / 255.0) @ np.array([0.2989, 0.587, 0.114])
    np.testing.assert_allclose(gray[0]["image"][..., 0], expected, atol=2e-3)
    small = _all(load("npz", path=file, image_size=(4, 2), num_examples=2))
    assert small[0]["image"].shape == (4, 2, 3)
    np.testing.assert_allclose(small[0]["image"].mean(), x[0].mean() / 255.0, atol=0.02)
    rgb = _all(load("npz", path=_save(tmp_path, "g.npz", x=x[..., 0]), channels=3, num_examples=1))
    assert rgb[0]["image"].shape == (8, 8, 3)
    np.testing.assert_array_equal(rgb[0]["image"][..., 0], rgb[0]["image"][..., 2])


@pytest.mark.parametrize(
    "arrays, needle",
    [
        ({"images": np.zeros((4, 2, 2), np.uint8)}, "no 'x'"),
        ({"x": np.zeros((4,), np.uint8)}, "shape"),
        ({"x": np.zeros((4, 2, 2, 5), np.uint8)}, "shape"),
        ({"x": np.full((10, 2, 2), 200.0, np.float32)}, "divide by 255"),
        ({"x": np.full((10, 2, 2), -0.5, np.float32)}, "[0, 1]"),
        ({"x": np.full((10, 2, 2), np.nan, np.float32)}, "NaN"),
        ({"x": np.zeros((10, 2, 2), np.uint8), "y": np.arange(9)}, "9 entries"),
        ({"x": np.zeros((10, 2, 2), np.int32) + 300}, "0..255"),
    ],
)
def test_errors_name_the_file(tmp_path, arrays, needle):
    file = _save(tmp_path, **arrays)
    with pytest.raises(DataError) as info:
        load("npz", path=file)
    assert file in str(info.value) and needle in str(info.value)


def test_missing_and_unreadable_file(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load("npz", path=str(tmp_path / "nope.npz"))
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="bad.npz"):
        load("npz", path=str(bad))
    with pytest.raises(DataError, match="path="):
        load("npz")


def test_large_arrays_stream_from_a_generator(tmp_path, monkeypatch):
    from tfgm.data import _pipeline

    rng = np.random.default_rng(2)
    file = _save(tmp_path, x=rng.integers(0, 256, (12, 3, 3, 3), dtype=np.uint8), y=np.arange(12))
    in_graph = _all(load("npz", path=file))
    monkeypatch.setattr(_pipeline, "_IN_GRAPH_LIMIT_BYTES", 0)
    streamed = load("npz", path=file)
    assert streamed.cardinality().numpy() == 10
    for a, b in zip(in_graph, _all(streamed), strict=True):
        np.testing.assert_array_equal(a["image"], b["image"])
        assert a["label"] == b["label"]


@pytest.mark.parametrize("arrays,message", [
    ({"x": np.ones((10, 4, 4), bool)},
     "'x' is boolean (True/False); store pixels as uint8 0..255 (x.astype(np.uint8) * 255)"),
    ({"x": np.zeros((10, 4, 4), np.uint8), "y": np.ones((10, 3)) * [[-1, 1, 1]]},
     "attributes 'y' must be 0 or 1, found -1; map them with (y + 1) / 2."),
    ({"x": np.zeros((10, 4, 4), np.uint8), "y": np.ones((10, 3)) * [[0, 2, 0]]},
     "attributes 'y' must be 0 or 1, found 2; store 1 where an attribute is present and 0 where it is not."),
    ({"x_train": np.zeros((10, 4, 4), np.uint8), "y_train": np.zeros((10, 4)), "x_test": np.zeros((5, 4, 4), np.uint8)},
     "y_train given but not y_test; every split needs its labels"),
    ({"x_train": np.zeros((10, 4, 4), np.uint8), "y_train": np.zeros((10, 40)),
      "x_test": np.zeros((5, 4, 4), np.uint8), "y_test": np.zeros((5, 5))},
     "the splits' targets differ in shape (y_test (N, 5), y_train (N, 40))"),
])
def test_values_and_splits_a_run_cannot_use_are_refused_naming_file_key_and_fix(tmp_path, arrays, message):
    file = _save(tmp_path, **arrays)
    with pytest.raises(DataError) as err:
        load("npz", "train", path=file)
    assert str(err.value).startswith(file) and message in str(err.value)


def test_images_smaller_than_asked_for_are_refused_not_upscaled_and_larger_are_resized(tmp_path):
    file = _save(tmp_path, x=np.zeros((10, 8, 8), np.uint8))
    with pytest.raises(DataError, match=r"'x' holds 8×8 images but 64×64 are needed; upscaling would blur"):
        load("npz", "train", path=file, image_size=(64, 64))
    with pytest.raises(DataError, match="holds 8×8 images but 8×9 are needed"):
        load("npz", "train", path=file, image_size=(8, 9))
    assert _all(load("npz", "train", path=file, image_size=(4, 4)))[0]["image"].shape == (4, 4, 1)
