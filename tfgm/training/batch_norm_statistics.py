"""Precise batch-norm statistics: replace each BatchNormalization layer's moving mean and variance by the
average of its batch statistics over a few training-mode forward passes of the current weights.

Keras' moving averages (momentum 0.9 in tfgm's nets) trail weights that change fast: in the first few
hundred steps of a run, inference-mode outputs can differ wildly from training-mode ones (a quick discreg run
logged a validation KL of 633 against a training KL of 19). Averaging the batch statistics of the *current*
weights removes that lag (Wu & Johnson 2021, "Rethinking 'Batch' in BatchNorm", §3; the discriminative
regularization authors recomputed their decoder's statistics after training, METHODS.md §1).
"""

from __future__ import annotations

import keras

from .sync_batch_norm import batch_norm_layers


def recompute_batch_norm_statistics(model, batches, forward) -> int:
    """Set the moving statistics of every trainable BatchNormalization layer under `model` to the mean of its
    batch statistics over `batches`; return the number of layers.

    batches: an iterable of batches (e.g. `dataset.take(20)`). forward(batch): runs the model (or the part
    whose layers should be recomputed) in training mode; its outputs are discarded and no weight changes but the
    moving statistics. Runs eagerly (the layers read their momentum at call time): pass a handful of batches.
    Layers with `trainable=False` (a frozen classifier) run in inference mode and keep their statistics.
    """
    layers = [layer for layer in batch_norm_layers(model) if layer.trainable]
    momenta = [layer.momentum for layer in layers]
    count = 0
    try:
        for count, batch in enumerate(batches, start=1):
            for layer in layers:
                layer.momentum = (count - 1) / count  # moving = running mean of the batch statistics
            forward(batch)
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
    if count == 0:
        raise ValueError("recompute_batch_norm_statistics: `batches` yielded nothing")
    return len(layers)


class BatchNormRecalibration(keras.callbacks.Callback):
    """Recompute precise batch-norm statistics (`recompute_batch_norm_statistics`) before each validation
    inside `fit`, at the end of every epoch (before the checkpoint and image-grid callbacks that follow it in
    the list), and at the end of training, so everything evaluated in inference mode uses them.

    dataset: batched training data; `batches` of them are read each time. forward(model, batch): the model's
    training-mode forward pass (default: `model.batch_norm_forward(batch)`, which tfgm's VAEs provide).
    """

    def __init__(self, dataset, batches: int = 10, forward=None):
        super().__init__()
        if batches < 1:
            raise ValueError(f"BatchNormRecalibration needs batches >= 1, got {batches}")
        self.dataset = dataset
        self.batches = int(batches)
        self.forward = forward
        self._fresh = False

    def recalibrate(self) -> None:
        forward = self.forward or (lambda model, batch: model.batch_norm_forward(batch))
        recompute_batch_norm_statistics(self.model, self.dataset.take(self.batches),
                                        lambda batch: forward(self.model, batch))
        self._fresh = True

    def on_train_batch_end(self, batch, logs=None):
        self._fresh = False

    def on_test_begin(self, logs=None):
        if not self._fresh:
            self.recalibrate()

    def on_epoch_end(self, epoch, logs=None):
        if not self._fresh:
            self.recalibrate()

    def on_train_end(self, logs=None):
        if not self._fresh:
            self.recalibrate()
