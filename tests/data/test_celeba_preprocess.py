"""celeba_preprocess and CELEBA_ATTRIBUTES."""

import numpy as np
import pytest
from PIL import Image

from tfgm.data import CELEBA_ATTRIBUTES, celeba_preprocess


def _face(seed=0):
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (12, 10, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((178, 218), Image.BICUBIC))


def test_shape_range_dtype_uint8_and_float():
    image = _face()
    out = celeba_preprocess(image).numpy()
    assert out.shape == (64, 64, 3) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0 and out.std() > 0.05
    np.testing.assert_allclose(celeba_preprocess(image.astype(np.float32) / 255.0).numpy(), out, atol=1e-6)
    batch = celeba_preprocess(np.stack([image, _face(1)])).numpy()
    assert batch.shape == (2, 64, 64, 3)
    np.testing.assert_allclose(batch[0], out, atol=1e-6)


def test_matches_pil_resize_then_center_crop():
    image = _face(3)
    resized = np.asarray(Image.fromarray(image).resize((64, 78), Image.BILINEAR), np.float32) / 255.0
    reference = resized[7:71]
    out = celeba_preprocess(image).numpy()
    assert np.abs(out - reference).mean() < 0.01
    assert np.abs(out - reference).max() < 0.08
    # the crop is the centre: the top/bottom 7 rows are dropped, not the last 14
    assert np.abs(out - resized[:64]).mean() > 3 * np.abs(out - reference).mean()


def test_attribute_names_in_file_order():
    assert len(CELEBA_ATTRIBUTES) == 40 == len(set(CELEBA_ATTRIBUTES))
    assert CELEBA_ATTRIBUTES[:2] == ("5_o_Clock_Shadow", "Arched_Eyebrows")
    assert CELEBA_ATTRIBUTES[-1] == "Young"
    tfds_celeba = pytest.importorskip("tensorflow_datasets.datasets.celeb_a.celeb_a_dataset_builder")
    assert list(CELEBA_ATTRIBUTES) == tfds_celeba.ATTR_HEADINGS
