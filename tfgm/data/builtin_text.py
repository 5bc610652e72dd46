"""Built-in text ("builtin_text"): a text8 stand-in generated in code, for runs with no download.

Sentences of a fixed 36-word vocabulary drawn from four templates (`builtin_corpus`):
lowercase, single spaces, text8's 27 symbols (id 0 = space, 1..26 = a..z). Deterministic from `seed`;
a corpus of `num_chars` characters (default 400,000) is split like text8: first 90 % train, next 5 %
validation, last 5 % test.

`read_split(split, num_chars, seed)` gives the ids of a split (uint8 [n]); `load(split, ...)` a dataset of
{"tokens": int32 [sequence_length]}, consecutive non-overlapping windows (default 180 characters).
"""

import numpy as np
import tensorflow as tf

from tfgm.data import text8
from tfgm.data.registry import register

NUM_CHARS = 400_000

_WORDS = {
    "det": ("the", "a", "one", "every", "this"),
    "adj": ("small", "old", "green", "quiet", "bright", "heavy", "quick", "strange"),
    "noun": ("river", "city", "king", "machine", "garden", "language", "mountain", "engine", "letter", "bird"),
    "verb": ("sees", "builds", "follows", "carries", "writes", "finds", "holds", "crosses"),
    "prep": ("near", "under", "beyond", "with", "from"),
}
_TEMPLATES = (("det", "noun", "verb", "det", "noun"), ("det", "adj", "noun", "verb", "det", "adj", "noun"),
              ("det", "noun", "verb", "det", "noun", "prep", "det", "noun"), ("det", "adj", "noun", "verb"))


def builtin_corpus(num_chars=300_000, seed=0):
    """A text8-like corpus generated in code: sentences of a fixed 36-word vocabulary drawn from four
    templates (determiner, adjective, noun, verb, preposition), lowercase, single spaces; uint8 ids
    [num_chars]. Deterministic from `seed`; learnable by a small LSTM in a few hundred steps."""
    rng = np.random.default_rng(seed)
    parts, total = [], 0
    while total < num_chars:
        template = _TEMPLATES[rng.integers(len(_TEMPLATES))]
        sentence = " ".join(_WORDS[kind][rng.integers(len(_WORDS[kind]))] for kind in template) + " "
        parts.append(sentence)
        total += len(sentence)
    return text8.encode("".join(parts)[:num_chars])


def read_split(split="train", num_chars=NUM_CHARS, seed=0):
    """Ids uint8 [n] (0 = space, 1..26 = a..z) of `split` of the corpus of `num_chars` characters."""
    start, stop = text8.split_bounds(num_chars, split)
    return builtin_corpus(num_chars, seed=seed)[start:stop]


def load(split="train", seed=0, num_chars=NUM_CHARS, sequence_length=text8.SEQUENCE_LENGTH, num_examples=None):
    """Unbatched dataset of {"tokens": int32 [sequence_length]} windows of `split` (`num_examples`: at most)."""
    tokens = text8.windows(read_split(split, num_chars, seed), sequence_length, num_examples).astype("uint8")
    return tf.data.Dataset.from_tensor_slices(tokens).map(lambda t: {"tokens": tf.cast(t, tf.int32)})


register("builtin_text", lambda split, seed=0, num_examples=None, **_: load(split, seed, num_examples=num_examples))
