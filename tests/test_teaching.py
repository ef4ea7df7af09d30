"""brainsim.teaching: each simulation against the formula theory gives for it.

Brian2 runs in runtime mode (numpy target) on a few neurons; the whole module
takes a few seconds. The lessons (tests/test_lessons.py) use the same functions.
"""

import numpy as np
import pytest

from brainsim import model as M
from brainsim import teaching as T
from brainsim.errors import ConfigError


def test_rheobase_and_rate_formula():
    assert T.lif_rheobase() == pytest.approx(13 / 52)
    assert T.lif_rheobase(0.025) == pytest.approx(18 / 47)  # threshold -47 mV
    g = np.array([0.0, 0.2, 0.25, 0.3, 1.0, 1e3])
    rate = T.lif_rate(g)
    assert np.all(rate[:3] == 0)
    assert np.all(np.diff(rate[2:]) > 0)
    assert rate[-1] < 1 / float(M.refrac_e / M.second)  # never above 1 / refractory period
    assert rate[-1] > 0.99 / float(M.refrac_e / M.second)


def test_simulated_rates_match_the_formula_to_one_step():
    g = np.array([0.2, 0.3, 0.5, 1.0, 3.0])
    sim, theory = T.simulate_lif_rates(g, duration=1.0), T.lif_rate(g)
    assert sim[0] == 0
    err = 1 / sim[1:] - 1 / theory[1:]
    assert np.all((err >= -T.DT - 1e-9) & (err <= 1e-9)), err


def test_theta_shifts_the_simulated_threshold():
    g_star = T.lif_rheobase(0.03)
    below, above = T.simulate_lif_rates([0.98 * g_star, 1.05 * g_star], theta=0.03, duration=2.0)
    assert below == 0 and above > 0


def test_poisson_trains_have_poisson_statistics():
    rng = np.random.default_rng(1)
    rates = np.array([0.0, 10.0, 63.75])
    spikes = T.poisson_spike_trains(rates, 1.0, 400, rng)
    assert spikes.shape == (400, 2000, 3)
    st = T.spike_statistics(spikes)
    assert st["mean_count"][0] == 0 and np.isnan(st["fano"][0]) and np.isnan(st["isi_cv"][0])
    # 400 trials: standard error of the mean count sqrt(rate / 400) < 0.4 spikes
    assert st["mean_count"][1:] == pytest.approx(rates[1:], abs=1.6)
    assert st["fano"][1:] == pytest.approx(1 - rates[1:] * T.DT, abs=0.2)
    assert st["isi_cv"][1:] == pytest.approx(np.sqrt(1 - rates[1:] * T.DT), abs=0.05)


def test_isi_cv_equals_a_direct_computation():
    rng = np.random.default_rng(2)
    spikes = T.poisson_spike_trains(np.array([5.0, 40.0]), 0.5, 30, rng)
    cv = T.spike_statistics(spikes)["isi_cv"]
    for i in range(2):
        isis = np.concatenate([np.diff(np.flatnonzero(spikes[k, :, i])) for k in range(30)])
        assert cv[i] == pytest.approx(isis.std() / isis.mean(), rel=1e-12)


def test_psps_are_linear_in_small_weights_with_the_grid_factor():
    w = np.array([0.05, 0.5, 12.0])
    for kind, sign in (("exc", 1), ("inh", -1)):
        _, v = T.simulate_psps(w, kind=kind)
        dv = v - v[:, :1]
        peak = dv.max(axis=1) if sign > 0 else dv.min(axis=1)
        linear = T.psp_peak_linear(w, kind)
        assert np.all(np.sign(peak) == sign)
        assert peak[:2] == pytest.approx(linear[:2], rel=0.01)
        assert abs(peak[2]) < 0.97 * abs(linear[2])  # driving force shrinks
    # the 0.5 ms step makes a 1 ms conductance act 27 % larger (exponential Euler)
    assert T.psp_peak_linear(1.0, "exc") / T.psp_peak_linear(1.0, "exc", dt=0) == pytest.approx(
        0.5 / (1 - np.exp(-0.5)))
    with pytest.raises(ValueError, match="kind"):
        T.simulate_psps([1.0], kind="modulatory")


def test_numerical_gradient_of_a_quadratic():
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    p = np.array([0.3, -1.2])
    grad = T.numerical_gradient(lambda x: x @ A @ x, p, eps=1e-4)
    assert grad == pytest.approx(2 * A @ p, rel=1e-8)


@pytest.mark.parametrize("rule", ["power_law", "exponential", "pre_post", "triplet"])
def test_stdp_window_matches_each_rules_formula(rule):
    delta = np.array([-40.0, -10.0, -0.5, 0.5, 5.0, 18.0, 19.0, 45.0])
    sim = T.stdp_window(rule, delta, w0=0.3)
    formula = T.stdp_formula(rule, delta, w0=0.3)
    assert sim == pytest.approx(formula, rel=1e-9, abs=1e-15)
    assert np.any(formula != 0)


def test_stdp_window_signs_and_errors():
    dw = T.stdp_formula("power_law", [5.0, 25.0, -5.0])
    assert dw[0] > 0 > dw[1] and dw[2] < 0
    assert T.stdp_formula("triplet", [5.0])[0] == 0  # a first post spike: x_post2 = 0
    with pytest.raises(ValueError, match="nonzero"):
        T.stdp_formula("power_law", [0.0])
    with pytest.raises(ConfigError, match="power_law"):
        T.stdp_formula("hebb", [1.0])
    with pytest.raises(ValueError, match="t_first_ms"):
        T.stdp_window("power_law", [80.0])


def test_correlated_trains_have_rate_and_correlation():
    rng = np.random.default_rng(3)
    spikes = T.correlated_spike_trains(20, 10, 20.0, 0.5, 20.0, rng)
    rates = spikes.mean(axis=0) / T.DT
    assert rates == pytest.approx(20.0, abs=3.0)
    counts = spikes.reshape(400, 100, 20).sum(axis=1)  # 50 ms bins
    corr = np.corrcoef(counts.T)
    within = corr[:10, :10][np.triu_indices(10, 1)].mean()
    outside = corr[10:, 10:][np.triu_indices(10, 1)].mean()
    assert within == pytest.approx(0.5**2, abs=0.07)  # c**2
    assert abs(outside) < 0.05


def test_stdp_correlation_run_keeps_weights_in_bounds():
    rng = np.random.default_rng(4)
    spikes = T.correlated_spike_trains(64, 16, 20.0, 0.2, 1.0, rng)
    run = T.stdp_correlation_run(spikes, eta_scale=30, w0=0.3, record_every=0.25)
    assert run["w"].shape == (4, 64) and run["t"] == pytest.approx([0, 0.25, 0.5, 0.75])
    assert np.all((run["w_final"] >= 0) & (run["w_final"] <= M.w_max))
    assert run["w"][0] == pytest.approx(0.3)
    assert len(run["post_spikes"]) > 0 and not np.allclose(run["w_final"], 0.3)


def test_lateral_inhibition_picks_the_strongest_drive():
    g = np.array([0.4, 0.6, 0.5])
    free = T.wta_counts(g, inhibition=False)
    wta = T.wta_counts(g, inhibition=True)
    assert np.all(free["counts"] > 0)
    assert np.argmax(wta["counts"]) == 1
    assert wta["counts"][1] / wta["counts"].sum() > free["counts"][1] / free["counts"].sum()


def test_softmax_and_relu():
    p = T.softmax(np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, 0.0]]))
    assert p.sum(axis=1) == pytest.approx([1, 1])
    assert p[1] == pytest.approx([0.5, 0.5, 0.0])
    assert np.array_equal(T.relu([-1.0, 0.0, 2.0]), [0.0, 0.0, 2.0])


def test_share_of_wins_splits_ties_and_skips_silent_images():
    counts = np.array([[3, 1, 0], [0, 2, 2], [0, 0, 0], [5, 0, 1]])
    assert T.share_of_wins(counts) == pytest.approx([2 / 3, 1 / 6, 1 / 6])
    assert T.share_of_wins(np.zeros((2, 3))) == pytest.approx([0, 0, 0])


def test_theta_plus_is_restored():
    old = M.theta_plus
    with pytest.raises(RuntimeError):
        with T._theta_plus(0.0 * M.mV):
            assert M.theta_plus == 0.0 * M.mV
            raise RuntimeError
    assert M.theta_plus == old


def test_article_evaluation_shows_the_bug_and_the_fix():
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    y = np.array([0, 1, 1, 1])
    ev = T.article_evaluation(proba, y)
    assert "AxisError" in ev["error_1d"]
    assert ev["buggy_column"] == ev["share_of_zeros"] == 0.5
    assert ev["fixed"] == 0.75


def test_setup_lesson_is_reproducible():
    a = T.setup_lesson(7).random(3), np.random.random()
    b = T.setup_lesson(7).random(3), np.random.random()
    assert np.array_equal(a[0], b[0]) and a[1] == b[1]
