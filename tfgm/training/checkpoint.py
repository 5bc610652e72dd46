"""Resumable training: a ``tf.train.Checkpoint`` saved at every epoch end."""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import tempfile
import warnings

import keras
import tensorflow as tf

_SEED_STATE = "seed_generator_state"


class CheckpointMismatch(ValueError):
    """A checkpoint that does not fit the objects to restore (another architecture or optimizer)."""


def checkpoint_epoch(path: str | None) -> int | None:
    """The epoch count a ``ResumableCheckpoint`` file prefix records (``.../ckpt-3`` -> 3), or None."""
    match = re.search(r"-(\d+)$", path or "")
    return int(match.group(1)) if match else None


def checkpoints_newest_first(directory: str) -> list[str]:
    """Every checkpoint prefix in ``directory`` (``.../ckpt-N`` with its ``.index`` file), highest N first.
    Found by listing the folder, so a lost or stale ``checkpoint`` state file hides none."""
    if not os.path.isdir(directory):
        return []
    numbers = [int(m.group(1)) for m in (re.fullmatch(r"ckpt-(\d+)\.index", f) for f in os.listdir(directory)) if m]
    return [os.path.join(directory, f"ckpt-{n}") for n in sorted(numbers, reverse=True)]


def latest_checkpoint(directory: str) -> str | None:
    """The newest checkpoint prefix in ``directory`` (``.../ckpt-N``), or None."""
    found = checkpoints_newest_first(directory)
    return found[0] if found else None


def readable(path: str) -> str | None:
    """None when every tensor of checkpoint ``path`` reads back whole, else what failed (a truncated or damaged
    ``.index`` or ``.data`` file)."""
    try:
        reader = tf.train.load_checkpoint(path)
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
    except (tf.errors.OpError, ValueError, IndexError, RuntimeError) as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


def _is_chief(strategy) -> bool:
    """True unless ``strategy`` is multi-worker and this worker is not the chief."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type == "chief":
        return True
    cluster = resolver.cluster_spec().as_dict()
    return task_type == "worker" and task_id == 0 and "chief" not in cluster


class ResumableCheckpoint(keras.callbacks.Callback):
    """Save ``trackables`` and the epoch count to ``directory`` at every epoch end.

    ``ResumableCheckpoint(run.checkpoints_dir, model=model)`` saves the model's variables, the
    optimizer(s) it holds as attributes (``optimizer``, ``g_optimizer``, ...: slots and iterations) and
    the state of every ``keras.random.SeedGenerator`` inside it, as ``directory/ckpt-<epochs done>``,
    keeping the last ``max_to_keep``. Writes are atomic (``tf.train.CheckpointManager``). An epoch whose
    logs hold NaN/inf is not saved (a diverged state never becomes the latest checkpoint); put
    ``NaNGuard`` in the callbacks too to stop such a run. Under ``MultiWorkerMirroredStrategy`` every
    worker saves (it is a collective) but only the chief writes to ``directory``.

    Resume: build the model (and compile it) in the strategy scope, then
    ``initial_epoch = ckpt.restore()`` and ``model.fit(..., initial_epoch=initial_epoch, callbacks=[ckpt])``.
    """

    def __init__(self, directory: str, max_to_keep: int = 2, **trackables):
        super().__init__()
        if not trackables:
            raise ValueError("nothing to save: pass trackables, e.g. ResumableCheckpoint(directory, model=model)")
        if "epoch" in trackables:
            raise ValueError("'epoch' is reserved for the epoch counter; rename that trackable")
        self.directory = os.fspath(directory)
        self.max_to_keep = int(max_to_keep)
        self._trackables = dict(trackables)
        self._epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        seeds = {f"{key}_seed_states": self._seed_states(obj) for key, obj in trackables.items()}
        seeds = {key: states for key, states in seeds.items() if states}
        self._checkpoint = tf.train.Checkpoint(epoch=self._epoch, **trackables, **seeds)
        self._manager = None

    @staticmethod
    def _seed_states(obj) -> list:
        """SeedGenerator state variables of a Keras layer/model (the checkpoint graph misses them)."""
        variables = getattr(obj, "non_trainable_variables", None) or []
        return [v for v in variables if getattr(v, "path", "").endswith(_SEED_STATE)]

    def _get_manager(self, directory: str | None = None) -> tf.train.CheckpointManager:
        if directory is not None:
            return tf.train.CheckpointManager(
                self._checkpoint, directory, max_to_keep=self.max_to_keep, checkpoint_name="ckpt"
            )
        if self._manager is None:
            self._manager = self._get_manager(self.directory)
        return self._manager

    @property
    def latest(self) -> str | None:
        """Prefix of the newest checkpoint in ``directory`` (``.../ckpt-N``), or None."""
        return latest_checkpoint(self.directory)

    def _prepare(self) -> None:
        """Check models are built and build their unbuilt optimizers, so restore is immediate."""
        for key, obj in self._trackables.items():
            if isinstance(obj, keras.layers.Layer) and not obj.built:
                raise ValueError(
                    f"{key!r} is not built: build it (call it on a batch, or build(input_shape)) before restore()"
                )
            optimizer = getattr(obj, "optimizer", None)
            unbuilt = optimizer is not None and not getattr(optimizer, "built", True)
            if unbuilt and hasattr(obj, "trainable_variables"):
                scope = getattr(obj, "distribute_strategy", None)
                with scope.scope() if scope is not None else contextlib.nullcontext():
                    optimizer.build(obj.trainable_variables)

    def restore(self) -> int:
        """Restore the newest readable checkpoint, if any. Call before ``fit``.

        Returns the number of epochs it recorded, to pass as ``fit(initial_epoch=...)``; 0 if there is
        no checkpoint. A newest checkpoint that does not read back whole (a save killed mid-write, a damaged
        disk) is skipped for the one before it, with a warning naming both. Raises ``CheckpointMismatch`` (a
        ``ValueError``) if the checkpoint and the objects do not match one to one (another architecture or
        optimizer); the objects may then be partly overwritten: rebuild them.
        """
        self._prepare()
        path, damaged = None, []
        for candidate in checkpoints_newest_first(self.directory):
            problem = readable(candidate)
            if problem is None:
                path = candidate
                break
            damaged.append(f"{candidate} ({problem})")
        if damaged:
            warnings.warn(f"unreadable checkpoint(s) skipped: {'; '.join(damaged)}; "
                          + (f"resuming from {path}" if path else "no intact checkpoint: starting over"),
                          RuntimeWarning, stacklevel=2)
        if path is None:
            return 0
        _ = self._checkpoint.save_counter  # created on first access: create it so that it is restored too
        try:
            status = self._checkpoint.restore(path)
        except (ValueError, tf.errors.OpError) as exc:
            raise self._mismatch(path, exc) from exc
        try:
            status.assert_consumed()
        except AssertionError as exc:
            status.expect_partial()
            raise self._mismatch(path, exc) from exc
        return int(self._epoch.numpy())

    @staticmethod
    def _mismatch(path: str, exc: Exception) -> CheckpointMismatch:
        return CheckpointMismatch(
            f"checkpoint {path} does not match the objects to restore (another architecture or optimizer? "
            f"resume with the run's own config, or start a new run): {exc}"
        )

    def on_epoch_end(self, epoch, logs=None):
        bad = [k for k, v in (logs or {}).items() if isinstance(v, (int, float)) and not math.isfinite(v)]
        if bad:
            warnings.warn(f"epoch {epoch + 1}: non-finite {', '.join(bad)}; checkpoint not saved", RuntimeWarning)
            return
        self._epoch.assign(epoch + 1)
        strategy = getattr(self.model, "distribute_strategy", None) or tf.distribute.get_strategy()
        if _is_chief(strategy):
            self._get_manager().save(checkpoint_number=epoch + 1)
            return
        scratch = tempfile.mkdtemp(prefix="tfgm-worker-ckpt-")
        try:
            self._get_manager(scratch).save(checkpoint_number=epoch + 1)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
