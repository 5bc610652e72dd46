import gc
import os
from types import SimpleNamespace

import keras
import numpy as np
import pytest
import tensorflow as tf
from .training_helpers import EpochRecorder, assert_same, make_model, seed_states

from tfgm.training import ResumableCheckpoint
from tfgm.training.checkpoint import CheckpointMismatch, _is_chief


def _fit(model, data, callbacks, epochs, initial_epoch=0):
    x, y = data
    return model.fit(
        x, y, batch_size=4, shuffle=False, epochs=epochs, initial_epoch=initial_epoch, callbacks=callbacks, verbose=0
    )


def _opt_state(model):
    return [np.array(v) for v in model.optimizer.variables]


def test_restore_weights_optimizer_and_continue(tmp_path, data):
    ckpt_dir = str(tmp_path / "ckpt")
    model = make_model(0)
    _fit(model, data, [ResumableCheckpoint(ckpt_dir, model=model)], epochs=1)
    weights, opt, seeds = model.get_weights(), _opt_state(model), seed_states(model)
    assert int(model.optimizer.iterations) == 4 and len(opt) > 2
    assert os.path.basename(tf.train.latest_checkpoint(ckpt_dir)) == "ckpt-1"

    fresh = make_model(1)
    assert not np.allclose(fresh.get_weights()[0], weights[0])
    ckpt = ResumableCheckpoint(ckpt_dir, model=fresh)
    assert ckpt.restore() == 1
    assert_same(fresh.get_weights(), weights)
    assert_same(_opt_state(fresh), opt)
    assert int(fresh.optimizer.iterations) == 4
    assert_same(seed_states(fresh), seeds)

    recorder = EpochRecorder()
    _fit(fresh, data, [ckpt, recorder], epochs=2, initial_epoch=1)
    assert recorder.epochs == [1]
    assert int(fresh.optimizer.iterations) == 8
    assert os.path.basename(ckpt.latest) == "ckpt-2"

    straight = make_model(0)
    _fit(straight, data, [], epochs=2)
    for a, b in zip(fresh.get_weights(), straight.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


class Killed(Exception):
    pass


class KillAtEpoch(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise Killed(f"killed at the start of epoch {epoch + 1}")


def test_interrupted_run_resumes_at_next_epoch_with_saved_weights(tmp_path, data):
    ckpt_dir = str(tmp_path / "ckpt")
    model = make_model(0)
    recorder = EpochRecorder()
    with pytest.raises(Killed):
        callbacks = [ResumableCheckpoint(ckpt_dir, max_to_keep=1, model=model), recorder, KillAtEpoch(1)]
        _fit(model, data, callbacks, epochs=3)
    assert recorder.epochs == [0]

    resumed = make_model(7)
    ckpt = ResumableCheckpoint(ckpt_dir, max_to_keep=1, model=resumed)
    start = ckpt.restore()
    assert start == 1
    assert_same(resumed.get_weights(), recorder.weights[0])
    again = EpochRecorder()
    _fit(resumed, data, [ckpt, again], epochs=3, initial_epoch=start)
    assert again.epochs == [1, 2]
    assert sorted(f for f in os.listdir(ckpt_dir) if f.endswith(".index")) == ["ckpt-3.index"]


def test_restore_without_checkpoint_and_errors(tmp_path):
    model = make_model(0)
    assert ResumableCheckpoint(str(tmp_path / "none"), model=model).restore() == 0
    with pytest.raises(ValueError, match="nothing to save"):
        ResumableCheckpoint(str(tmp_path))
    unbuilt = keras.Sequential([keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="not built"):
        ResumableCheckpoint(str(tmp_path / "none"), model=unbuilt).restore()


def test_other_architecture_is_refused(tmp_path, data):
    ckpt_dir = str(tmp_path / "ckpt")
    model = make_model(0)
    _fit(model, data, [ResumableCheckpoint(ckpt_dir, model=model)], epochs=1)
    wider = keras.Sequential([keras.Input((3,)), keras.layers.Dense(5), keras.layers.Dense(2)])
    smaller = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    no_dropout = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, "tanh"), keras.layers.Dense(2)])
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")  # a failed restore leaves pending values that TF reports when they are freed
    try:
        for other in (wider, smaller, no_dropout):
            other.compile(optimizer="adam", loss="mse")
            with pytest.raises(CheckpointMismatch, match="does not match"):  # a user error to the recipes
                ResumableCheckpoint(ckpt_dir, model=other).restore()
        del wider, smaller, no_dropout, other
        gc.collect()
    finally:
        logger.setLevel(level)


def test_non_finite_epoch_is_not_saved(tmp_path):
    ckpt = ResumableCheckpoint(str(tmp_path / "ckpt"), model=make_model(0))
    with pytest.warns(RuntimeWarning, match="not saved"):
        ckpt.on_epoch_end(0, {"loss": float("nan")})
    assert ckpt.latest is None and not os.path.exists(tmp_path / "ckpt")


def test_mirrored_fit_checkpoint_restores(tmp_path, data, mirrored):
    ckpt_dir = str(tmp_path / "ckpt")
    with mirrored.scope():
        model = make_model(0)
    _fit(model, data, [ResumableCheckpoint(ckpt_dir, model=model)], epochs=1)
    with mirrored.scope():
        fresh = make_model(3)
        ckpt = ResumableCheckpoint(ckpt_dir, model=fresh)
    assert ckpt.restore() == 1
    assert_same(fresh.get_weights(), model.get_weights())
    assert int(np.array(fresh.optimizer.iterations)) == int(np.array(model.optimizer.iterations)) == 4


def _fake_strategy(task_type, task_id, cluster):
    spec = SimpleNamespace(as_dict=lambda: cluster)
    return SimpleNamespace(cluster_resolver=SimpleNamespace(task_type=task_type, task_id=task_id, cluster_spec=lambda: spec))


def test_only_the_chief_writes(tmp_path, mirrored):
    assert _is_chief(tf.distribute.get_strategy()) and _is_chief(mirrored)
    assert _is_chief(_fake_strategy("chief", 0, {"chief": ["a"], "worker": ["b"]}))
    assert not _is_chief(_fake_strategy("worker", 0, {"chief": ["a"], "worker": ["b"]}))
    assert _is_chief(_fake_strategy("worker", 0, {"worker": ["a", "b"]}))
    assert not _is_chief(_fake_strategy("worker", 1, {"worker": ["a", "b"]}))

    model = make_model(0)
    for task_id, expected in ((1, None), (0, "ckpt-1")):
        ckpt = ResumableCheckpoint(str(tmp_path / f"w{task_id}"), model=model)
        ckpt.set_model(SimpleNamespace(distribute_strategy=_fake_strategy("worker", task_id, {"worker": ["a", "b"]})))
        ckpt.on_epoch_end(0, {"loss": 1.0})
        assert (ckpt.latest and os.path.basename(ckpt.latest)) == expected


@pytest.mark.parametrize("damage", ["truncated_data", "truncated_index"])
def test_a_damaged_newest_checkpoint_is_skipped_for_the_one_before_with_a_warning(tmp_path, data, damage):
    ckpt_dir = str(tmp_path / "ckpt")
    model = make_model(0)
    recorder = EpochRecorder()
    _fit(model, data, [ResumableCheckpoint(ckpt_dir, model=model), recorder], epochs=2)
    suffix = ".data-00000-of-00001" if damage == "truncated_data" else ".index"
    newest = os.path.join(ckpt_dir, "ckpt-2" + suffix)
    with open(newest, "r+b") as f:
        f.truncate(os.path.getsize(newest) // 2)
    resumed = make_model(7)
    with pytest.warns(RuntimeWarning, match=r"ckpt-2 .*resuming from .*ckpt-1"):
        assert ResumableCheckpoint(ckpt_dir, model=resumed).restore() == 1
    assert_same(resumed.get_weights(), recorder.weights[0])


def test_checkpoints_are_found_without_the_state_file(tmp_path, data):
    ckpt_dir = str(tmp_path / "ckpt")
    model = make_model(0)
    _fit(model, data, [ResumableCheckpoint(ckpt_dir, model=model)], epochs=2)
    os.remove(os.path.join(ckpt_dir, "checkpoint"))
    resumed = make_model(7)
    assert ResumableCheckpoint(ckpt_dir, model=resumed).restore() == 2
    assert_same(resumed.get_weights(), model.get_weights())
