"""AIS, reverse AIS and exact enumeration of an RBM's log partition function (tfgm.metrics.partition)."""

import numpy as np
import pytest

from tfgm.metrics import partition
from tfgm.models import RBM

rng = np.random.default_rng(0)


def _rbm(visible, hidden, scale, seed=0):
    r = np.random.default_rng(seed)
    rbm = RBM(visible, hidden, seed=seed)
    rbm.kernel.assign(r.normal(0, scale, (visible, hidden)).astype("float32"))
    rbm.visible_bias.assign(r.normal(0, 0.5, visible).astype("float32"))
    rbm.hidden_bias.assign(r.normal(0, 0.5, hidden).astype("float32"))
    return rbm


DATA = (rng.random((200, 30)) < 0.4).astype("float32")
HARD = _rbm(30, 10, 1.5)  # weights large enough that a short annealing path is visibly biased
EXACT = partition.exact_log_partition(HARD)


def test_exact_log_partition_equals_the_sum_over_every_visible_and_hidden_state():
    rbm = _rbm(6, 4, 1.0, seed=3)
    w, b, c = (np.asarray(x, np.float64) for x in (rbm.kernel, rbm.visible_bias, rbm.hidden_bias))
    v = (np.arange(2 ** 6)[:, None] >> np.arange(6)) & 1
    h = (np.arange(2 ** 4)[:, None] >> np.arange(4)) & 1
    energy = v @ w @ h.T + (v @ b)[:, None] + (h @ c)[None, :]
    assert partition.exact_log_partition(rbm) == pytest.approx(np.log(np.exp(energy).sum()), abs=1e-5)


def test_ais_matches_the_exact_value_and_its_range_holds_it_with_enough_betas():
    result = partition.ais_log_partition(HARD, DATA, chains=100, betas=1000, seed=1)
    assert abs(result["log_z"] - EXACT) < 0.1
    assert result["lower"] <= EXACT <= result["upper"]
    assert result["log_weights"].shape == (100,) and result["betas"] == 1000


def test_ais_tightens_as_betas_grow():
    def error(betas):
        return np.mean([abs(partition.ais_log_partition(HARD, DATA, chains=50, betas=betas, seed=s)["log_z"] - EXACT)
                        for s in range(5)])

    coarse, fine = error(5), error(300)
    assert fine < 0.25 < coarse and fine < coarse / 4


def test_reverse_ais_from_exact_samples_bounds_from_above_and_ais_from_below_on_average():
    ais = [partition.ais_log_partition(HARD, DATA, chains=50, betas=5, seed=s)["log_z"] for s in range(10)]
    rais = [partition.rais_log_partition(HARD, DATA, partition.exact_samples(HARD, 50, seed=s), betas=5,
                                         seed=s)["log_z"] for s in range(10)]
    assert np.mean(ais) < EXACT < np.mean(rais)


def test_exact_samples_have_the_model_marginals():
    rbm = _rbm(6, 4, 1.0, seed=3)
    w, b, c = (np.asarray(x, np.float64) for x in (rbm.kernel, rbm.visible_bias, rbm.hidden_bias))
    v = (np.arange(2 ** 6)[:, None] >> np.arange(6)) & 1
    log_p = v @ b + np.log1p(np.exp(v @ w + c)).sum(1)
    p = np.exp(log_p - log_p.max())
    marginals = (p[:, None] * v).sum(0) / p.sum()
    samples = np.asarray(partition.exact_samples(rbm, 20000, seed=0))
    np.testing.assert_allclose(samples.mean(0), marginals, atol=0.015)


def test_log_likelihood_is_minus_free_energy_minus_log_z_and_sums_to_one_over_all_states():
    rbm = _rbm(6, 4, 1.0, seed=3)
    v = ((np.arange(2 ** 6)[:, None] >> np.arange(6)) & 1).astype("float32")
    log_p = partition.rbm_log_likelihood(rbm, v, partition.exact_log_partition(rbm))
    assert np.exp(log_p).sum() == pytest.approx(1.0, abs=1e-5)


def test_bad_betas_and_too_many_hidden_units_are_refused():
    with pytest.raises(ValueError, match="betas"):
        partition.ais_log_partition(HARD, DATA, betas=[0.0, 0.7, 0.5, 1.0])
    with pytest.raises(ValueError, match="at most"):
        partition.exact_log_partition(RBM(4, partition.MAX_ENUMERATED_HIDDEN + 1))
