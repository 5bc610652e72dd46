"""Data of fortified_text8: the character splits of text8, an npz or the built-in corpus, and language-model
windows."""

from recipes._data_help import data_help

DATASETS = data_help(("tokens",), images=False, extra=("npz",), notes={
    "text8": "text8 characters from a local text8.zip (--text8 PATH)", "npz": "1-D token ids 0..26 (--data-path)"})
SPLITS = ("train", "validation", "test")


def data_name(cfg):
    """--text8 PATH implies --data text8."""
    return "text8" if cfg.text8 else cfg.data


def read_splits(cfg):
    """{"train", "validation", "test": uint8 ids}; DataError with the fix when the text is missing."""
    from tfgm.data import DataError, builtin_text, text8

    name = data_name(cfg)
    if name == "text8":
        if not cfg.text8:
            raise DataError("text8 is not in TFDS: download mattmahoney.net/dc/text8.zip once and pass "
                            "--text8 PATH, or run --quick for the built-in corpus (tfgm.data.builtin_text)")
        return {s: text8.read_split(cfg.text8, s) for s in SPLITS}
    if name == "npz":
        return {s: text8.read_npz(cfg.data_path or None, s) for s in SPLITS}
    if name == "builtin_text":
        return {s: builtin_text.read_split(s, cfg.builtin_chars, seed=cfg.seed) for s in SPLITS}
    raise DataError(f"unknown --data {name!r} for fortified_text8; use {DATASETS}")


def check_splits(cfg, splits):
    """DataError when a split is too short for one training window or the free-running contexts."""
    from tfgm.data import DataError

    need = cfg.context + max(cfg.ratio_steps) + 1
    if len(splits["test"]) < need:
        raise DataError(f"the test split has {len(splits['test'])} characters; --context + the largest "
                        f"--ratio-steps need {need}")
    if len(splits["train"]) < cfg.sequence_length + 1 or len(splits["validation"]) < cfg.sequence_length + 1:
        raise DataError(f"train/validation splits are shorter than one window of {cfg.sequence_length + 1}")


def lm_dataset(ids, sequence_length, batch_size, seed=None, limit=0):
    """{"tokens": x[:, :-1], "label": x[:, 1:]} batches of windows of T + 1 characters (stride T);
    shuffled and repeated when `seed` is given."""
    import numpy as np
    import tensorflow as tf

    count = (len(ids) - 1) // sequence_length
    if limit:
        count = min(count, limit)
    starts = np.arange(count) * sequence_length
    windows = np.stack([ids[s:s + sequence_length + 1] for s in starts]).astype(np.uint8)
    ds = tf.data.Dataset.from_tensor_slices(windows)
    if seed is not None:
        ds = ds.shuffle(min(count, 100_000), seed=seed, reshuffle_each_iteration=True).repeat()
    ds = ds.batch(batch_size, drop_remainder=seed is not None)
    return ds.map(lambda w: {"tokens": tf.cast(w[:, :-1], tf.int32), "label": tf.cast(w[:, 1:], tf.int32)}
                  ).prefetch(tf.data.AUTOTUNE)
