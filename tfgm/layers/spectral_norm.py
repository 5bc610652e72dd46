"""Spectral normalization as Miyato et al. (2018): the wrapped layer computes with W / σ(W), gradient through σ,
and the power iteration that estimates σ runs once per optimizer step on a persistent vector u.

Keras 3's `keras.layers.SpectralNormalization` differs on both points: in training mode it writes W / σ back into
the kernel (no gradient flows through σ, and the optimizer then updates the already-divided kernel), and it runs a
power iteration on every training-mode call (a GAN step calls D on real, fake, penalty inputs and in the G step).
"""

import keras
import tensorflow as tf

from tfgm.layers.walk import sublayers

_OUT_AXIS = {  # axis of the kernel that holds the output channels
    keras.layers.Dense: -1,
    keras.layers.Conv1D: -1,
    keras.layers.Conv2D: -1,
    keras.layers.Conv3D: -1,
    keras.layers.Conv1DTranspose: -2,
    keras.layers.Conv2DTranspose: -2,
    keras.layers.Conv3DTranspose: -2,
}
_SUPPORTED = "Dense, Conv1D/2D/3D or Conv1D/2D/3DTranspose"


def _out_axis(layer):
    for cls in type(layer).__mro__:
        if cls in _OUT_AXIS:
            return _OUT_AXIS[cls]
    return None


def _normalize(x, fallback, eps):
    """x / ‖x‖, or `fallback` where ‖x‖ ≤ eps (a zero kernel keeps the old vector instead of collapsing it)."""
    norm = tf.norm(x)
    return tf.where(norm > eps, x / tf.maximum(norm, eps), fallback)


@keras.saving.register_keras_serializable(package="tfgm")
class SpectralNorm(keras.layers.Wrapper):
    """Wraps a Dense / Conv / ConvTranspose layer so that it computes with W_SN = W / σ(W).

    W is matricized as [fan_in, out_channels] (the output-channel axis last: axis −1 of Dense/Conv kernels, −2
    of ConvTranspose kernels, as Miyato et al. and PyTorch do). The forward pass computes σ = ‖W û‖ from the
    persistent unit vector u [out_channels] (a lower bound of the largest singular value, tight once u has
    converged) and the layer's output with W / σ; gradients flow through σ (∂σ/∂W = v uᵀ, v = W û / ‖W û‖, the
    paper's gradient). The forward pass never changes u or W, in training or inference.

    u advances only in `power_iteration()` (`power_iterations` steps of the power method on the current W): call
    it once per optimizer step of the variables it normalizes, before that step's forward passes, as
    `tfgm.models.GAN` does for each critic (and generator) step — `power_iterate(model)` calls it on every
    SpectralNorm layer of a model. A model trained by a plain `fit` never advances u: σ then stays the
    estimate from the initial random u. u has aggregation "only_first_replica": under tf.distribute every
    replica computes the same update from the same mirrored W, and the first replica's value is written to all.

    layer: an unbuilt or built Dense, Conv1D/2D/3D or Conv1D/2D/3DTranspose layer (no LoRA, not quantized).
    power_iterations: power-method steps per `power_iteration()` call (the paper: 1).
    eps: floor of norms and of σ.
    Inputs and outputs are the wrapped layer's.
    """

    def __init__(self, layer, power_iterations=1, eps=1e-12, **kwargs):
        if not isinstance(layer, keras.layers.Layer) or _out_axis(layer) is None:
            raise TypeError(f"SpectralNorm wraps a {_SUPPORTED} layer; got {type(layer).__name__}. Wrap each "
                            "such layer separately (e.g. SpectralNorm(keras.layers.Dense(64))).")
        if getattr(layer, "lora_enabled", False) or getattr(layer, "quantization_mode", None):
            raise ValueError(f"SpectralNorm cannot wrap {layer.name!r}: it has LoRA or quantization enabled; "
                             "normalize the plain layer and enable those afterwards, or leave it unwrapped.")
        if int(power_iterations) != power_iterations or power_iterations < 1:
            raise ValueError(f"power_iterations must be an integer >= 1, got {power_iterations!r}")
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps!r}")
        super().__init__(layer, **kwargs)
        self.power_iterations = int(power_iterations)
        self.eps = float(eps)
        self._axis = _out_axis(layer)

    def build(self, input_shape=None):
        super().build(input_shape)
        kernel = self.layer.kernel
        if not isinstance(kernel, keras.Variable):
            raise ValueError(f"SpectralNorm needs {self.layer.name!r}'s kernel to be one variable, got "
                             f"{type(kernel).__name__} (LoRA or quantization enabled?)")
        out_channels = int(kernel.shape[self._axis])
        self.u = self.add_weight(shape=(out_channels,), initializer=_unit_normal, trainable=False, autocast=False,
                                 aggregation="only_first_replica", name="u")
        self.built = True

    @property
    def _kernel(self):
        """The wrapped layer's kernel variable (not stored here: Keras would track it as this layer's weight too)."""
        return self.layer.kernel

    def _matrix(self, kernel):
        """kernel → [fan_in, out_channels] in u's dtype."""
        kernel = tf.cast(kernel, self.u.dtype)
        if self._axis == -2:
            kernel = tf.experimental.numpy.swapaxes(kernel, -1, -2)
        return tf.reshape(kernel, [-1, kernel.shape[-1]])

    def _unit_u(self):
        u = tf.convert_to_tensor(self.u.value)
        return _normalize(u, u, self.eps)

    def power_iteration(self):
        """Advance u by `power_iterations` steps of the power method on the current kernel (v = W u/‖W u‖,
        u = Wᵀ v/‖Wᵀ v‖). Call once per optimizer step. Returns the new u [out_channels]."""
        w = tf.stop_gradient(self._matrix(self._kernel.value))
        u = self._unit_u()
        for _ in range(self.power_iterations):
            v = _normalize(tf.linalg.matvec(w, u), tf.zeros_like(w[:, 0]), self.eps)
            u = _normalize(tf.linalg.matvec(w, v, transpose_a=True), u, self.eps)
        self.u.assign(u)
        return u

    def sigma(self, kernel=None):
        """σ = ‖W û‖ (scalar, u's dtype) of `kernel` (default: the current one), differentiable in the kernel."""
        w = self._matrix(self._kernel.value if kernel is None else kernel)
        return tf.norm(tf.linalg.matvec(w, tf.stop_gradient(self._unit_u())))

    def normalized_kernel(self):
        """W / σ(W) with the wrapped kernel's shape and u's dtype: what the forward pass computes with."""
        kernel = tf.cast(self._kernel.value, self.u.dtype)
        return kernel / tf.maximum(self.sigma(kernel), self.eps)

    def call(self, inputs):
        with keras.StatelessScope(state_mapping=[(self._kernel, self.normalized_kernel())]):
            return self.layer(inputs)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations, "eps": self.eps}


def _unit_normal(shape, dtype=None):
    """A random unit vector (the initial u)."""
    u = keras.random.normal(shape, dtype=dtype)
    return u / tf.norm(u)


def spectral_norm_layers(model):
    """Every `SpectralNorm` layer inside `model` (nested models included), each once, in Keras' layer order."""
    return sublayers(model, SpectralNorm)


def power_iterate(model):
    """One `power_iteration()` of every SpectralNorm layer of `model` (call once per optimizer step of its
    variables, before the step's forward passes). Returns the number of layers advanced."""
    layers = spectral_norm_layers(model)
    for layer in layers:
        layer.power_iteration()
    return len(layers)
