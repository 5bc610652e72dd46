"""The one shape of every recipe: a subclass of `Experiment` declares its config and its stages, the skeleton
owns the rest (flags, quiet start-up, seed, strategy, run directory, user errors → exit codes, resume, export,
the summary and the run's wall time).

    class Gan(Experiment):
        recipe, config = "gan_mnist", Config

        def load(self, cfg): ...                 # data; raise DataError on a bad dataset
        def train(self, data): ...               # self.stage(...) per model → {name: model}
        def evaluate(self, models, data): ...    # → metrics.json's content
        def summary(self, models, metrics): ...  # → the table printed last

    main = Gan(description=__doc__).main

Exit status: 0 done, 1 training diverged (`TrainingDiverged`), 2 a user error (a bad flag: `ValueError` from
`check`; a bad dataset: `DataError` from `load` or `train`; a `--name`/`--resume` that does not fit the run
folders, or changes a flag a trained stage depends on; a run folder another live process is working in; a
checkpoint of another architecture; a full or read-only disk) or a failed export check. User errors print one
message and no traceback (`--verbose` adds it); nothing already saved (checkpoints, finished stages) is lost, and
`--resume` goes on. The run folder is locked (`run.lock`) while the run works in it; `summary()`'s text is also
saved as summary.txt; stages.json records the finished stages (and their epochs) and when all of them are.

`--resume` accepts a changed flag only when no stage that trained depends on it; a recipe declares the flags
that affect only some stages in `stage_flags` ({field: (stage, ...)}; `()`: only the evaluation). A flag it
does not declare affects every stage. A recipe declares the flag that gives each stage's epochs in `epoch_flags`
({stage: field}; `epoch_flag(stage)` for stages named at run time): a zero-epoch budget, and a `--resume` that
asks a stage for fewer epochs than its checkpoint holds, are then refused before any work.
"""

import errno
import sys
import time
import traceback

from recipes._cli import CommonConfig, check_common, parse_config
from recipes._epoch_budgets import check_epoch_budgets
from recipes._run import export_models, start_run, train_stage


class Experiment:
    """A recipe's experiment. Class attributes (or keyword arguments, for families of recipes that share one
    subclass and differ in a few values): `recipe` (run-directory prefix), `config` (a dataclass deriving from
    `CommonConfig`, with `quick_overrides()`) and `description` (`--help`'s text).

    During `main`, `self.cfg`, `self.strategy` and (from `train` on) `self.run` hold the parsed config, the
    distribution strategy and the run directory (`tfgm.training.RunDir`).
    """

    recipe = ""
    config = CommonConfig
    description = ""
    stage_flags = {}
    epoch_flags = {}

    def __init__(self, **attributes):
        for key, value in attributes.items():
            if not hasattr(type(self), key):
                raise TypeError(f"{type(self).__name__} has no attribute {key!r} to set")
            setattr(self, key, value)

    # ---- what a recipe declares ---------------------------------------------------------------------------
    def arguments(self, argv):
        """The command line as the parser should see it (a hook for repeatable flags). argv: list of str."""
        return argv

    def check(self, cfg):
        """Raise ValueError for flags that cannot work, before any work (the common flags are checked already)."""

    def epoch_flag(self, stage):
        """The config field whose value (unless --epochs overrides it) is `stage`'s epochs; None: not declared."""
        return self.epoch_flags.get(stage)

    def load(self, cfg):
        """The data the stages need (anything; passed to `train` and `evaluate`). Runs after the seed and the
        strategy are set, before the run directory exists; raise `tfgm.data.DataError` for a bad dataset."""
        return None

    def train(self, data):
        """Train the stages (`self.stage`) and return {name: model}."""
        raise NotImplementedError

    def evaluate(self, models, data):
        """Metrics of the trained models: a JSON-able dict merged into the run's metrics.json, or None."""
        return None

    def exports(self, models):
        """{name: model} exported at the end (SavedModel + ONNX with parity checks); default: every model."""
        return models

    def summary(self, models, metrics):
        """The text printed at the end of the run (a table of the results beside the paper's)."""
        return ""

    # ---- what the skeleton provides -----------------------------------------------------------------------
    def stage(self, name, build, fit_kwargs, callbacks=(), sync_bn=None):
        """`recipes._run.train_stage` in this run: resumable, NaN-guarded, loaded when finished earlier;
        `sync_bn` (default: --sync-bn) synchronizes the built model's batch norm across replicas."""
        import os

        from tfgm.training.resume_changes import record_stage

        loaded = os.path.exists(self.run.model_path(name))  # finished earlier: its epochs were recorded then
        model = train_stage(self.run, self.strategy, name, build, fit_kwargs, callbacks,
                            self.cfg.sync_bn if sync_bn is None else sync_bn)
        record_stage(self.run.path, name, None if loaded else fit_kwargs.get("epochs", 1))
        return model

    def main(self, argv=None):
        """Run the experiment from a command line (default: sys.argv[1:]); returns the exit status."""
        argv = sys.argv[1:] if argv is None else list(argv)
        cfg = self.cfg = parse_config(self.config, self.description, self.arguments(argv))
        from tfgm.training import quiet_tensorflow

        quiet_tensorflow(cfg.verbose)
        try:
            check_common(cfg)
            self.check(cfg)
            check_epoch_budgets(self, cfg)
        except ValueError as exc:
            return self._user_error(exc)
        import keras

        policy = keras.mixed_precision.global_policy().name
        try:
            return self._run(cfg)
        finally:  # --precision sets Keras' global policy: a recipe called from Python leaves the caller's
            keras.mixed_precision.set_global_policy(policy)

    def _run(self, cfg):
        from tfgm.data import DataError
        from tfgm.training import RunLock, RunLocked, set_seed, strategy
        from tfgm.training.atomic import remove_stale_temporaries

        started = time.time()
        set_seed(cfg.seed, cfg.deterministic)
        self.strategy = strategy(cfg.strategy)  # before any tensor: multi-worker collectives are set at start-up
        try:
            data = self.load(cfg)
        except (ValueError, DataError) as exc:
            return self._user_error(exc, "data: " if isinstance(exc, DataError) else "")
        locks = []
        try:
            self.run = start_run(cfg, self.recipe, self.strategy, lock=lambda run: locks.append(RunLock(run).acquire()),
                                 stage_flags=self.stage_flags)
        except (ValueError, OSError, RunLocked) as exc:  # a --name / --resume that does not fit the folders there
            for lock in locks:
                lock.release()
            return self._user_error(exc)
        removed, freed = remove_stale_temporaries(self.run.path)
        if removed:
            print(f"removed {removed} temporary file(s) an interrupted run left ({freed / 1e6:.1f} MB)")
        try:
            return self._stages(data, started)
        finally:
            locks[0].release()
            self.run.cleanup()

    def _stages(self, data, started):
        import tensorflow as tf

        from tfgm.data import DataError
        from tfgm.data.errors import from_pipeline
        from tfgm.training import TrainingDiverged
        from tfgm.training.checkpoint import CheckpointMismatch
        from tfgm.training.resume_changes import ResumeConflict

        try:
            return self._train_and_report(data, started)
        except DataError as exc:
            return self._user_error(exc, "data: ")
        except tf.errors.InvalidArgumentError as exc:  # bad input met inside a tf.data pipeline (a garbled image)
            error = from_pipeline(exc)
            if error is None:
                raise
            return self._user_error(error, "data: ")
        except (CheckpointMismatch, ResumeConflict) as exc:
            return self._user_error(exc)
        except OSError as exc:
            if exc.errno not in _DISK_ERRORS:
                raise
            return self._user_error(exc, f"cannot write to {self.run.path} (", "): free space or fix its permissions, "
                                    f"then continue with --resume --name {self.run.name} (nothing saved is lost)")
        except TrainingDiverged as exc:
            print(f"\nstopped: {exc}", file=sys.stderr)
            return 1

    def _train_and_report(self, data, started):
        from tfgm.training.resume_changes import record_stage

        models = self.train(data)
        if self.run.is_chief:
            record_stage(self.run.path, complete=True)
        print("evaluating ...")
        metrics = self.evaluate(models, data)
        if metrics is not None:
            self.run.write_metrics(metrics)
        exports = self.exports(models)
        status = export_models(self.run, exports) if self.cfg.export and exports and self.run.is_chief else 0
        text = self.summary(models, metrics)
        if text:
            self.run.write_summary(text)
            print(f"\n{text}")
        print(f"\nrun directory: {self.run.path}  ({time.time() - started:.0f} s)")
        return status

    def _user_error(self, exc, prefix="", suffix=""):
        """Print one message for a user error (its traceback too under --verbose); the exit status 2."""
        if getattr(self.cfg, "verbose", False):
            traceback.print_exception(exc, file=sys.stderr)
        print(f"\n{prefix}{exc}{suffix}", file=sys.stderr)
        return 2


_DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EROFS, errno.EPERM}
