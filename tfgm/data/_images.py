"""Decoding image files inside tf.data, with failures that name the file.

Two layers, because a graph cannot catch a decode error:
- `check_decodable` decodes files eagerly with the same TensorFlow decoder the pipeline uses and
  raises DataError naming the first bad file. Loaders call it when a split has at most
  EAGER_VALIDATION_LIMIT files (tests, small folders), so bad input fails at load time.
- `decode` (the hot path, parallel in tf.data) first checks the bytes' structure (format magic and,
  for JPEG/PNG/GIF, the end-of-image marker a truncated download lacks) with a tf.debugging.Assert
  whose message carries the file name. `decode_each` runs it over a split and names the file of any
  element that fails, also one garbled inside, which TensorFlow's decoder rejects without a name: the
  failed element is dropped, and a check on the element indices that follow raises an error naming it.
Errors raised inside a pipeline start with `errors.PIPELINE_TAG`; `errors.from_pipeline` turns them into DataError.
"""

import re
import zipfile

import tensorflow as tf

from tfgm.data.errors import PIPELINE_TAG, DataError

EAGER_VALIDATION_LIMIT = 1000
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")

_TAIL = 64  # end markers are searched in the last _TAIL bytes (some writers pad after them)


def _tail_contains(contents, marker):
    """Scalar bool: the last _TAIL bytes of `contents` contain the byte string `marker`."""
    start = tf.maximum(tf.strings.length(contents) - _TAIL, 0)
    tail = tf.io.decode_raw(tf.strings.substr(contents, start, _TAIL), tf.uint8)
    stop = tf.shape(tail)[0] - len(marker) + 1
    found = tf.ones([tf.maximum(stop, 0)], tf.bool)
    for j, byte in enumerate(marker):
        found &= tf.equal(tail[j : j + tf.maximum(stop, 0)], byte)
    return tf.reduce_any(found)


def looks_complete(contents):
    """Scalar bool: the bytes start like a JPEG/PNG/GIF/BMP and (JPEG/PNG/GIF) end like one."""
    head = tf.strings.substr(contents, 0, 4)
    jpeg = tf.equal(tf.strings.substr(head, 0, 3), b"\xff\xd8\xff") & _tail_contains(contents, b"\xff\xd9")
    png = tf.equal(head, b"\x89PNG") & _tail_contains(contents, b"IEND")
    gif = tf.equal(tf.strings.substr(head, 0, 3), b"GIF") & _tail_contains(contents, b";")
    bmp = tf.equal(tf.strings.substr(head, 0, 2), b"BM")
    return jpeg | png | gif | bmp


def decode(contents, name, channels):
    """Encoded bytes -> uint8 HxWx`channels`; a structurally broken file fails naming `name`."""
    check = tf.debugging.Assert(
        looks_complete(contents),
        [PIPELINE_TAG, "unreadable image", name, "(truncated or not an image); re-copy or remove it"],
    )
    with tf.control_dependencies([check]):
        image = tf.io.decode_image(contents, channels=channels, expand_animations=False)
    image.set_shape([None, None, channels])
    return image


def decode_each(dataset, decode_fn, names):
    """`dataset.map(decode_fn)` (parallel, in order), where the i-th element comes from the file `names[i]`;
    when an element fails (a broken or garbled image), iterating raises InvalidArgumentError naming its file."""
    count, names = len(names), tf.constant(list(names), tf.string)
    decoded = tf.data.Dataset.zip(tf.data.Dataset.range(count), dataset).map(
        lambda i, element: (i, decode_fn(*element) if isinstance(element, tuple) else decode_fn(element)),
        num_parallel_calls=tf.data.AUTOTUNE).ignore_errors()
    blank = tf.nest.map_structure(lambda s: tf.zeros([d or 0 for d in s.shape], s.dtype), decoded.element_spec[1])
    end = tf.data.Dataset.from_tensors((tf.constant(count, tf.int64), blank))

    def in_order(expected, element):
        index, example = element
        missing = tf.gather(names, tf.minimum(expected, count - 1))
        check = tf.debugging.Assert(tf.equal(index, expected), [
            PIPELINE_TAG, "cannot read image", missing, "(garbled, truncated or not an image); re-copy or remove it"])
        with tf.control_dependencies([check]):
            return index + 1, (tf.identity(index), example)

    checked = decoded.concatenate(end).scan(tf.constant(0, tf.int64), in_order)
    return checked.filter(lambda index, _: index < count).map(lambda _, example: example)


def read_file(path):
    """The bytes of the file at `path`."""
    with open(path, "rb") as f:
        return f.read()


def _decoder_reason(error):
    """TensorFlow's decoder message without its op and function-node decorations ("Invalid PNG data, size 880")."""
    return re.sub(r"\{\{function_node [^}]*\}\}|\[Op:\w+\]", "", error.message).strip()


def check_decodable(items, fix):
    """Eagerly decode every (name, read_bytes) pair; DataError naming the first unreadable file."""
    for name, read in items:
        try:
            contents = read()
            ok = bool(looks_complete(tf.constant(contents)))
            if ok:
                tf.io.decode_image(contents, channels=3, expand_animations=False)
        except tf.errors.OpError as exc:
            raise DataError(f"cannot read image {name}: {_decoder_reason(exc)}. {fix}") from exc
        except (OSError, KeyError, zipfile.BadZipFile) as exc:
            raise DataError(f"cannot read image {name}: {exc}. {fix}") from exc
        if not ok:
            raise DataError(
                f"cannot read image {name}: it is truncated or not a JPEG/PNG/GIF/BMP file. {fix}"
            )
