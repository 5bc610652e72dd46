"""The image-folder loader."""

import numpy as np
import pytest
from PIL import Image

from tfgm.data import DataError, load


def _write(file, array, fmt=None):
    file.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(file, format=fmt)


def _all(ds):
    return list(ds.as_numpy_iterator())


@pytest.fixture
def classes(tmp_path):
    """cats/ (10 dark PNGs) and dogs/ (10 bright JPEGs), 8x6 RGB."""
    rng = np.random.default_rng(0)
    for i in range(10):
        _write(tmp_path / "pets" / "cats" / f"c{i:02d}.png", rng.integers(0, 100, (8, 6, 3), dtype=np.uint8))
        _write(tmp_path / "pets" / "dogs" / f"d{i:02d}.jpg", np.full((8, 6, 3), 220, np.uint8))
    return tmp_path / "pets"


def test_classes_from_sorted_subfolders(classes):
    examples = {s: _all(load("folder", s, path=str(classes))) for s in ("train", "validation", "test")}
    assert [len(examples[s]) for s in ("train", "validation", "test")] == [16, 2, 2]
    for ex in examples["train"]:
        assert ex["image"].shape == (8, 6, 3) and ex["image"].dtype == np.float32
        assert ex["label"].dtype == np.int32
        assert (ex["image"].mean() < 0.5) == (ex["label"] == 0)  # cats (dark) are class 0
    assert sorted({int(e["label"]) for e in examples["train"]}) == [0, 1]
    first = np.asarray(Image.open(classes / "cats" / "c00.png"), np.float32) / 255.0
    np.testing.assert_allclose(examples["train"][0]["image"], first, atol=1e-6)


def test_flat_folder_has_no_labels_and_resizes(tmp_path):
    for i in range(10):
        _write(tmp_path / f"{i}.png", np.full((10 + i, 12, 3), 25 * i, np.uint8))
    with pytest.raises(DataError, match="image_size"):
        load("folder", path=str(tmp_path))
    ex = _all(load("folder", path=str(tmp_path), image_size=(5, 4)))
    assert len(ex) == 8 and set(ex[0]) == {"image"}
    assert all(e["image"].shape == (5, 4, 3) for e in ex)
    np.testing.assert_allclose(ex[1]["image"], 25 / 255.0, atol=1e-5)


def test_grayscale_folder_has_one_channel(tmp_path):
    for i in range(10):
        _write(tmp_path / f"{i}.png", np.full((4, 4), 10 * i, np.uint8))
    ex = _all(load("folder", path=str(tmp_path), num_examples=2))
    assert ex[1]["image"].shape == (4, 4, 1)
    np.testing.assert_allclose(ex[1]["image"], 10 / 255.0, atol=1e-6)


def test_unreadable_file_is_named(classes):
    bad = classes / "dogs" / "d03.jpg"
    bad.write_bytes(b"this is not a jpeg")
    with pytest.raises(DataError, match="d03.jpg"):
        load("folder", path=str(classes))


def test_truncated_file_is_named(classes):
    bad = classes / "cats" / "c01.png"
    bad.write_bytes(bad.read_bytes()[:-20])
    with pytest.raises(DataError, match="c01.png"):
        load("folder", path=str(classes))


def test_layout_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load("folder", path=str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no images"):
        load("folder", path=str(tmp_path / "empty"))
    _write(tmp_path / "mixed" / "a" / "1.png", np.zeros((2, 2, 3), np.uint8))
    _write(tmp_path / "mixed" / "loose.png", np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(DataError, match="loose.png"):
        load("folder", path=str(tmp_path / "mixed"))


def _garble_huffman_table(file):
    """Overwrite the code counts of the JPEG's first Huffman table: PIL still reads the header, the structure
    check passes (start and end markers intact), TensorFlow's decoder fails ("Invalid JPEG data")."""
    data = bytearray(file.read_bytes())
    table = data.find(b"\xff\xc4")
    data[table + 5 : table + 21] = b"\xff" * 16
    file.write_bytes(bytes(data))


@pytest.mark.parametrize("bad", ["d05.jpg", "d07.jpg"])  # a middle file and the last of the split
def test_a_garbled_jpeg_in_a_split_too_large_to_check_eagerly_is_named_by_the_pipeline(classes, monkeypatch, bad):
    import tensorflow as tf

    from tfgm.data import _images
    from tfgm.data.errors import PIPELINE_TAG, from_pipeline

    monkeypatch.setattr(_images, "EAGER_VALIDATION_LIMIT", 0)  # the path of a split of more than 1000 files
    file = classes / "dogs" / bad
    intact = file.read_bytes()
    _garble_huffman_table(file)
    ds = load("folder", "train", path=str(classes))  # no eager decode: returns at once
    with pytest.raises(tf.errors.InvalidArgumentError, match=f"{PIPELINE_TAG}.*cannot read image.*{bad}") as caught:
        _all(ds)
    assert str(from_pipeline(caught.value)) == (f"cannot read image {file} (garbled, truncated or not an image); "
                                                "re-copy or remove it")
    file.write_bytes(intact)
    assert len(_all(load("folder", "train", path=str(classes)))) == 16
