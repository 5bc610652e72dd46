"""Datasets -> unbatched tf.data.Dataset of dicts.

Every element: "image" float32 HxWxC in [0, 1]; "label" int32 scalar where the source has classes;
"attributes" float32 vector where it has attributes (CelebA-style sources: 40 values in {0, 1} in
CELEBA_ATTRIBUTES order). Sources (one module each): TFDS (tfds_source), the CelebA authors' files
(celeba_local), .npz arrays (npz_source), image folders (image_folder), generated faces
(builtin_faces), digits (builtin_digits) and objects (builtin_objects). Bad input raises DataError
naming the file and the fix.
"""

import tensorflow as tf

from tfgm.data import builtin_digits, builtin_faces, builtin_objects, celeba_local, image_folder, npz_source
from tfgm.data import text8, tfds_source
from tfgm.data._pipeline import check_options, check_split, finalize
from tfgm.data.celeba import CELEBA_ATTRIBUTES, celeba_preprocess
from tfgm.data.errors import DataError

_LOCAL = ("celeba_local", "npz", "folder", "builtin_faces", "builtin_faces_plain", "builtin_digits", "builtin_objects",
          "text8")


def available_datasets() -> list[str]:
    """Names accepted by `load`."""
    return list(tfds_source.DATASETS) + list(_LOCAL)


def load(
    name: str,
    split: str = "train",
    *,
    data_dir: str | None = None,
    path: str | None = None,
    image_size: tuple[int, int] | None = None,
    channels: int | None = None,
    num_examples: int | None = None,
    seed: int = 0,
) -> tf.data.Dataset:
    """Unbatched tf.data.Dataset of dicts for dataset `name` and split "train"|"validation"|"test".

    data_dir: TFDS data directory (TFDS names). path: the directory (celeba_local, folder) or file
    (npz) to read. seed: only builtin_* use it (which images are generated). Arguments a source
    does not use are ignored. image_size=(H, W) resizes (bilinear, antialiased); channels=1|3
    converts (gray -> RGB by tiling, RGB -> gray by luminance); num_examples keeps the first n
    (builtin_* generate exactly n, which may exceed the default split size).
    Images: celeb_a/celeba_local/builtin_faces(_plain) 64x64x3, mnist/fashion_mnist/builtin_digits 28x28x1,
    cifar10/svhn_cropped/builtin_objects 32x32x3, npz/folder as stored. See each source module for its
    splits.
    """
    if name not in available_datasets():
        raise DataError(f"unknown dataset {name!r}; available: {', '.join(available_datasets())}.")
    check_split(split, name)
    check_options(image_size, channels, num_examples)
    if image_size is not None:
        image_size = tuple(int(s) for s in image_size)
    if name == "text8":  # {"tokens": int32 [180]} windows of a local text8.zip (path), see text8.py
        return text8.load(path, split, num_examples=num_examples)
    if name in tfds_source.DATASETS:
        ds = tfds_source.load(name, split, data_dir=data_dir, num_examples=num_examples)
    elif name == "celeba_local":
        ds = celeba_local.load(path, split, num_examples=num_examples)
    elif name == "npz":
        ds = npz_source.load(path, split)
    elif name == "folder":
        ds = image_folder.load(path, split, image_size=image_size, num_examples=num_examples)
    elif name == "builtin_digits":
        ds = builtin_digits.load(split, seed=seed, num_examples=num_examples)
    elif name == "builtin_objects":
        ds = builtin_objects.load(split, seed=seed, num_examples=num_examples)
    else:  # builtin_faces, builtin_faces_plain (one muted background colour)
        background = "plain" if name == "builtin_faces_plain" else "gradient"
        ds = builtin_faces.load(split, seed=seed, num_examples=num_examples, background=background)
    return finalize(ds, image_size=image_size, channels=channels, num_examples=num_examples)


__all__ = ["CELEBA_ATTRIBUTES", "DataError", "available_datasets", "celeba_preprocess", "load"]
