"""Mixed precision: one global Keras dtype policy per run, loss scaling, float32 at the model boundary.

Call ``set_precision(name)`` before any model is built (layers read the global policy when created).
Under ``mixed_float16``:

- Models whose ``compile`` passes one optimizer to ``keras.Model.compile`` (VAE, DiscRegVAE, Fortified,
  plain Keras models) get it wrapped in ``keras.optimizers.LossScaleOptimizer`` by Keras itself
  (``auto_scale_loss=True``); their ``train_step`` calls ``self.optimizer.scale_loss(loss)`` and
  ``apply_gradients`` unscales and skips steps with non-finite gradients.
- Models with several optimizers (GAN, GibbsNet: ``compile(d_optimizer=..., g_optimizer=...)``) wrap
  each one themselves with ``loss_scale_optimizer(opt)`` (a no-op unless the policy is
  ``mixed_float16``); write the same in your own multi-optimizer models, or small float16 gradients
  underflow to zero.

``mixed_bfloat16`` keeps float32's exponent range and needs no loss scaling.
Likelihood math belongs in float32: tfgm's models cast what their losses read (encoder outputs, decoder
means, classifier features) to float32.
"""

from __future__ import annotations

import keras

from tfgm._cpu import cpu_flags  # noqa: F401  (re-exported)
from tfgm._precision import current_precision, loss_scale_optimizer  # noqa: F401  (re-exported)

POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")
PRECISIONS = POLICIES + ("auto",)
_NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def auto_precision(flags: frozenset[str] | None = None, has_gpu: bool | None = None) -> tuple[str, str]:
    """(policy, reason) for ``--precision auto``: ``mixed_bfloat16`` on a CPU-only machine whose CPU computes
    bfloat16 natively (AVX512_BF16 or AMX-BF16: oneDNN's bfloat16 kernels; 1.42× the float32 VAE step on a
    2-core Zen 4), else ``float32`` (GPUs stay float32: ``mixed_float16`` needs loss scaling and diverged in 1
    of 4 discreg runs, so it is asked for by name)."""
    if has_gpu is None:
        import tensorflow as tf

        has_gpu = bool(tf.config.list_physical_devices("GPU"))
    if has_gpu:
        return "float32", "a GPU is present (ask for mixed_float16 by name)"
    native = sorted((cpu_flags() if flags is None else flags) & set(_NATIVE_BF16_FLAGS))
    if native:
        return "mixed_bfloat16", f"this CPU computes bfloat16 natively ({', '.join(native)})"
    return "float32", "this CPU has no native bfloat16 (AVX512_BF16 / AMX-BF16)"


def resolve_precision(name: str) -> tuple[str, str]:
    """(policy, reason): ``name`` itself for a policy of ``POLICIES``, the machine's pick for ``"auto"``."""
    if name == "auto":
        return auto_precision()
    if name not in POLICIES:
        raise ValueError(f"unknown precision {name!r}; choose one of: {', '.join(PRECISIONS)}")
    return name, "asked for"


def set_precision(name: str) -> str:
    """Set Keras' global dtype policy to ``name`` (one of ``PRECISIONS``; ``"auto"``: `auto_precision`'s pick);
    return the previous policy name.

    Layers and models created afterwards compute in float16/bfloat16 with float32 variables.
    """
    name = resolve_precision(name)[0]
    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(name)
    return previous
