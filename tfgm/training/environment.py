"""What a run ran on (``environment.json``), and a quiet TensorFlow.

This module imports TensorFlow only inside its functions, so that ``quiet_tensorflow`` can run
before TensorFlow's first import.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib.metadata
import logging
import os
import platform
import shlex
import socket
import sys
import tempfile
from typing import Any

_ENV_KEYS = (
    "CUDA_VISIBLE_DEVICES",
    "TF_CPP_MIN_LOG_LEVEL",
    "TF_ENABLE_ONEDNN_OPTS",
    "TF_DETERMINISTIC_OPS",
    "TF_XLA_FLAGS",
    "XLA_FLAGS",
)


def quiet_tensorflow(verbose: bool = False) -> None:
    """Silence TensorFlow's C++ info/warning lines and Python log chatter, unless ``verbose``.

    Sets ``TF_CPP_MIN_LOG_LEVEL=2`` (errors still print) unless the variable is already set, and the
    ``tensorflow``/``absl`` Python loggers to ERROR. TensorFlow prints some lines at import before its
    log level is read (oneDNN, CUDA stubs): if TensorFlow is not imported yet, it is imported here
    with stderr captured, and the capture is replayed only if the import fails. So call this first,
    before importing ``tensorflow``, ``keras`` or ``tfgm.models``, to hide everything.
    """
    if verbose:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" not in sys.modules:
        with _captured_stderr():
            import tensorflow as tf

            tf.config.list_physical_devices("GPU")
    import absl.logging
    import tensorflow as tf

    tf.get_logger().setLevel(logging.ERROR)
    absl.logging.set_verbosity(absl.logging.ERROR)
    tf.autograph.set_verbosity(0)


@contextlib.contextmanager
def _captured_stderr():
    """Redirect file descriptor 2 (C++ writes there too) to a temp file; replay it on error."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            capture.seek(0)
            sys.stderr.write(capture.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _op_determinism() -> bool | None:
    try:
        from tensorflow.python.framework import config
    except ImportError:
        return None
    check = getattr(config, "is_op_determinism_enabled", None)
    return bool(check()) if check else None


def environment_info(seed: int, strategy=None) -> dict[str, Any]:
    """Describe this process: versions, devices, seed, strategy, host, time and command line."""
    import keras
    import numpy as np
    import tensorflow as tf

    from tfgm import __version__ as tfgm_version
    from tfgm._onednn import onednn_enabled

    gpus = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        gpus.append({"name": gpu.name, **{k: str(v) for k, v in details.items()}})
    info: dict[str, Any] = {
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "hostname": socket.gethostname(),
        "command": shlex.join([os.path.basename(sys.executable), *sys.argv]),
        "cwd": os.getcwd(),
        "seed": seed,
        "versions": {
            "python": platform.python_version(),
            "tfgm": tfgm_version,
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "tensorflow_probability": _version("tensorflow-probability"),
            "numpy": np.__version__,
        },
        "platform": platform.platform(),
        "devices": {
            "physical": [d.name for d in tf.config.list_physical_devices()],
            "logical": [d.name for d in tf.config.list_logical_devices()],
            "gpus": gpus,
        },
        "op_determinism": _op_determinism(),
        "onednn_kernels": onednn_enabled(),
        "precision": keras.mixed_precision.global_policy().name,
        "environment_variables": {k: os.environ[k] for k in _ENV_KEYS if k in os.environ},
    }
    if strategy is not None:
        info["strategy"] = {
            "class": type(strategy).__name__,
            "num_replicas_in_sync": int(strategy.num_replicas_in_sync),
        }
    return info
