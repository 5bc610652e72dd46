"""GAN regularizers: instance noise, weight clipping, gradient penalties, Jacobian clamping.

Each penalty returns an unweighted float32 scalar (a mean over the batch); the caller multiplies
by its coefficient (λ for WGAN-GP, γ/2 for Roth and R1). ``critic`` / ``generator`` are any
callables mapping a batch to a batch; the penalties use ``tf.GradientTape`` internally, so they
work eagerly, inside ``tf.function`` and inside ``strategy.run``, and can themselves be
differentiated by an outer tape. Seeds are ``[2]`` int32 tensors for stateless random ops
(fold the replica id in under several replicas). A critic must treat examples independently
(no batch norm), since per-example input gradients are taken from the gradient of its summed
output.
"""

import tensorflow as tf


def _batch_flat(x):
    """[B, ...] -> [B, prod(...)]."""
    return tf.reshape(x, [tf.shape(x)[0], -1])


def _seed(seed):
    return tf.cast(tf.convert_to_tensor(seed), tf.int32)


def _critic_output_and_grad_sq_norm(critic, x):
    """Returns (f [B] float32, ‖∇x f‖² [B] float32) for a critic with one output per example."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = critic(x)
    grad = tape.gradient(out, x, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    out = tf.reshape(tf.cast(out, tf.float32), [tf.shape(x)[0]])
    sq_norm = tf.reduce_sum(tf.square(tf.cast(_batch_flat(grad), tf.float32)), axis=1)
    return out, sq_norm


def instance_noise(x, stddev, seed):
    """x + N(0, stddev²) noise of x's shape and dtype (stateless; ``seed`` a [2] int32 tensor).

    Add it to both real and fake inputs of D, with ``stddev`` from ``annealed_stddev``.
    """
    x = tf.convert_to_tensor(x)
    noise = tf.random.stateless_normal(tf.shape(x), seed=_seed(seed), dtype=x.dtype)
    return x + tf.cast(stddev, x.dtype) * noise


def annealed_stddev(step, total_steps, initial):
    """Linear schedule initial·max(0, 1 - step/total_steps): ``initial`` at step 0, 0 from
    ``total_steps`` on. Returns a float32 scalar tensor."""
    step = tf.cast(step, tf.float32)
    total = tf.cast(total_steps, tf.float32)
    return tf.cast(initial, tf.float32) * tf.clip_by_value(1.0 - step / total, 0.0, 1.0)


def annealed_gamma(step, total_steps, gamma0=2.0):
    """Roth et al. schedule γ₀·0.01^(t/T), with t/T clamped to [0, 1] (γ₀/100 from step T on).
    Returns a float32 scalar tensor."""
    frac = tf.clip_by_value(tf.cast(step, tf.float32) / tf.cast(total_steps, tf.float32), 0.0, 1.0)
    return tf.cast(gamma0, tf.float32) * tf.pow(0.01, frac)


def clip_weights(variables, clip_value=0.01):
    """WGAN weight clipping: assign clip(v, -c, c) to each variable in place. Returns None."""
    for v in variables:
        v.assign(tf.clip_by_value(v, -clip_value, clip_value))


def _interpolate(real, fake, seed):
    """x̂ = real + α(fake - real), α ~ U[0, 1] drawn per example with shape [B, 1, 1, ...]."""
    real = tf.convert_to_tensor(real)
    fake = tf.cast(fake, real.dtype)
    shape = tf.shape(real)
    alpha_shape = tf.concat([shape[:1], tf.ones_like(shape[1:])], axis=0)
    alpha = tf.random.stateless_uniform(alpha_shape, seed=_seed(seed), dtype=real.dtype)
    return real + alpha * (fake - real)


def gradient_penalty(critic, real, fake, seed, target=1.0, eps=1e-12):
    """WGAN-GP penalty (Gulrajani et al. 2017): mean((‖∇x̂ f(x̂)‖₂ - target)²), unweighted.

    ``real``, ``fake``: [B, ...] with the same shape. x̂ = real + α(fake - real), α ~ U[0, 1] per
    example. The norm is over all non-batch axes, sqrt(Σ g² + eps) with ``eps`` inside the sqrt so
    the penalty stays differentiable where the gradient vanishes. Multiply by λ (10) yourself.
    """
    x_hat = _interpolate(real, fake, seed)
    _, sq_norm = _critic_output_and_grad_sq_norm(critic, x_hat)
    norm = tf.sqrt(sq_norm + eps)
    return tf.reduce_mean(tf.square(norm - target))


def roth_regularizer(critic, real, fake):
    """Roth et al. (2017) Ω = mean((1 - σ(f_real))²·‖∇f_real‖²) + mean(σ(f_fake)²·‖∇f_fake‖²).

    ``critic`` returns logits [B] or [B, 1]; gradients are w.r.t. the inputs [B, ...]. With equal
    batch sizes this is the batch mean of the summed terms. Add (γ/2)·Ω to D's loss.
    """
    f_real, g_real = _critic_output_and_grad_sq_norm(critic, tf.convert_to_tensor(real))
    f_fake, g_fake = _critic_output_and_grad_sq_norm(critic, tf.convert_to_tensor(fake))
    real_term = tf.square(1.0 - tf.sigmoid(f_real)) * g_real
    fake_term = tf.square(tf.sigmoid(f_fake)) * g_fake
    return tf.reduce_mean(real_term) + tf.reduce_mean(fake_term)


def r1_penalty(critic, real):
    """R1 penalty (Mescheder et al. 2018): mean(‖∇x f(real)‖²). Add (γ/2)·R1 to D's loss."""
    _, sq_norm = _critic_output_and_grad_sq_norm(critic, tf.convert_to_tensor(real))
    return tf.reduce_mean(sq_norm)


def jacobian_clamping(
    generator, z, seed, eps=1.0, lambda_min=1.0, lambda_max=20.0, g_z=None, norm_eps=1e-12
):
    """Jacobian clamping (Odena et al. 2018), unweighted; add to G's loss.

    z' = z + eps·δ/‖δ‖ (δ ~ N(0, I) per example, stateless), Q = ‖G(z) - G(z')‖ / ‖z - z'‖ per
    example (norms over non-batch axes); returns
    mean((max(Q, λmax) - λmax)² + (min(Q, λmin) - λmin)²), a float32 scalar.
    ``z``: [B, ...]; ``g_z``: G(z) if already computed (saves one generator call). ``norm_eps`` sits
    inside the square roots so a constant generator gives a finite gradient.
    """
    z = tf.convert_to_tensor(z)
    delta = tf.random.stateless_normal(tf.shape(z), seed=_seed(seed), dtype=z.dtype)
    delta_norm = tf.sqrt(tf.reduce_sum(tf.square(_batch_flat(delta)), axis=1) + norm_eps)
    delta_shape = tf.concat([tf.shape(z)[:1], tf.ones_like(tf.shape(z)[1:])], axis=0)
    z_prime = z + eps * delta / tf.reshape(delta_norm, delta_shape)
    if g_z is None:
        g_z = generator(z)
    g_z_prime = generator(z_prime)
    diff_g = tf.cast(_batch_flat(g_z - g_z_prime), tf.float32)
    diff_z = tf.cast(_batch_flat(z - z_prime), tf.float32)
    q = tf.sqrt(tf.reduce_sum(tf.square(diff_g), axis=1) + norm_eps) / tf.sqrt(
        tf.reduce_sum(tf.square(diff_z), axis=1) + norm_eps
    )
    over = tf.maximum(q, lambda_max) - lambda_max
    under = tf.minimum(q, lambda_min) - lambda_min
    return tf.reduce_mean(tf.square(over) + tf.square(under))
