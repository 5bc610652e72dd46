"""Shared pieces of every loader: split rules, arrays -> tf.data, and the final resize/channels/take."""

import numpy as np
import tensorflow as tf

from tfgm.data.errors import DataError

SPLITS = ("train", "validation", "test")
_IN_GRAPH_LIMIT_BYTES = 256 * 2**20  # larger arrays are fed by a generator, not embedded in the graph


def check_split(split, where):
    """Raise DataError unless `split` is one of SPLITS."""
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r} for {where}; use one of {', '.join(SPLITS)}.")


def interleaved_split(n, split):
    """Indices of `split` among n examples: i % 10 == 8 -> validation, 9 -> test, else train.

    Deterministic, about 80/10/10, and spreads sorted data (e.g. grouped by class) evenly.
    """
    i = np.arange(n)
    r = i % 10
    if split == "validation":
        return i[r == 8]
    if split == "test":
        return i[r == 9]
    return i[r < 8]


def to_float_image(image):
    """uint8 [0, 255] -> float32 [0, 1]; float input is cast to float32 unchanged."""
    if image.dtype == tf.uint8:
        return tf.cast(image, tf.float32) / 255.0
    return tf.cast(image, tf.float32)


def from_arrays(images, *, labels=None, attributes=None):
    """NxHxWxC uint8 [0, 255] or float [0, 1] arrays (+ N labels, NxK attributes) -> dict dataset.

    Images stay uint8 in memory and are converted to float32 [0, 1] per element.
    """
    columns = {"image": images}
    if labels is not None:
        columns["label"] = np.asarray(labels, dtype=np.int32)
    if attributes is not None:
        columns["attributes"] = np.asarray(attributes, dtype=np.float32)
    if sum(a.nbytes for a in columns.values()) <= _IN_GRAPH_LIMIT_BYTES:
        ds = tf.data.Dataset.from_tensor_slices(columns)
    else:
        signature = {k: tf.TensorSpec(v.shape[1:], tf.as_dtype(v.dtype)) for k, v in columns.items()}

        def rows():
            for i in range(len(images)):
                yield {k: v[i] for k, v in columns.items()}

        ds = tf.data.Dataset.from_generator(rows, output_signature=signature)
        ds = ds.apply(tf.data.experimental.assert_cardinality(len(images)))

    def convert(example):
        return {**example, "image": to_float_image(example["image"])}

    return ds.map(convert, num_parallel_calls=tf.data.AUTOTUNE)


def check_options(image_size, channels, num_examples):
    """Validate the common keyword arguments of `load`."""
    if image_size is not None:
        ok = (
            isinstance(image_size, (tuple, list))
            and len(image_size) == 2
            and all(isinstance(s, (int, np.integer)) and s > 0 for s in image_size)
        )
        if not ok:
            raise DataError(
                f"image_size={image_size!r} is invalid; pass (height, width) as two positive ints."
            )
    if channels is not None and channels not in (1, 3):
        raise DataError(f"channels={channels!r} is invalid; use 1 (grayscale), 3 (RGB) or None (keep).")
    if num_examples is not None and (not isinstance(num_examples, (int, np.integer)) or num_examples < 0):
        raise DataError(f"num_examples={num_examples!r} is invalid; pass a non-negative int or None.")


def convert_channels(image, channels):
    """HxWxC float image -> HxWx`channels`: gray -> RGB by tiling, RGB -> gray by luminance."""
    have = image.shape[-1]
    if channels is None or have == channels:
        return image
    if have == 1 and channels == 3:
        return tf.tile(image, [1, 1, 3])
    if have == 3 and channels == 1:
        return tf.image.rgb_to_grayscale(image)
    raise DataError(f"cannot convert {have}-channel images to {channels} channels; use channels=1 or 3.")


def finalize(ds, *, image_size=None, channels=None, num_examples=None):
    """Truncate to num_examples, convert channels, resize (bilinear, antialiased) to image_size."""
    if num_examples is not None:
        ds = ds.take(num_examples)
    shape = ds.element_spec["image"].shape
    need_resize = image_size is not None and tuple(shape[:2]) != tuple(image_size)
    need_channels = channels is not None and shape[-1] != channels
    if not (need_resize or need_channels):
        return ds

    def convert(example):
        image = convert_channels(example["image"], channels)
        if need_resize:
            image = tf.image.resize(image, image_size, method="bilinear", antialias=True)
            image = tf.clip_by_value(image, 0.0, 1.0)
        return {**example, "image": image}

    return ds.map(convert, num_parallel_calls=tf.data.AUTOTUNE)
