import glob
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfgm.training import ImageGridCallback, make_grid, save_png


def test_make_grid_layout_and_padding():
    images = np.random.default_rng(0).random((5, 4, 3, 1), dtype=np.float32)
    grid = make_grid(images, padding=2, pad_value=0.5)
    assert grid.shape == (2 * (4 + 2) + 2, 3 * (3 + 2) + 2, 1)
    np.testing.assert_array_equal(grid[2:6, 2:5], images[0])
    np.testing.assert_array_equal(grid[8:12, 7:10], images[4])
    mask = np.ones(grid.shape[:2], bool)
    for i in range(5):
        top, left = 2 + (i // 3) * 6, 2 + (i % 3) * 5
        mask[top : top + 4, left : left + 3] = False
    assert np.all(grid[mask] == 0.5)


def test_make_grid_rows_and_no_padding():
    rows = np.arange(2 * 3 * 2 * 2 * 3, dtype=np.float32).reshape(2, 3, 2, 2, 3)
    grid = make_grid(rows, padding=0)
    expected = np.concatenate([np.concatenate(list(r), axis=1) for r in rows], axis=0)
    np.testing.assert_array_equal(grid, expected)
    assert make_grid(rows.reshape(6, 2, 2, 3), nrow=6, padding=1).shape == (1 * 3 + 1, 6 * 3 + 1, 3)
    with pytest.raises(ValueError, match=r"\[N, H, W, C\]"):
        make_grid(np.zeros((4, 4, 3)))


@pytest.mark.parametrize("channels", [1, 3])
def test_save_png_roundtrip(tmp_path, channels):
    levels = np.random.default_rng(1).integers(0, 256, size=(5, 7, channels))
    path = tmp_path / "sub" / "x.png"
    save_png(path, levels / 255.0)
    with Image.open(path) as img:
        assert img.mode == ("L" if channels == 1 else "RGB") and img.size == (7, 5)
        pixels = np.array(img)
    np.testing.assert_array_equal(pixels.reshape(levels.shape), levels)
    assert os.listdir(tmp_path / "sub") == ["x.png"]


def test_save_png_clips_and_rejects_nan(tmp_path):
    save_png(tmp_path / "c.png", np.array([[[-0.5], [1.5]]]))
    np.testing.assert_array_equal(np.array(Image.open(tmp_path / "c.png")), [[0, 255]])
    with pytest.raises(ValueError, match="NaN"):
        save_png(tmp_path / "n.png", np.full((2, 2, 3), np.nan))
    with pytest.raises(ValueError, match="shape"):
        save_png(tmp_path / "n.png", np.zeros((2, 2, 2)))
    assert sorted(os.listdir(tmp_path)) == ["c.png"]


def _image_events(log_dir):
    found = []
    for path in glob.glob(os.path.join(log_dir, "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "images":
                    width, height, png = tf.make_ndarray(value.tensor)
                    decoded = tf.io.decode_png(png).numpy()
                    assert decoded.shape[:2] == (int(height), int(width))
                    found.append((value.tag, event.step))
    return sorted(found)


def test_image_grid_callback_writes_pngs_and_tensorboard(tmp_path, data):
    x, y = data
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    seen = []

    def samples(m):
        seen.append(m)
        return np.full((5, 4, 4, 1), 0.25, np.float32)

    def reconstructions(m):
        return tf.random.uniform((2, 3, 4, 4, 3))

    images, logs = str(tmp_path / "images"), str(tmp_path / "logs")
    every_epoch = ImageGridCallback(images, logs, {"samples": samples, "reconstructions": reconstructions})
    sparse = ImageGridCallback(images, None, {"samples": samples}, every=2, prefix="ema_")
    model.fit(x, y, batch_size=8, epochs=3, callbacks=[every_epoch, sparse], verbose=0)

    assert all(m is model for m in seen) and len(seen) == 3 + 2
    expected = {f"{p}_epoch{e:03d}.png" for p in ("samples", "reconstructions") for e in (1, 2, 3)}
    expected |= {"samples_latest.png", "reconstructions_latest.png"}
    expected |= {"ema_samples_epoch002.png", "ema_samples_epoch003.png", "ema_samples_latest.png"}
    assert set(os.listdir(images)) == expected
    with Image.open(os.path.join(images, "samples_latest.png")) as img:
        assert img.size == (3 * 6 + 2, 2 * 6 + 2) and img.mode == "L"
        assert np.array(img)[2, 2] == 64
    with Image.open(os.path.join(images, "reconstructions_epoch002.png")) as img:
        assert img.size == (3 * 6 + 2, 2 * 6 + 2) and img.mode == "RGB"
    assert _image_events(logs) == sorted((t, e) for t in ("samples", "reconstructions") for e in (1, 2, 3))


def test_image_grid_callback_rejects_bad_panel(tmp_path):
    callback = ImageGridCallback(str(tmp_path), None, {"bad": lambda m: np.zeros((2, 4, 4, 2))})
    with pytest.raises(ValueError, match="panel 'bad'"):
        callback.draw(1)
