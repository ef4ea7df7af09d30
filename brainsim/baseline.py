"""The same network run "the common way", for speed comparisons.

Most Brian2 ports of Diehl & Cook (2015) follow the authors' Brian 1 loop:
Brian2's runtime mode, one ``run()`` call per presentation, weight
normalisation and the "fewer than 5 spikes" check in Python between calls,
and a simulated 150 ms rest. :func:`train_one_run_per_image` does exactly that
with this project's model (same equations, constants and learning rules), so
that ``experiments/benchmark.py`` can measure what the chunked, compiled
simulation of :mod:`brainsim.simulation` gains. It is not meant for real work.
"""

from __future__ import annotations

import time

import numpy as np

from brainsim import model as M
from brainsim.encoding import RATE_PER_PIXEL_VALUE
from brainsim.network import INHIBITORY_EQUATIONS, excitatory_equations
from brainsim.plasticity import get_rule
from brainsim.simulation import NetworkState, normalise_weights


def train_one_run_per_image(images: np.ndarray, state: NetworkState, *, rule: str = "power_law",
                            target: str = "cython", random_state: int = 0,
                            warmup: int = 1) -> tuple[NetworkState, float]:
    """Learn from `images` with one Brian2 ``run()`` per presentation.

    Parameters
    ----------
    images : ndarray, shape (n_images, n_input)
        Pixel values 0..255.
    state : NetworkState
        Initial weights, delays and thresholds.
    rule : str
        Learning rule.
    target : {"cython", "numpy"}
        Brian2 runtime code-generation target.
    random_state : int
        Seed for Brian2 and numpy.
    warmup : int
        Images run first and not timed (code generation, Cython compilation).

    Returns
    -------
    state : NetworkState
    seconds_per_image : float
        Wall time per training image after the warm-up.
    """
    import brian2
    from brian2 import Hz, Network, NeuronGroup, SpikeMonitor, Synapses, second, volt

    if brian2.get_device().__class__.__name__ != "RuntimeDevice":
        brian2.set_device("runtime")
    brian2.prefs.codegen.target = target
    brian2.defaultclock.dt = M.dt
    brian2.seed(random_state)
    rule_obj = get_rule(rule)
    n_input, n_neurons = state.weights.shape
    ns = {k: v for k, v in vars(M).items()
          if not k.startswith("_") and k != "dt" and isinstance(v, (int, float, brian2.Quantity))}
    ns.update(rule_obj.namespace, w_max=M.w_max, input_gain=M.reference_input_size / n_input)

    inputs = NeuronGroup(n_input, "rates : Hz\n" + rule_obj.neuron_equations("pre"),
                         threshold="rand() < rates * dt", reset=rule_obj.neuron_reset("pre"),
                         namespace=ns)
    exc = NeuronGroup(n_neurons, excitatory_equations(True) + "\n"
                      + rule_obj.neuron_equations("post"),
                      threshold="v > v_thresh_e + theta - theta_offset",
                      reset="v = v_reset_e\ntheta += theta_plus\n" + rule_obj.neuron_reset("post"),
                      refractory=M.refrac_e, method="exponential_euler", namespace=ns)
    inh = NeuronGroup(n_neurons, INHIBITORY_EQUATIONS, threshold="v > v_thresh_i",
                      reset="v = v_reset_i", refractory=M.refrac_i, method="exponential_euler", namespace=ns)
    syn = Synapses(inputs, exc, "w : 1", on_pre="ge_post += w * input_gain\n" + rule_obj.on_pre,
                   on_post=rule_obj.on_post, namespace=ns)
    syn.connect()
    syn.w = state.weights.ravel()
    syn.delay = state.delays.ravel() * second
    ei = Synapses(exc, inh, on_pre="ge_post += w_exc_to_inh", namespace=ns)
    ei.connect(j="i")
    ie = Synapses(inh, exc, on_pre="gi_post += w_inh_to_exc", namespace=ns)
    ie.connect(condition="i != j")
    exc.v = state.v_exc * volt
    inh.v = state.v_inh * volt
    exc.theta = state.theta * volt
    spikes = SpikeMonitor(exc)
    net = Network(inputs, exc, inh, syn, ei, ie, spikes)

    start = None
    for k, image in enumerate(images):
        if k == warmup:
            start = time.perf_counter()
        intensity = M.intensity_start
        while True:
            w = normalise_weights(np.asarray(syn.w[:]).reshape(n_input, n_neurons), n_input)
            syn.w = w.ravel()
            exc.wsum = w.sum(axis=0)
            inputs.rates = image * RATE_PER_PIXEL_VALUE * intensity * Hz
            before = spikes.num_spikes
            net.run(M.presentation_time, namespace={})
            n_spikes = spikes.num_spikes - before
            inputs.rates = 0 * Hz
            net.run(M.resting_time, namespace={})
            if n_spikes >= M.min_spikes or intensity >= M.intensity_start + M.max_retries:
                break
            intensity += 1
    elapsed = time.perf_counter() - start if start is not None else float("nan")
    n_timed = max(len(images) - warmup, 1)
    new_state = NetworkState(
        weights=np.asarray(syn.w[:]).reshape(n_input, n_neurons),
        delays=state.delays, theta=np.asarray(exc.theta[:] / volt),
        v_exc=np.asarray(exc.v[:] / volt), v_inh=np.asarray(inh.v[:] / volt),
    )
    return new_state, elapsed / n_timed
