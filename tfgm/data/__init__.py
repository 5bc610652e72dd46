"""Datasets -> unbatched tf.data.Dataset of dicts.

Every image element: "image" float32 HxWxC in [0, 1]; "label" int32 scalar where the source has classes;
"attributes" float32 vector where it has attributes (CelebA-style sources: 40 values in {0, 1} in
CELEBA_ATTRIBUTES order). Text sources give {"tokens": int32 [180]}; the 2-D probe {"image": float32 [2]}.
`tfgm.data.catalog` declares every dataset (name, module, keys, description; the order `available_datasets`
lists them): TFDS (tfds_source), the CelebA authors' files (celeba_local), .npz arrays (npz_source), image
folders (image_folder), generated faces, digits and objects (builtin_*), text8 and a generated corpus (text8,
builtin_text), 25 Gaussians (gaussian_grid); each module registers its loader in `tfgm.data.registry` when
imported, on first use. Importing this package starts no TensorFlow (recipes read the catalog for --help).
Bad input raises DataError naming the file and the fix.
"""

from tfgm.data import registry
from tfgm.data.errors import DataError

_CELEBA = ("CELEBA_ATTRIBUTES", "celeba_preprocess")


def available_datasets() -> list[str]:
    """Names accepted by `load` (every registered source)."""
    return registry.names()


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
):
    """Unbatched tf.data.Dataset of dicts for dataset `name` and split "train"|"validation"|"test".

    data_dir: TFDS data directory (TFDS names). path: the directory (celeba_local, folder) or file
    (npz, text8) to read. seed: only the generated sources use it. Arguments a source does not use are
    ignored. image_size=(H, W) resizes (bilinear, antialiased); channels=1|3 converts (gray -> RGB by
    tiling, RGB -> gray by luminance); num_examples keeps the first n (generated sources generate
    exactly n, which may exceed the default split size); none of the three apply to tokens or points.
    Images: celeb_a/celeba_local/builtin_faces(_plain) 64x64x3, mnist/fashion_mnist/builtin_digits 28x28x1,
    cifar10/svhn_cropped/builtin_objects 32x32x3, npz/folder as stored. See each source module for its
    splits.
    """
    from tfgm.data._pipeline import check_options, check_split, finalize

    source = registry.source(name)
    check_split(split, name)
    check_options(image_size, channels, num_examples)
    if image_size is not None:
        image_size = tuple(int(s) for s in image_size)
    ds = source.load(split, data_dir=data_dir, path=path, image_size=image_size, num_examples=num_examples, seed=seed)
    if not source.images:
        return ds
    return finalize(ds, image_size=image_size, channels=channels, num_examples=num_examples)


def __getattr__(name):
    if name not in _CELEBA:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from tfgm.data import celeba

    return getattr(celeba, name)


__all__ = ["CELEBA_ATTRIBUTES", "DataError", "available_datasets", "celeba_preprocess", "load"]
