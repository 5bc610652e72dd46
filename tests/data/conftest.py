"""Fixtures for tfgm.data tests: a private generation cache, a tiny CelebA folder."""

import pytest

from tests.data._files import write_celeba


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """builtin_faces writes its cache under the test's tmp_path, never into ~/.cache."""
    monkeypatch.setenv("TFGM_CACHE", str(tmp_path / "tfgm_cache"))


@pytest.fixture
def celeba_dir(tmp_path):
    """CelebA's files (unpacked image folder layout) in tmp_path/celeba."""
    write_celeba(tmp_path / "celeba")
    return tmp_path / "celeba"
