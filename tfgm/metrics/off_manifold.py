"""Off-manifold scores of fortified layers: per-example numbers from hidden states h and their noise-free DAE
reconstructions r(h) = D(E(h)) (thesis §2.6.3). Higher = further off the manifold the DAE learned.

Each score is computed per fortified layer on the state flattened over all but the batch axis, then
combined over layers: "raw" sums (the thesis' total error), the scale-free scores average (every layer
counts the same whatever its width or scale). CALIBRATED_SCORES also need the classifier's logits and
statistics of clean validation data (FortifiedClassifier.calibrate_threshold computes them).
"""

import tensorflow as tf

_TINY = 1e-12

SCORES = {
    "raw": "Σ_k ‖r_k(h_k) − h_k‖² (the thesis' total reconstruction error; grows with ‖h‖)",
    "relative": "mean_k ‖r_k(h_k) − h_k‖² / ‖h_k‖² (reconstruction error relative to the state's energy)",
    "cosine": "mean_k (1 − cos∠(r_k(h_k), h_k)) (angle between the state and its reconstruction; in [0, 2])",
}

CALIBRATED_SCORES = {
    "cosine_confidence": "z(cosine) + z(1 − max softmax): the angle score plus the classifier's doubt, each "
                         "standardized by its mean and standard deviation on clean validation data",
}


def check_score(name):
    """`name` if it is one of SCORES or CALIBRATED_SCORES, else ValueError naming the choices."""
    if name not in SCORES and name not in CALIBRATED_SCORES:
        choices = sorted({**SCORES, **CALIBRATED_SCORES})
        raise ValueError(f"unknown off-manifold score {name!r}: choose one of {choices}")
    return name


def doubt(logits):
    """1 − max_k softmax(logits)_k: logits [B, K] → [B] float32 in [0, 1 − 1/K] (Hendrycks & Gimpel's baseline);
    [B, ..., K] (sequences) → the mean over the middle axes."""
    values = 1.0 - tf.reduce_max(tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1), axis=-1)
    return values if values.shape.rank == 1 else tf.reduce_mean(tf.reshape(values, [tf.shape(values)[0], -1]), 1)


def standardized_sum(parts, center, scale):
    """Σ_p (parts[:, p] − center[p]) / scale[p]: parts [B, P], center and scale [P] (scale > 0) → [B] float32."""
    return tf.reduce_sum((tf.cast(parts, tf.float32) - center) / scale, axis=1)


def _flat(x):
    x = tf.cast(x, tf.float32)
    return tf.reshape(x, [tf.shape(x)[0], -1])


def layer_score(name, h, reconstruction):
    """Score `name` of one layer: h, reconstruction [B, ...] (same shape) → [B] float32 (≥ 0)."""
    h, r = _flat(h), _flat(reconstruction)
    if name == "raw":
        return tf.reduce_sum(tf.square(r - h), axis=1)
    if name == "relative":
        return tf.reduce_sum(tf.square(r - h), axis=1) / tf.maximum(tf.reduce_sum(tf.square(h), axis=1), _TINY)
    if name == "cosine":
        norms = tf.norm(r, axis=1) * tf.norm(h, axis=1)
        return 1.0 - tf.reduce_sum(r * h, axis=1) / tf.maximum(norms, _TINY)
    raise ValueError(f"unknown off-manifold score {name!r}: choose one of {sorted(SCORES)}")


def off_manifold_score(name, states, reconstructions):
    """Score `name` over several fortified layers: lists of h_k and r_k(h_k) [B, ...] → [B] float32.

    "raw" sums the layers' errors; "relative" and "cosine" average the layers' scores.
    """
    if name not in SCORES:
        raise ValueError(f"off_manifold_score computes {sorted(SCORES)} from states alone; {name!r} is calibrated: "
                         "use FortifiedClassifier(score=...) and its calibrate_threshold")
    if not states or len(states) != len(reconstructions):
        raise ValueError(f"off_manifold_score needs one reconstruction per state, got {len(states)} states and "
                         f"{len(reconstructions)} reconstructions")
    per_layer = [layer_score(name, h, r) for h, r in zip(states, reconstructions)]
    total = tf.add_n(per_layer)
    return total if name == "raw" else total / float(len(per_layer))
