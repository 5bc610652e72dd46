import dataclasses
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgm.training import RunDir, write_json_atomic


def _files(folder):
    return sorted(os.listdir(folder))


def test_layout(tmp_path):
    run = RunDir(tmp_path, "vae", "first")
    assert run.path == os.path.join(tmp_path, "vae", "first") == os.fspath(run) == str(run)
    assert os.path.isdir(run.path) and _files(run.path) == []
    for sub in ("models", "checkpoints", "logs", "images", "export"):
        path = getattr(run, f"{sub}_dir")
        assert path == os.path.join(run.path, sub) and os.path.isdir(path)
    assert run.model_path("generator") == os.path.join(run.path, "models", "generator.keras")
    with pytest.raises(ValueError, match="without '/'"):
        run.model_path("../evil")


def test_timestamp_names_do_not_clash(tmp_path):
    a = RunDir(tmp_path, "gan")
    open(os.path.join(a.path, "config.json"), "w").close()
    b = RunDir(tmp_path, "gan")
    assert a.path != b.path
    assert len(a.name) == len("YYYYmmdd-HHMMSS") and a.name[8] == "-" and a.name.replace("-", "").isdigit()


def test_refuses_to_overwrite_and_resume_needs_existing(tmp_path):
    run = RunDir(tmp_path, "vae", "x")
    run.write_config({"lr": 1e-3})
    with pytest.raises(FileExistsError, match="--resume.*--name"):
        RunDir(tmp_path, "vae", "x")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        RunDir(tmp_path, "vae", "missing", resume=True)
    with pytest.raises(ValueError, match="--resume needs --name.*x"):
        RunDir(tmp_path, "vae", resume=True)
    assert RunDir(tmp_path, "vae", "x", resume=True).path == run.path


@dataclasses.dataclass
class Config:
    lr: float = 1e-3
    epochs: int = 5
    betas: tuple = (0.5, 0.999)
    verbose: bool = False


def test_config_mismatch_on_resume(tmp_path):
    RunDir(tmp_path, "vae", "r").write_config(Config())
    saved = json.load(open(os.path.join(tmp_path, "vae", "r", "config.json")))
    assert saved == {"lr": 1e-3, "epochs": 5, "betas": [0.5, 0.999], "verbose": False}

    resumed = RunDir(tmp_path, "vae", "r", resume=True)
    resumed.write_config(Config(epochs=10, verbose=True))
    assert json.load(open(resumed.config_path))["epochs"] == 10
    with pytest.raises(ValueError, match=r"lr: saved 0\.001, now 0\.002") as err:
        resumed.write_config(Config(lr=2e-3, betas=(0.0, 0.9)))
    assert "betas" in str(err.value) and "epochs" not in str(err.value)
    with pytest.raises(ValueError, match="seed: saved '\\(absent\\)', now 1"):
        resumed.write_config({**dataclasses.asdict(Config()), "seed": 1})
    resumed.write_config({**dataclasses.asdict(Config()), "seed": 1}, mutable=["seed"])
    assert json.load(open(resumed.config_path))["seed"] == 1


def test_metrics_merge_and_atomicity(tmp_path):
    run = RunDir(tmp_path, "vae", "m")
    assert run.read_metrics() == {}
    run.write_metrics({"nll": {"value": 88.5, "protocol": "IWAE k=5000"}, "fid": 31.0})
    run.write_metrics({"fid": np.float32(30.5), "acc": tf.constant(0.75), "bad": float("nan"), "inf": np.inf})
    assert run.read_metrics() == {
        "nll": {"value": 88.5, "protocol": "IWAE k=5000"},
        "fid": 30.5,
        "acc": 0.75,
        "bad": None,
        "inf": None,
    }
    before = open(run.metrics_path).read()
    with pytest.raises(TypeError, match=r"\$\.obj"):
        run.write_metrics({"obj": object()})
    assert open(run.metrics_path).read() == before
    assert _files(run.path) == ["metrics.json"]


def test_write_json_atomic_failure_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "a.json"
    write_json_atomic(path, {"x": 1})

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        write_json_atomic(path, {"x": 2})
    assert json.load(open(path)) == {"x": 1}
    assert _files(tmp_path) == ["a.json"]


def test_environment_json(tmp_path, mirrored):
    run = RunDir(tmp_path, "vae", "e")
    run.write_environment(seed=42, strategy=mirrored)
    env = json.load(open(run.environment_path))
    assert env["seed"] == 42
    assert env["versions"]["tensorflow"] == tf.__version__ and env["versions"]["keras"] == keras.__version__
    assert {"python", "numpy", "tensorflow_probability", "tfgm"} <= set(env["versions"])
    assert env["strategy"] == {"class": "MirroredStrategy", "num_replicas_in_sync": 2}
    assert len([d for d in env["devices"]["logical"] if "CPU" in d]) == 2
    assert env["hostname"] and env["time"] and env["command"]
    RunDir(tmp_path, "vae", "e", resume=True).write_environment(seed=43)
    env2 = json.load(open(run.environment_path))
    assert env2["seed"] == 42 and [r["seed"] for r in env2["resumes"]] == [43]


def test_save_model_roundtrip(tmp_path):
    run = RunDir(tmp_path, "vae", "s")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    path = run.save_model(model, "decoder")
    assert path == run.model_path("decoder") and _files(run.models_dir) == ["decoder.keras"]
    loaded = keras.saving.load_model(path)
    x = np.ones((1, 3), "float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
