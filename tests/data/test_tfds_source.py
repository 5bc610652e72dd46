"""TFDS sources through tfds.testing.mock_data, and the fast failures when data is not prepared."""

import socket
import time

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from tfgm.data import CELEBA_ATTRIBUTES, DataError, celeba_preprocess, load, tfds_source

SPLITS = ("train", "validation", "test")


def _all(ds):
    return list(ds.as_numpy_iterator())


def _manual_files(data_dir, files=tfds_source.CELEBA_MANUAL_FILES):
    manual = data_dir / "downloads" / "manual"
    manual.mkdir(parents=True)
    for f in files:
        (manual / f).write_bytes(b"")
    return manual


def test_mnist_mocked_splits_and_dtypes(tmp_path, monkeypatch):
    monkeypatch.setattr(tfds_source, "can_reach", lambda host, port: True)
    seen = []

    def as_dataset(self, split, decoders=None, read_config=None, shuffle_files=False):
        seen.append(str(split))
        image = np.arange(28 * 28, dtype=np.uint8).reshape(28, 28, 1)
        return tf.data.Dataset.from_tensors({"image": image, "label": np.int64(7)}).repeat(3)

    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        examples = {s: _all(load("mnist", s, data_dir=str(tmp_path))) for s in SPLITS}
    assert [len(examples[s]) for s in ("train", "validation", "test")] == [3, 3, 3]
    ex = examples["train"][0]
    assert set(ex) == {"image", "label"}
    assert ex["image"].shape == (28, 28, 1) and ex["image"].dtype == np.float32
    assert ex["label"].dtype == np.int32 and ex["label"] == 7
    np.testing.assert_allclose(ex["image"][..., 0].ravel(), (np.arange(784) % 256) / 255.0, atol=1e-7)
    assert seen == ["train[:90%]", "train[90%:]", "test"]  # validation is the last 10% of train


def test_mnist_mocked_random_values_in_range(tmp_path, monkeypatch):
    monkeypatch.setattr(tfds_source, "can_reach", lambda host, port: True)
    with tfds.testing.mock_data(num_examples=4):
        ex = _all(load("mnist", "test", data_dir=str(tmp_path), channels=3))
    assert len(ex) == 4 and ex[0]["image"].shape == (28, 28, 3)
    assert all(0.0 <= e["image"].min() and e["image"].max() <= 1.0 for e in ex)


def test_celeb_a_mocked_attributes_and_preprocessing(tmp_path, monkeypatch):
    manual = _manual_files(tmp_path)
    configs = []
    rng = np.random.default_rng(0)
    raw = rng.integers(0, 256, (218, 178, 3), dtype=np.uint8)
    on = ("Smiling", "Young", "5_o_Clock_Shadow")

    def as_dataset(self, split, decoders=None, read_config=None, shuffle_files=False):
        example = {
            "image": raw,
            "attributes": {a: a in on for a in CELEBA_ATTRIBUTES},
            "landmarks": {k: np.int64(0) for k in self.info.features["landmarks"].keys()},
            "identity": {"Identity_No": np.int64(1)},
        }
        return tf.data.Dataset.from_tensors(example).repeat(2)

    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        monkeypatch.setattr(
            tfds.core.DatasetBuilder,
            "download_and_prepare",
            lambda self, download_config=None: configs.append(download_config),
        )
        ex = _all(load("celeb_a", "validation", data_dir=str(tmp_path)))
    assert configs and str(configs[0].manual_dir) == str(manual)  # prepared from the manual files
    assert len(ex) == 2 and set(ex[0]) == {"image", "attributes"}
    assert ex[0]["image"].shape == (64, 64, 3) and ex[0]["image"].dtype == np.float32
    np.testing.assert_allclose(ex[0]["image"], celeba_preprocess(raw).numpy(), atol=1e-6)
    attrs = ex[0]["attributes"]
    assert attrs.dtype == np.float32 and attrs.shape == (40,)
    assert set(np.unique(attrs)) == {0.0, 1.0}
    assert [CELEBA_ATTRIBUTES[i] for i in np.flatnonzero(attrs)] == sorted(on, key=CELEBA_ATTRIBUTES.index)


def test_celeb_a_not_prepared_fails_fast_with_instructions(tmp_path, monkeypatch):
    monkeypatch.setattr(tfds_source, "can_reach", lambda host, port: pytest.fail("celeb_a must not probe"))
    start = time.monotonic()
    with pytest.raises(DataError) as info:
        load("celeb_a", data_dir=str(tmp_path))
    assert time.monotonic() - start < 5.0
    message = str(info.value)
    assert "--celeba-dir" in message and "builtin_faces" in message
    assert str(tmp_path / "downloads" / "manual") in message


def test_celeb_a_partial_manual_dir_lists_missing_files(tmp_path):
    _manual_files(tmp_path, files=("img_align_celeba.zip", "list_attr_celeba.txt"))
    with pytest.raises(DataError, match="missing there: list_eval_partition.txt"):
        load("celeb_a", data_dir=str(tmp_path))


def test_not_prepared_and_offline_fails_fast(tmp_path, monkeypatch):
    monkeypatch.setattr(tfds_source, "can_reach", lambda host, port: False)
    def no_download(*args, **kwargs):
        pytest.fail("must not download offline")

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", no_download)
    start = time.monotonic()
    with pytest.raises(DataError) as info:
        load("cifar10", "test", data_dir=str(tmp_path))
    assert time.monotonic() - start < 5.0
    assert str(tmp_path) in str(info.value) and "builtin_faces" in str(info.value)


def test_can_reach_probe_on_local_sockets():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        assert tfds_source.can_reach("127.0.0.1", port, timeout=1.0)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        free_port = closed.getsockname()[1]
    start = time.monotonic()
    assert not tfds_source.can_reach("127.0.0.1", free_port, timeout=1.0)
    assert time.monotonic() - start < 2.0
