"""Off-manifold drift of a fortified recurrent language model that feeds back its own samples (thesis table 2.7):
the reconstruction error of its hidden state, free running vs teacher forcing, step by step."""

import numpy as np
import tensorflow as tf


def recurrent_stepper(embedding, cell, dae, readout, context, temperature=1.0):
    """A compiled fn(tokens int32 [M, L], free_running bool, seed int) → (errors [M, L], inputs [M, L]) as numpy,
    running a one-layer LSTM language model one token at a time, noise-free.

    embedding: tokens [M] → [M, E]; cell: a Keras LSTM cell (states h, c of `cell.units`); dae: the fortified
    layer on the cell's output (`dae(h)` → reconstruction, `dae.reconstruction_error(h, r)` → [M]); readout:
    reconstruction → logits [M, V]. The first `context` inputs are the true tokens; after that the next input is
    the true token (teacher forcing) or a sample from softmax(logits / temperature) (free running, stateless,
    from `seed`). errors[:, t] (float32) is ‖D(E(h_t)) − h_t‖² of the state after reading inputs[:, t].
    """

    @tf.function(reduce_retracing=True)
    def run(tokens, free_running, seed):
        batch, length = tf.shape(tokens)[0], tf.shape(tokens)[1]
        zeros = tf.zeros([batch, cell.units], cell.compute_dtype)  # float16 under mixed precision

        def body(t, token, h, c, errors, inputs):
            out, (h, c) = cell(embedding(token), [h, c])
            recon = dae(out)
            errors = errors.write(t, dae.reconstruction_error(out, recon))  # [M], float32
            inputs = inputs.write(t, token)
            logits = tf.cast(readout(recon), tf.float32) / temperature
            sampled = tf.cast(tf.random.stateless_categorical(
                logits, 1, tf.random.experimental.stateless_fold_in(seed, t))[:, 0], tf.int32)
            true_next = tf.gather(tokens, tf.minimum(t + 1, length - 1), axis=1)
            use_sample = tf.logical_and(free_running, t + 1 >= context)
            return t + 1, tf.where(use_sample, sampled, true_next), h, c, errors, inputs

        arrays = [tf.TensorArray(tf.float32, size=length), tf.TensorArray(tf.int32, size=length)]
        _, _, _, _, errors, inputs = tf.while_loop(
            lambda t, *_: t < length, body, (tf.constant(0), tokens[:, 0], zeros, zeros, *arrays))
        return tf.transpose(errors.stack()), tf.transpose(inputs.stack())

    def step(tokens, free_running, seed=0):
        errors, inputs = run(tf.constant(tokens, tf.int32), tf.constant(bool(free_running)),
                             tf.constant([int(seed), 0], tf.int32))
        return errors.numpy(), inputs.numpy()

    return step


def free_running_drift(step, tokens, context, batch_size, seed=0):
    """Mean reconstruction error at each sampled step, free running and teacher forcing, from the same contexts.

    step: a `recurrent_stepper`; tokens: int32 [M, L] true text, whose first `context` tokens are read in both
    modes. Rows run in batches of `batch_size`; the batch starting at row i samples with seed + i.
    Returns {"free_running_error", "teacher_forcing_error", "ratio_per_step" (free / teacher): each float [L −
    context], entry k − 1 for sampled step k (read at position context − 1 + k); "samples": int32 [3, L], the
    first free-running rows (context, then sampled tokens)}.
    """
    free, teacher, samples = [], [], None
    for i in range(0, len(tokens), batch_size):
        chunk = tokens[i:i + batch_size]
        teacher.append(step(chunk, False)[0])
        errors, inputs = step(chunk, True, seed=seed + i)
        free.append(errors)
        samples = inputs[:3] if samples is None else samples
    free = np.concatenate(free)[:, context:].mean(0)
    teacher = np.concatenate(teacher)[:, context:].mean(0)
    return {"free_running_error": free, "teacher_forcing_error": teacher, "ratio_per_step": free / teacher,
            "samples": samples}


def drift_at_steps(step, text_ids, context, ratio_steps, num_contexts, batch_size, seed=0):
    """`free_running_drift` from `num_contexts` windows of `context` + max(`ratio_steps`) tokens drawn at random
    (numpy generator of `seed`) from `text_ids` (a 1-D array of token ids), reported at `ratio_steps`.

    Returns {"ratio": {str(k): free / teacher at sampled step k}, "free_running_error", "teacher_forcing_error",
    "ratio_per_step" (lists), "samples" (the first free-running rows), "num_sequences"}.
    """
    length = context + max(ratio_steps)
    starts = np.random.default_rng(seed).integers(0, len(text_ids) - length, num_contexts)
    tokens = np.stack([text_ids[s:s + length] for s in starts]).astype(np.int32)
    drift = free_running_drift(step, tokens, context, batch_size, seed=seed)
    ratio = drift["ratio_per_step"]
    return {"ratio": {str(k): float(ratio[k - 1]) for k in ratio_steps},
            **{k: drift[k].tolist() for k in ("free_running_error", "teacher_forcing_error", "ratio_per_step")},
            "samples": drift["samples"], "num_sequences": len(tokens)}


def unigram_bits(ids, vocab):
    """Bits per token of the unigram model of `ids` (token frequencies over `vocab` symbols): the blind baseline of
    a language model, which reads nothing of the context."""
    p = np.bincount(np.asarray(ids), minlength=vocab) / len(ids)
    return float(-(p[p > 0] * np.log2(p[p > 0])).sum())
