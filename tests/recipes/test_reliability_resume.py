"""Resume is bit-for-bit: a run stopped at an epoch boundary and resumed (--deterministic) saves the same weights
and metrics as the uninterrupted run, on recipes (the data pipeline's position is part of the resumable state)."""

import json
import os
import zipfile

import numpy as np
import pytest

from tfgm.training import checkpoint as checkpoint_module


class Killed(BaseException):
    """Stands for the process being killed right after a checkpoint was saved."""


def _kill_after(monkeypatch, stage, epochs_done):
    save = checkpoint_module.ResumableCheckpoint.on_epoch_end

    def on_epoch_end(self, epoch, logs=None):
        save(self, epoch, logs)
        if os.path.basename(self.directory) == stage and epoch + 1 == epochs_done:
            raise Killed(f"{stage} after epoch {epochs_done}")

    monkeypatch.setattr(checkpoint_module.ResumableCheckpoint, "on_epoch_end", on_epoch_end)


def _weights(run, name):
    with zipfile.ZipFile(os.path.join(run, "models", f"{name}.keras")) as saved:
        with saved.open("model.weights.h5") as f:
            import h5py

            with h5py.File(f, "r") as h5:
                arrays = {}
                h5.visititems(lambda key, obj: arrays.__setitem__(key, obj[()]) if hasattr(obj, "shape") else None)
                return arrays


def _assert_same_run(a, b, models):
    assert json.load(open(os.path.join(a, "metrics.json"))) == json.load(open(os.path.join(b, "metrics.json")))
    for name in models:
        wa, wb = _weights(a, name), _weights(b, name)
        assert wa.keys() == wb.keys() and wa
        for key in wa:
            np.testing.assert_array_equal(wa[key], wb[key], err_msg=f"{name}: {key}")


def _resume_equals_uninterrupted(tmp_path, monkeypatch, main, recipe, flags, stage, models):
    flags = [*flags, "--deterministic", "--no-export", "--out", str(tmp_path)]
    assert main([*flags, "--name", "whole"]) == 0
    with monkeypatch.context() as patch:
        _kill_after(patch, stage, 1)
        with pytest.raises(Killed):
            main([*flags, "--name", "killed"])
    assert main([*flags, "--name", "killed", "--resume"]) == 0
    root = os.path.join(tmp_path, recipe)
    _assert_same_run(os.path.join(root, "whole"), os.path.join(root, "killed"), models)


def test_gan_mnist_killed_after_an_epoch_and_resumed_equals_the_uninterrupted_run(tmp_path, monkeypatch):
    from recipes import gan_mnist  # its batches come from recipes._data.batched: shuffled anew each epoch

    flags = ["--quick", "--train-examples", "128", "--gan-epochs", "2", "--batch-size", "32", "--width", "4",
             "--latent-dim", "4", "--fid-network", "none", "--image-every", "2"]
    _resume_equals_uninterrupted(tmp_path, monkeypatch, gan_mnist.main, "gan_mnist", flags, "gan", ("gan",))


def test_gan_toy_with_steps_per_epoch_killed_and_resumed_equals_the_uninterrupted_run(tmp_path, monkeypatch):
    from recipes import gan_toy

    flags = ["--variant", "dcgan", "--variant-epochs", "2", "--steps-per-epoch", "3", "--batch-size", "32",
             "--hidden", "8", "--eval-samples", "100"]
    _resume_equals_uninterrupted(tmp_path, monkeypatch, gan_toy.main, "gan_toy", flags, "dcgan", ("dcgan",))
