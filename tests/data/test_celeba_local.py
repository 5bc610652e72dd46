"""celeba_local: the authors' files, unpacked folder and zip layouts, and every failure named."""

import zipfile

import numpy as np
import pytest
import tensorflow as tf

from tests.data._files import CELEBA_PARTITION, write_celeba
from tfgm.data import CELEBA_ATTRIBUTES, DataError, _images, celeba_local, celeba_preprocess, load


def _all(ds):
    return list(ds.as_numpy_iterator())


def _expected(values, images, split_id):
    names = [f for f, p in CELEBA_PARTITION.items() if p == split_id]
    pixels = [celeba_preprocess(tf.io.decode_jpeg(images[f], channels=3)).numpy() for f in names]
    return pixels, [(values[f] > 0).astype(np.float32) for f in names]


@pytest.mark.parametrize("layout", ["folder", "zip"])
def test_layouts_give_images_and_attributes(tmp_path, layout):
    values, images = write_celeba(tmp_path / "c", layout)
    for split, split_id in (("train", 0), ("validation", 1), ("test", 2)):
        examples = _all(load("celeba_local", split, path=str(tmp_path / "c")))
        pixels, attributes = _expected(values, images, split_id)
        assert len(examples) == len(pixels)
        for ex, px, attrs in zip(examples, pixels, attributes):
            assert set(ex) == {"image", "attributes"}
            assert ex["image"].shape == (64, 64, 3) and ex["image"].dtype == np.float32
            assert 0.0 <= ex["image"].min() and ex["image"].max() <= 1.0
            np.testing.assert_allclose(ex["image"], px, atol=1e-6)
            np.testing.assert_array_equal(ex["attributes"], attrs)


def test_attribute_columns_are_matched_by_name(tmp_path):
    values, _ = write_celeba(tmp_path / "c", names=tuple(reversed(CELEBA_ATTRIBUTES)))
    ex = _all(load("celeba_local", "test", path=str(tmp_path / "c")))
    np.testing.assert_array_equal(ex[0]["attributes"], (values["000005.jpg"] > 0).astype(np.float32))


def test_num_examples_and_image_size(celeba_dir):
    ex = _all(load("celeba_local", path=str(celeba_dir), num_examples=2, image_size=(32, 32)))
    assert len(ex) == 2 and ex[0]["image"].shape == (32, 32, 3)


@pytest.mark.parametrize(
    "remove, needle",
    [
        ("list_attr_celeba.txt", "list_attr_celeba.txt"),
        ("list_eval_partition.txt", "list_eval_partition.txt"),
        ("img_align_celeba", "img_align_celeba"),
        ("img_align_celeba/000004.jpg", "000004.jpg"),
    ],
)
def test_missing_files_are_named(celeba_dir, remove, needle):
    target = celeba_dir / remove
    if target.is_dir():
        for f in target.iterdir():
            f.unlink()
        target.rmdir()
    else:
        target.unlink()
    with pytest.raises(DataError, match=needle) as info:
        load("celeba_local", path=str(celeba_dir))
    assert "builtin_faces" in str(info.value)


def test_missing_directory_and_path(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load("celeba_local", path=str(tmp_path / "nothing"))
    with pytest.raises(DataError, match="--celeba-dir"):
        load("celeba_local")


def test_truncated_attribute_file(celeba_dir):
    attr = celeba_dir / "list_attr_celeba.txt"
    attr.write_text("\n".join(attr.read_text().splitlines()[:-1]) + "\n")
    with pytest.raises(DataError, match="truncated"):
        load("celeba_local", path=str(celeba_dir))


@pytest.mark.parametrize("damage", ["truncate", "garble"])
def test_corrupt_jpeg_is_named_at_load(celeba_dir, damage):
    file = celeba_dir / "img_align_celeba" / "000002.jpg"
    data = file.read_bytes()
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data = data[:600] + b"\x00" * 2000 + data[2600:]
    file.write_bytes(data)
    with pytest.raises(DataError, match="000002.jpg"):
        load("celeba_local", path=str(celeba_dir))
    assert len(_all(load("celeba_local", "validation", path=str(celeba_dir)))) == 1


def test_corrupt_jpeg_in_zip_is_named(tmp_path):
    write_celeba(tmp_path / "c", "zip")
    zip_path = tmp_path / "c" / "img_align_celeba.zip"
    with zipfile.ZipFile(zip_path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["img_align_celeba/000006.jpg"] = members["img_align_celeba/000006.jpg"][:300]
    with zipfile.ZipFile(zip_path, "w") as zf:
        for n, d in members.items():
            zf.writestr(n, d)
    with pytest.raises(DataError, match="000006.jpg"):
        load("celeba_local", path=str(tmp_path / "c"))


def test_large_split_checks_lazily_and_still_names_the_file(celeba_dir, monkeypatch):
    monkeypatch.setattr(_images, "EAGER_VALIDATION_LIMIT", 0)
    file = celeba_dir / "img_align_celeba" / "000004.jpg"
    file.write_bytes(file.read_bytes()[:-100])
    ds = load("celeba_local", path=str(celeba_dir))  # no eager decode: returns at once
    with pytest.raises(tf.errors.InvalidArgumentError, match="000004.jpg"):
        _all(ds)
    with pytest.raises(DataError, match="000004.jpg"):
        celeba_local.validate_images(str(celeba_dir), "train")
