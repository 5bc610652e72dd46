"""Mixed-precision helpers shared by models (their own optimizers) and training (recipes)."""

import keras


def current_precision() -> str:
    """The name of the current global dtype policy (``"float32"``, ``"mixed_float16"``, ...)."""
    return keras.mixed_precision.global_policy().name


def loss_scale_optimizer(optimizer, policy: str | None = None):
    """Wrap ``optimizer`` in ``keras.optimizers.LossScaleOptimizer`` under ``mixed_float16``.

    ``policy``: the dtype policy name to decide on (default: the global policy). Returns ``optimizer``
    unchanged for other policies or when it is already a ``LossScaleOptimizer``. Strings
    (``"adam"``) are resolved with ``keras.optimizers.get`` first.
    """
    optimizer = keras.optimizers.get(optimizer)
    if (policy or current_precision()) != "mixed_float16" or isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer
    return keras.optimizers.LossScaleOptimizer(optimizer)
