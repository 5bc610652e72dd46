"""Multi-worker training on loopback: 2 workers == 1 worker, kill + resume, chief-only artifacts, launcher.

Workers are subprocesses started by `recipes.launch` (127.0.0.1 ports, bounded timeouts). The worker
program below is a recipe in miniature: a tiny VAE (Dense nets, no BN, ε fed with the batch so both
runs draw the same noise), `ResumableCheckpoint` for fault tolerance, artifacts only on the chief.
"""

import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EPOCHS, STEPS, BATCH = 3, 4, 8  # 3 epochs × 4 steps of global batch 8 (4 per worker)

WORKER = textwrap.dedent('''
    import argparse, os, signal, sys
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np


    def data():
        rng = np.random.default_rng(0)
        return {"image": rng.random((32, 4, 4, 1)).astype("float32"),
                "noise": rng.normal(size=(32, 2)).astype("float32")}


    def build():
        import keras
        from tfgm.models import VAE

        x = keras.Input((4, 4, 1))
        h = keras.layers.Dense(8, activation="tanh")(keras.layers.Flatten()(x))
        encoder = keras.Model(x, [keras.layers.Dense(2)(h), keras.layers.Dense(2)(h)])
        z = keras.Input((2,))
        out = keras.layers.Reshape((4, 4, 1))(keras.layers.Dense(16, activation="sigmoid")(z))
        model = VAE(encoder, keras.Model(z, out), likelihood="bernoulli")
        rng = np.random.default_rng(1)
        model.set_weights([0.3 * rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
        model.compile(keras.optimizers.Adam(0.05))
        return model


    class KillAt:
        """SIGKILL this worker at a global step (mid-epoch): an abrupt failure, no clean-up."""

        def __new__(cls, step):
            import keras

            class _Kill(keras.callbacks.Callback):
                def on_epoch_begin(self, epoch, logs=None):
                    self.epoch = epoch

                def on_train_batch_begin(self, batch, logs=None):
                    if self.epoch * 4 + batch == step:  # 4 steps per epoch
                        os.kill(os.getpid(), signal.SIGKILL)
            return _Kill()


    def main():
        p = argparse.ArgumentParser()
        p.add_argument("--out"); p.add_argument("--name"); p.add_argument("--epochs", type=int)
        p.add_argument("--resume", action="store_true"); p.add_argument("--strategy", default="default")
        p.add_argument("--kill-worker", type=int, default=-1); p.add_argument("--kill-at-step", type=int, default=-1)
        args = p.parse_args()
        from tfgm.training import ResumableCheckpoint, chief_run_dir, strategy, task_info

        strat = strategy(args.strategy)
        import tensorflow as tf
        from recipes._data import batched

        run = chief_run_dir(strat, args.out, "mw", args.name, resume=args.resume)
        print("scratch" if not run.is_chief else "chief", run.path, flush=True)
        train = batched(tf.data.Dataset.from_tensor_slices(data()), 8, drop_remainder=True)
        with strat.scope():
            model = build()
        ckpt = ResumableCheckpoint(run.checkpoints_dir, model=model)
        initial = ckpt.restore()
        callbacks = [ckpt]
        if task_info()["index"] == args.kill_worker:
            callbacks.append(KillAt(args.kill_at_step))
        history = model.fit(train, epochs=args.epochs, initial_epoch=initial, callbacks=callbacks, verbose=0)
        if run.is_chief:
            with open(os.path.join(run.path, "attempts.jsonl"), "a") as f:
                f.write('{"initial_epoch": %d, "epochs": %d}\\n' % (initial, len(history.history["loss"])))
            np.savez(os.path.join(run.path, "weights.npz"), *model.get_weights())
        run.write_metrics({"loss": history.history["loss"][-1]})  # goes to the scratch folder on workers
        run.cleanup()


    if __name__ == "__main__":
        main()
''')


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    path = tmp_path_factory.mktemp("prog") / "mw_worker.py"
    path.write_text(WORKER)
    return str(path)


def _launch(worker, out, *flags, workers=2, timeout=100):
    """Run the launcher in its own process group; kill the group if it overruns."""
    tmp = out / "tmp"  # the workers' and launcher's temporary folders go here, to check they are removed
    tmp.mkdir(exist_ok=True)
    env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3", TMPDIR=str(tmp))
    cmd = [sys.executable, "-m", "recipes.launch", "--workers", str(workers), "--timeout", str(timeout - 20),
           "--grace", "5", worker, "--out", str(out), *flags]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        pytest.fail(f"launcher overran {timeout} s:\n{output}")
    return proc.returncode, output


def _weights(run_path):
    with np.load(os.path.join(run_path, "weights.npz")) as f:
        return [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]


def _single_worker_weights(worker, epochs):
    spec = importlib.util.spec_from_file_location("mw_worker", worker)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import tensorflow as tf

    model = module.build()
    train = tf.data.Dataset.from_tensor_slices(module.data()).batch(BATCH, drop_remainder=True)
    model.fit(train, epochs=epochs, verbose=0)
    assert int(model.optimizer.iterations) == epochs * STEPS
    return model.get_weights()


@pytest.fixture(scope="module")
def two_worker_run(worker, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    code, output = _launch(worker, out, "--name", "straight", "--epochs", str(EPOCHS))
    assert code == 0, output
    return out, output


def test_two_workers_train_the_same_weights_as_one_worker_on_the_global_batch(worker, two_worker_run):
    out, _ = two_worker_run
    expected = _single_worker_weights(worker, EPOCHS)
    got = _weights(out / "mw" / "straight")
    moved = np.linalg.norm(np.concatenate([w.ravel() for w in expected]))
    assert moved > 0
    for a, b in zip(expected, got):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)


def test_only_the_chief_writes_and_worker_scratch_folders_are_removed(two_worker_run):
    out, output = two_worker_run
    run = out / "mw" / "straight"
    assert os.listdir(out / "mw") == ["straight"]
    assert {"weights.npz", "metrics.json", "attempts.jsonl", "checkpoints"} <= set(os.listdir(run))
    assert "scratch " + str(out / "tmp") in output or "chief" in output
    assert os.listdir(out / "tmp") == []  # worker 1's run folder and checkpoint scratch, launcher logs: removed
    assert "launch: 2 workers on 127.0.0.1:" in output


def test_a_worker_killed_mid_epoch_fails_the_job_and_a_restart_resumes_to_the_same_weights(worker, two_worker_run):
    out, _ = two_worker_run
    kill_step = STEPS + 2  # worker 1 dies in the middle of epoch 2 (index 1), after epoch 1's checkpoint
    code, output = _launch(worker, out, "--name", "killed", "--epochs", str(EPOCHS),
                           "--kill-worker", "1", "--kill-at-step", str(kill_step))
    assert code != 0 and "worker 1 exited with code -9" in output, output
    run = out / "mw" / "killed"
    assert sorted(os.listdir(run / "checkpoints")) == ["checkpoint", "ckpt-1.data-00000-of-00001", "ckpt-1.index"]
    assert not (run / "weights.npz").exists()

    code, output = _launch(worker, out, "--name", "killed", "--epochs", str(EPOCHS), "--resume")
    assert code == 0, output
    attempts = [json.loads(line) for line in (run / "attempts.jsonl").read_text().splitlines()]
    assert attempts == [{"initial_epoch": 1, "epochs": EPOCHS - 1}]  # no epoch lost, none run twice
    for a, b in zip(_weights(out / "mw" / "straight"), _weights(run)):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
