"""A callback that draws image grids (samples, reconstructions, ...) at epoch ends."""

from __future__ import annotations

import os
from typing import Callable

import keras
import numpy as np
import tensorflow as tf
from tensorflow.core.framework import summary_pb2

from .image_grid import encode_png, make_grid, write_bytes_atomic


def write_image_summary(tag: str, png: bytes, width: int, height: int, step: int) -> None:
    """Write one PNG as a TensorBoard image summary to the default summary writer.

    The same record ``tf.summary.image`` writes (tensor ``[width, height, png]``, "images" plugin),
    made with core TensorFlow ops so that the ``tensorboard`` package is not needed to write it.
    """
    metadata = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="images"),
        data_class=summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
    )
    tensor = tf.constant([str(width).encode(), str(height).encode(), png], dtype=tf.string)
    tf.summary.write(tag, tensor, step=step, metadata=metadata)


class ImageGridCallback(keras.callbacks.Callback):
    """Every ``every`` epochs (and at the last epoch), draw each panel and save it.

    ``panels``: name -> ``fn(model)`` returning float images in [0, 1]: ``[N, H, W, C]`` (C 1 or 3),
    tiled about square, or ``[R, K, H, W, C]``, R rows of K (see ``make_grid``). Each grid is written to
    ``images_dir/<prefix><name>_epoch<NNN>.png`` (NNN = 1-based epoch) and ``<prefix><name>_latest.png``,
    and, when ``log_dir`` is given, as a TensorBoard image "<prefix><name>" at step = epoch, through one
    ``tf.summary`` file writer created on first use (closed at train end).
    """

    def __init__(
        self,
        images_dir: str,
        log_dir: str | None,
        panels: dict[str, Callable[[keras.Model], np.ndarray]],
        every: int = 1,
        prefix: str = "",
    ):
        super().__init__()
        if not panels:
            raise ValueError("ImageGridCallback needs at least one panel")
        if int(every) < 1:
            raise ValueError(f"every must be >= 1, got {every!r}")
        self.images_dir = os.fspath(images_dir)
        self.log_dir = os.fspath(log_dir) if log_dir is not None else None
        self.panels = dict(panels)
        self.every = int(every)
        self.prefix = prefix
        self._writer = None

    def _summary_writer(self):
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.log_dir)
        return self._writer

    def on_epoch_end(self, epoch, logs=None):
        last = (self.params or {}).get("epochs") == epoch + 1
        if (epoch + 1) % self.every and not last:
            return
        self.draw(epoch + 1)

    def draw(self, step: int) -> dict[str, np.ndarray]:
        """Draw every panel now, labelled with ``step``; returns name -> grid ``[H', W', C]``."""
        grids = {}
        for name, panel in self.panels.items():
            images = keras.ops.convert_to_numpy(panel(self.model))
            if images.ndim not in (4, 5) or images.shape[-1] not in (1, 3):
                raise ValueError(
                    f"panel {name!r} must return [N, H, W, C] or [R, K, H, W, C] with C 1 or 3, got {images.shape}"
                )
            grid = make_grid(images)
            png = encode_png(grid)
            tag = f"{self.prefix}{name}"
            write_bytes_atomic(os.path.join(self.images_dir, f"{tag}_epoch{step:03d}.png"), png)
            write_bytes_atomic(os.path.join(self.images_dir, f"{tag}_latest.png"), png)
            if self.log_dir is not None:
                with self._summary_writer().as_default():
                    write_image_summary(tag, png, grid.shape[1], grid.shape[0], step)
            grids[name] = grid
        if self._writer is not None:
            self._writer.flush()
        return grids

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None
