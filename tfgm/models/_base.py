"""Plumbing shared by tfgm's models: sub-models in the config, optimizers built inside the active scope."""

import keras


class SubmodelConfigMixin:
    """`get_config`/`from_config` for models whose constructor takes built Keras sub-models.

    Subclasses list those constructor arguments in `SUBMODELS` (each stored under the same attribute
    name) and return `self._config(other=...)` from `get_config`.
    """

    SUBMODELS = ()

    def _config(self, **values):
        config = {"name": self.name, "trainable": self.trainable}
        config.update({key: keras.saving.serialize_keras_object(getattr(self, key)) for key in self.SUBMODELS})
        config.update(values)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in cls.SUBMODELS:
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


class SingleOptimizerMixin:
    """`compile(optimizer)` over all trainable variables, built here (inside the strategy scope), and
    re-compiled on `keras.saving.load_model` so the saved optimizer state is restored too."""

    def compile(self, optimizer="adam", **kwargs):
        super().compile(optimizer=optimizer, **kwargs)
        self.optimizer.build(self.trainable_variables)

    def compile_from_config(self, config):
        self.compile(**keras.saving.deserialize_keras_object(config))
