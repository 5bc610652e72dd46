"""Multi-worker runs: who is the chief, where each worker writes, how datasets are sharded.

Under ``MultiWorkerMirroredStrategy`` every worker runs the same program. Only the chief (task
``chief``, or ``worker`` 0 when the cluster has no ``chief``) writes the run directory: checkpoints,
images, metrics, models and exports. The other workers write to temporary folders that are removed
when they finish (``chief_run_dir``), and read the chief's checkpoints to resume, so the run
directory's root must be storage every worker can read (one machine, a shared filesystem, a bucket).
"""

from __future__ import annotations

import json
import os

import tensorflow as tf

from .checkpoint import _is_chief
from .run_dir import RunDir


def task_info() -> dict:
    """``{"type", "index", "num_workers", "is_chief"}`` from ``TF_CONFIG`` (a one-worker job without it).

    Reads the environment only (no strategy needed), e.g. to decide what to print before TensorFlow
    starts. Chief: task type ``chief``, or ``worker`` 0 when the cluster has no ``chief`` entry.
    """
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return {"type": "worker", "index": 0, "num_workers": 1, "is_chief": True}
    config = json.loads(raw)
    cluster, task = config.get("cluster", {}), config.get("task", {})
    kind, index = task.get("type", "worker"), int(task.get("index", 0))
    workers = len(cluster.get("worker", [])) + len(cluster.get("chief", []))
    chief = kind == "chief" or (kind == "worker" and index == 0 and "chief" not in cluster)
    return {"type": kind, "index": index, "num_workers": workers, "is_chief": chief}


def is_chief(strategy: tf.distribute.Strategy | None = None) -> bool:
    """True unless ``strategy`` (default: the current one) is multi-worker and this worker is not the chief."""
    return _is_chief(strategy if strategy is not None else tf.distribute.get_strategy())


def chief_run_dir(strategy: tf.distribute.Strategy, root, recipe: str, name: str | None = None,
                  resume: bool = False) -> RunDir:
    """``RunDir(root, recipe, name, resume)`` on the chief; a temporary, self-removing one elsewhere.

    Multi-worker runs need the same ``name`` on every worker (a timestamp may differ between hosts):
    pass ``--name``. See ``RunDir`` (``is_chief=False``) for what a non-chief worker's folder holds.
    """
    return RunDir(root, recipe, name, resume=resume, is_chief=is_chief(strategy))


def auto_shard_data(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """``dataset`` with ``AutoShardPolicy.DATA``: each worker keeps its share of every batch.

    The default policy (``AUTO``) shards by file and falls back to data when there are fewer files than
    workers; in-memory data and few-file datasets (TFDS with one or two shards, npz, generated data)
    must shard by data, or workers would read the same examples or nothing. Harmless with one worker.
    """
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


PATCHED_KERAS_VERSIONS = ("3.15",)  # major.minor versions whose private trainer functions the patch replaces
_PATCHED_NAMES = ("TensorFlowTrainer", "reduce_per_replica", "_collective_all_reduce_multi_worker")


def check_patchable_keras(version: str | None = None, trainer_module=None):
    """The Keras trainer module the multi-worker patch replaces functions of; a clear RuntimeError when the
    installed Keras (``version``, default ``keras.__version__``) is not one it was written for, or lacks them."""
    import keras

    version = keras.__version__ if version is None else version
    how = ("install a Keras the patch was written for (pip install 'keras==3.15.*'), or check that this Keras "
           "still needs it and add its version to tfgm.training.multiworker.PATCHED_KERAS_VERSIONS")
    if ".".join(version.split(".")[:2]) not in PATCHED_KERAS_VERSIONS:
        raise RuntimeError(f"multi-worker training replaces private Keras trainer functions written for Keras "
                           f"{', '.join(PATCHED_KERAS_VERSIONS)}; the installed Keras is {version}: {how}")
    if trainer_module is None:
        try:
            from keras.src.backend.tensorflow import trainer as trainer_module
        except ImportError as exc:
            raise RuntimeError(f"multi-worker training: Keras {version} has no keras.src.backend.tensorflow.trainer "
                               f"({exc}): {how}") from None
    missing = [n for n in _PATCHED_NAMES if not hasattr(trainer_module, n)]
    if missing or not hasattr(trainer_module.TensorFlowTrainer, "_maybe_symbolic_build"):
        raise RuntimeError(f"multi-worker training: Keras {version}'s trainer lacks "
                           f"{', '.join(missing) or 'TensorFlowTrainer._maybe_symbolic_build'}: {how}")
    return trainer_module


def patch_keras_symbolic_build() -> bool:
    """Work around Keras 3.15 ``fit`` failing at once under ``MultiWorkerMirroredStrategy`` with dict/tuple batches.

    Keras' ``TensorFlowTrainer._maybe_symbolic_build`` takes a sample batch by ``strategy.reduce("MEAN",
    batch)`` over the whole nested structure; ``CollectiveAllReduceStrategy`` cannot reduce a nest
    ("Attempt to convert a value ({'image': PerReplica...}) ... to a Tensor"). The sample only serves
    shapes and dtypes, so this replacement takes each leaf's first local value (no collective at all).
    Idempotent; returns True once the patch is in place. Called by ``strategy("multiworker")``; raises
    RuntimeError (``check_patchable_keras``) on a Keras it was not written for, before any work is done.
    """
    tf_trainer = check_patchable_keras()
    cls = tf_trainer.TensorFlowTrainer
    if getattr(cls._maybe_symbolic_build, "_tfgm_patched", False):
        return True
    original = cls._maybe_symbolic_build

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        if self._distribute_strategy is None or iterator is None:
            return original(self, iterator=iterator, data_batch=data_batch)
        import keras

        for _, _, it in iterator:
            batch = next(it)
            break
        else:
            return original(self, iterator=None, data_batch=data_batch)

        def local(value):
            if isinstance(value, tf.distribute.DistributedValues):
                return self.distribute_strategy.experimental_local_results(value)[0]
            return value

        with self.distribute_strategy.scope():
            self._symbolic_build(data_batch=keras.tree.map_structure(local, batch))

    _maybe_symbolic_build._tfgm_patched = True
    cls._maybe_symbolic_build = _maybe_symbolic_build

    # Same Keras version: the logs of a step (scalar metric results) are reduced with
    # strategy.reduce("MEAN", v, axis=0), which rejects scalars under this strategy. Reduce scalars over
    # replicas only (axis=None); everything else goes to Keras' own function.
    original_reduce = tf_trainer.reduce_per_replica

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and tf_trainer._collective_all_reduce_multi_worker(strategy):
            import keras

            def one(v):
                if v.shape.rank == 0:
                    return strategy.reduce("MEAN", v, axis=None)
                return original_reduce(v, strategy, reduction)

            return keras.tree.map_structure(one, values)
        return original_reduce(values, strategy, reduction)

    tf_trainer.reduce_per_replica = reduce_per_replica
    return True
