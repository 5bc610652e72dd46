"""Stop a diverged run with a message naming the loss, the step and the last good checkpoint."""

from __future__ import annotations

import math
import numbers
import os

import keras
import numpy as np
import tensorflow as tf

from .checkpoint import ResumableCheckpoint, checkpoint_epoch, latest_checkpoint


class TrainingDiverged(RuntimeError):
    """Raised by ``NaNGuard``. Attributes: ``key``, ``value``, ``step``, ``epoch`` (1-based), ``checkpoint``."""

    def __init__(self, message: str, key: str, value: float, step: int, epoch: int, checkpoint: str | None):
        super().__init__(message)
        self.key, self.value, self.step, self.epoch, self.checkpoint = key, value, step, epoch, checkpoint


def _all_finite(values: list) -> bool:
    """One check over all values: plain ``math.isfinite`` for Python/NumPy numbers (what Keras 3.15
    passes to callbacks, having already converted them), else one ``tf.reduce_all`` over the tensors."""
    if all(isinstance(v, numbers.Number) for v in values):
        return all(math.isfinite(v) for v in values)
    flat = tf.concat([tf.reshape(tf.cast(v, tf.float64), [-1]) for v in values], axis=0)
    return bool(tf.reduce_all(tf.math.is_finite(flat)))


class NaNGuard(keras.callbacks.Callback):
    """Raise ``TrainingDiverged`` as soon as a logged training value is NaN or infinite.

    Checked after every ``every``-th train batch, the last batch of each epoch (before any
    ``on_epoch_end`` saves), and the epoch-end logs (validation values). Keras metrics are running
    means, so a NaN step keeps the logged mean NaN until the epoch ends and ``every > 1`` still
    catches it, reporting the step where it was seen. ``checkpoint``: a ``ResumableCheckpoint`` or
    its directory, to name the last good checkpoint in the message. The guard writes and deletes
    nothing: raising ends ``fit`` before the next epoch-end save.

    Steps: ``step`` is 1-based and counts train steps since epoch 0 (``epoch * steps_per_epoch +
    batch + 1``); when the dataset's length is unknown it counts the steps of this ``fit`` call.
    """

    def __init__(self, checkpoint: ResumableCheckpoint | str | os.PathLike | None = None, every: int = 1):
        super().__init__()
        if int(every) < 1:
            raise ValueError(f"every must be >= 1, got {every!r}")
        self.every = int(every)
        if isinstance(checkpoint, ResumableCheckpoint):
            checkpoint = checkpoint.directory
        self.checkpoint_dir = os.fspath(checkpoint) if checkpoint is not None else None
        self._epoch = 0
        self._seen = 0

    def on_train_begin(self, logs=None):
        self._seen = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def _steps_per_epoch(self) -> int | None:
        return (self.params or {}).get("steps")

    def on_train_batch_end(self, batch, logs=None):
        self._seen += 1
        steps = self._steps_per_epoch()
        last = steps is not None and batch + 1 == steps
        if logs and ((batch + 1) % self.every == 0 or last):
            step = self._epoch * steps + batch + 1 if steps else self._seen
            self._check(logs, step, f"batch {batch + 1}" + (f"/{steps}" if steps else ""))

    def on_epoch_end(self, epoch, logs=None):
        if logs:
            steps = self._steps_per_epoch()
            self._check(logs, (epoch + 1) * steps if steps else self._seen, "end of epoch")

    def _check(self, logs: dict, step: int, where: str) -> None:
        items = [(k, v) for k, v in logs.items() if v is not None and not isinstance(v, (str, bytes))]
        if not items or _all_finite([v for _, v in items]):
            return
        bad = []
        for key, value in items:
            flat = np.asarray(value, dtype=np.float64).ravel()
            non_finite = flat[~np.isfinite(flat)]
            if non_finite.size:
                bad.append((key, float(non_finite[0])))
        bad.sort(key=lambda kv: "loss" not in kv[0])
        key, value = bad[0]
        self._raise(key, value, bad, step, where)

    def _raise(self, key, value, bad, step, where):
        epoch = self._epoch + 1
        total = (self.params or {}).get("epochs")
        msg = (
            f"training diverged: {key} = {value} at step {step} (epoch {epoch}"
            + (f"/{total}" if total else "")
            + f", {where})"
        )
        if len(bad) > 1:
            msg += "; also non-finite: " + ", ".join(f"{k} = {v}" for k, v in bad[1:])
        ckpt = None
        if self.checkpoint_dir is not None:
            ckpt = latest_checkpoint(self.checkpoint_dir)
            if ckpt is None:
                msg += f". No checkpoint saved yet in {self.checkpoint_dir}"
            else:
                msg += (
                    f". Last good checkpoint: {ckpt} (after epoch {checkpoint_epoch(ckpt)}); "
                    "rerun with --resume to continue from it (e.g. with a lower learning rate)"
                )
        raise TrainingDiverged(msg + ".", key=key, value=value, step=step, epoch=epoch, checkpoint=ckpt)
