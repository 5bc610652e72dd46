"""Synchronized BN under MultiWorkerMirroredStrategy: two loopback workers (recipes.launch), each normalizing
with the global batch's statistics, in two BN layers of equal shape (their all-reduces must not be mixed up)."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

WORKER = textwrap.dedent('''
    import argparse, json, os
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np

    p = argparse.ArgumentParser()
    p.add_argument("--out"); p.add_argument("--strategy", default="default")
    args = p.parse_args()
    from tfgm.training import auto_shard_data, strategy, synchronize_batch_norm, task_info

    strat = strategy(args.strategy)
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, (4, 3)), rng.normal(5, 2, (4, 3))]).astype("float32")
    data = auto_shard_data(tf.data.Dataset.from_tensor_slices((x, np.zeros_like(x))).batch(8))
    keras.utils.set_random_seed(0)
    with strat.scope():  # momentum 0: moving statistics = the last batch's; learning rate 0: weights fixed
        model = keras.Sequential([keras.Input((3,)), keras.layers.BatchNormalization(momentum=0.0),
                                  keras.layers.Dense(3), keras.layers.BatchNormalization(momentum=0.0)])
        model.compile(keras.optimizers.SGD(0.0), loss="mse")
    assert synchronize_batch_norm(model) == 2
    model.fit(data, epochs=1, shuffle=False, verbose=0)
    stats = [[np.asarray(v).tolist() for v in (bn.moving_mean, bn.moving_variance)]
             for bn in (model.layers[0], model.layers[2])]
    # The second BN layer's input on the global batch (the first normalizes with what it stored).
    hidden = np.asarray(model.layers[1](model.layers[0](x, training=False)))
    result = {"stats": stats, "x": x.tolist(), "hidden": hidden.tolist()}
    with open(os.path.join(args.out, "worker%d.json" % task_info()["index"]), "w") as f:
        json.dump(result, f)
''')


def test_two_workers_normalize_with_the_global_batch_statistics(tmp_path):
    script = tmp_path / "w.py"
    script.write_text(WORKER)
    env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
    cmd = [sys.executable, "-m", "recipes.launch", "--workers", "2", "--timeout", "80", "--grace", "5",
           str(script), "--out", str(tmp_path)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=100)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        pytest.fail(f"launcher overran:\n{output}")
    assert proc.returncode == 0, output
    for index in (0, 1):
        result = json.loads((tmp_path / f"worker{index}.json").read_text())
        x, hidden = np.array(result["x"]), np.array(result["hidden"])
        (mean1, var1), (mean2, var2) = [(np.array(m), np.array(v)) for m, v in result["stats"]]
        assert np.abs(x[:4].mean(0) - x.mean(0)).min() > 1.0  # each worker's half alone is far from the whole
        np.testing.assert_allclose(mean1, x.mean(0), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(var1, x.var(0), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(mean2, hidden.mean(0), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(var2, hidden.var(0), rtol=1e-4, atol=1e-5)
