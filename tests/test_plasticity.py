"""Each learning rule's weight change on a hand-built spike pair matches its formula."""

import numpy as np
import pytest
from brian2 import (
    Network,
    NeuronGroup,
    Synapses,
    defaultclock,
    ms,
    prefs,
    start_scope,
)

from brainsim import model as M
from brainsim.errors import ConfigError
from brainsim.plasticity import RULES, get_rule

T_PRE = 10.0  # ms
T_POST = 15.0  # ms
W0 = 0.5


def spiking_pair(rule, pre_times: str, post_times: str, w0: float = W0):
    """A presynaptic and a postsynaptic neuron firing at given times (threshold
    conditions on t), with the rule's traces, joined by one plastic synapse."""
    start_scope()
    prefs.codegen.target = "numpy"
    defaultclock.dt = M.dt
    ns = dict(rule.namespace, w_max=M.w_max)
    pre = NeuronGroup(1, rule.neuron_equations("pre") or "dummy : 1", threshold=pre_times,
                      reset=rule.neuron_reset("pre"), namespace=ns)
    post = NeuronGroup(1, "ge : 1\nwsum : 1\n" + rule.neuron_equations("post"),
                       threshold=post_times, reset=rule.neuron_reset("post"), namespace=ns)
    post.wsum = w0
    syn = Synapses(pre, post, model="w : 1", on_pre="ge_post += w\n" + rule.on_pre,
                   on_post=rule.on_post, namespace=ns)
    syn.connect()
    syn.w = w0
    Network(pre, post, syn).run(40 * ms, namespace={})
    return float(syn.w[0]), float(post.wsum[0])


def at(*times_ms: float) -> str:
    """Threshold condition true in the time step of each given time."""
    return " or ".join(f"abs(t - {t} * ms) < 0.25 * ms" for t in times_ms)


def run_pair(rule_name: str, t_pre: float, t_post: float, w0: float = W0):
    """One synapse, one presynaptic and one postsynaptic spike; returns (w, wsum)."""
    return spiking_pair(get_rule(rule_name), at(t_pre), at(t_post), w0)


def decay(dt_ms: float, tau) -> float:
    return float(np.exp(-dt_ms * ms / tau))


def test_power_law_pre_then_post():
    w, wsum = run_pair("power_law", T_PRE, T_POST)
    x_pre = decay(T_POST - T_PRE, M.tau_pre)
    expected = W0 + M.eta_post * (x_pre - M.x_tar) * (M.w_max - W0) ** M.mu
    assert w == pytest.approx(expected, rel=1e-9)
    assert wsum == pytest.approx(w, rel=1e-12)  # running sum follows the weight
    assert w > W0  # causal pair with a fresh trace potentiates


def test_power_law_post_alone_depresses():
    # presynaptic spike long after the postsynaptic one: x_pre = 0 at the post spike
    w, _ = run_pair("power_law", 30.0, T_POST)
    expected = W0 + M.eta_post * (0 - M.x_tar) * (M.w_max - W0) ** M.mu
    assert w == pytest.approx(expected, rel=1e-9)


def test_exponential_rule():
    w, wsum = run_pair("exponential", T_PRE, T_POST)
    x_pre = decay(T_POST - T_PRE, M.tau_pre)
    expected = W0 + M.eta_post * (x_pre * np.exp(-M.beta * W0)
                                 - M.x_tar * np.exp(-M.beta * (M.w_max - W0)))
    assert w == pytest.approx(expected, rel=1e-9)
    assert wsum == pytest.approx(w, rel=1e-12)


def test_pre_post_rule_both_orders():
    # post before pre: depression on the presynaptic spike, scaled by w^mu
    w, wsum = run_pair("pre_post", 20.0, T_PRE)
    x_post_at_pre = decay(20.0 - T_PRE, M.tau_post1)
    # the post spike happened first with x_pre = 0: dw = eta_post (0 - x_tar)(1 - w)^mu
    w_after_post = W0 + M.eta_post * (0 - M.x_tar) * (M.w_max - W0) ** M.mu
    expected = w_after_post - M.eta_pre * x_post_at_pre * w_after_post ** M.mu
    assert w == pytest.approx(expected, rel=1e-9)
    assert wsum == pytest.approx(w, rel=1e-12)
    # pre before post: potentiation as in the power-law rule
    w, _ = run_pair("pre_post", T_PRE, T_POST)
    x_pre = decay(T_POST - T_PRE, M.tau_pre)
    assert w == pytest.approx(W0 + M.eta_post * (x_pre - M.x_tar) * (M.w_max - W0) ** M.mu,
                              rel=1e-9)


def test_triplet_rule():
    w, _ = run_pair("triplet", T_PRE, T_POST)
    x_pre = decay(T_POST - T_PRE, M.tau_pre)
    # first post spike: the slow post trace is still 0 -> no potentiation; pre spike came
    # before any post spike -> no depression
    assert w == pytest.approx(W0, rel=1e-12)
    # post, pre, post: depression by nu_pre * x_post1, potentiation by nu_post x_pre x_post2
    w, wsum = spiking_pair(get_rule("triplet"), at(20.0), at(10.0, 25.0))
    w1 = W0 - M.nu_pre * decay(10.0, M.tau_post1)
    w2 = w1 + M.nu_post * decay(5.0, M.tau_pre) * decay(15.0, M.tau_post2)
    assert w == pytest.approx(w2, rel=1e-9)
    assert wsum == pytest.approx(w2, rel=1e-12)
    del x_pre


def test_triplet_traces_are_nearest_spike():
    # two presynaptic spikes 1 ms apart: the trace is set to 1, not 2
    w, _ = spiking_pair(get_rule("triplet"), at(9.0, 10.0), at(15.0, 30.0))
    # first post spike (15 ms): xpost2 = 0 -> no change; pre spikes before it saw no post
    # trace; second post spike (30 ms): nu_post * xpre(20 ms after the last pre) * xpost2(15 ms)
    expected = W0 + M.nu_post * decay(20.0, M.tau_pre) * decay(15.0, M.tau_post2)
    assert w == pytest.approx(expected, rel=1e-9)


def test_power_law_trace_accumulates():
    # two presynaptic spikes: x_pre = exp(-6/20) + exp(-5/20) at the post spike
    w, _ = spiking_pair(get_rule("power_law"), at(9.0, 10.0), at(15.0))
    x_pre = decay(6.0, M.tau_pre) + decay(5.0, M.tau_pre)
    assert w == pytest.approx(W0 + M.eta_post * (x_pre - M.x_tar) * (M.w_max - W0) ** M.mu,
                              rel=1e-9)


def test_instar_moves_every_weight_towards_the_presynaptic_trace():
    # causal pair: dw = eta (x_pre - c w), with the slow presynaptic trace
    w, wsum = run_pair("instar", T_PRE, T_POST)
    x_pre = decay(T_POST - T_PRE, M.tau_pre_slow)
    expected = W0 + M.eta_instar * (x_pre - M.c_instar * W0)
    assert w == pytest.approx(expected, rel=1e-9)
    assert wsum == pytest.approx(w, rel=1e-12)
    # no presynaptic spike before the postsynaptic one: the weight decays towards 0 by c w
    w, _ = run_pair("instar", 30.0, T_POST)
    assert w == pytest.approx(W0 * (1 - M.eta_instar * M.c_instar), rel=1e-9)
    from brainsim.teaching import stdp_formula  # the lessons' formula agrees
    assert stdp_formula("instar", [T_POST - T_PRE])[0] == pytest.approx(expected - W0, rel=1e-9)
    # the fixed point of repeated updates with the same trace is w = x_pre / c
    w_star = x_pre / M.c_instar
    w, _ = run_pair("instar", T_PRE, T_POST, w0=w_star)
    assert w == pytest.approx(w_star, rel=1e-9)


@pytest.mark.parametrize("name", sorted(RULES))
def test_weights_stay_in_bounds(name):
    w, _ = run_pair(name, T_PRE, T_POST, w0=1.0)
    assert 0.0 <= w <= M.w_max
    w, _ = run_pair(name, 30.0, T_POST, w0=0.0)
    assert 0.0 <= w <= M.w_max


def test_unknown_rule_lists_choices():
    with pytest.raises(ConfigError, match="power_law"):
        get_rule("hebbian")
