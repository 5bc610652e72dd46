"""text8 reader on a tiny zip written here: 90/5/5 split, 27 symbols, clear errors on bad files."""

import zipfile

import numpy as np
import pytest

from tfgm import data
from tfgm.data import builtin_text, text8
from tfgm.data.errors import DataError


def _zip(path, text, member="text8"):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, text)
    return path


@pytest.fixture
def tiny(tmp_path):
    rng = np.random.default_rng(0)
    text = text8.decode(rng.integers(0, 27, 4000))
    return _zip(tmp_path / "text8.zip", text), text


def test_splits_are_90_5_5_percent_in_order_and_decode_back_to_the_text(tiny):
    path, text = tiny
    parts = {split: text8.read_split(path, split) for split in ("train", "validation", "test")}
    assert [len(p) for p in parts.values()] == [3600, 200, 200]
    assert "".join(text8.decode(p) for p in parts.values()) == text
    assert text8.split_bounds(100_000_000, "validation") == (90_000_000, 95_000_000)


def test_vocabulary_has_27_symbols_space_first():
    assert text8.VOCAB_SIZE == 27 and len(set(text8.ALPHABET)) == 27 and text8.ALPHABET[0] == " "
    ids = text8.encode("the cat zz")
    assert ids.dtype == np.uint8 and ids.tolist() == [20, 8, 5, 0, 3, 1, 20, 0, 26, 26]
    corpus = builtin_text.builtin_corpus(5000, seed=3)
    assert corpus.shape == (5000,) and set(np.unique(corpus)) <= set(range(27))
    np.testing.assert_array_equal(corpus, builtin_text.builtin_corpus(5000, seed=3))


def test_load_gives_token_windows_and_is_registered_with_tfgm_data(tiny):
    path, text = tiny
    element = next(iter(text8.load(path, "train", sequence_length=100)))
    assert element["tokens"].dtype.name == "int32" and element["tokens"].shape == (100,)
    assert text8.decode(element["tokens"].numpy()) == text[:100]
    assert "text8" in data.available_datasets()
    tokens = [e["tokens"].numpy() for e in data.load("text8", "test", path=str(path))]
    assert len(tokens) == 1 and text8.decode(tokens[0]) == text[3800:3980]


def test_bad_files_raise_one_clear_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        text8.read_split(tmp_path / "missing.zip")
    (tmp_path / "plain.txt").write_text("not a zip")
    with pytest.raises(DataError, match="zip archive"):
        text8.read_split(tmp_path / "plain.txt")
    with pytest.raises(DataError, match="'A' at offset 4"):
        text8.read_split(_zip(tmp_path / "upper.zip", "the And more text " * 20))
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as archive:
        archive.writestr("a", "abc " * 100)
        archive.writestr("b", "abc " * 100)
    with pytest.raises(DataError, match="no member 'text8'"):
        text8.read_split(two)
    with pytest.raises(DataError, match="fewer than one window"):
        text8.load(_zip(tmp_path / "short.zip", "ab " * 100), "test", sequence_length=180)


def test_npz_token_arrays(tmp_path):
    np.savez(tmp_path / "ids.npz", x=np.arange(200) % 27)
    assert len(text8.read_npz(tmp_path / "ids.npz", "train")) == 180
    np.savez(tmp_path / "bad.npz", x=np.array([0, 27, 3]))
    with pytest.raises(DataError, match="0..26"):
        text8.read_npz(tmp_path / "bad.npz")
