"""Tiny files for tfgm.data tests: JPEGs and CelebA's text files written in tmp dirs."""

import io
import zipfile

import numpy as np
from PIL import Image

from tfgm.data.celeba import CELEBA_ATTRIBUTES

# 6 images: 4 train, 1 validation, 1 test (partition ids as in list_eval_partition.txt).
CELEBA_PARTITION = {
    "000001.jpg": 0, "000002.jpg": 0, "000003.jpg": 1, "000004.jpg": 0, "000005.jpg": 2, "000006.jpg": 0,
}  # fmt: skip


def jpeg_bytes(seed, shape=(218, 178)):
    """A smooth random RGB JPEG (bytes) of `shape` (H, W)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    image = Image.fromarray(small).resize(shape[::-1], Image.BILINEAR)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=92)
    return out.getvalue()


def celeba_values(seed=0):
    """{filename: 40 values in -1/1} for the files of CELEBA_PARTITION."""
    rng = np.random.default_rng(seed)
    return {name: rng.choice([-1, 1], len(CELEBA_ATTRIBUTES)) for name in CELEBA_PARTITION}


def write_celeba(root, layout="folder", names=CELEBA_ATTRIBUTES, seed=0):
    """The authors' file layout in `root`: images (folder or zip), attribute and partition files."""
    root.mkdir(parents=True, exist_ok=True)
    values = celeba_values(seed)
    order = [CELEBA_ATTRIBUTES.index(n) for n in names]
    lines = [str(len(values)), " ".join(names)]
    lines += [f"{f} " + " ".join(f"{v:2d}" for v in vals[order]) for f, vals in values.items()]
    (root / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    (root / "list_eval_partition.txt").write_text("".join(f"{f} {p}\n" for f, p in CELEBA_PARTITION.items()))
    images = {f: jpeg_bytes(i) for i, f in enumerate(CELEBA_PARTITION)}
    if layout == "folder":
        (root / "img_align_celeba").mkdir()
        for f, data in images.items():
            (root / "img_align_celeba" / f).write_bytes(data)
    else:
        with zipfile.ZipFile(root / "img_align_celeba.zip", "w") as zf:
            for f, data in images.items():
                zf.writestr(f"img_align_celeba/{f}", data)
    return values, images

