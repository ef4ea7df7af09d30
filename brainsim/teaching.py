"""Small simulations and measurements for the lessons in ``lessons/``.

Each function turns one concept of the article ("AI neural networks and the
principles of the human brain") into a runnable experiment with the project's
own model: the constants of :mod:`brainsim.model`, the neuron equations of
:mod:`brainsim.network`, the learning rules of :mod:`brainsim.plasticity`, the
rate code of :mod:`brainsim.encoding`. Next to each simulation stands the
formula that theory gives, so that a lesson can check one against the other.

Brian2 is run in runtime mode with the numpy target (no compiler, starts in
about a second); :func:`homeostasis_run` and :func:`small_comparison` use the
:class:`~brainsim.classifier.DiehlCookSNN` estimator.

Units: times in seconds unless a name ends in ``_ms``, potentials in volts,
conductances as in the model (dimensionless, in units of the leak
conductance), rates in Hz.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import numpy as np

from brian2 import mV, ms, second, volt

from brainsim import model as M

__all__ = [
    "DT",
    "setup_lesson",
    "relu",
    "softmax",
    "lif_rheobase",
    "lif_rate",
    "simulate_lif_rates",
    "poisson_spike_trains",
    "spike_statistics",
    "psp_peak_linear",
    "simulate_psps",
    "numerical_gradient",
    "stdp_formula",
    "stdp_window",
    "correlated_spike_trains",
    "stdp_correlation_run",
    "wta_counts",
    "share_of_wins",
    "homeostasis_run",
    "small_comparison",
    "article_evaluation",
]

#: Simulation time step of the project, in seconds (0.5 ms).
DT = float(M.dt / second)


def _f(quantity, unit) -> float:
    return float(quantity / unit)


def setup_lesson(seed: int = 0) -> np.random.Generator:
    """Make a lesson reproducible and its figures render anywhere.

    Seeds numpy's global generator, Python's ``random`` and Brian2; selects
    matplotlib's non-interactive Agg back end when the lesson runs as a plain
    script without a display (in Jupyter the figures appear inline as usual).

    Returns
    -------
    numpy.random.Generator
        A generator seeded with `seed`, for the lesson's own random numbers.
    """
    import os
    import random
    import sys

    import brian2
    import matplotlib

    if "ipykernel" not in sys.modules and not os.environ.get("DISPLAY"):
        matplotlib.use("Agg")
    random.seed(seed)
    np.random.seed(seed)
    brian2.seed(seed)
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------
# Node vs neuron
# --------------------------------------------------------------------------
def relu(z):
    """The article's activation function, max(z, 0)."""
    return np.maximum(np.asarray(z, dtype=float), 0.0)


def softmax(z, axis: int = -1) -> np.ndarray:
    """Softmax along `axis`, computed stably (max subtracted first)."""
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _threshold(theta: float) -> float:
    """Firing threshold in volts for an adaptive threshold `theta` (volts)."""
    return _f(M.v_thresh_e, volt) + theta - _f(M.theta_offset, volt)


def lif_rheobase(theta: float = _f(M.theta_init, volt)) -> float:
    """Smallest constant excitatory conductance that makes the neuron fire.

    With a constant conductance g the membrane relaxes to
    ``v_inf = (v_rest + g E_exc) / (1 + g)``; it fires when ``v_inf`` exceeds
    the threshold ``v_th``, i.e. for ``g > (v_th - v_rest) / (E_exc - v_th)``.

    Parameters
    ----------
    theta : float
        Adaptive threshold in volts (20 mV: threshold -52 mV).

    Returns
    -------
    float
        Conductance (in units of the leak conductance).
    """
    v_th = _threshold(theta)
    v_rest, e_exc = _f(M.v_rest_e, volt), _f(M.E_exc_e, volt)
    return (v_th - v_rest) / (e_exc - v_th)


def lif_rate(g, theta: float = _f(M.theta_init, volt)) -> np.ndarray:
    """Firing rate in Hz of the excitatory neuron under a constant conductance.

    The membrane equation ``tau dv/dt = (v_rest - v) + g (E_exc - v)`` is
    linear: v relaxes to ``v_inf`` with time constant ``tau / (1 + g)``. From
    the reset the threshold is reached after
    ``T = tau / (1 + g) * ln((v_inf - v_reset) / (v_inf - v_th))``, and with the
    refractory period the rate is ``1 / (t_ref + T)``; 0 below the rheobase.

    Parameters
    ----------
    g : array_like
        Constant excitatory conductance(s).
    theta : float
        Adaptive threshold in volts.

    Returns
    -------
    ndarray
        Rates in Hz, the shape of `g`.
    """
    g = np.asarray(g, dtype=float)
    v_rest, e_exc = _f(M.v_rest_e, volt), _f(M.E_exc_e, volt)
    v_reset, v_th = _f(M.v_reset_e, volt), _threshold(theta)
    tau, t_ref = _f(M.tau_e, second), _f(M.refrac_e, second)
    v_inf = (v_rest + g * e_exc) / (1.0 + g)
    fires = v_inf > v_th
    with np.errstate(divide="ignore", invalid="ignore"):
        T = tau / (1.0 + g) * np.log((v_inf - v_reset) / (v_inf - v_th))
        rate = np.where(fires, 1.0 / (t_ref + T), 0.0)
    return rate


@contextlib.contextmanager
def _numpy_runtime() -> Iterator[None]:
    """Brian2 runtime mode with the numpy target and the project's dt, in a fresh scope."""
    import brian2

    if brian2.get_device().__class__.__name__ != "RuntimeDevice":
        brian2.set_device("runtime")
    old_target = brian2.prefs.codegen.target
    brian2.prefs.codegen.target = "numpy"
    brian2.start_scope()
    brian2.defaultclock.dt = M.dt
    try:
        yield
    finally:
        brian2.prefs.codegen.target = old_target


def _namespace(**extra) -> dict:
    """The model's constants, as :mod:`brainsim.network` hands them to Brian2."""
    from brian2 import Quantity

    ns = {k: v for k, v in vars(M).items()
          if not k.startswith("_") and isinstance(v, (int, float, Quantity)) and k != "dt"}
    ns.update(w_max=M.w_max, input_gain=1.0)
    ns.update(extra)
    return ns


def _excitatory_group(n: int, *, learning: bool = False, extra_eqs: str = "",
                      reset: str = "v = v_reset_e", ns: dict | None = None):
    """n excitatory neurons with the project's equations, threshold and reset."""
    from brian2 import NeuronGroup

    from brainsim.network import excitatory_equations, exponential_euler_when_not_refractory

    eqs = excitatory_equations(learning) + ("\n" + extra_eqs if extra_eqs else "")
    group = NeuronGroup(
        n, eqs, threshold="v > v_thresh_e + theta - theta_offset", reset=reset,
        refractory=M.refrac_e, method=exponential_euler_when_not_refractory,
        namespace=ns if ns is not None else _namespace(),
    )
    group.v = M.v_reset_e
    group.theta = M.theta_init
    return group


def simulate_lif_rates(g, theta: float = _f(M.theta_init, volt),
                       duration: float = 2.0) -> np.ndarray:
    """Firing rates of the project's excitatory neuron under constant conductances.

    One neuron per value of `g`, with the equations, threshold, reset and
    refractory period of :mod:`brainsim.network`; ``ge`` is set to `g` at the
    start of every time step (the exponential Euler step is then exact). All
    neurons start at the reset potential. The rate is 1 / mean interval between
    spikes (the time to the first spike lacks the refractory period and is
    left out); 0 for a neuron that fires fewer than twice.

    Parameters
    ----------
    g : array_like, shape (n,)
        Constant excitatory conductances.
    theta : float
        Adaptive threshold in volts (held fixed: learning off).
    duration : float
        Simulated time in seconds.

    Returns
    -------
    ndarray, shape (n,)
        Rates in Hz.
    """
    from brian2 import Network, SpikeMonitor, second, volt

    g = np.atleast_1d(np.asarray(g, dtype=float))
    with _numpy_runtime():
        exc = _excitatory_group(len(g), extra_eqs="g_drive : 1 (constant)")
        exc.g_drive = g
        exc.theta = theta * volt
        exc.run_regularly("ge = g_drive", when="before_groups")
        mon = SpikeMonitor(exc)
        Network(exc, mon).run(duration * second, namespace={})
        trains = mon.spike_trains()
        rates = np.zeros(len(g))
        for k in range(len(g)):
            t = np.asarray(trains[k] / second)
            if len(t) >= 2:
                rates[k] = 1.0 / np.diff(t).mean()
    return rates


# --------------------------------------------------------------------------
# Spike vs activation value
# --------------------------------------------------------------------------
def poisson_spike_trains(rates, duration: float, n_trials: int,
                         rng: np.random.Generator) -> np.ndarray:
    """Poisson spike trains on the simulation's time grid.

    In each 0.5 ms step an input neuron of rate r fires with probability
    ``r dt``: the process Brian2's ``PoissonGroup`` draws, and the one the
    network's input layer draws (:mod:`brainsim.network`, as geometric gaps).

    Parameters
    ----------
    rates : array_like, shape (n_inputs,)
        Rates in Hz (e.g. :func:`brainsim.encoding.input_rates` of an image).
    duration : float
        Seconds (a whole number of time steps).
    n_trials : int
        Independent repetitions.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of bool, shape (n_trials, n_steps, n_inputs)
        True where a neuron fired.
    """
    rates = np.asarray(rates, dtype=float)
    n_steps = int(round(duration / DT))
    return rng.random((n_trials, n_steps, rates.size)) < rates * DT


def spike_statistics(spikes: np.ndarray) -> dict:
    """Counts, Fano factor and ISI coefficient of variation of spike trains.

    Parameters
    ----------
    spikes : ndarray of bool, shape (n_trials, n_steps, n_inputs)

    Returns
    -------
    dict
        ``mean_count`` and ``fano`` (variance / mean of the count over trials),
        per input (nan for an input that never fired); ``isi_cv`` per input
        (standard deviation / mean of all its inter-spike intervals pooled over
        trials; nan with fewer than 3 intervals).
    """
    counts = spikes.sum(axis=1).astype(float)  # (n_trials, n_inputs)
    mean = counts.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        fano = np.where(mean > 0, counts.var(axis=0, ddof=1) / mean, np.nan)
    n_inputs = spikes.shape[2]
    # all spikes, ordered by input, then trial, then time step
    trial, step, inp = np.nonzero(spikes)
    order = np.lexsort((step, trial, inp))
    trial, step, inp = trial[order], step[order], inp[order]
    same = (np.diff(inp) == 0) & (np.diff(trial) == 0)  # consecutive spikes of one train
    isi, owner = np.diff(step)[same].astype(float), inp[1:][same]
    n = np.bincount(owner, minlength=n_inputs)
    s1 = np.bincount(owner, weights=isi, minlength=n_inputs)
    s2 = np.bincount(owner, weights=isi**2, minlength=n_inputs)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = s1 / n
        cv = np.where(n >= 3, np.sqrt(np.maximum(s2 / n - m**2, 0)) / m, np.nan)
    return dict(mean_count=mean, fano=fano, isi_cv=cv)


# --------------------------------------------------------------------------
# Synapse vs weight and bias
# --------------------------------------------------------------------------
def psp_peak_linear(w, kind: str = "exc", dt: float = DT) -> np.ndarray:
    """Peak of the postsynaptic potential at rest, to first order in the weight w.

    A spike raises the conductance by w, which then decays with tau_g; for
    small w the driving force stays ``E - v_rest`` and
    ``u(t) = w (E - v_rest) tau_g / (tau - tau_g) (exp(-t/tau) - exp(-t/tau_g))``,
    whose maximum is at ``t* = tau tau_g / (tau - tau_g) ln(tau / tau_g)``.

    Parameters
    ----------
    w : array_like
        Synaptic weights (conductance jump, units of the leak conductance).
    kind : {"exc", "inh"}
        Excitatory (reversal 0 mV, tau_ge 1 ms) or inhibitory (-100 mV, 2 ms).
    dt : float
        Time step in seconds; 0 for continuous time. The simulation's
        exponential Euler step holds the conductance at its value at the start
        of each step, so the conductance the membrane sees over a step is
        ``dt / (tau_g (1 - exp(-dt / tau_g)))`` times its true mean over the
        step: 1.27 for tau_ge = 1 ms and 1.13 for tau_gi = 2 ms at dt = 0.5 ms.
        The peak is multiplied by this factor.

    Returns
    -------
    ndarray
        Peak change of v in volts (negative for inhibition).
    """
    tau = _f(M.tau_e, second)
    tau_g = _f(M.tau_ge if kind == "exc" else M.tau_gi, second)
    E = _f(M.E_exc_e if kind == "exc" else M.E_inh_e, volt)
    v_rest = _f(M.v_rest_e, volt)
    t_star = tau * tau_g / (tau - tau_g) * np.log(tau / tau_g)
    shape = tau_g / (tau - tau_g) * (np.exp(-t_star / tau) - np.exp(-t_star / tau_g))
    grid = dt / (tau_g * (1.0 - np.exp(-dt / tau_g))) if dt > 0 else 1.0
    return np.asarray(w, dtype=float) * (E - v_rest) * shape * grid


def simulate_psps(w, kind: str = "exc", duration: float = 0.06,
                  t_spike: float = 0.005) -> tuple[np.ndarray, np.ndarray]:
    """Membrane potential of resting neurons after one input spike of weight w.

    One neuron per weight, with the project's excitatory-neuron equations; at
    `t_spike` a presynaptic spike raises ``ge`` (kind "exc") or ``gi``
    ("inh") by w, as the network's synapses do.

    Returns
    -------
    t : ndarray, shape (n_times,)
        Seconds.
    v : ndarray, shape (n_weights, n_times)
        Volts.
    """
    from brian2 import Network, SpikeGeneratorGroup, StateMonitor, Synapses, second, volt

    if kind not in ("exc", "inh"):
        raise ValueError(f"kind must be 'exc' or 'inh', got {kind!r}")
    w = np.atleast_1d(np.asarray(w, dtype=float))
    with _numpy_runtime():
        exc = _excitatory_group(len(w))
        exc.v = M.v_rest_e
        src = SpikeGeneratorGroup(1, [0], [t_spike] * second)
        target = "ge" if kind == "exc" else "gi"
        syn = Synapses(src, exc, "w : 1", on_pre=f"{target}_post += w")
        syn.connect()
        syn.w = w
        mon = StateMonitor(exc, "v", record=True)
        Network(exc, src, syn, mon).run(duration * second, namespace={})
        return np.asarray(mon.t / second), np.asarray(mon.v / volt)


# --------------------------------------------------------------------------
# Learning: gradient descent vs STDP
# --------------------------------------------------------------------------
def numerical_gradient(f, params: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central finite differences of a scalar function f at `params`.

    ``(f(p + eps e_i) - f(p - eps e_i)) / (2 eps)`` for every coordinate i; the
    error is of order eps**2 for a smooth f.
    """
    params = np.asarray(params, dtype=float)
    grad = np.zeros_like(params)
    for i in np.ndindex(params.shape):
        step = np.zeros_like(params)
        step[i] = eps
        grad[i] = (f(params + step) - f(params - step)) / (2 * eps)
    return grad


def stdp_formula(rule: str, delta_t_ms, w0: float = 0.5) -> np.ndarray:
    """Weight change of one pre- and one postsynaptic spike, from the rule's formula.

    ``delta_t_ms = t_post - t_pre`` in ms (nonzero). Traces are 0 before a
    neuron's first spike, so (see :mod:`brainsim.plasticity`):

    * power_law: ``eta (x_pre - x_tar) (w_max - w)^mu`` at the post spike, with
      ``x_pre = exp(-dt / tau_pre)`` for dt > 0 and 0 for dt < 0;
    * exponential: ``eta (x_pre exp(-beta w) - x_tar exp(-beta (w_max - w)))``;
    * pre_post: the power law at the post spike, and for dt < 0 then
      ``-eta_pre x_post w^mu`` at the pre spike, ``x_post = exp(dt / tau_post)``;
    * triplet: for dt > 0 nothing (``x_post2`` is 0 at a first post spike), for
      dt < 0 ``-nu_pre exp(dt / tau_post1)``.

    Returns
    -------
    ndarray
        New weight minus w0, the shape of `delta_t_ms`.
    """
    from brainsim.plasticity import get_rule

    get_rule(rule)  # clear error for an unknown name
    d = np.asarray(delta_t_ms, dtype=float)
    if np.any(d == 0):
        raise ValueError("delta_t_ms must be nonzero (simultaneous spikes are order-dependent)")
    ms_ = _f(ms, second)
    tau_pre = _f(M.tau_pre, second) / ms_
    x_pre = np.where(d > 0, np.exp(-np.abs(d) / tau_pre), 0.0)
    w_max = M.w_max
    if rule in ("power_law", "pre_post"):
        dw_post = M.eta_post * (x_pre - M.x_tar) * (w_max - w0) ** M.mu
        if rule == "power_law":
            return dw_post
        w1 = w0 + dw_post
        x_post = np.exp(-np.abs(d) / (_f(M.tau_post1, second) / ms_))
        dw_pre = np.where(d < 0, -M.eta_pre * x_post * np.clip(w1, 0, w_max) ** M.mu, 0.0)
        return dw_post + dw_pre
    if rule == "exponential":
        return M.eta_post * (x_pre * np.exp(-M.beta * w0)
                             - M.x_tar * np.exp(-M.beta * (w_max - w0)))
    if rule == "instar":
        x_slow = np.where(d > 0, np.exp(-np.abs(d) / (_f(M.tau_pre_slow, second) / ms_)), 0.0)
        return M.eta_instar * (x_slow - M.c_instar * w0)
    # triplet
    x_post1 = np.exp(-np.abs(d) / (_f(M.tau_post1, second) / ms_))
    return np.where(d < 0, -M.nu_pre * x_post1, 0.0)


def stdp_window(rule: str, delta_t_ms, w0: float = 0.5, t_first_ms: float = 60.0) -> np.ndarray:
    """Weight change of one spike pair per synapse, simulated with the rule's Brian2 code.

    One presynaptic and one postsynaptic neuron per value of `delta_t_ms`,
    joined by one plastic synapse with the rule's traces and statements from
    :mod:`brainsim.plasticity`; the pre neuron fires at ``t_first_ms`` and the
    post neuron ``delta_t_ms`` later (or earlier). All pairs run side by side
    in one simulation. Spike times are rounded to the 0.5 ms grid.

    Returns
    -------
    ndarray
        New weight minus w0, the shape of `delta_t_ms`.
    """
    from brian2 import Network, NeuronGroup, Synapses, ms

    from brainsim.plasticity import get_rule

    r = get_rule(rule)
    d = np.asarray(delta_t_ms, dtype=float)
    if np.any(np.abs(d) >= t_first_ms):
        raise ValueError(f"|delta_t_ms| must be below t_first_ms = {t_first_ms} ms")
    n = d.size
    t_pre = np.full(n, t_first_ms)
    t_post = t_first_ms + d.ravel()
    ns = dict(r.namespace, w_max=M.w_max)
    with _numpy_runtime():
        at = "abs(t - t_spike) < 0.25 * ms"
        pre = NeuronGroup(n, "t_spike : second (constant)\n" + r.neuron_equations("pre"),
                          threshold=at, reset=r.neuron_reset("pre"), namespace=ns)
        post = NeuronGroup(n, "t_spike : second (constant)\nge : 1\nwsum : 1\n"
                           + r.neuron_equations("post"),
                           threshold=at, reset=r.neuron_reset("post") or "", namespace=ns)
        pre.t_spike = t_pre * ms
        post.t_spike = t_post * ms
        post.wsum = w0
        syn = Synapses(pre, post, "w : 1", on_pre="ge_post += w\n" + r.on_pre,
                       on_post=r.on_post, namespace=ns)
        syn.connect(j="i")
        syn.w = w0
        Network(pre, post, syn).run((t_first_ms + np.abs(d).max() + 5) * ms, namespace={})
        return (np.asarray(syn.w[:]) - w0).reshape(d.shape)


# --------------------------------------------------------------------------
# What STDP learns
# --------------------------------------------------------------------------
def correlated_spike_trains(n_inputs: int, n_correlated: int, rate: float, c: float,
                            duration: float, rng: np.random.Generator) -> np.ndarray:
    """Poisson inputs of which the first `n_correlated` share spikes.

    Every input fires at `rate` Hz. The correlated ones copy each spike of a
    common "mother" train (rate `rate`) with probability `c` and add their own
    independent spikes at ``(1 - c) rate``; the others are independent. Two
    inputs of the group share a spike with probability ``c**2``, so their spike
    counts have the correlation coefficient ``c**2`` (in any time bin).

    Returns
    -------
    ndarray of bool, shape (n_steps, n_inputs)
    """
    n_steps = int(round(duration / DT))
    p = rate * DT
    spikes = rng.random((n_steps, n_inputs)) < p
    if n_correlated:
        mother = rng.random(n_steps) < p
        copied = mother[:, None] & (rng.random((n_steps, n_correlated)) < c)
        own = rng.random((n_steps, n_correlated)) < (1 - c) * p
        spikes[:, :n_correlated] = copied | own
    return spikes


def stdp_correlation_run(spikes: np.ndarray, *, rule: str = "power_law", w0: float = 0.5,
                         eta_scale: float = 1.0, gain: float = 1.0,
                         record_every: float = 0.5) -> dict:
    """One excitatory neuron learning from given input spike trains.

    The neuron has the project's equations, adaptive threshold and reset; its
    input synapses have the rule's Brian2 code from :mod:`brainsim.plasticity`
    (weights clipped to [0, w_max]); there is no weight normalisation and no
    inhibition: one neuron alone.

    Parameters
    ----------
    spikes : ndarray of bool, shape (n_steps, n_inputs)
        Input spikes on the 0.5 ms grid (:func:`correlated_spike_trains`).
    rule : str
        Learning rule name.
    w0 : float
        Initial weight of every synapse.
    eta_scale : float
        Factor on the rule's learning rates (a lesson speeds learning up).
    gain : float
        Factor on each input spike's conductance jump (``ge += gain * w``).
    record_every : float
        Seconds between weight snapshots.

    Returns
    -------
    dict
        ``t`` (snapshot times, s), ``w`` (n_snapshots, n_inputs),
        ``post_spikes`` (s), ``w_final`` (n_inputs,).
    """
    from brian2 import (Network, NeuronGroup, SpikeMonitor, StateMonitor, Synapses,
                        TimedArray, second)

    from brainsim.plasticity import get_rule

    r = get_rule(rule)
    n_steps, n_in = spikes.shape
    rates_ns = {k: v * eta_scale for k, v in r.namespace.items()
                if k in ("eta_post", "eta_pre", "nu_pre", "nu_post")}
    ns = _namespace(**dict(r.namespace, **rates_ns))
    ns["input_gain"] = gain
    with _numpy_runtime():
        table = TimedArray(spikes.astype(float), dt=M.dt)
        inputs = NeuronGroup(n_in, r.neuron_equations("pre") or "dummy : 1",
                             threshold="table(t, i) > 0.5", reset=r.neuron_reset("pre"),
                             namespace=dict(ns, table=table))
        reset = "v = v_reset_e\ntheta += theta_plus\n" + r.neuron_reset("post")
        exc = _excitatory_group(1, learning=True, extra_eqs=r.neuron_equations("post"),
                                reset=reset, ns=ns)
        exc.wsum = w0 * n_in
        syn = Synapses(inputs, exc, "w : 1", on_pre="ge_post += w * input_gain\n" + r.on_pre,
                       on_post=r.on_post, namespace=ns)
        syn.connect()
        syn.w = w0
        wmon = StateMonitor(syn, "w", record=True, dt=record_every * second)
        smon = SpikeMonitor(exc)
        Network(inputs, exc, syn, wmon, smon).run(n_steps * M.dt, namespace={})
        w_final = np.asarray(syn.w[:])
        return dict(t=np.asarray(wmon.t / second), w=np.asarray(wmon.w).T,
                    post_spikes=np.asarray(smon.t / second), w_final=w_final)


# --------------------------------------------------------------------------
# Decision making
# --------------------------------------------------------------------------
def wta_counts(g, *, inhibition: bool = True, duration: float = 0.35,
               seed: int = 0) -> dict:
    """Spike counts of excitatory neurons under constant drives, with lateral inhibition.

    Each excitatory neuron k receives the constant conductance ``g[k]`` (its
    "evidence"); with `inhibition` it also excites its inhibitory partner
    (weight ``w_exc_to_inh``), which inhibits every *other* excitatory neuron
    (``w_inh_to_exc``): the circuit of [DC15] with the project's equations
    and weights. Membrane potentials start at random values between reset and
    threshold (seeded), so that no neuron gets a head start by construction.

    Returns
    -------
    dict
        ``counts`` (n,), ``spike_i``, ``spike_t`` (s) of the excitatory layer.
    """
    from brian2 import Network, NeuronGroup, SpikeMonitor, Synapses, second, volt

    from brainsim.network import INHIBITORY_EQUATIONS, exponential_euler_when_not_refractory

    g = np.atleast_1d(np.asarray(g, dtype=float))
    n = len(g)
    rng = np.random.default_rng(seed)
    with _numpy_runtime():
        ns = _namespace()
        exc = _excitatory_group(n, extra_eqs="g_drive : 1 (constant)", ns=ns)
        exc.g_drive = g
        exc.v = rng.uniform(_f(M.v_reset_e, volt), _f(M.v_thresh_e, volt), n) * volt
        exc.run_regularly("ge = g_drive", when="before_groups")
        objects = [exc]
        if inhibition:
            inh = NeuronGroup(n, INHIBITORY_EQUATIONS, threshold="v > v_thresh_i",
                              reset="v = v_reset_i", refractory=M.refrac_i,
                              method=exponential_euler_when_not_refractory, namespace=ns)
            inh.v = M.v_rest_i
            e2i = Synapses(exc, inh, on_pre="ge_post += w_exc_to_inh", namespace=ns)
            e2i.connect(j="i")
            i2e = Synapses(inh, exc, on_pre="gi_post += w_inh_to_exc", namespace=ns)
            i2e.connect(condition="i != j")
            objects += [inh, e2i, i2e]
        mon = SpikeMonitor(exc)
        Network(*objects, mon).run(duration * second, namespace={})
        return dict(counts=np.asarray(mon.count[:]), spike_i=np.asarray(mon.i[:]),
                    spike_t=np.asarray(mon.t / second))


# --------------------------------------------------------------------------
# Homeostasis
# --------------------------------------------------------------------------
def share_of_wins(counts: np.ndarray) -> np.ndarray:
    """Fraction of images on which each neuron fired most (ties split evenly).

    Images without any spike count for no neuron.

    Parameters
    ----------
    counts : ndarray, shape (n_images, n_neurons)
        Spike counts.

    Returns
    -------
    ndarray, shape (n_neurons,)
        Sums to 1 when at least one image drew a spike.
    """
    counts = np.asarray(counts, dtype=float)
    active = counts.max(axis=1) > 0
    top = (counts == counts.max(axis=1, keepdims=True)) & active[:, None]
    wins = (top / np.maximum(top.sum(axis=1, keepdims=True), 1)).sum(axis=0)
    return wins / max(active.sum(), 1)


@contextlib.contextmanager
def _quiet_progress() -> Iterator[None]:
    """Silence tqdm's notice that Jupyter widgets are missing (no bar is shown anyway)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        yield


@contextlib.contextmanager
def _theta_plus(value) -> Iterator[None]:
    """Temporarily change the model's threshold increase per spike (runtime builds only)."""
    old = M.theta_plus
    M.theta_plus = value
    try:
        yield
    finally:
        M.theta_plus = old


def homeostasis_run(X, *, adaptive: bool, n_neurons: int = 10,
                    presentation_time: float = 0.1, resting_time: float = 0.02,
                    random_state: int = 0) -> dict:
    """Train a small spiking network with the adaptive threshold on or off.

    A :class:`~brainsim.classifier.DiehlCookSNN` on Brian2's runtime back end
    (numpy) learns from the images `X`; with ``adaptive=False`` the threshold
    increase per spike (``theta_plus``, 0.05 mV) is set to 0 while the
    network is built, so every threshold stays at -52 mV. (Runtime only: the
    compiled back end caches its binaries by code, not by the value of a
    constant.) The network then answers the same images with learning off.

    Returns
    -------
    dict
        ``counts`` (n_images, n_neurons) spike counts of the frozen network,
        ``share`` (:func:`share_of_wins`), ``theta`` (n_neurons,) in volts,
        ``weights`` (n_inputs, n_neurons), ``presentations`` (training
        presentations, retries included).
    """
    from brainsim.classifier import DiehlCookSNN

    snn = DiehlCookSNN(n_neurons=n_neurons, presentation_time=presentation_time,
                       resting_time=resting_time, backend="runtime", progress=False,
                       chunk_size=len(X), n_copies=10,
                       inference_chunk_size=-(-len(X) // 10),
                       random_state=random_state)
    with _quiet_progress():
        with _theta_plus(M.theta_plus if adaptive else 0.0 * mV):
            snn.partial_fit(X)
        counts = snn.transform(X)
    return dict(counts=counts, share=share_of_wins(counts), theta=snn.theta_.copy(),
                weights=snn.weights_.copy(), presentations=snn.training_presentations_)


# --------------------------------------------------------------------------
# The whole comparison, small
# --------------------------------------------------------------------------
def small_comparison(data, *, n_neurons: int = 10, n_train: int = 300, n_test: int = 200,
                     mlp_epochs: int = 10, random_state: int = 0) -> dict:
    """The spiking network and the article's network on the same small data.

    The spiking network (:class:`~brainsim.classifier.DiehlCookSNN`, compiled
    back end, the shapes the test suite compiles) learns from the first
    `n_train` training images without labels and is labelled on them; the
    article's 784-32-10 network (:func:`ann.models.article_mlp`, 64-32-10 on
    8x8 digits) is trained on the same images with labels, for `mlp_epochs`
    epochs (10 in the article).

    Returns
    -------
    dict
        ``y_test``; for "snn": ``pred``, ``counts`` (n_test, n_neurons),
        ``weights``, ``assignments``, ``accuracy``; for "mlp": ``pred``,
        ``proba``, ``hidden`` (n_test, 32) ReLU outputs, ``weights`` (n_inputs,
        32), ``accuracy``.
    """
    from ann.models import article_mlp, hidden_activations, images_to_features
    from brainsim.classifier import DiehlCookSNN

    X_train, y_train = data.X_train[:n_train], data.y_train[:n_train]
    X_test, y_test = data.X_test[:n_test], data.y_test[:n_test]
    snn = DiehlCookSNN(n_neurons=n_neurons, progress=False, random_state=random_state)
    with _quiet_progress():
        snn.fit(X_train, y_train)
        counts = snn.transform(X_test)
    snn_pred = snn.predict_from_counts(counts)
    mlp = article_mlp(random_state=random_state, max_iter=mlp_epochs)
    mlp.fit(images_to_features(X_train), y_train)
    F_test = images_to_features(X_test)
    proba = mlp.predict_proba(F_test)
    mlp_pred = mlp.classes_[proba.argmax(axis=1)]
    return dict(
        y_test=y_test,
        snn=dict(pred=snn_pred, counts=counts, weights=snn.weights_, assignments=snn.assignments_,
                 accuracy=float(np.mean(snn_pred == y_test))),
        mlp=dict(pred=mlp_pred, proba=proba, hidden=hidden_activations(mlp, F_test),
                 weights=mlp.coefs_[0], accuracy=float(np.mean(mlp_pred == y_test))),
    )


def article_evaluation(proba: np.ndarray, y_test) -> dict:
    """The article's accuracy line, run as written, next to the fixed one.

    The article computes ``np.argmax(y_test, axis=1)`` as the true classes. For
    integer labels of shape (n,) numpy raises ``AxisError``; for a column of
    shape (n, 1) it returns 0 for every image.

    Returns
    -------
    dict
        ``error_1d``: the message numpy raises on the 1-D labels;
        ``buggy_column``: the article's "accuracy" with (n, 1) labels, where
        every "true class" comes out as 0;
        ``share_of_zeros``: fraction of test images predicted as 0 (what
        ``buggy_column`` really measures);
        ``fixed``: argmax of the probabilities compared with the labels.
    """
    y = np.asarray(y_test)
    pred = np.argmax(proba, axis=1)
    try:
        np.argmax(y, axis=1)
        error = ""
    except Exception as err:  # numpy's AxisError (numpy.exceptions.AxisError in numpy 2)
        error = f"{type(err).__name__}: {err}"
    truth_column = np.argmax(y.reshape(-1, 1), axis=1)  # all zeros
    return dict(error_1d=error, buggy_column=float(np.mean(pred == truth_column)),
                share_of_zeros=float(np.mean(pred == 0)),
                fixed=float(np.mean(pred == y)))
