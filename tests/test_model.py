"""The neuron model behaves as the leaky integrate-and-fire equations predict."""

import numpy as np
import pytest
from brian2 import (
    Network,
    NeuronGroup,
    SpikeMonitor,
    defaultclock,
    mV,
    prefs,
    second,
    start_scope,
)

from brainsim import model as M
from brainsim.network import excitatory_equations


def constant_conductance_neuron(g_exc: float, learning: bool, duration=2 * second):
    """An excitatory neuron of the model with its excitatory conductance held at g_exc."""
    start_scope()
    prefs.codegen.target = "numpy"
    defaultclock.dt = M.dt
    ns = {name: value for name, value in vars(M).items() if not name.startswith("_")}
    ns["tau_ge"] = 1e12 * second  # freeze the conductance: no decay
    reset = "v = v_reset_e" + ("\ntheta += theta_plus" if learning else "")
    G = NeuronGroup(1, excitatory_equations(learning), threshold="v > v_thresh_e + theta - theta_offset",
                    reset=reset, refractory=M.refrac_e, method="exponential_euler", namespace=ns)
    G.v = M.v_reset_e
    G.ge = g_exc
    G.theta = M.theta_init
    mon = SpikeMonitor(G)
    Network(G, mon).run(duration, namespace={})
    return G, mon


@pytest.mark.parametrize("g_exc", [0.5, 1.0, 2.0])
def test_firing_rate_matches_lif_prediction(g_exc):
    _, mon = constant_conductance_neuron(g_exc, learning=False)
    # dv/dt = ((v_rest - v) + g (E_exc - v)) / tau  ->  relaxes to v_inf with tau / (1 + g)
    v_inf = (M.v_rest_e + g_exc * M.E_exc_e) / (1 + g_exc)
    tau_eff = M.tau_e / (1 + g_exc)
    period = M.refrac_e + tau_eff * np.log((v_inf - M.v_reset_e) / (v_inf - M.v_thresh_e))
    isi = np.diff(np.asarray(mon.t / second))
    assert len(isi) > 10
    # spike times fall on the 0.5 ms grid of the simulation
    tolerance = float(M.dt / second) + 0.01 * float(period / second)
    assert np.mean(isi) == pytest.approx(float(period / second), abs=tolerance)


def test_no_firing_below_threshold_drive():
    # v_inf = (v_rest + g E_exc) / (1 + g) < v_thresh  for g small
    _, mon = constant_conductance_neuron(0.1, learning=False)
    assert mon.num_spikes == 0


def test_theta_rises_by_theta_plus_per_spike():
    G, mon = constant_conductance_neuron(1.0, learning=True, duration=1 * second)
    n = mon.num_spikes
    assert n > 5
    rise = float((G.theta[0] - M.theta_init) / mV)
    # theta (about 20 mV) also decays, by 20 mV * 1 s / tau_theta = 0.002 mV in 1 s
    decay = float(M.theta_init / mV) * (1 - np.exp(-float(1 * second / M.tau_theta)))
    assert rise == pytest.approx(n * float(M.theta_plus / mV) - decay, abs=2e-4)


def test_adaptive_threshold_lowers_the_rate():
    _, fixed = constant_conductance_neuron(1.0, learning=False, duration=1 * second)
    _, adaptive = constant_conductance_neuron(1.0, learning=True, duration=1 * second)
    assert adaptive.num_spikes < fixed.num_spikes
