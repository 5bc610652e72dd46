"""The datasets `tfgm.data.load` serves. Each source module registers its loaders here when it is imported; what
a dataset is (keys, description) is declared in `tfgm.data.catalog`, which --help reads without TensorFlow. A new
dataset is one module in tfgm/data that ends with `register(name, loader)` and one `Dataset(...)` line in the
catalog."""

import dataclasses
import importlib
from typing import Callable

from tfgm.data import catalog
from tfgm.data.errors import DataError


@dataclasses.dataclass(frozen=True)
class Source:
    """One registered dataset.

    load: (split, **options) → unbatched tf.data.Dataset of dicts; options are data_dir, path, image_size,
    num_examples and seed (a source ignores the ones it does not use). keys, description, images: as in
    `catalog.Dataset`.
    """

    name: str
    load: Callable
    keys: tuple
    description: str
    images: bool = True


_SOURCES = {}


def register(name, load, keys=None, description=None, images=None):
    """Add dataset `name` with its loader (see `Source`). keys, description and images default to the name's
    catalog entry (a name outside the catalog must give keys and description); a name registered twice is a bug
    and raises ValueError."""
    if name in _SOURCES:
        raise ValueError(f"dataset {name!r} is registered twice")
    entry = catalog.BY_NAME.get(name)
    if entry is None and (keys is None or description is None):
        raise ValueError(f"dataset {name!r} is not in tfgm.data.catalog: add its Dataset(...) line there")
    if entry is None:
        entry = catalog.Dataset(name, "", keys, description)
    _SOURCES[name] = Source(name, load, tuple(entry.keys if keys is None else keys),
                            entry.description if description is None else description,
                            entry.images if images is None else images)


def register_catalog():
    """Import every catalogued source module (each registers its loaders); a no-op once they are imported."""
    for module in dict.fromkeys(d.module for d in catalog.DATASETS):
        importlib.import_module(f"tfgm.data.{module}")


def sources():
    """{name: Source} of every registered dataset: the catalog's order, then names registered outside it."""
    register_catalog()
    order = {name: i for i, name in enumerate(catalog.BY_NAME)}
    return dict(sorted(_SOURCES.items(), key=lambda item: order.get(item[0], len(order))))


def source(name):
    """The registered `Source` of `name`; DataError listing every name for an unknown one."""
    registered = sources()
    if name not in registered:
        raise DataError(f"unknown dataset {name!r}; available: {', '.join(registered)}.")
    return registered[name]


def names(keys=(), images=None):
    """Registered names (catalog order) whose elements hold every key of `keys` (and whose `images` flag is
    `images`, when given)."""
    return [name for name, s in sources().items()
            if set(keys) <= set(s.keys) and (images is None or s.images == images)]


def describe(keys=(), images=None, notes=None):
    """`--data`'s help text: every registered dataset `names(keys, images)` lists, "name (description)", joined
    by " | "; `notes` {name: text} replaces a description (e.g. what --data-path must hold for this recipe)."""
    notes, registered = notes or {}, sources()
    return " | ".join(f"{name} ({notes.get(name, registered[name].description)})" for name in names(keys, images))
