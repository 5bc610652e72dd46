"""CelebA from the files its authors distribute ("celeba_local").

`path` is a directory holding:
- `img_align_celeba/` (JPEGs 000001.jpg ...) or `img_align_celeba.zip` (the folder wins if both);
- `list_attr_celeba.txt`: line 1 the row count, line 2 the 40 attribute names, then
  `filename v1 ... v40` with values -1/1;
- `list_eval_partition.txt`: `filename 0|1|2` for train/validation/test.

Yields {"image": float32 64x64x3 in [0, 1] (celeba_preprocess), "attributes": float32 (40,) in {0, 1}
in CELEBA_ATTRIBUTES order}, files in partition-file order. The text files are parsed at load time;
images stream: the folder layout reads files in a parallel tf.data map, the zip layout reads members
from a generator (the zip is never unpacked or held in memory); decoding is a parallel tf.data map.

Validation: missing text files, images and malformed rows raise DataError at load time. A split of at
most EAGER_VALIDATION_LIMIT images is also decoded once at load time, so a corrupt JPEG raises
DataError naming it; larger splits are checked lazily in the pipeline (see tfgm.data._images), and
`validate_images(path, split)` decodes a whole split to find a bad file by name.
"""

import functools
import os
import zipfile

import numpy as np
import tensorflow as tf

from tfgm.data import _images
from tfgm.data._pipeline import check_split
from tfgm.data.celeba import CELEBA_ATTRIBUTES, celeba_preprocess
from tfgm.data.errors import DataError
from tfgm.data.registry import register

IMAGE_DIR = "img_align_celeba"
IMAGE_ZIP = "img_align_celeba.zip"
ATTRIBUTE_FILE = "list_attr_celeba.txt"
PARTITION_FILE = "list_eval_partition.txt"
_PARTITION_IDS = {"train": 0, "validation": 1, "test": 2}
_FIX = (
    "Download it from the CelebA page (https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html: "
    "'Align&Cropped Images' and 'Anno'/'Eval' folders) into that directory, "
    "or use the built-in data (--data builtin_faces)."
)


def read_attributes(file):
    """list_attr_celeba.txt -> (filenames list, float32 Nx40 in {0, 1} in CELEBA_ATTRIBUTES order)."""
    with open(file, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if len(lines) < 2:
        raise DataError(f"{file} is too short: expected a count line and an attribute-name line. {_FIX}")
    names = lines[1].split()
    missing = [a for a in CELEBA_ATTRIBUTES if a not in names]
    if missing:
        raise DataError(f"{file} line 2 lacks attribute(s) {missing}; is it list_attr_celeba.txt? {_FIX}")
    order = [names.index(a) for a in CELEBA_ATTRIBUTES]
    rows = [line.split(None, 1) for line in lines[2:] if line.strip()]
    filenames = [row[0] for row in rows]
    text = " ".join(row[1] if len(row) > 1 else "" for row in rows)
    values = np.fromstring(text, dtype=np.int64, sep=" ")  # parsed in C: no Python str per value
    if values.size != len(rows) * len(names):
        for number, row in enumerate(rows, start=3):
            fields = row[1].split() if len(row) > 1 else []
            if len(fields) != len(names) or not all(f.lstrip("-").isdigit() for f in fields):
                raise DataError(
                    f"{file} line {number} should hold a filename and {len(names)} values -1/1, "
                    f"got {' '.join(row)[:80]!r}; the file is damaged. {_FIX}"
                )
        raise DataError(f"{file} holds {values.size} values, expected {len(rows)} x {len(names)}. {_FIX}")
    values = values.reshape(len(rows), len(names))
    if not np.isin(values, (-1, 1)).all():
        bad = int(np.argwhere(~np.isin(values, (-1, 1)))[0][0]) + 3
        raise DataError(f"{file} line {bad}: attribute values must be -1 or 1. {_FIX}")
    try:
        declared = int(lines[0].split()[0])
    except (ValueError, IndexError):
        declared = None
    if declared is not None and declared != len(rows):
        raise DataError(f"{file} declares {declared} rows but holds {len(rows)}; it is truncated. {_FIX}")
    return filenames, (values[:, order] > 0).astype(np.float32)


def read_partition(file):
    """list_eval_partition.txt -> dict filename -> 0 (train) | 1 (validation) | 2 (test)."""
    partition = {}
    with open(file, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
                raise DataError(
                    f"{file} line {number}: expected 'filename 0|1|2', got {line.strip()!r}. {_FIX}"
                )
            partition[fields[0]] = int(fields[1])
    return partition


def _required(path, name):
    file = os.path.join(path, name)
    if not os.path.isfile(file):
        raise DataError(f"CelebA file {file} is missing. {_FIX}")
    return file


class _Images:
    """Access to the JPEGs in the unpacked folder or the zip."""

    def __init__(self, path):
        self.folder = os.path.join(path, IMAGE_DIR)
        self.zip = os.path.join(path, IMAGE_ZIP)
        if os.path.isdir(self.folder):
            self.members = {n: n for n in os.listdir(self.folder)}
            self.zip = None
        elif os.path.isfile(self.zip):
            try:
                with zipfile.ZipFile(self.zip) as zf:
                    self.members = {os.path.basename(n): n for n in zf.namelist() if not n.endswith("/")}
            except (zipfile.BadZipFile, OSError) as exc:
                message = f"{self.zip} is not a readable zip file ({exc}); re-download it. {_FIX}"
                raise DataError(message) from exc
            self.folder = None
        else:
            raise DataError(
                f"CelebA images are missing: neither {self.folder}/ nor {self.zip} exists. {_FIX}"
            )

    def location(self, name):
        if self.folder:
            return os.path.join(self.folder, name)
        return f"{self.zip}:{self.members[name]}"

    def items(self, names):
        """(location, read-bytes function) pairs for _images.check_decodable; the zip opens once."""
        if self.folder:
            for name in names:
                yield self.location(name), functools.partial(_images.read_file, self.location(name))
            return
        with zipfile.ZipFile(self.zip) as zf:
            for name in names:
                yield self.location(name), functools.partial(zf.read, self.members[name])

    def bytes_dataset(self, names):
        """Dataset of (location string, encoded bytes) in `names` order."""
        locations = [self.location(n) for n in names]
        if self.folder:
            ds = tf.data.Dataset.from_tensor_slices(locations)
            return ds.map(lambda f: (f, tf.io.read_file(f)), num_parallel_calls=tf.data.AUTOTUNE)
        zip_path, members = self.zip, [self.members[n] for n in names]

        def generate():
            with zipfile.ZipFile(zip_path) as zf:
                for location, member in zip(locations, members):
                    yield location, zf.read(member)

        ds = tf.data.Dataset.from_generator(
            generate, output_signature=(tf.TensorSpec((), tf.string), tf.TensorSpec((), tf.string))
        )
        return ds.apply(tf.data.experimental.assert_cardinality(len(names)))


def _split_files(path, split, num_examples):
    check_split(split, "celeba_local")
    if path is None:
        raise DataError("celeba_local needs path=DIR (--celeba-dir DIR), the directory of CelebA's files.")
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise DataError(f"CelebA directory {path} does not exist. {_FIX}")
    attribute_file = _required(path, ATTRIBUTE_FILE)
    partition = read_partition(_required(path, PARTITION_FILE))
    images = _Images(path)
    filenames, attributes = read_attributes(attribute_file)
    row = {name: i for i, name in enumerate(filenames)}
    wanted = _PARTITION_IDS[split]
    names = [n for n, p in partition.items() if p == wanted]
    if num_examples is not None:
        names = names[:num_examples]
    lacking = [n for n in names if n not in row]
    if lacking:
        raise DataError(
            f"{len(lacking)} file(s) of {os.path.join(path, PARTITION_FILE)} have no row in "
            f"{attribute_file} (first: {lacking[0]}); the two files do not belong together. {_FIX}"
        )
    absent = [n for n in names if n not in images.members]
    if absent:
        raise DataError(
            f"{len(absent)} image(s) of the {split} split are missing from "
            f"{images.folder or images.zip} (first: {absent[0]}); the image folder/zip is incomplete. {_FIX}"
        )
    return images, names, attributes[[row[n] for n in names]]


def validate_images(path, split="train"):
    """Decode every image of `split` once; DataError naming the first unreadable one."""
    images, names, _ = _split_files(path, split, None)
    _images.check_decodable(images.items(names), _FIX)


def load(path, split="train", num_examples=None):
    """Unbatched dataset of {"image": float32 64x64x3, "attributes": float32 (40,)} for `split`."""
    images, names, attributes = _split_files(path, split, num_examples)
    if len(names) <= _images.EAGER_VALIDATION_LIMIT:
        _images.check_decodable(images.items(names), _FIX)
    ds = tf.data.Dataset.zip(images.bytes_dataset(names), tf.data.Dataset.from_tensor_slices(attributes))

    def decode(file, attrs):
        (location, contents) = file
        image = _images.decode(contents, location, channels=3)
        return {"image": celeba_preprocess(image), "attributes": attrs}

    return _images.decode_each(ds, decode, [images.location(n) for n in names])


register("celeba_local", lambda split, path=None, num_examples=None, **_: load(path, split, num_examples=num_examples))
