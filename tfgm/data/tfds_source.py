"""TensorFlow Datasets sources: mnist, fashion_mnist, cifar10, svhn_cropped, celeb_a.

Yields {"image": float32 HxWxC in [0, 1], "label": int32} (mnist 28x28x1, fashion_mnist 28x28x1,
cifar10 32x32x3, svhn_cropped 32x32x3) or, for celeb_a, {"image": float32 64x64x3
(celeba_preprocess), "attributes": float32 (40,) in {0, 1}, CELEBA_ATTRIBUTES order}.
Splits: celeb_a has its own train/validation/test; the others have no validation split, so
"validation" is the last 10% of TFDS "train" and "train" the first 90% ("train[:90%]", "train[90%:]").

Never hangs offline: nothing touches the network unless the builder is not prepared. Then celeb_a is
prepared only from the files in `<data_dir>/downloads/manual/` (TFDS's Google Drive download is
unreliable), and the others are downloaded only if a 3-second connection probe to their host works;
otherwise DataError says how to provide the data.
"""

import functools
import os
import socket
import threading

import tensorflow as tf

from tfgm.data._pipeline import check_split, to_float_image
from tfgm.data.celeba import CELEBA_ATTRIBUTES, celeba_preprocess
from tfgm.data.errors import DataError
from tfgm.data.registry import register

DATASETS = ("mnist", "fashion_mnist", "cifar10", "svhn_cropped", "celeb_a")
DOWNLOAD_HOSTS = {
    "mnist": ("storage.googleapis.com", 443),
    "fashion_mnist": ("fashion-mnist.s3-website.eu-central-1.amazonaws.com", 80),
    "cifar10": ("www.cs.toronto.edu", 443),
    "svhn_cropped": ("ufldl.stanford.edu", 80),
}
# celeb_a 2.1.0 reads the identity file too; all five come from the CelebA authors' Drive/Baidu folders.
CELEBA_MANUAL_FILES = (
    "img_align_celeba.zip",
    "list_attr_celeba.txt",
    "list_eval_partition.txt",
    "list_landmarks_align_celeba.txt",
    "identity_CelebA.txt",
)
_HAS_VALIDATION = ("celeb_a",)
PROBE_TIMEOUT = 3.0


def can_reach(host, port, timeout=PROBE_TIMEOUT):
    """True if a TCP connection to host:port opens within `timeout` seconds (DNS included)."""
    result = []

    def probe():
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            pass

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result)


def _data_root(builder, data_dir):
    if data_dir is not None:
        return os.fspath(data_dir)
    return os.path.dirname(os.path.dirname(os.fspath(builder.data_dir)))


def celeba_instructions(root, missing=()):
    """The ways to provide CelebA, for error messages."""
    manual = os.path.join(root, "downloads", "manual")
    lacking = f" (missing there: {', '.join(missing)})" if missing else ""
    return (
        "Provide CelebA in one of three ways: "
        "(1) --celeba-dir DIR (tfgm.data.load('celeba_local', path=DIR)) with the authors' files "
        "img_align_celeba/ or img_align_celeba.zip, list_attr_celeba.txt, list_eval_partition.txt; "
        f"(2) put {', '.join(CELEBA_MANUAL_FILES)} in the TFDS manual directory {manual}{lacking} "
        "and load 'celeb_a' again; "
        "(3) run without downloads on the built-in data: --data builtin_faces."
    )


def _prepare(builder, name, root):
    import tensorflow_datasets as tfds

    if name == "celeb_a":
        manual = os.path.join(root, "downloads", "manual")
        missing = [f for f in CELEBA_MANUAL_FILES if not os.path.isfile(os.path.join(manual, f))]
        if missing:
            raise DataError(f"TFDS celeb_a is not prepared in {root}. " + celeba_instructions(root, missing))
        config = tfds.download.DownloadConfig(manual_dir=manual)
        fix = celeba_instructions(root)
    else:
        host, port = DOWNLOAD_HOSTS[name]
        if not can_reach(host, port):
            raise DataError(
                f"TFDS {name} is not prepared in {root} and {host} cannot be reached (offline?). "
                f"Fix: on a machine with network run "
                f"`python -c \"import tensorflow_datasets as tfds; tfds.builder('{name}', "
                f"data_dir='{root}').download_and_prepare()\"` and copy {root}/{name}/ here, "
                "pass data_dir= of a prepared TFDS directory, or use local data "
                "(--data npz / folder / builtin_faces)."
            )
        config = tfds.download.DownloadConfig()
        downloads = os.path.join(root, "downloads")
        fix = f"Remove partial files in {downloads} and retry, or prepare {name} elsewhere."
    try:
        builder.download_and_prepare(download_config=config)
    except Exception as exc:
        raise DataError(f"preparing TFDS {name} in {root} failed: {exc}. {fix}") from exc


def _tfds_split(name, split):
    if name in _HAS_VALIDATION:
        return split
    return {"train": "train[:90%]", "validation": "train[90%:]", "test": "test"}[split]


def _from_celeba(example):
    attributes = tf.stack([tf.cast(example["attributes"][a], tf.float32) for a in CELEBA_ATTRIBUTES])
    return {"image": celeba_preprocess(example["image"]), "attributes": attributes}


def _from_labelled(example):
    return {"image": to_float_image(example["image"]), "label": tf.cast(example["label"], tf.int32)}


def load(name, split="train", data_dir=None, num_examples=None):
    """Unbatched dataset of dicts from TFDS `name` (see module docstring)."""
    import tensorflow_datasets as tfds

    check_split(split, name)
    builder = tfds.builder(name, data_dir=None if data_dir is None else os.fspath(data_dir))
    if not builder.is_prepared():
        _prepare(builder, name, _data_root(builder, data_dir))
    ds = builder.as_dataset(split=_tfds_split(name, split), shuffle_files=False)
    if num_examples is not None:
        ds = ds.take(num_examples)
    convert = _from_celeba if name == "celeb_a" else _from_labelled
    return ds.map(convert, num_parallel_calls=tf.data.AUTOTUNE)


def _register():
    for name in DATASETS:
        register(name, functools.partial(_load_registered, name))


def _load_registered(name, split, data_dir=None, num_examples=None, **_):
    return load(name, split, data_dir=data_dir, num_examples=num_examples)


_register()
