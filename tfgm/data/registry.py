"""The datasets `tfgm.data.load` knows. Each source module registers its names here when it is imported, so a
new dataset is one module in tfgm/data (plus its import in tfgm/data/__init__.py) and every recipe's --help
lists it."""

import dataclasses
from typing import Callable

from tfgm.data.errors import DataError

@dataclasses.dataclass(frozen=True)
class Source:
    """One registered dataset.

    load: (split, **options) → unbatched tf.data.Dataset of dicts; options are data_dir, path, image_size,
    num_examples and seed (a source ignores the ones it does not use). keys: the keys its elements can hold
    ("image", "label", "attributes", "tokens"; the 2-D probe's points are under "image"). description: one line
    for --help. images: `load` resizes / converts channels / truncates the images afterwards (False: tokens,
    points).
    """

    name: str
    load: Callable
    keys: tuple
    description: str
    images: bool = True


_SOURCES = {}


def register(name, load, keys, description, images=True):
    """Add dataset `name` (see `Source`); a name registered twice is a bug and raises ValueError."""
    if name in _SOURCES:
        raise ValueError(f"dataset {name!r} is registered twice")
    _SOURCES[name] = Source(name, load, tuple(keys), description, images)


def source(name):
    """The registered `Source` of `name`; DataError listing every name for an unknown one."""
    if name not in _SOURCES:
        raise DataError(f"unknown dataset {name!r}; available: {', '.join(_SOURCES)}.")
    return _SOURCES[name]


def names(keys=(), images=None):
    """Registered names (registration order) whose elements hold every key of `keys` (and whose `images` flag
    is `images`, when given)."""
    return [name for name, s in _SOURCES.items()
            if set(keys) <= set(s.keys) and (images is None or s.images == images)]


def describe(keys=(), images=None, notes=None):
    """`--data`'s help text: every registered dataset `names(keys, images)` lists, "name (description)", joined
    by " | "; `notes` {name: text} replaces a description (e.g. what --data-path must hold for this recipe)."""
    notes = notes or {}
    return " | ".join(f"{name} ({notes.get(name, _SOURCES[name].description)})" for name in names(keys, images))
