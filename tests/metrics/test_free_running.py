"""Free running vs teacher forcing: the per-step means, the ratio, the batches' seeds and the kept samples."""

import numpy as np

from tfgm.metrics.free_running import free_running_drift


def test_means_ratio_seeds_and_samples_with_a_stand_in_stepper():
    tokens = np.arange(30, dtype=np.int32).reshape(5, 6)
    calls = []

    def step(chunk, free_running, seed=0):
        calls.append((len(chunk), bool(free_running), seed))
        errors = chunk.astype(np.float32) + 1.0
        return (errors * (seed + 1), chunk + 100) if free_running else (errors, chunk)

    drift = free_running_drift(step, tokens, context=2, batch_size=2, seed=10)
    assert calls == [(2, False, 0), (2, True, 10), (2, False, 0), (2, True, 12), (1, False, 0), (1, True, 14)]
    teacher = tokens[:, 2:] + 1.0
    factor = np.array([11, 11, 13, 13, 15])[:, None]
    np.testing.assert_allclose(drift["teacher_forcing_error"], teacher.mean(0))
    np.testing.assert_allclose(drift["free_running_error"], (teacher * factor).mean(0))
    np.testing.assert_allclose(drift["ratio_per_step"], (teacher * factor).mean(0) / teacher.mean(0))
    assert drift["ratio_per_step"].shape == (4,)
    np.testing.assert_array_equal(drift["samples"], tokens[:2] + 100)
