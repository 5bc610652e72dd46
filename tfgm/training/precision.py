"""Mixed precision: one global Keras dtype policy per run, loss scaling, float32 at the model boundary.

Call ``set_precision(name)`` before any model is built (layers read the global policy when created).
Under ``mixed_float16``:

- Models whose ``compile`` passes one optimizer to ``keras.Model.compile`` (VAE, DiscRegVAE, Fortified,
  plain Keras models) get it wrapped in ``keras.optimizers.LossScaleOptimizer`` by Keras itself
  (``auto_scale_loss=True``); their ``train_step`` calls ``self.optimizer.scale_loss(loss)`` and
  ``apply_gradients`` unscales and skips steps with non-finite gradients.
- Models with several optimizers (GAN, GibbsNet: ``compile(d_optimizer=..., g_optimizer=...)`` call
  ``super().compile(optimizer=None)``) get no automatic wrapping: pass each optimizer through
  ``loss_scale_optimizer(opt)`` (a no-op unless the policy is ``mixed_float16``). Their steps already
  call ``<opt>.scale_loss``; on an unwrapped optimizer that is the identity, so without the wrapper
  small float16 gradients underflow to zero.

``mixed_bfloat16`` keeps float32's exponent range and needs no loss scaling.
Likelihood math belongs in float32: give the layers that produce model outputs (decoder means, encoder
``z_mean``/``z_log_var``, classifier features a loss reads) ``dtype="float32"``, or wrap a built
Functional sub-network with ``float32_outputs``.
"""

from __future__ import annotations

import keras

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


def precision() -> str:
    """The name of the current global dtype policy (``"float32"``, ``"mixed_float16"``, ...)."""
    return keras.mixed_precision.global_policy().name


def loss_scale_optimizer(optimizer, policy: str | None = None):
    """Wrap ``optimizer`` in ``keras.optimizers.LossScaleOptimizer`` under ``mixed_float16``.

    ``policy``: the dtype policy name to decide on (default: the global policy). Returns ``optimizer``
    unchanged for other policies or when it is already a ``LossScaleOptimizer``. Strings
    (``"adam"``) are resolved with ``keras.optimizers.get`` first.
    """
    optimizer = keras.optimizers.get(optimizer)
    if (policy or precision()) != "mixed_float16" or isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer
    return keras.optimizers.LossScaleOptimizer(optimizer)


def float32_outputs(model: keras.Model) -> keras.Model:
    """``model`` with every floating output cast to float32 (a Functional model over the same layers).

    Returns ``model`` itself when its outputs are already float32. The cast layers hold no weights, so
    weights and checkpoints are those of ``model``; dict, list and single outputs keep their structure.
    """
    outputs = model.output
    flat = keras.tree.flatten(outputs)
    if all(str(t.dtype) == "float32" or "float" not in str(t.dtype) for t in flat):
        return model
    used = set()

    def cast(tensor):
        if "float" not in str(tensor.dtype) or str(tensor.dtype) == "float32":
            return tensor
        base = tensor._keras_history.operation.name if hasattr(tensor, "_keras_history") else "output"
        name, n = f"{base}_float32", 1
        while name in used:
            n += 1
            name = f"{base}_float32_{n}"
        used.add(name)
        return keras.layers.Activation("linear", dtype="float32", name=name)(tensor)

    return keras.Model(model.inputs, keras.tree.map_structure(cast, outputs), name=model.name)
