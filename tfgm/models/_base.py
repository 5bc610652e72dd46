"""Plumbing shared by tfgm's models: sub-models in the config, optimizers built inside the active scope, metric
trackers, the two-optimizer compile of adversarial models, the log-Z moving average, dense gradients."""

import copy

import keras
import tensorflow as tf

from tfgm._precision import loss_scale_optimizer


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
        for key in cls.SUBMODELS:  # a copy: Keras' Functional.from_config empties the dict it is given
            config[key] = keras.saving.deserialize_keras_object(copy.deepcopy(config[key]))
        return cls(**config)


class SingleOptimizerMixin:
    """`compile(optimizer)` over all trainable variables, built here (inside the strategy scope), and
    re-compiled on `keras.saving.load_model` so the saved optimizer state is restored too."""

    def compile(self, optimizer="adam", **kwargs):
        super().compile(optimizer=optimizer, **kwargs)
        self.optimizer.build(self.trainable_variables)

    def compile_from_config(self, config):
        self.compile(**keras.saving.deserialize_keras_object(config))


class TrackersMixin:
    """Running means of named per-example terms, as Keras metrics (reset every epoch by `fit`/`evaluate`).

    Call `self._init_trackers(names)` in `__init__`; `train_step`/`test_step` return
    `self._update_trackers(terms)` with `terms` a dict holding at least those names ([B] or scalar tensors).
    """

    def _init_trackers(self, names):
        self._trackers = {name: keras.metrics.Mean(name=name) for name in names}

    @property
    def metrics(self):
        return list(self._trackers.values())

    def _update_trackers(self, terms):
        for name, tracker in self._trackers.items():
            tracker.update_state(terms[name])
        return {name: tracker.result() for name, tracker in self._trackers.items()}


class TwoOptimizerMixin:
    """`compile(d_optimizer, g_optimizer)` for adversarial models: two optimizer objects (loss-scaled under
    mixed_float16), built here inside the active strategy scope, saved with the model and re-compiled on
    `keras.saving.load_model` so both optimizers' state is restored.

    Subclasses define `discriminator`, `generator_variables` (what `g_optimizer` updates) and may override
    `default_optimizer()` (used for an optimizer not given).
    """

    d_optimizer = None
    g_optimizer = None

    @staticmethod
    def default_optimizer():
        return keras.optimizers.Adam(2e-4, beta_1=0.5)

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        super().compile(optimizer=None, **kwargs)
        self.d_optimizer = loss_scale_optimizer(d_optimizer or self.default_optimizer())
        self.g_optimizer = loss_scale_optimizer(g_optimizer or self.default_optimizer())
        if self.d_optimizer is self.g_optimizer:
            raise ValueError("d_optimizer and g_optimizer must be two optimizer objects")
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator_variables)

    def get_compile_config(self):
        if self.d_optimizer is None:
            return None
        return {"d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
                "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer)}

    def compile_from_config(self, config):
        if config:
            self.compile(**{k: keras.saving.deserialize_keras_object(v) for k, v in config.items()})


def update_log_z(variable, logits, decay):
    """EMA of log Z = logsumexp(logits) − log N over the global batch: `variable ← decay·variable +
    (1 − decay)·log Z`. Under tf.distribute the replicas' logsumexps and counts are gathered (the mean of
    per-replica estimates would be biased low). logits: any shape; variable: a float32 scalar weight."""
    context = tf.distribute.get_replica_context()
    replicas = 1 if context is None else context.num_replicas_in_sync
    flat = tf.stop_gradient(tf.reshape(tf.cast(logits, tf.float32), [-1]))
    lse, count = tf.reduce_logsumexp(flat)[None], tf.cast(tf.size(flat), tf.float32)[None]
    if replicas > 1:
        lse, count = context.all_gather(lse, 0), context.all_gather(count, 0)
    batch_log_z = tf.reduce_logsumexp(lse) - tf.math.log(tf.reduce_sum(count))
    variable.assign(decay * variable + (1.0 - decay) * batch_log_z)


def dense_gradients(grads):
    """`grads` with every `tf.IndexedSlices` (an `Embedding`'s gradient) made a dense tensor (None kept). Keras 3's
    Adam updates IndexedSlices row by row with the square of each occurrence, not of their sum: with a token seen
    twice in a batch that is another optimizer than Adam."""
    return [None if g is None else tf.convert_to_tensor(g) for g in grads]
