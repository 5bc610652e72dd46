"""Fortified Networks (Lamb et al.; thesis §2.5): a classifier with DAE-fortified hidden layers and its train step."""

import math

import keras
import numpy as np
import tensorflow as tf

from tfgm.attacks.config import attack_from_config, normalize_attack_config
from tfgm.layers import FortifiedLayer
from tfgm.layers._fortified_base import REDUCTIONS, suppress_noise
from tfgm.metrics.off_manifold import (CALIBRATED_SCORES, SCORES, check_score, doubt, off_manifold_score,
                                       standardized_sum)
from tfgm.models._base import SingleOptimizerMixin, SubmodelConfigMixin, TrackersMixin, dense_gradients
from tfgm.models._seeds import step_seed

_TEST_SEED_STEP = -1

# Defaults chosen by measurement (issue 12; BUILD.md, "Fortified networks: the off-manifold score, λ and the
# targets").
DEFAULT_SCORE = "cosine_confidence"
DEFAULT_REDUCTION = "mean"


class _Untracked:
    """Holds a helper (model, compiled function) out of Keras' tracking and saving (its layers belong to `network`)."""

    def __init__(self, value):
        self.value = value


@keras.saving.register_keras_serializable(package="tfgm")
class FortifiedClassifier(TrackersMixin, SingleOptimizerMixin, SubmodelConfigMixin, keras.Model):
    """Classifier whose `network` holds fortified layers (tfgm.layers.FortifiedDense / FortifiedConv2D).

    network: Functional model, input [B, ...] (images float32 in [0, 1]) → logits [B, K] (or [B, T, K]
        for sequence models: losses and accuracy are then averaged over T). Build one with
        `tfgm.models.fortify(classifier, layers=[...])`.
    attack: training attack config: None, "fgsm", "pgd" or {"name": ..., "eps": ..., ...}
        (`tfgm.attacks.normalize_attack_config`); crafted on the network in inference mode, no gradient
        through it. None trains with L = CE + λ_rec·L_rec only.
    Per example, with h_k the noise-free input of fortified layer k on x (`clean_targets`) and h̃_k its
    input on x̃:
        L = CE_ε(y, f(x)) + CE_ε(y, f(x̃)) + λ_rec Σ_k e(D_k(E_k(h_k + n)), sg(h_k))
            + λ_adv Σ_k e(D_k(E_k(h̃_k + n)), sg(h_k))
    e = squared error per example, averaged over the state's elements (`rec_reduction="mean"`, the
    release's per-unit mean, so λ does not depend on the width of the state) or summed ("sum", the thesis'
    ‖·‖²). CE_ε uses ε-smoothed labels (`label_smoothing`, 0.1 as in the release). Training averages L over
    the global batch. Logged (per example): loss, ce_clean, ce_adv, rec, rec_adv, accuracy, adv_accuracy.
    score: the off-manifold detector score, one of tfgm.metrics.off_manifold.SCORES ("raw": the thesis'
        Σ_k ‖D_k(E_k(h_k)) − h_k‖²; "relative"; "cosine") or CALIBRATED_SCORES ("cosine_confidence": cosine
        plus the classifier's doubt, each standardized by `calibrate_threshold` on clean data and stored in
        the non-trainable `score_center` / `score_scale` [2]; before that call, center 0 and scale 1: the plain
        sum), computed noise-free;
        `off_manifold` = score > `threshold` (set by `calibrate_threshold`; None = never).
    Batches: {input_key: images, "label": int32 [B]}.
    """

    def __init__(self, network, attack=None, lambda_rec=1.0, lambda_adv=1.0, label_smoothing=0.1,
                 threshold=None, seed=0, input_key="image", rec_reduction=DEFAULT_REDUCTION, score=DEFAULT_SCORE,
                 **kwargs):
        super().__init__(**kwargs)
        if rec_reduction not in REDUCTIONS:
            raise ValueError(f"FortifiedClassifier: rec_reduction must be one of {REDUCTIONS}, got {rec_reduction!r}")
        self.network = network
        self.fortified_names = tuple(layer.name for layer in network.layers if isinstance(layer, FortifiedLayer))
        if not self.fortified_names:
            raise ValueError("FortifiedClassifier: `network` has no fortified layer at its top level; build it with "
                             "tfgm.models.fortify(classifier, layers=[...]) or add tfgm.layers.FortifiedDense/Conv2D")
        self.attack = normalize_attack_config(attack)
        self._attack_fn = attack_from_config(self.attack)
        self.lambda_rec = float(lambda_rec)
        self.lambda_adv = float(lambda_adv)
        self.label_smoothing = float(label_smoothing)
        self.seed = int(seed)
        self.input_key = input_key
        self.rec_reduction = rec_reduction
        self.score = check_score(score)
        self._input_shape_no_batch = tuple(network.inputs[0].shape[1:])
        self._input_dtype = network.inputs[0].dtype
        outputs = {"logits": network.outputs[0]}
        for name in self.fortified_names:
            layer = network.get_layer(name)
            outputs[f"input/{name}"] = layer.input
            outputs[f"output/{name}"] = layer.output
        self._probe = _Untracked(keras.Model(network.input, outputs, name=f"{network.name}_probe"))
        self._scorers = _Untracked({})
        self.threshold_variable = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(math.inf if threshold is None else float(threshold)),
            trainable=False, name="threshold")
        if self.score in CALIBRATED_SCORES:
            self.score_center = self.add_weight(shape=(2,), initializer="zeros", trainable=False, name="score_center")
            self.score_scale = self.add_weight(shape=(2,), initializer="ones", trainable=False, name="score_scale")
        self._init_trackers(self.tracked_terms())
        self.built = True

    @property
    def score_description(self):
        """What the off-manifold score is, in words and symbols (for reports)."""
        described = {**SCORES, **CALIBRATED_SCORES}[self.score]
        return f"{self.score}: {described}, noise-free"

    def tracked_terms(self):
        """Names of the per-example values logged each step."""
        if self.attack is None:
            return ("loss", "ce_clean", "rec", "accuracy")
        return ("loss", "ce_clean", "ce_adv", "rec", "rec_adv", "accuracy", "adv_accuracy")

    @property
    def threshold(self):
        """The off-manifold threshold on the model's `score`, or None when not calibrated."""
        value = float(self.threshold_variable.numpy())
        return None if math.isinf(value) else value

    def call(self, images, training=False):
        """images [B, ...] → logits [B, K], float32 (also under mixed precision)."""
        return tf.cast(self.network(images, training=training), tf.float32)

    def _inference_logits(self, images):
        return self.call(images, training=False)

    def adversarial_examples(self, images, labels, seed=None):
        """x̃ from the training attack, crafted on the network in inference mode; no gradient. None if no attack."""
        if self._attack_fn is None:
            return None
        return tf.stop_gradient(self._attack_fn(self._inference_logits, images, labels, seed=seed))

    def hidden_states(self, images, training=False):
        """{"logits", "input/<layer>": h_k, "output/<layer>": D_k(E_k(h_k + n))} for each fortified layer."""
        return self._probe.value(images, training=training)

    def _fortified_layers(self):
        return [self.network.get_layer(n) for n in self.fortified_names]

    def clean_targets(self, images, states=None, training=False):
        """{"<layer>": sg(h_k)}: each fortified layer's input on a pass where no fortified layer adds noise.

        states: `hidden_states(images, training)` already computed, or None. With one fortified layer (or
        no noise in this pass) its input in `states` is already noise-free and is reused; otherwise one
        extra forward in the same mode (BatchNorm on batch statistics when training) runs with every
        fortified layer's noise suppressed, so layer k's target carries no noise from the layers below.
        """
        layers = self._fortified_layers()
        noisy = any(layer.noise_stddev > 0 and (training or layer.noise_at_inference) and not layer.noise_suppressed
                    for layer in layers)
        if states is None or (len(layers) > 1 and noisy):
            with suppress_noise(layers):
                states = self.hidden_states(images, training=training)
        return {n: tf.stop_gradient(states[f"input/{n}"]) for n in self.fortified_names}

    def _cross_entropy(self, labels, logits):
        logits = tf.cast(logits, tf.float32)
        classes = logits.shape[-1]
        target = tf.one_hot(tf.cast(labels, tf.int32), classes) * (1.0 - self.label_smoothing)
        target += self.label_smoothing / classes
        return _per_example(tf.nn.softmax_cross_entropy_with_logits(target, logits))

    @staticmethod
    def _accuracy(labels, logits):
        hits = tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32), tf.cast(labels, tf.int32))
        return _per_example(tf.cast(hits, tf.float32))

    def _reconstruction(self, targets, states):
        """Σ_k e(states' reconstruction of layer k, targets[k]) per example [B] (e: `rec_reduction`)."""
        errors = [FortifiedLayer.reconstruction_error(targets[n], states[f"output/{n}"], self.rec_reduction)
                  for n in self.fortified_names]
        return tf.add_n(errors)

    def per_example_terms(self, images, labels, adversarial=None, training=False):
        """Per-example terms [B] of the objective; "loss" is what training minimizes.

        adversarial: x̃ (same shape as images) or None (then the adversarial terms are left out).
        """
        clean = self.hidden_states(images, training=training)
        targets = self.clean_targets(images, clean, training=training)
        terms = {"ce_clean": self._cross_entropy(labels, clean["logits"]),
                 "rec": self._reconstruction(targets, clean),
                 "accuracy": self._accuracy(labels, clean["logits"])}
        loss = terms["ce_clean"] + self.lambda_rec * terms["rec"]
        if adversarial is not None:
            adv = self.hidden_states(adversarial, training=training)
            terms["ce_adv"] = self._cross_entropy(labels, adv["logits"])
            terms["rec_adv"] = self._reconstruction(targets, adv)
            terms["adv_accuracy"] = self._accuracy(labels, adv["logits"])
            loss += terms["ce_adv"] + self.lambda_adv * terms["rec_adv"]
        terms["loss"] = loss
        return terms

    def train_step(self, data):
        images, labels = data[self.input_key], data["label"]
        adversarial = self.adversarial_examples(images, labels, seed=step_seed(self.seed, self.optimizer.iterations))
        with tf.GradientTape() as tape:
            terms = self.per_example_terms(images, labels, adversarial, training=True)
            loss = tf.nn.compute_average_loss(terms["loss"])
            scaled = self.optimizer.scale_loss(loss)
        variables = self.trainable_variables
        self.optimizer.apply_gradients(zip(dense_gradients(tape.gradient(scaled, variables)), variables))
        return self._update_trackers(terms)

    def test_step(self, data):
        images, labels = data[self.input_key], data["label"]
        adversarial = self.adversarial_examples(images, labels, seed=step_seed(self.seed, _TEST_SEED_STEP))
        return self._update_trackers(self.per_example_terms(images, labels, adversarial, training=False))

    def _noise_free_outputs(self, images, score):
        """Noise-free logits [B, K], raw error [B] and off-manifold `score` [B] for images [B, ...]; for a
        calibrated score, its uncalibrated parts [B, 2] instead when `score` is ("parts", name)."""
        with suppress_noise(self._fortified_layers()):
            states = self.hidden_states(images, training=False)
        hs = [states[f"input/{n}"] for n in self.fortified_names]
        rs = [states[f"output/{n}"] for n in self.fortified_names]
        raw = off_manifold_score("raw", hs, rs)
        logits = tf.cast(states["logits"], tf.float32)
        if score == "raw" or score in SCORES:
            return logits, raw, raw if score == "raw" else off_manifold_score(score, hs, rs)
        parts = tf.stack([off_manifold_score("cosine", hs, rs), doubt(logits)], axis=1)
        if isinstance(score, tuple):
            return logits, raw, parts
        if score != self.score:
            raise ValueError(f"the calibrated score {score!r} is computed by a model built with score={score!r} "
                             f"(this one: {self.score!r})")
        return logits, raw, standardized_sum(parts, self.score_center, self.score_scale)

    def classify(self, images):
        """Deterministic (noise-free) outputs for images [B, ...]: {"probabilities" [B, K], "logits" [B, K],
        "reconstruction_error" [B] (Σ_k ‖D_k(E_k(h_k)) − h_k‖², the thesis' total error), "off_manifold_score"
        [B] (the model's `score`), "off_manifold" [B] bool (off_manifold_score > threshold)}.
        """
        logits, raw, score = self._noise_free_outputs(images, self.score)
        return {"probabilities": tf.nn.softmax(logits), "logits": logits, "reconstruction_error": raw,
                "off_manifold_score": score, "off_manifold": score > self.threshold_variable}

    def _scorer(self, score):
        """Compiled images → (probabilities, raw error, score) for one score name, cached per model."""
        cache = self._scorers.value
        if score not in cache:
            def run(images):
                logits, raw, values = self._noise_free_outputs(images, score)
                return tf.nn.softmax(logits), raw, values

            cache[score] = tf.function(run, reduce_retracing=True)
        return cache[score]

    def _predict(self, x, batch_size, score):
        """x [N, ...] → (probabilities [N, K], raw error [N], `score` [N]) as numpy: one noise-free pass."""
        fn = self._scorer(score)
        x = np.asarray(x)
        if int(batch_size) < 1:
            raise ValueError(f"predict_with_score: batch_size must be >= 1, got {batch_size}")
        step = int(batch_size)
        outputs = [fn(tf.constant(x[i:i + step], self._input_dtype)) for i in range(0, len(x), step)]
        return tuple(np.concatenate([np.asarray(o[k]) for o in outputs]) for k in range(3))

    def predict_with_score(self, x, batch_size=256, score=None):
        """x [N, ...] → (probabilities [N, K], off-manifold score [N]) as numpy, noise-free, in batches.

        score: a name in tfgm.metrics.off_manifold.SCORES; None = the model's `score` (what `threshold` and
        the exported `off_manifold` use).
        """
        probs, _, values = self._predict(x, batch_size, self.score if score is None else check_score(score))
        return probs, values

    def predict_scores(self, x, batch_size=256):
        """x [N, ...] → (probabilities [N, K], {"raw": raw error [N], model's score: [N]}) in one noise-free pass
        (the thesis' raw error beside the score the alarm uses)."""
        probs, raw, values = self._predict(x, batch_size, self.score)
        return probs, {"raw": raw, self.score: values}

    def calibrate_threshold(self, dataset, false_alarm_rate=0.05):
        """Set `threshold` on the model's `score` so a fraction ≈ `false_alarm_rate` of clean `dataset` inputs
        score above it.

        dataset: iterable of {input_key: x, ...} dicts, (x, y) pairs or arrays x, clean validation data.
        The threshold is the ⌊rate·N⌋-th largest score's lower neighbour: exactly ⌊rate·N⌋ scores exceed it
        when scores are distinct. A calibrated score first takes the mean and standard deviation of its parts
        over the same data. Returns the threshold (also stored, saved and served).
        """
        if not 0.0 <= false_alarm_rate < 1.0:
            raise ValueError(f"false_alarm_rate must be in [0, 1), got {false_alarm_rate}")
        xs = [tf.cast(batch[self.input_key] if isinstance(batch, dict) else
                      (batch[0] if isinstance(batch, tuple) else batch), self._input_dtype) for batch in dataset]
        if not xs or sum(int(tf.shape(x)[0]) for x in xs) == 0:
            raise ValueError("calibrate_threshold: the dataset yielded no examples")
        if self.score in CALIBRATED_SCORES:  # one pass for the parts; the score is their standardized sum
            parts = np.concatenate([self._scorer(("parts", self.score))(x)[2].numpy() for x in xs])
            self.score_center.assign(parts.mean(axis=0))
            self.score_scale.assign(np.maximum(parts.std(axis=0), 1e-6))
            scores = standardized_sum(parts, self.score_center, self.score_scale).numpy()
        else:
            scores = np.concatenate([self._scorer(self.score)(x)[2].numpy() for x in xs])
        scores = np.sort(scores)
        above = int(math.floor(false_alarm_rate * scores.size))
        threshold = float(scores[scores.size - above - 1])
        self.threshold_variable.assign(threshold)
        return threshold

    serving_default = "classify"

    def serving_endpoints(self):
        """Serving signatures {name: (fn, input_signature)}: classify(images) → `classify`'s dict."""
        spec = tf.TensorSpec((None,) + self._input_shape_no_batch, tf.as_dtype(self._input_dtype), name="images")
        return {"classify": (self.classify, [spec])}

    def onnx_graphs(self):
        """Deterministic graphs for ONNX: the same noise-free `classify`."""
        return self.serving_endpoints()

    SUBMODELS = ("network",)

    def get_config(self):
        return self._config(attack=None if self.attack is None else dict(self.attack), lambda_rec=self.lambda_rec,
                            lambda_adv=self.lambda_adv, label_smoothing=self.label_smoothing,
                            threshold=self.threshold, seed=self.seed, input_key=self.input_key,
                            rec_reduction=self.rec_reduction, score=self.score)

    @classmethod
    def from_config(cls, config):
        """Configs saved before `rec_reduction` and `score` existed load with their meaning then: summed
        error, raw score (their λ and threshold were set for those)."""
        config = {"rec_reduction": "sum", "score": "raw", **config}
        return super().from_config(config)


def _per_example(values):
    """Mean over all but the batch axis: [B, ...] → [B] ([B] stays as is)."""
    if values.shape.rank == 1:
        return values
    return tf.reduce_mean(tf.reshape(values, [tf.shape(values)[0], -1]), axis=1)
