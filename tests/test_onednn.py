"""tfgm turns TensorFlow's oneDNN CPU kernels on at import (tfgm/_onednn.py)."""

import os
import platform
import subprocess
import sys

from tfgm import _onednn

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
X86 = platform.machine().lower() in ("x86_64", "amd64")

PROBE = ("import os, warnings; warnings.simplefilter('always'); {first}\n"
         "from tfgm._onednn import onednn_enabled\n"
         "print(os.environ.get('TF_ENABLE_ONEDNN_OPTS'), onednn_enabled())")


def _probe(first, onednn_env):
    env = {k: v for k, v in os.environ.items() if k != _onednn.ENV}
    env.update({"PYTHONPATH": REPO, "TF_CPP_MIN_LOG_LEVEL": "3"}, **({} if onednn_env is None else {
        _onednn.ENV: onednn_env}))
    result = subprocess.run([sys.executable, "-c", PROBE.format(first=first)], capture_output=True, text=True,
                            env=env, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()[-2:], result.stderr


def test_import_tfgm_first_turns_onednn_on_and_a_users_choice_wins():
    (value, enabled), stderr = _probe("import tfgm, tensorflow", None)
    assert (value, enabled) == (("1", "True") if X86 else ("None", enabled))
    assert "oneDNN CPU kernels off" not in stderr
    (value, enabled), stderr = _probe("import tfgm, tensorflow", "0")
    assert (value, enabled) == ("0", "False")
    assert "oneDNN CPU kernels off" not in stderr


def test_advice_only_when_tensorflow_came_first_with_onednn_off_and_nobody_chose():
    assert "Import tfgm before tensorflow" in _onednn.late_import_advice(True, None, False, "x86_64")
    assert _onednn.late_import_advice(False, None, None, "x86_64") is None  # tfgm first: it chose
    assert _onednn.late_import_advice(True, "0", False, "x86_64") is None  # the user chose Eigen
    assert _onednn.late_import_advice(True, None, True, "x86_64") is None  # TensorFlow's default is oneDNN here
    assert _onednn.late_import_advice(True, None, False, "aarch64") is None


def test_environment_json_records_the_kernels():
    from tfgm.training.environment import environment_info

    assert environment_info(seed=0)["onednn_kernels"] is _onednn.onednn_enabled() is not None
