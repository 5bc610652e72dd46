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
    fail: str = dataclasses.field(default="", metadata={"help": "check | load | train_data | diverge"})

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
    assert _main(tmp_path, "--resume", "--quick", "--epochs", "3") == 0
    assert json.load(open(run / "metrics.json"))["epochs"] == 3


@pytest.mark.parametrize("fail,status,message,folder", [
    ("check", 2, "\n--fail check: bad flag", False),
    ("load", 2, "\ndata: no such dataset", False),
    ("train_data", 2, "\ndata: too few examples", True),
    ("diverge", 1, "\nstopped: loss is NaN at step 3", True),
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
