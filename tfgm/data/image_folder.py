"""A folder of image files ("folder"): .png .jpg .jpeg .bmp .gif (first frame).

Layouts: subfolders are classes (sorted subfolder names -> label ids 0..K-1, files found recursively
inside each), or a flat folder of images (no "label"). Files directly in `path` next to class
subfolders are an error (ambiguous). Split: files sorted by (class, relative path); the i-th goes to
validation if i % 10 == 8, test if i % 10 == 9, else train (deterministic, ~80/10/10 per class).

Every file's header is read with PIL at load time (unreadable file -> DataError naming it; sizes);
images of different sizes need image_size=(H, W). Channels: 1 if every image is grayscale, else 3
(alpha dropped). Decoding streams in a parallel tf.data map; a file that fails there is named in the error
(`_images.decode_each`); splits of at most EAGER_VALIDATION_LIMIT files are also decoded once at load time.
"""

import functools
import os

import tensorflow as tf
from PIL import Image

from tfgm.data import _images
from tfgm.data._pipeline import check_split, interleaved_split, to_float_image
from tfgm.data.errors import DataError
from tfgm.data.registry import register

_GRAY_MODES = ("1", "L", "LA", "I", "I;16", "F")
_FIX = "Remove or replace that file, or point path= at a folder of valid .png/.jpg/.jpeg/.bmp/.gif images."


def _is_image(name):
    return name.lower().endswith(_images.IMAGE_EXTENSIONS) and not name.startswith(".")


def _images_under(folder):
    found = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        found += [os.path.join(root, f) for f in sorted(files) if _is_image(f)]
    return found


def list_files(path):
    """(sorted file paths, label per file or None, class names or None)."""
    entries = sorted(os.listdir(path))
    classes = [e for e in entries if os.path.isdir(os.path.join(path, e)) and not e.startswith(".")]
    top = [os.path.join(path, e) for e in entries if _is_image(e) and os.path.isfile(os.path.join(path, e))]
    class_files = {c: _images_under(os.path.join(path, c)) for c in classes}
    classes = [c for c in classes if class_files[c]]
    if classes and top:
        raise DataError(
            f"{path} holds both images ({os.path.basename(top[0])}, ...) and class subfolders "
            f"({classes[0]}, ...); move the loose images into a class subfolder or remove them."
        )
    if classes:
        files = [f for c in classes for f in class_files[c]]
        labels = [i for i, c in enumerate(classes) for _ in class_files[c]]
        return files, labels, classes
    if not top:
        raise DataError(f"no images (.png .jpg .jpeg .bmp .gif) found in {path}; check the path.")
    return top, None, None


def _header(file):
    try:
        with Image.open(file) as im:
            return im.size[::-1], im.mode
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise DataError(f"cannot read image {file}: {exc}. {_FIX}") from exc


def load(path, split="train", image_size=None, num_examples=None):
    """Unbatched dataset of {"image": float32 HxWxC in [0, 1], "label": int32 (class folders only)}."""
    check_split(split, "folder")
    if path is None:
        raise DataError("the folder source needs path=DIR, a folder of images (subfolders = classes).")
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise DataError(f"image folder {path} does not exist; check the path.")
    files, labels, _ = list_files(path)
    index = interleaved_split(len(files), split)
    if len(index) == 0:
        raise DataError(
            f"the {split!r} split of {path} is empty ({len(files)} images; every 10th goes to validation "
            "and the one after to test); add images or use another split."
        )
    if num_examples is not None:
        index = index[:num_examples]
    headers = {i: _header(files[i]) for i in index}
    sizes = {headers[i][0] for i in index}
    channels = 1 if all(headers[i][1] in _GRAY_MODES for i in index) else 3
    if image_size is None and len(sizes) > 1:
        first = index[0]
        other = next(i for i in index if headers[i][0] != headers[first][0])
        (h1, w1), (h2, w2) = headers[first][0], headers[other][0]
        raise DataError(
            f"images in {path} have different sizes (e.g. {files[first]}: {h1}x{w1}, "
            f"{files[other]}: {h2}x{w2}); pass image_size=(H, W) to resize them."
        )
    files = [files[i] for i in index]
    if len(files) <= _images.EAGER_VALIDATION_LIMIT:
        _images.check_decodable(((f, functools.partial(_images.read_file, f)) for f in files), _FIX)
    height, width = sizes.pop() if len(sizes) == 1 else (None, None)
    columns = {"file": tf.constant(files, tf.string)}
    if labels is not None:
        columns["label"] = tf.constant([labels[i] for i in index], tf.int32)

    def decode(example):
        image = _images.decode(tf.io.read_file(example["file"]), example["file"], channels=3)
        if channels == 1:
            image = image[..., :1]
        image = to_float_image(image)
        if image_size is not None:
            image = tf.image.resize(image, image_size, method="bilinear", antialias=True)
            image = tf.clip_by_value(image, 0.0, 1.0)
        else:
            image.set_shape([height, width, channels])
        out = {"image": image}
        if "label" in example:
            out["label"] = example["label"]
        return out

    return _images.decode_each(tf.data.Dataset.from_tensor_slices(columns), decode, files)


register("folder", lambda split, path=None, image_size=None, num_examples=None, **_: load(
    path, split, image_size=image_size, num_examples=num_examples))
