"""Linear classifiers whose minimal L∞ adversarial perturbation is known in closed form (for the AutoAttack tests)."""

import numpy as np
import tensorflow as tf


class Linear:
    """logits = x·W + b on inputs [B, D] (or images, flattened); float32 weights drawn from `seed`."""

    def __init__(self, dims, classes, seed=0):
        rng = np.random.default_rng(seed)
        self.w = rng.normal(size=(dims, classes)).astype("float32")
        self.b = rng.normal(size=(classes,)).astype("float32")

    def __call__(self, x):
        x = tf.convert_to_tensor(x, tf.float32)
        return tf.matmul(tf.reshape(x, [tf.shape(x)[0], -1]), self.w) + self.b

    def predict(self, x):
        return np.argmax(np.asarray(self(x)), axis=1)

    def min_distance(self, x, y, lo=0.0, hi=1.0):
        """Per example, the smallest L∞ radius r such that some x̃ in [lo, hi]^D with ‖x̃ − x‖∞ ≤ r has
        z_j(x̃) ≥ z_y(x̃) for a class j ≠ y (inf if none): for each j, bisection on r of the largest gain
        Σ_i |w_i| min(r, room_i) of the linear margin, room_i being how far coordinate i can move its way."""
        x = np.asarray(x, np.float64).reshape(len(x), -1)
        w, b = self.w.astype(np.float64), self.b.astype(np.float64)
        out = np.full(len(x), np.inf)
        for n, (xn, yn) in enumerate(zip(x, y)):
            for j in range(w.shape[1]):
                if j == yn:
                    continue
                v = w[:, j] - w[:, yn]
                need = -(xn @ v + b[j] - b[yn])
                room = np.where(v > 0, hi - xn, xn - lo)
                gain = lambda r: np.sum(np.abs(v) * np.minimum(r, room))  # noqa: E731
                if need <= 0:
                    out[n] = 0.0
                    continue
                if gain(room.max()) < need:
                    continue
                a, c = 0.0, room.max()
                for _ in range(60):
                    a, c = (a, 0.5 * (a + c)) if gain(0.5 * (a + c)) >= need else (0.5 * (a + c), c)
                out[n] = min(out[n], c)
        return out


def correctly_classified(model, n, dims, seed=0, lo=0.0, hi=1.0):
    """n inputs uniform in [lo, hi]^dims and their predicted labels (so every point starts correct)."""
    x = np.random.default_rng(seed + 100).uniform(lo, hi, (n, dims)).astype("float32")
    return x, model.predict(x).astype("int32")


def linf(a, b):
    return np.abs(np.asarray(a) - np.asarray(b)).reshape(len(a), -1).max(axis=1)
