import hashlib
import os

import numpy as np
import pytest
import tensorflow as tf

from tfgm.training import NaNGuard, ResumableCheckpoint, TrainingDiverged

from .training_helpers import EpochRecorder, assert_same, make_model


def _digest(folder):
    return {f: hashlib.sha256(open(os.path.join(folder, f), "rb").read()).hexdigest() for f in os.listdir(folder)}


def test_nan_loss_stops_with_step_and_last_good_checkpoint(tmp_path, data):
    x, y = data
    ckpt_dir = str(tmp_path / "ckpt")
    model = make_model(0)
    ckpt = ResumableCheckpoint(ckpt_dir, model=model)
    recorder = EpochRecorder()
    model.fit(x, y, batch_size=4, shuffle=False, epochs=1, callbacks=[NaNGuard(ckpt), ckpt, recorder], verbose=0)
    saved = _digest(ckpt_dir)

    x_bad = x.copy()
    x_bad[8:12] = np.nan  # third batch of each epoch
    with pytest.raises(TrainingDiverged) as err:
        model.fit(x_bad, y, batch_size=4, shuffle=False, initial_epoch=1, epochs=3,
                  callbacks=[ckpt, NaNGuard(ckpt), recorder], verbose=0)
    e = err.value
    assert isinstance(e, RuntimeError)
    assert (e.key, e.step, e.epoch) == ("loss", 4 + 3, 2) and np.isnan(e.value)
    msg = str(e)
    assert "loss = nan at step 7 (epoch 2/3, batch 3/4)" in msg
    assert "ckpt-1 (after epoch 1)" in msg and "--resume" in msg
    assert recorder.epochs == [0]
    assert _digest(ckpt_dir) == saved

    fresh = make_model(1)
    assert ResumableCheckpoint(ckpt_dir, model=fresh).restore() == 1
    assert_same(fresh.get_weights(), recorder.weights[0])
    assert all(np.isfinite(w).all() for w in fresh.get_weights())


def _guard(every=1, steps=4):
    guard = NaNGuard(every=every)
    guard.set_params({"steps": steps, "epochs": 2})
    guard.on_train_begin()
    guard.on_epoch_begin(1)
    return guard


def test_tensor_logs_and_loss_key_first():
    guard = _guard()
    guard.on_train_batch_end(0, {"acc": tf.constant(0.5), "loss": tf.constant(1.0)})
    with pytest.raises(TrainingDiverged, match=r"d_loss = inf at step 6 .*also non-finite: acc = nan") as err:
        guard.on_train_batch_end(1, {"acc": tf.constant(np.nan), "d_loss": tf.constant(np.inf)})
    assert err.value.checkpoint is None


def test_every_k_still_checks_last_batch_and_epoch_end():
    guard = _guard(every=10)
    for batch in range(3):
        guard.on_train_batch_end(batch, {"loss": float("nan")})
    with pytest.raises(TrainingDiverged, match="step 8 "):
        guard.on_train_batch_end(3, {"loss": float("nan")})
    with pytest.raises(TrainingDiverged, match="val_loss = nan .*end of epoch"):
        _guard().on_epoch_end(1, {"loss": 1.0, "val_loss": float("nan")})
