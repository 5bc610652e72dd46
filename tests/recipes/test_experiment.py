"""recipes._experiment.Experiment: the skeleton's exit codes, messages, run folder, lock and summary."""

import dataclasses
import json
import os
import subprocess
import sys

import pytest

from recipes._cli import CommonConfig
from recipes._experiment import Experiment


@dataclasses.dataclass
class Config(CommonConfig):
    size: int = dataclasses.field(default=4, metadata={"help": "a recipe setting"})
    fail: str = dataclasses.field(default="", metadata={"help": "check | load | train_data | diverge | evaluate"})
    every: int = dataclasses.field(default=1, metadata={"help": "a setting with a least value", "min": 1})

    @staticmethod
    def quick_overrides():
        return {"size": 2}


class Toy(Experiment):
    recipe = "toy"
    config = Config
    description = "A toy experiment."

    def check(self, cfg):
        if cfg.fail == "check":
            raise ValueError("--fail check: bad flag")

    def load(self, cfg):
        from tfgm.data import DataError

        if cfg.fail == "load":
            raise DataError("no such dataset")
        return list(range(cfg.size))

    def train(self, data):
        from tfgm.data import DataError
        from tfgm.training import TrainingDiverged

        if self.cfg.fail == "train_data":
            raise DataError("too few examples")
        if self.cfg.fail == "diverge":
            raise TrainingDiverged("loss is NaN at step 3", "loss", float("nan"), 3, 1, None)
        assert os.path.exists(os.path.join(self.run.path, "run.lock"))
        return {}

    def evaluate(self, models, data):
        from tfgm.data import DataError

        if self.cfg.fail == "evaluate":
            raise DataError("the test split has no labels")
        return {"total": sum(data), "epochs": self.cfg.stage_epochs(7)}

    def summary(self, models, metrics):
        return f"total {metrics['total']}"


def _main(tmp_path, *flags):
    return Toy().main(["--out", str(tmp_path), "--name", "r", *flags])


def test_a_finished_run_writes_metrics_summary_and_releases_its_lock(tmp_path, capsys):
    assert _main(tmp_path, "--quick") == 0
    run = tmp_path / "toy" / "r"
    assert json.load(open(run / "metrics.json")) == {"total": 1, "epochs": 7}  # --quick: size 2
    assert (run / "summary.txt").read_text() == "total 1\n"
    assert json.load(open(run / "config.json"))["size"] == 2
    assert not (run / "run.lock").exists()
    out = capsys.readouterr().out
    assert "total 1" in out and f"run directory: {run}" in out
    config = (run / "config.json").read_text()
    assert _main(tmp_path, "--resume", "--quick", "--epochs", "3") == 2  # would train nothing: said, not written
    err = capsys.readouterr().err
    assert "--epochs: saved 0, now 3: every stage of this run finished" in err and "start a new run" in err
    assert (run / "config.json").read_text() == config and json.load(open(run / "metrics.json"))["epochs"] == 7
    assert json.load(open(run / "stages.json"))["complete"] is True
    assert _main(tmp_path, "--resume", "--quick") == 0  # re-evaluates


@pytest.mark.parametrize("fail", ["", "evaluate"])
def test_a_run_leaves_the_callers_dtype_policy_whatever_its_precision_and_outcome(tmp_path, fail):
    import keras

    keras.mixed_precision.set_global_policy("float16")
    try:
        _main(tmp_path / fail, "--precision", "mixed_bfloat16", "--fail", fail)
        assert keras.mixed_precision.global_policy().name == "float16"
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("fail,status,message,folder", [
    ("check", 2, "\n--fail check: bad flag", False),
    ("load", 2, "\ndata: no such dataset", False),
    ("train_data", 2, "\ndata: too few examples", True),
    ("diverge", 1, "\nstopped: loss is NaN at step 3", True),
    ("evaluate", 2, "\ndata: the test split has no labels", True),
])
def test_user_errors_and_divergence_give_one_message_and_their_exit_status(tmp_path, capsys, fail, status, message,
                                                                            folder):
    assert _main(tmp_path, "--fail", fail) == status
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    run = tmp_path / "toy" / "r"
    assert run.exists() == folder  # flags and data are checked before the run folder is made
    assert not (run / "run.lock").exists()


def test_a_name_or_resume_that_does_not_fit_the_folders_is_a_user_error(tmp_path, capsys):
    assert Toy().main(["--out", str(tmp_path), "--resume"]) == 2
    assert "--resume needs --name" in capsys.readouterr().err
    assert _main(tmp_path) == 0
    assert _main(tmp_path) == 2  # the folder exists: a second run must not write over it
    assert "already exists" in capsys.readouterr().err


def test_a_run_folder_in_use_by_a_live_process_is_refused_and_a_dead_ones_lock_is_taken_over(tmp_path, capsys):
    assert _main(tmp_path) == 0
    lock = tmp_path / "toy" / "r" / "run.lock"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock.write_text(json.dumps({"pid": sleeper.pid, "host": os.uname().nodename}))
        config_before = (tmp_path / "toy" / "r" / "config.json").read_text()
        assert _main(tmp_path, "--resume", "--size", "9") == 2
        assert f"in use by process {sleeper.pid}" in capsys.readouterr().err
        assert (tmp_path / "toy" / "r" / "config.json").read_text() == config_before  # nothing written
        assert lock.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    assert _main(tmp_path, "--resume") == 0  # its process is gone: the lock is stale
    assert not lock.exists()


def test_unknown_attributes_are_refused():
    with pytest.raises(TypeError, match="no attribute 'recipie'"):
        Toy(recipie="x")
    assert Toy(recipe="other").recipe == "other" and Toy.recipe == "toy"


def test_what_killed_writers_left_is_removed_when_the_run_resumes(tmp_path, capsys):
    assert _main(tmp_path) == 0
    run = tmp_path / "toy" / "r"
    leftovers = [run / "models" / ".vae.keras.0123456789ab.tmp.keras", run / ".metrics.json.abcdefabcdef.tmp",
                 run / "checkpoints" / "vae" / "ckpt-3_temp" / "part-00000-of-00001.data-00000-of-00001",
                 run / "export" / "savedmodel" / "vae" / ".tmp-1-0123abcd" / "saved_model.pb"]
    kept = [run / "checkpoints" / "vae" / "ckpt-2.index", run / "models" / "vae.keras", run / "notes.tmp"]
    for path in leftovers + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 1000)
    assert _main(tmp_path, "--resume") == 0
    assert "removed 4 temporary file(s) an interrupted run left (0.0 MB)" in capsys.readouterr().out
    assert not any(p.exists() for p in leftovers) and all(p.exists() for p in kept)
    assert not (run / "checkpoints" / "vae" / "ckpt-3_temp").exists()


class Staged(Toy):
    """Two stages: "first" depends on --size, "second" on --fail, the evaluation on --extra."""

    stage_flags = {"fail": ("second",), "extra": ()}

    def train(self, data):
        from tfgm.data import DataError
        from tfgm.training.resume_changes import record_stage

        record_stage(self.run.path, "first", self.cfg.stage_epochs(2))
        if self.cfg.fail == "second":  # stopped before the second stage trained
            raise DataError("stopped before the second stage")
        os.makedirs(os.path.join(self.run.checkpoints_dir, "second"), exist_ok=True)
        open(os.path.join(self.run.checkpoints_dir, "second", "ckpt-1.index"), "w").close()
        return {}


@dataclasses.dataclass
class StagedConfig(Config):
    extra: int = 0


def test_resume_accepts_a_flag_of_stages_not_started_and_refuses_one_of_a_trained_stage(tmp_path, capsys):
    def main(*flags):
        return Staged(config=StagedConfig).main(["--out", str(tmp_path), "--name", "r", *flags])

    assert main("--fail", "second") == 2
    capsys.readouterr()
    run = tmp_path / "toy" / "r"
    assert main("--resume", "--fail", "", "--epochs", "5") == 0  # --fail only affects "second": not started
    out = capsys.readouterr().out
    assert "resume: --fail: saved 'second', now '': accepted, it affects only stage(s) not started yet (second)" in out
    assert "resume: --epochs: saved 0, now 5: accepted, it sets the epochs of the stages not finished yet; the " \
           "finished ones keep theirs: first (2 epochs)" in out
    assert json.load(open(run / "config.json"))["epochs"] == 5
    assert len(json.load(open(run / "environment.json"))["resumes"][0]["changed_flags"]) == 2
    assert main("--resume", "--epochs", "5", "--extra", "3") == 0  # evaluation only
    assert "it affects only the evaluation, which this resume runs again" in capsys.readouterr().out
    for flags, message in [(["--fail", "second"], "--fail: saved '', now 'second': it affects stage(s) second, "
                                                  "which already trained with ''; rerun with --fail "),
                           (["--size", "9"], "--size: saved 4, now 9: the stages trained so far (first, second) used "
                                             "4; rerun with --size 4, or start a new run with another --name")]:
        config = (run / "config.json").read_text()
        assert main("--resume", "--epochs", "5", "--extra", "3", *flags) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
        assert (run / "config.json").read_text() == config


def test_verbose_adds_the_traceback_to_a_user_error(tmp_path, capsys):
    assert _main(tmp_path, "--fail", "train_data") == 2
    assert "Traceback" not in capsys.readouterr().err
    assert _main(tmp_path, "--fail", "train_data", "--resume", "--verbose") == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.rstrip().endswith("data: too few examples")


def test_a_full_disk_during_training_is_a_user_error_that_says_how_to_go_on(tmp_path, capsys, monkeypatch):
    import errno

    def full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Toy, "train", full)
    assert _main(tmp_path) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and "--resume --name r (nothing saved is lost)" in err
    assert "Traceback" not in err


def test_a_flag_below_the_least_value_its_field_declares_is_refused_before_any_work(tmp_path, capsys):
    assert _main(tmp_path, "--every", "0") == 2
    err = capsys.readouterr().err
    assert "--every 0: must be ≥ 1" in err and "Traceback" not in err
    assert not (tmp_path / "toy").exists()


class Fits(Toy):
    """One real training stage on `self.batches`."""

    def train(self, data):
        import keras

        def build():
            model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
            model.compile("sgd", "mse")
            return model

        return {"net": self.stage("net", build, {"x": self.batches, "epochs": self.cfg.stage_epochs(1)})}


def test_training_data_that_makes_no_batch_is_a_data_error_not_an_untrained_model(tmp_path, capsys):
    import tensorflow as tf

    experiment = Fits()
    experiment.batches = tf.data.Dataset.from_tensor_slices(([[0.0]] * 10, [[0.0]] * 10)).batch(25, drop_remainder=True)
    assert experiment.main(["--out", str(tmp_path), "--name", "r"]) == 2
    err = capsys.readouterr().err
    assert "data: [net] the training data makes no batch" in err and "Traceback" not in err
    assert not (tmp_path / "toy" / "r" / "models" / "net.keras").exists()


def test_a_checkpoint_of_another_architecture_is_a_user_error(tmp_path, capsys, monkeypatch):
    from tfgm.training.checkpoint import CheckpointMismatch

    def mismatch(self, data):
        raise CheckpointMismatch("checkpoint ckpt-1 does not match the objects to restore")

    monkeypatch.setattr(Toy, "train", mismatch)
    assert _main(tmp_path) == 2
    err = capsys.readouterr().err
    assert "does not match the objects to restore" in err and "Traceback" not in err


class Killed(BaseException):
    """Raised by `kill_after_epoch`: the process dies right after a checkpoint."""


def kill_after_epoch(patch, epochs):
    """Make every stage raise `Killed` right after the checkpoint of epoch `epochs` (patch: a monkeypatch context)."""
    from tfgm.training import checkpoint as checkpoint_module

    save = checkpoint_module.ResumableCheckpoint.on_epoch_end

    def on_epoch_end(self, epoch, logs=None):
        save(self, epoch, logs)
        if epoch + 1 == epochs:
            raise Killed()

    patch.setattr(checkpoint_module.ResumableCheckpoint, "on_epoch_end", on_epoch_end)


def test_resuming_a_stage_with_fewer_epochs_than_it_trained_is_refused(tmp_path, capsys, monkeypatch):
    import tensorflow as tf

    experiment = Fits()
    experiment.batches = tf.data.Dataset.from_tensor_slices(([[0.0]] * 4, [[1.0]] * 4)).batch(2)
    with monkeypatch.context() as patch:
        kill_after_epoch(patch, 2)
        with pytest.raises(Killed):
            experiment.main(["--out", str(tmp_path), "--name", "r", "--epochs", "3"])
    assert experiment.main(["--out", str(tmp_path), "--name", "r", "--epochs", "1", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "--epochs: saved 3, now 1: stage(s) net (2 epochs) trained more epochs already; resume with " \
           "--epochs 2" in err
    assert not (tmp_path / "toy" / "r" / "models" / "net.keras").exists()
    assert json.load(open(tmp_path / "toy" / "r" / "config.json"))["epochs"] == 3  # nothing written
    assert experiment.main(["--out", str(tmp_path), "--name", "r", "--resume"]) == 2  # the stage's default: 1
    assert "[net] trained 2 epochs before this resume, more than the 1 asked for now: resume with --epochs 2" in \
        capsys.readouterr().err
    assert experiment.main(["--out", str(tmp_path), "--name", "r", "--epochs", "3", "--resume"]) == 0
    assert json.load(open(tmp_path / "toy" / "r" / "stages.json"))["finished"] == {"net": {"epochs": 3}}


class Budgeted(Fits):
    """`Fits` whose stage takes its epochs from --net-epochs."""

    epoch_flags = {"net": "net_epochs"}

    def load(self, cfg):
        self.loaded = True
        return super().load(cfg)

    def train(self, data):
        import keras

        def build():
            model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
            model.compile("sgd", "mse")
            return model

        fit = {"x": self.batches, "epochs": self.cfg.stage_epochs(self.cfg.net_epochs)}
        return {"net": self.stage("net", build, fit)}


@dataclasses.dataclass
class BudgetConfig(Config):
    net_epochs: int = dataclasses.field(default=1, metadata={"help": "epochs of the net"})


def test_zero_epoch_budgets_and_a_resume_with_fewer_epochs_than_trained_are_refused_before_any_work(
        tmp_path, capsys, monkeypatch):
    import tensorflow as tf

    experiment = Budgeted(config=BudgetConfig)
    experiment.batches = tf.data.Dataset.from_tensor_slices(([[0.0]] * 4, [[1.0]] * 4)).batch(2)
    assert experiment.main(["--out", str(tmp_path), "--name", "z", "--net-epochs", "0"]) == 2
    err = capsys.readouterr().err
    assert "--net-epochs 0: a stage of 0 epochs trains nothing; give ≥ 1" in err and "Traceback" not in err
    assert not hasattr(experiment, "loaded") and not (tmp_path / "toy").exists()
    with monkeypatch.context() as patch:
        kill_after_epoch(patch, 2)
        with pytest.raises(Killed):
            experiment.main(["--out", str(tmp_path), "--name", "r", "--epochs", "3"])
    del experiment.loaded
    capsys.readouterr()
    before = json.load(open(tmp_path / "toy" / "r" / "config.json"))
    assert experiment.main(["--out", str(tmp_path), "--name", "r", "--resume", "--epochs", "0"]) == 2
    out, err = capsys.readouterr()
    assert ("[net] trained 2 epochs before this resume, more than the 1 asked for now (--net-epochs 1): resume with "
            "--epochs 2 (or more)") in err
    assert err.count("\n") <= 2 and "Traceback" not in err and "Epoch" not in out
    assert not hasattr(experiment, "loaded")  # refused before the data was loaded or the run folder was touched
    assert json.load(open(tmp_path / "toy" / "r" / "config.json")) == before
    assert experiment.main(["--out", str(tmp_path), "--name", "r", "--resume", "--epochs", "3"]) == 0


def test_an_unreadable_file_met_inside_the_training_pipeline_is_one_data_error_naming_it(tmp_path, capsys):
    import tensorflow as tf

    from tfgm.data import _images

    def decode(x):
        readable = tf.debugging.Assert(tf.not_equal(x, 3.0), ["a garbled file"])
        with tf.control_dependencies([readable]):
            return tf.reshape(tf.identity(x), [1]), tf.reshape(x, [1])

    files = [f"img{i}.jpg" for i in range(6)]
    experiment = Fits()
    experiment.batches = _images.decode_each(tf.data.Dataset.range(6).map(lambda i: tf.cast(i, tf.float32)), decode,
                                             files).batch(2)
    assert experiment.main(["--out", str(tmp_path), "--name", "r"]) == 2
    err = capsys.readouterr().err
    assert "data: cannot read image img3.jpg (garbled, truncated or not an image); re-copy or remove it" in err
    assert "Traceback" not in err and err.strip().count("\n") == 0
