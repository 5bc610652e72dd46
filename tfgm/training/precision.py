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

from tfgm._precision import current_precision, loss_scale_optimizer  # noqa: F401  (re-exported)

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


def set_precision(name: str) -> str:
    """Set Keras' global dtype policy to ``name`` (one of ``PRECISIONS``); return the previous policy name.

    Layers and models created afterwards compute in float16/bfloat16 with float32 variables.
    """
    if name not in PRECISIONS:
        raise ValueError(f"unknown precision {name!r}; choose one of: {', '.join(PRECISIONS)}")
    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(name)
    return previous
