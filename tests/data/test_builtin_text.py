"""The built-in text source: text8's splits of a generated corpus, registered with tfgm.data."""

import numpy as np

from tfgm import data
from tfgm.data import builtin_text


def test_splits_are_90_5_5_percent_of_the_corpus_in_order():
    parts = [builtin_text.read_split(split, 20_000, seed=3) for split in ("train", "validation", "test")]
    assert [len(p) for p in parts] == [18_000, 1_000, 1_000]
    np.testing.assert_array_equal(np.concatenate(parts), builtin_text.builtin_corpus(20_000, seed=3))
    assert not np.array_equal(builtin_text.read_split("test", 20_000, seed=4), parts[2])


def test_load_gives_the_splits_token_windows_and_is_registered_with_tfgm_data():
    assert "builtin_text" in data.available_datasets()
    tokens = np.stack([e["tokens"].numpy() for e in data.load("builtin_text", "validation", seed=3)])
    ids = builtin_text.read_split("validation", seed=3)
    assert tokens.dtype == np.int32 and tokens.shape == (len(ids) // 180, 180)
    np.testing.assert_array_equal(tokens.ravel(), ids[:tokens.size])
    assert len(list(data.load("builtin_text", "test", num_examples=3))) == 3
