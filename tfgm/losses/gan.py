"""GAN losses, all computed from the discriminator's raw outputs (logits).

Shapes: logits are ``[B]`` or ``[B, ...]`` (e.g. ``[B, 1]`` or a patch map ``[B, H, W, 1]``). The
elementwise loss is averaged over the non-batch axes to give one value per example. With
``reduction="mean"`` (default) a loss returns a float32 scalar: the mean over the batch (real and
fake batches may then differ in size). With ``reduction="none"`` it returns the per-example ``[B]``
vector (two-input losses then pair real[i] with fake[i], so both batches must have size B); under a
distribution strategy pass that vector to ``tf.nn.compute_average_loss``. Half-precision logits are
upcast to float32. The losses are registered by name (with their options) in `tfgm.losses.registry`.
"""

import tensorflow as tf

_REDUCTIONS = ("mean", "none")


def _as_float(logits):
    x = tf.convert_to_tensor(logits)
    if not x.dtype.is_floating:
        raise TypeError(f"logits must be a floating tensor, got dtype {x.dtype.name}.")
    if x.dtype in (tf.float16, tf.bfloat16):
        x = tf.cast(x, tf.float32)
    if x.shape.rank == 0:
        raise ValueError("logits must have a batch axis: got a scalar; pass shape [B] or [B, ...].")
    return x


def _per_example(values):
    """Mean over the non-batch axes: [B, ...] -> [B]."""
    if values.shape.rank == 1:
        return values
    return tf.reduce_mean(tf.reshape(values, [tf.shape(values)[0], -1]), axis=1)


def _reduce(values, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}.")
    per_example = _per_example(values)
    if reduction == "none":
        return per_example
    return tf.reduce_mean(per_example)


def _pair(real_term, fake_term, reduction):
    return _reduce(real_term, reduction) + _reduce(fake_term, reduction)


def discriminator_loss(real_logits, fake_logits, reduction="mean"):
    """Standard GAN D loss: softplus(-f_real) + softplus(f_fake) (= BCE with real=1, fake=0)."""
    real, fake = _as_float(real_logits), _as_float(fake_logits)
    return _pair(tf.nn.softplus(-real), tf.nn.softplus(fake), reduction)


def generator_loss_minimax(fake_logits, reduction="mean"):
    """Minimax (saturating) G loss: -softplus(f_fake) = log(1 - D(G(z))); range (-inf, 0)."""
    return _reduce(-tf.nn.softplus(_as_float(fake_logits)), reduction)


def generator_loss_nonsaturating(fake_logits, reduction="mean"):
    """Non-saturating G loss: softplus(-f_fake) = -log D(G(z)); range (0, inf)."""
    return _reduce(tf.nn.softplus(-_as_float(fake_logits)), reduction)


def wasserstein_critic_loss(real_logits, fake_logits, reduction="mean"):
    """WGAN critic loss: mean(f_fake) - mean(f_real); per example f_fake[i] - f_real[i]."""
    real, fake = _as_float(real_logits), _as_float(fake_logits)
    return _pair(-real, fake, reduction)


def wasserstein_generator_loss(fake_logits, reduction="mean"):
    """WGAN generator loss: -mean(f_fake)."""
    return _reduce(-_as_float(fake_logits), reduction)


def least_squares_discriminator_loss(real_logits, fake_logits, a=0.0, b=1.0, reduction="mean"):
    """LSGAN D loss (Mao et al. 2017): 0.5·(f_real - b)² + 0.5·(f_fake - a)².

    ``f`` is D's raw (linear, no sigmoid) output; ``a`` is the fake target, ``b`` the real target.
    """
    real, fake = _as_float(real_logits), _as_float(fake_logits)
    return _pair(0.5 * tf.square(real - b), 0.5 * tf.square(fake - a), reduction)


def least_squares_generator_loss(fake_logits, c=1.0, reduction="mean"):
    """LSGAN G loss (Mao et al. 2017): 0.5·(f_fake - c)², ``c`` the value G wants D to output."""
    return _reduce(0.5 * tf.square(_as_float(fake_logits) - c), reduction)


def hinge_discriminator_loss(real_logits, fake_logits, reduction="mean"):
    """Hinge D loss: relu(1 - f_real) + relu(1 + f_fake)."""
    real, fake = _as_float(real_logits), _as_float(fake_logits)
    return _pair(tf.nn.relu(1.0 - real), tf.nn.relu(1.0 + fake), reduction)


def hinge_generator_loss(fake_logits, reduction="mean"):
    """Hinge G loss: -mean(f_fake)."""
    return _reduce(-_as_float(fake_logits), reduction)


def bgan_generator_loss(fake_logits, log_z=None, reduction="mean"):
    """Boundary-seeking G loss (Hjelm et al. 2018): mean((f_fake - log_z)²).

    ``log_z``: scalar estimate of log Z (e.g. the EMA `tfgm.models._base.update_log_z` keeps); 0 when None,
    which targets D(G(z)) = 1/2, the decision boundary. The gradient does not flow into ``log_z``.
    """
    fake = _as_float(fake_logits)
    if log_z is None:
        log_z = 0.0
    log_z = tf.stop_gradient(tf.cast(log_z, fake.dtype))
    return _reduce(tf.square(fake - log_z), reduction)
