import os
import subprocess
import sys
import textwrap

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SCRIPT = textwrap.dedent(
    """
    import sys
    import tfgm.training as training
    from tfgm.training import quiet_tensorflow
    assert "tensorflow" not in sys.modules, "importing tfgm.training must not import TensorFlow"
    quiet_tensorflow()
    import tensorflow as tf
    tf.zeros([2]) + 1
    names = [getattr(training, name) for name in training.__all__]
    from tfgm.training.environment import _op_determinism
    from tfgm.training import set_seed
    assert _op_determinism() is False
    set_seed(1, deterministic=True)
    assert _op_determinism() is True
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("recipes", "export") or m.startswith("tfgm.models"))
    assert not leaked, leaked
    print("OK", len(names) == len(training.__all__) > 10)
    """
)


def test_quiet_tensorflow_import_boundaries_and_determinism():
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "PYTHONWARNINGS")}
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, cwd=REPO, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "OK True"
    noise = [line for line in result.stderr.splitlines() if line[:1] in "IWE" and line[1:5].isdigit()]
    assert noise == [], noise
    assert "oneDNN" not in result.stderr and "absl::InitializeLog" not in result.stderr
