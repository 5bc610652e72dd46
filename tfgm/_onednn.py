"""TensorFlow's oneDNN CPU kernels on every x86 CPU, not only on the CPUs TensorFlow picks them for.

TensorFlow 2.21 turns its oneDNN kernels on by default only where the CPU has AVX512_VNNI, AVX512_BF16, AVX-VNNI
or AMX; elsewhere (e.g. AMD Zen 3, AVX2 only) convolutions run on Eigen's kernels, which made every tfgm train
step 1.4–2.0× slower on a 2-core Zen 3 (BUILD.md, Benchmarks). TensorFlow reads ``TF_ENABLE_ONEDNN_OPTS`` once,
when it is imported, so ``import tfgm`` sets it (unless the user did) before TensorFlow's first import.
"""

from __future__ import annotations

import os
import platform
import sys
import warnings

ENV = "TF_ENABLE_ONEDNN_OPTS"
_X86 = ("x86_64", "amd64")


def prefer_onednn() -> bool:
    """Default ``TF_ENABLE_ONEDNN_OPTS`` to 1 on x86 if TensorFlow is not imported yet; True if it set it."""
    if "tensorflow" in sys.modules or ENV in os.environ or platform.machine().lower() not in _X86:
        return False
    os.environ[ENV] = "1"
    return True


def onednn_enabled() -> bool | None:
    """Whether this process' TensorFlow runs its oneDNN kernels (None: TensorFlow does not say)."""
    try:
        from tensorflow.python.util import _pywrap_util_port
    except ImportError:
        return None
    return bool(_pywrap_util_port.IsMklEnabled())


def describe() -> str:
    """'on' / 'off' / 'unknown', and the variable as this process saw it: for benchmark headers and logs."""
    state = {True: "on", False: "off", None: "unknown"}[onednn_enabled()]
    return f"{state} ({ENV}={os.environ.get(ENV, 'unset')})"


def late_import_advice(imported_first: bool, env_value: str | None, enabled: bool | None,
                       machine: str) -> str | None:
    """The warning for a process where TensorFlow was imported before tfgm with its oneDNN kernels off and nobody
    chose (``TF_ENABLE_ONEDNN_OPTS`` unset) on an x86 CPU; None when there is nothing to say."""
    if not imported_first or env_value is not None or enabled is not False or machine.lower() not in _X86:
        return None
    return ("TensorFlow was imported before tfgm, with its oneDNN CPU kernels off (TensorFlow's default on CPUs "
            "without AVX512_VNNI/AVX512_BF16/AMX): train steps run 1.4–2.0× slower on such CPUs. Import tfgm "
            f"before tensorflow, or set {ENV}=1 before starting Python ({ENV}=0 keeps Eigen's kernels and "
            "silences this).")


def at_import() -> None:
    """What ``import tfgm`` does: `prefer_onednn`, or warn with `late_import_advice` when it came too late."""
    if prefer_onednn():
        return
    imported = "tensorflow" in sys.modules
    advice = late_import_advice(imported, os.environ.get(ENV), onednn_enabled() if imported else None,
                                platform.machine())
    if advice:
        warnings.warn(advice, stacklevel=3)
