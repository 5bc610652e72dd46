"""The datasets `tfgm.data.load` knows, declared without TensorFlow: each entry's name, the module that loads it
(and registers its loader in `tfgm.data.registry` when imported), the keys of its elements and a line for --help.
Recipes build their `--data` help from here before TensorFlow starts; `tests/data/test_catalog.py` checks that
the live registry holds exactly these entries."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Dataset:
    """One dataset. module: the `tfgm.data` module that registers its loader. keys: the keys its elements can hold
    ("image", "label", "attributes", "tokens"; the 2-D probe's points are under "image"). description: one line
    for --help. images: `load` resizes / converts channels / truncates the images afterwards (False: tokens,
    points)."""

    name: str
    module: str
    keys: tuple
    description: str
    images: bool = True


_LABELLED, _FACES = ("image", "label"), ("image", "attributes")

DATASETS = (
    Dataset("mnist", "tfds_source", _LABELLED, "TFDS: MNIST digits 28×28×1, 10 classes"),
    Dataset("fashion_mnist", "tfds_source", _LABELLED, "TFDS: Fashion-MNIST 28×28×1, 10 classes"),
    Dataset("cifar10", "tfds_source", _LABELLED, "TFDS: CIFAR-10 32×32×3, 10 classes"),
    Dataset("svhn_cropped", "tfds_source", _LABELLED, "TFDS: SVHN digits 32×32×3, 10 classes"),
    Dataset("celeb_a", "tfds_source", _FACES, "TFDS: CelebA 64×64×3 faces, 40 attributes"),
    Dataset("celeba_local", "celeba_local", _FACES, "the files CelebA's authors distribute, in a local folder (path)"),
    Dataset("npz", "npz_source", ("image", "label", "attributes"),
            "arrays x (and y: labels or N×K attributes) in a local .npz file (path)"),
    Dataset("folder", "image_folder", _LABELLED, "a local folder of image files (path); class subfolders give labels"),
    Dataset("builtin_faces", "builtin_faces", _FACES,
            "faces 64×64×3 drawn in code with CelebA's 40 attributes, gradient backgrounds"),
    Dataset("builtin_faces_plain", "builtin_faces", _FACES, "the built-in faces on muted one-colour backgrounds"),
    Dataset("builtin_digits", "builtin_digits", _LABELLED, "digits 28×28×1 drawn in code, 10 classes"),
    Dataset("builtin_objects", "builtin_objects", _LABELLED, "objects 32×32×3 drawn in code, 10 classes"),
    Dataset("text8", "text8", ("tokens",), "text8 characters from a local text8.zip (path), 180-character windows",
            images=False),
    Dataset("builtin_text", "builtin_text", ("tokens",), "a text8-like corpus generated in code, 180-character windows",
            images=False),
    Dataset("gaussian_grid_25", "gaussian_grid", ("image",),
            "2-D points of 25 Gaussians on a 5×5 grid (the GAN mode-coverage probe)", images=False),
)
BY_NAME = {entry.name: entry for entry in DATASETS}


def names(keys=(), images=None):
    """Catalogued names (catalog order) whose elements hold every key of `keys` (and whose `images` flag is
    `images`, when given)."""
    return [d.name for d in DATASETS if set(keys) <= set(d.keys) and (images is None or d.images == images)]


def describe(names_, notes=None):
    """`--data`'s help text: "name (description)" for each of `names_`, joined by " | "; `notes` {name: text}
    replaces a description (e.g. what --data-path must hold for this recipe)."""
    notes = notes or {}
    return " | ".join(f"{name} ({notes.get(name, BY_NAME[name].description)})" for name in names_)
