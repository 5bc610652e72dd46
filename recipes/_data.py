"""Dataset selection for recipes: --data / --data-dir / --data-path (and CelebA's --celeba-dir) → tf.data."""

import tensorflow as tf

from tfgm import data


def load_split(cfg, split, image_size=None, channels=None, num_examples=None, path=None):
    """Unbatched dicts of `split` from the dataset the flags name. `path` overrides --data-path."""
    name = cfg.data
    return data.load(name, split, data_dir=cfg.data_dir or None, path=path or cfg.data_path or None,
                     image_size=image_size, channels=channels, num_examples=num_examples or None, seed=cfg.seed)


def batched(dataset, batch_size, shuffle_seed=None, drop_remainder=False):
    """Shuffle (when a seed is given, over a 10k buffer, in an order fixed by the seed and the epoch, so that a
    resumed run draws the batches the uninterrupted run drew: `tfgm.training.shuffle_by_epoch`), batch and prefetch.

    Multi-worker runs shard by data (``AutoShardPolicy.DATA``): every worker draws the same shuffled
    batches (same seed) and keeps its slice of each, so a global batch is the one a single worker sees.
    """
    from tfgm.training import auto_shard_data, shuffle_by_epoch

    if shuffle_seed is not None:
        dataset = shuffle_by_epoch(dataset, 10_000, shuffle_seed)
    return auto_shard_data(dataset.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE))


def first_images(dataset, n):
    """The first `n` images of an unbatched dataset as one float32 array [n, H, W, C]."""
    return next(iter(dataset.map(lambda d: d["image"]).batch(n))).numpy()
