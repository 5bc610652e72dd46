"""tfgm.data.catalog: the TensorFlow-free declaration of the datasets equals the live registry, and reading it
starts no TensorFlow (recipes build their --help from it)."""

import subprocess
import sys

import pytest

from tfgm.data import catalog, registry


def test_the_catalog_declares_exactly_the_registered_datasets_in_order():
    live = {name: (s.keys, s.description, s.images) for name, s in registry.sources().items()}
    declared = {d.name: (d.keys, d.description, d.images) for d in catalog.DATASETS}
    assert list(live) == list(declared)
    assert live == declared


def test_a_catalogued_name_whose_module_registers_no_loader_is_caught(monkeypatch):
    ghost = catalog.Dataset("ghost", "builtin_digits", ("image",), "registered by nobody")
    monkeypatch.setattr(catalog, "DATASETS", catalog.DATASETS + (ghost,))
    assert "ghost" not in registry.sources()


def test_a_name_outside_the_catalog_needs_its_keys_and_description(monkeypatch):
    monkeypatch.setattr(registry, "_SOURCES", dict(registry.sources()))
    with pytest.raises(ValueError, match="'tiny' is not in tfgm.data.catalog"):
        registry.register("tiny", lambda split, **_: None)


def test_catalog_helpers_filter_and_describe():
    assert catalog.names(("tokens",)) == ["text8", "builtin_text"]
    assert catalog.names(("image",), images=False) == ["gaussian_grid_25"]
    assert catalog.describe(["mnist", "npz"], notes={"npz": "x, y"}) == (
        "mnist (TFDS: MNIST digits 28×28×1, 10 classes) | npz (x, y)")


def test_reading_the_catalog_imports_no_tensorflow():
    code = ("import sys; from tfgm.data import catalog, DataError; import tfgm.data; catalog.names(('image',)); "
            "print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
