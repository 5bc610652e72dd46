"""benchmarks/profile_step.py: the op-type table of a profiler trace (kernel time, counts, oneDNN share)."""

import glob
import os

import numpy as np
import pytest
import tensorflow as tf

from benchmarks import profile_step


def test_a_trace_of_convolutions_and_an_elementwise_op_is_ranked_by_op_type(tmp_path):
    kernel = tf.constant(np.random.default_rng(0).normal(size=(5, 5, 8, 32)).astype("float32"))
    images = tf.constant(np.random.default_rng(1).normal(size=(16, 32, 32, 8)).astype("float32"))
    step = tf.function(lambda x: tf.nn.tanh(tf.nn.conv2d(tf.nn.conv2d(x, kernel[..., :8], 1, "SAME"), kernel, 1,
                                                         "SAME")))
    step(images).numpy()
    tf.profiler.experimental.start(str(tmp_path))
    for _ in range(2):
        step(images).numpy()
    tf.profiler.experimental.stop()
    times = profile_step.op_times(glob.glob(os.path.join(tmp_path, "plugins", "profile", "*", "*.xplane.pb"))[0])
    convolutions = {op: v for op, v in times.items() if "Conv2D" in op}
    assert sum(count for _, count in convolutions.values()) == 4  # 2 calls × 2 convolutions
    assert times["Tanh"][1] == 2 and times["Tanh"][0] > 0
    assert not any("::" in op or op in ("Process", "Run") for op in times)  # executor events are not ops
    text = profile_step.table("toy", 16, 2, 0.5, times, top=1)
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| op type")]
    assert max(convolutions, key=lambda op: convolutions[op][0]) in rows[0] and "other op types" in rows[1]


def test_bad_flags_are_refused_before_any_work(capsys):
    with pytest.raises(SystemExit) as exit_info:
        profile_step.main(["dcgan", "--calls", "0"])
    assert exit_info.value.code == 2 and "--calls and --top must be ≥ 1" in capsys.readouterr().err
