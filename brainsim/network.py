"""Brian2 objects of the Diehl & Cook (2015) network for one chunk of images.

One call of :func:`build_network` creates everything that runs inside a
single Brian2 ``run``: the Poisson input, the excitatory and inhibitory
layers, the plastic input synapses, and a small *controller* group that
implements the presentation schedule of [DC15] inside the simulation, so that
hundreds of images can be shown in one run:

* every *slot* is one presentation (350 ms) followed by the rest (150 ms);
  the input is on during the first part only. Only the first 20 ms of the rest
  are simulated (the last delayed input spikes arrive, conductances vanish);
  the remaining 130 ms, in which no neuron can fire, are applied at the start
  of the next slot as the exact exponential decay of membrane potentials,
  conductances, thresholds and STDP traces;
* at the start of each slot the controller looks at the excitatory spikes of
  the previous slot: with at least ``min_spikes`` it advances to the next
  image at the normal rate, otherwise it shows the same image again with the
  rate raised by one step (pixel/8 Hz, i.e. about +32 Hz for a white pixel);
* while learning, each excitatory neuron's incoming weights are rescaled to
  their target sum at the start of every slot (before each presentation, as
  in the authors' code), using a running sum kept up to date by the
  plasticity code.

``n_copies`` independent copies of the network can be simulated side by side
(block-diagonal connectivity, one controller neuron per copy): with learning
off this shares the per-step overhead between several images.

The function knows nothing about data sets or files; :mod:`brainsim.simulation`
decides how it is run.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from brian2 import (
    Hz,
    Network,
    Quantity,
    NeuronGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    TimedArray,
    mV,
    ms,
    second,
)

from brainsim import model as M
from brainsim.cppcode import load_cpp
from brainsim.plasticity import LearningRule, get_rule

#: Time unit used to index the stimulus TimedArray by image number.
STIMULUS_INDEX_UNIT = 1 * ms


@dataclass(frozen=True)
class NetworkShape:
    """Everything that changes the generated code of a network.

    Parameters
    ----------
    n_input : int
        Number of input (pixel) neurons per copy.
    n_neurons : int
        Number of excitatory (and of inhibitory) neurons per copy.
    n_slots : int
        Presentation slots per run; also the number of stimulus rows per copy.
    rule : str or None
        Learning-rule name, or None for a frozen network (inference).
    n_copies : int
        Independent copies of the network simulated side by side.
    presentation_time, resting_time : float
        Durations in seconds.
    record_input_spikes : bool
        Add a spike monitor on the input layer (for single-example figures).
    record_traces : bool
        Record membrane potential and threshold of every excitatory neuron.
    scheduled : bool
        The learning rate (factor ``eta_scale``) and the inhibition strength
        (``w_inh``) are variables of the excitatory neurons, set before each run,
        instead of constants compiled into the code: schedules over training
        (:mod:`brainsim.recipes`). False: the faithful network's code.
    theta_decay : bool
        The adaptive threshold decays with ``tau_theta`` while learning ([DC15]);
        False: it only grows (a recipe's "threshold without decay").
    homeostasis_speed : float
        Factor k on the speed of threshold adaptation while learning:
        ``theta_plus`` times k and ``tau_theta`` divided by k, so that a neuron
        firing at the same rate settles at the same threshold, k times sooner
        (1: [DC15]'s 0.05 mV and 10^4 s).
    homeostasis_strength : float
        Factor s on ``theta_plus`` alone while learning (``tau_theta`` kept), so
        that a neuron firing at a given rate settles at s times the threshold:
        smaller s lets neurons whose prototypes suit more images win more of
        them instead of all neurons winning about equally often (1: [DC15]).
    n_parts : int
        Processes that share one network (C++ standalone, one copy): each runs
        this shape, whose ``n_neurons`` excitatory and inhibitory neurons are
        its part of the layers, and they exchange the inhibitory spikes of
        every step and the excitatory spike count of every slot
        (``brainsim/cpp/part_exchange.cpp``; run by
        :class:`brainsim.simulation.PartsSimulator`). 1: a network of its own.
    """

    n_input: int
    n_neurons: int
    n_slots: int
    rule: str | None = "power_law"
    n_copies: int = 1
    presentation_time: float = float(M.presentation_time / second)
    resting_time: float = float(M.resting_time / second)
    record_input_spikes: bool = False
    record_traces: bool = False
    scheduled: bool = False
    theta_decay: bool = True
    homeostasis_speed: float = 1.0
    homeostasis_strength: float = 1.0
    n_parts: int = 1

    @property
    def learning(self) -> bool:
        """Whether plasticity and threshold adaptation are on."""
        return self.rule is not None

    @property
    def simulated_rest(self) -> float:
        """Part of the rest that is simulated, in seconds (the rest decays exactly)."""
        return min(self.resting_time, float(M.rest_simulated / second))

    @property
    def skipped_rest(self) -> float:
        """Part of the rest applied as exact exponential decay, in seconds."""
        return self.resting_time - self.simulated_rest

    @property
    def slot_time(self) -> float:
        """Simulated duration of one presentation slot in seconds."""
        return self.presentation_time + self.simulated_rest

    @property
    def duration(self) -> float:
        """Simulated time of one run in seconds."""
        return self.n_slots * self.slot_time

    @property
    def weight_sum(self) -> float:
        """Target sum of each excitatory neuron's input weights (78 for 784 inputs)."""
        return M.weight_sum_per_input * self.n_input


@dataclass
class DiehlCookNetwork:
    """The Brian2 objects of one network, by role."""

    shape: NetworkShape
    net: Network
    stimulus: TimedArray
    inputs: NeuronGroup
    exc: NeuronGroup
    inh: NeuronGroup
    controller: NeuronGroup
    input_to_exc: Synapses
    monitors: dict = field(default_factory=dict)

    @property
    def delay_variable(self):
        """The Brian2 variable holding the input synapses' delays."""
        if "input_delay" in self.input_to_exc.variables:  # delivered by the delay line
            return self.input_to_exc.variables["input_delay"]
        return self.input_to_exc.pre.variables["delay"]  # the spike queue's pathway


def excitatory_equations(learning: bool, *, scheduled: bool = False,
                         theta_decay: bool = True) -> str:
    """Equations of the conductance-based excitatory neuron ([DC15] eq. 1-2).

    `scheduled` adds the variables ``eta_scale`` (learning-rate factor, while
    learning) and ``w_inh`` (inhibitory weight onto this neuron), set before
    each run; without `theta_decay` the threshold only grows while learning.
    """
    decays = learning and theta_decay
    theta = "dtheta/dt = -theta / tau_theta : volt" if decays else "theta : volt"
    wsum = "\nwsum : 1  # running sum of incoming input weights" if learning else ""
    if scheduled:
        wsum += "\nw_inh : 1  # inhibitory weight onto this neuron, set per run"
        if learning:
            wsum += "\neta_scale : 1  # learning-rate factor, set per run"
    return f"""
    dv/dt = ((v_rest_e - v) + ge * (E_exc_e - v) + gi * (E_inh_e - v)) / tau_e : volt (unless refractory)
    dge/dt = -ge / tau_ge : 1
    dgi/dt = -gi / tau_gi : 1
    {theta}
    copy : integer (constant)""" + wsum


# [DC15] eq. 1 with its inhibitory term dropped: no synapse targets the
# inhibitory neurons' inhibitory conductance (the authors' code connects only
# excitatory -> inhibitory and inhibitory -> excitatory), so it is always zero.
INHIBITORY_EQUATIONS = """
dv/dt = ((v_rest_i - v) + ge * (E_exc_i - v)) / tau_i : volt (unless refractory)
dge/dt = -ge / tau_ge : 1
copy : integer (constant)
"""

CONTROLLER_EQUATIONS = """
img : 1             # index of the image shown in this slot (within this copy's rows)
n_rows : 1          # rows holding real images; the run stops when every copy is past them
intensity : 1       # rate multiplier: rate = pixel / 8 Hz * intensity
count : 1           # excitatory spikes during this slot's presentation
slot_start : second
n_exc_spikes : 1     # cumulative counters, for the cost of inference
n_inh_spikes : 1
"""

# Decision at the start of every slot, on the previous slot's spike count
# ([DC15] 2.3; [DC-code] main loop: input_intensity += 1 when < 5 spikes).
CONTROLLER_SLOT_CODE = """
advance = int(count >= min_spikes or intensity >= intensity_max)
img = img + advance
intensity = advance * intensity_start + (1 - advance) * (intensity + 1)
count = 0
slot_start = t
"""


def _namespace(shape: NetworkShape, rule: LearningRule | None) -> dict:
    ns = {
        name: value
        for name, value in vars(M).items()
        if not name.startswith("_") and isinstance(value, (int, float, Quantity))
        and name != "dt"  # the groups' own dt
    }
    ns.update(
        # end of the presentation, half a step early so that float rounding of t
        # cannot add a time step: the input is on in steps 0 .. 699 of each slot
        t_present=(shape.presentation_time - float(M.dt / second) / 2) * second,
        n_slots=shape.n_slots,
        n_input=shape.n_input,
        n_neurons=shape.n_neurons,
        intensity_max=M.intensity_start + M.max_retries,
        weight_sum=shape.weight_sum,
        input_gain=M.reference_input_size / shape.n_input,
        w_max=M.w_max,
        theta_plus=M.theta_plus * shape.homeostasis_speed * shape.homeostasis_strength,
        tau_theta=M.tau_theta / shape.homeostasis_speed,
    )
    if rule is not None:
        ns.update(rule.namespace)
    # factors of the exact decay over the unsimulated part of the rest
    skip = shape.skipped_rest * second

    def decay(tau) -> float:
        return float(np.exp(-skip / tau))

    ns.update(decay_v_e=decay(M.tau_e), decay_v_i=decay(M.tau_i), decay_ge=decay(M.tau_ge),
              decay_gi=decay(M.tau_gi), decay_theta=decay(ns["tau_theta"]))
    if rule is not None:
        ns.update({f"decay_{tr.name}": decay(rule.namespace[tr.tau]) for tr in rule.traces})
    return ns


def build_network(shape: NetworkShape, *, name_suffix: str = "", delay_line: bool = False,
                  input_calendar: bool = False, inhibition_loop: bool = False,
                  lanes: int = 1) -> DiehlCookNetwork:
    """Create the Brian2 objects for `shape` on the currently active device.

    Parameters
    ----------
    shape : NetworkShape
        Sizes, rule and timing.
    name_suffix : str
        Appended to every object name (runtime mode builds several networks in
        one process; standalone builds use fixed names).
    delay_line : bool
        C++ standalone only: where the presynaptic spikes do nothing but raise
        ge (a frozen network, or the power_law and exponential rules), deliver
        them from a record of the last steps' input spikes
        (:func:`_add_delay_line`) instead of Brian2's spike queue: the same
        model and arithmetic, with much less work per synaptic event. Rules
        with presynaptic updates keep the spike queue.
    input_calendar : bool
        C++ standalone only: find each step's input spikes in a calendar of the
        input neurons' next spike steps (:func:`_add_input_calendar`) instead of
        testing the threshold of every input neuron at every step: the same
        spikes, in the same order.
    inhibition_loop : bool
        C++ standalone only: deliver lateral inhibition with a loop over the
        spiking inhibitory neurons' copies (:func:`_add_inhibition_loop`)
        instead of N(N-1) synapses per copy: the same additions in the same
        order, without N^2 memory, set-up and output.
    lanes : int
        With `delay_line`: split the delivery of input spikes into this many
        independent parts (ranges of excitatory neurons), which Brian2's OpenMP
        loop runs in parallel; one per OpenMP thread. The results do not depend
        on it.

    Returns
    -------
    DiehlCookNetwork
        The objects, collected in a :class:`brian2.Network`. State variables
        are at their defaults; :mod:`brainsim.simulation` sets them.
    """
    if shape.n_parts > 1 and (shape.n_copies != 1 or not inhibition_loop):
        raise ValueError("a network shared by several processes (n_parts > 1) has one copy "
                         "and needs the C++ standalone inhibition loop")
    rule = get_rule(shape.rule) if shape.learning else None
    ns = _namespace(shape, rule)
    if rule is not None and shape.scheduled:  # learning rates times eta_scale of the neuron
        rule = replace(rule, on_pre=rule.scaled(rule.on_pre, "eta_scale_post"),
                       on_post=rule.scaled(rule.on_post, "eta_scale_post"))
    sfx = name_suffix
    n_in_total = shape.n_copies * shape.n_input
    n_total = shape.n_copies * shape.n_neurons
    slot_dt = shape.slot_time * second

    stimulus = TimedArray(
        np.zeros((shape.n_copies * shape.n_slots, shape.n_input)) * Hz,
        dt=STIMULUS_INDEX_UNIT,
        name="stimulus" + sfx,
    )
    ns["stimulus"] = stimulus

    if shape.n_parts > 1:
        ns["part_total"] = _part_function("brainsim_part_total", shape.n_parts, channel=1,
                                          arg_units=[1], arg_types=["float"])
    controller = NeuronGroup(
        shape.n_copies, CONTROLLER_EQUATIONS, namespace=ns, name="controller" + sfx
    )
    controller.run_regularly(
        CONTROLLER_SLOT_CODE, dt=slot_dt, when="start", order=2, name="controller_slot" + sfx
    )
    if shape.n_parts > 1:  # decide on the spikes of the whole layer, all parts together
        controller.run_regularly("count = part_total(count)", dt=slot_dt, when="start",
                                 order=1, name="part_count" + sfx)

    # Poisson input: one neuron per pixel and copy; rate from the stimulus row of
    # the image the copy's controller is showing, zero during the rest phase.
    # A Poisson spike train on the time grid (a spike in each step with
    # probability p = rate * dt, as in Brian2's PoissonGroup) has geometrically
    # distributed inter-spike intervals; drawing the next spike's step when a
    # neuron fires (and whenever its rate changes, which the memorylessness of the
    # process allows) gives the same spike trains in distribution, with one random
    # number per spike instead of one per neuron and time step.
    # next_spike: half a step before the time step of the neuron's next spike;
    # a spike drawn after the end of the presentation is moved out of reach
    gap = _geometric_gap("rate * dt")  # empty steps before the next spike
    cut = "next_spike += int(next_spike + 0.5 * dt > t_off) * never"
    inputs = NeuronGroup(
        n_in_total,
        """
        pixel : integer (constant)
        copy : integer (constant)
        img : 1 (linked)
        intensity : 1 (linked)
        rate : Hz              # rate during this slot's presentation
        next_spike : second    # half a step before this neuron's next spike
        t_off : second         # end of this slot's presentation
        """ + (rule.neuron_equations("pre") if rule is not None else "n_spikes : 1"),
        # with the calendar, the spikes are found by _add_input_calendar
        threshold="False" if input_calendar else "t > next_spike",
        reset=f"next_spike = t + ({gap} + 0.5) * dt\n{cut}\n"
        + (rule.neuron_reset("pre") if rule is not None else "n_spikes += 1"),
        namespace=dict(ns, STIMULUS_INDEX_UNIT=STIMULUS_INDEX_UNIT, never=1e9 * second),
        name="poisson_input" + sfx,
    )
    inputs.pixel = "i % n_input"
    inputs.copy = "i // n_input"
    inputs.next_spike = "inf * second"
    copy_of_input = np.arange(n_in_total) // shape.n_input
    inputs.img = _linked(controller, "img", copy_of_input)
    inputs.intensity = _linked(controller, "intensity", copy_of_input)
    inputs.run_regularly(
        f"""
        rate = stimulus((copy * n_slots + img) * STIMULUS_INDEX_UNIT, pixel) * intensity
        t_off = t + t_present
        next_spike = t + ({gap} - 0.5) * dt
        {cut}
        """,
        dt=slot_dt, when="start", order=3, name="input_rates" + sfx,
    )

    reset_e = "v = v_reset_e"
    eqs_e = excitatory_equations(shape.learning, scheduled=shape.scheduled,
                                 theta_decay=shape.theta_decay)
    if rule is not None:
        reset_e += "\ntheta += theta_plus\n" + rule.neuron_reset("post")
        eqs_e += "\n" + rule.neuron_equations("post")
    exc = NeuronGroup(
        n_total,
        eqs_e,
        threshold="v > v_thresh_e + theta - theta_offset",
        reset=reset_e,
        refractory=refractory_condition("refrac_e"),
        method=exponential_euler_when_not_refractory,
        namespace=ns,
        name="excitatory" + sfx,
    )
    exc.copy = "i // n_neurons"
    exc.v = M.v_rest_e + M.v_init_offset
    exc.theta = M.theta_init
    if shape.scheduled:  # the faithful values until a run sets others
        exc.w_inh = M.w_inh_to_exc
        if shape.learning:
            exc.eta_scale = 1.0

    inh = NeuronGroup(
        n_total,
        INHIBITORY_EQUATIONS,
        threshold="v > v_thresh_i",
        reset="v = v_reset_i",
        refractory=refractory_condition("refrac_i"),
        method=exponential_euler_when_not_refractory,
        namespace=ns,
        name="inhibitory" + sfx,
    )
    inh.copy = "i // n_neurons"
    inh.v = M.v_rest_i + M.v_init_offset

    # a rule acting on presynaptic spikes needs each synapse's event: spike queue
    delay_line = delay_line and not (rule is not None and rule.on_pre)
    if delay_line:  # the input spikes go through the delay line; STDP on postsynaptic spikes
        input_to_exc = Synapses(
            inputs, exc, model="w : 1\ninput_delay : second",
            on_post=rule.on_post if rule is not None else None, namespace=ns,
            name="input_to_exc" + sfx,
        )
    elif rule is not None:
        input_to_exc = Synapses(
            inputs, exc, model="w : 1", on_pre="ge_post += w * input_gain\n" + rule.on_pre,
            on_post=rule.on_post, namespace=ns, name="input_to_exc" + sfx,
        )
    else:
        input_to_exc = Synapses(
            inputs, exc, model="w : 1", on_pre="ge_post += w * input_gain", namespace=ns,
            name="input_to_exc" + sfx,
        )
    if shape.n_copies == 1:
        input_to_exc.connect()
    else:  # all-to-all within each copy, in the order of connect(condition=...)
        input_to_exc.connect(
            j="k for k in range((i // n_input) * n_neurons, (i // n_input + 1) * n_neurons)")
    # per-synapse delays; the real values are set before each run
    if delay_line:
        input_to_exc.input_delay = "0 * ms"
    else:
        input_to_exc.delay = "0 * ms"

    exc_to_inh = Synapses(
        exc, inh, on_pre="ge_post += w_exc_to_inh", namespace=ns, name="exc_to_inh" + sfx
    )
    exc_to_inh.connect(j="i")
    if inhibition_loop:  # every other excitatory neuron of the copy, without synapses
        inh_to_exc = _add_inhibition_loop(inh, exc, ns, sfx, scheduled=shape.scheduled,
                                          n_parts=shape.n_parts)
    else:
        inh_to_exc = Synapses(
            inh, exc, on_pre="gi_post += " + ("w_inh_post" if shape.scheduled else "w_inh_to_exc"),
            namespace=ns, name="inh_to_exc" + sfx
        )
        inh_to_exc.connect(condition="i != j and copy_pre == copy_post")

    # Spike counters of each copy, read by the controller (retry rule, cost).
    exc_counter = Synapses(
        exc, controller,
        on_pre="count_post += int(t - slot_start_post < t_present)\nn_exc_spikes_post += 1",
        namespace=ns, name="exc_counter" + sfx,
    )
    exc_counter.connect(condition="copy_pre == j")
    # Stop the run after the first time step of the first slot in which every copy
    # is past its real images, so that a partly filled chunk costs no more than its
    # images. The summed variable is updated once per slot (supervisor's clock).
    holder: dict = {}
    ns["request_stop"] = _stop_function(holder)
    ns["n_copies"] = shape.n_copies
    supervisor = NeuronGroup(1, "n_done : 1\nstop_flag : 1", namespace=ns, dt=slot_dt,
                             name="supervisor" + sfx)
    done_counter = Synapses(
        controller, supervisor, "n_done_post = int(img_pre >= n_rows_pre) : 1 (summed)",
        namespace=ns, name="done_counter" + sfx,
    )
    done_counter.connect()
    supervisor.run_regularly(
        "stop_flag = request_stop(int(n_done >= n_copies))", dt=slot_dt, when="end",
        name="supervisor_check" + sfx,
    )
    objects = [
        supervisor, done_counter,
        controller, inputs, exc, inh, input_to_exc, exc_to_inh, inh_to_exc,
        exc_counter,
    ]
    if not shape.learning:  # spike counters for the cost of inference
        inh_counter = Synapses(
            inh, controller, on_pre="n_inh_spikes_post += 1", namespace=ns,
            name="inh_counter" + sfx,
        )
        inh_counter.connect(condition="copy_pre == j")
        objects.append(inh_counter)
        # input spikes: counted by each input neuron, summed per copy once per slot
        tally = NeuronGroup(shape.n_copies, "n_input_spikes : 1", dt=slot_dt, namespace=ns,
                            name="tally" + sfx)
        input_tally = Synapses(inputs, tally, "n_input_spikes_post = n_spikes_pre : 1 (summed)",
                               namespace=ns, name="input_tally" + sfx)
        input_tally.connect(condition="copy_pre == j")
        objects += [tally, input_tally]

    if shape.learning:
        # Weight normalisation before each presentation ([DC-code] normalize_weights),
        # from the running sum; then the sum is the target by construction.
        input_to_exc.run_regularly(
            "w = w * weight_sum / (wsum_post + 1e-12)", dt=slot_dt, when="start", order=0,
            name="normalise_weights" + sfx,
        )
        exc.run_regularly(
            "wsum = weight_sum", dt=slot_dt, when="start", order=1, name="reset_wsum" + sfx
        )

    if shape.skipped_rest > 0:
        _add_skipped_rest(shape, inputs, exc, inh, rule, slot_dt, sfx)
    if input_calendar:
        objects.append(_add_input_calendar(inputs, slot_steps=time_steps(shape.slot_time), sfx=sfx))
    if delay_line:
        objects.append(_add_delay_line(inputs, exc, input_to_exc, ns, sfx,
                                       frozen=not shape.learning, lanes=lanes))

    monitors = {
        # State of each controller just before its slot decision: the previous
        # slot's image, intensity, spike count and cumulative counters.
        "controller": StateMonitor(
            controller, ["img", "intensity", "count", "n_exc_spikes", "n_inh_spikes"],
            record=True, dt=slot_dt, when="start", order=-1, name="controller_monitor" + sfx,
        ),
    }
    if not shape.learning:
        monitors["exc_spikes"] = SpikeMonitor(exc, name="exc_spikes" + sfx)
        # cumulative input spikes before each slot (the sum is taken at slot starts)
        monitors["tally"] = StateMonitor(tally, "n_input_spikes", record=True, dt=slot_dt,
                                         when="end", name="tally_monitor" + sfx)
    if shape.record_input_spikes:
        monitors["input_spikes"] = SpikeMonitor(inputs, name="input_spikes" + sfx)
        monitors["inh_spikes"] = SpikeMonitor(inh, name="inh_spikes" + sfx)
        if shape.learning:
            monitors["exc_spikes"] = SpikeMonitor(exc, name="exc_spikes" + sfx)
    if shape.record_traces:
        monitors["traces"] = StateMonitor(
            exc, ["v", "theta"], record=True, name="exc_traces" + sfx
        )

    net = Network(*objects, *monitors.values())
    holder["net"] = net
    return DiehlCookNetwork(
        shape=shape, net=net, stimulus=stimulus, inputs=inputs, exc=exc, inh=inh,
        controller=controller, input_to_exc=input_to_exc, monitors=monitors,
    )


def refractory_condition(period: str) -> str:
    """Refractoriness as a condition on the time since the last spike.

    Brian2 turns ``refractory=5*ms`` into ``timestep(t - lastspike, dt) >=
    timestep(5*ms, dt)`` in every neuron's update: a conversion of doubles to
    64-bit integers, for which AVX2 has no vector instruction, so on an
    AVX2-only CPU GCC leaves the whole membrane update (exp included) scalar
    (AVX-512 has the conversion). ``t - lastspike < period - dt/2`` holds for
    exactly the same time steps (t and lastspike are whole steps apart, so the
    half step is a margin against rounding) and compares doubles only.

    Parameters
    ----------
    period : str
        Name of the refractory period in the namespace (``"refrac_e"``).

    Returns
    -------
    str
        A Brian2 ``refractory=`` condition: the neuron stays refractory while it holds.
    """
    return f"t - lastspike < {period} - dt / 2"


_REFRACTORY_FACTOR = "int(not_refractory)*("


def exponential_euler_when_not_refractory(equations, variables=None, method_options=None):
    """Brian2's exponential Euler, holding refractory neurons by a conditional write.

    For an equation flagged ``(unless refractory)``, Brian2 multiplies the
    right-hand side by ``int(not_refractory)`` and its code optimiser then
    splits the update into an ``if``/``else`` per neuron, with the ``exp`` in
    one branch; such a loop cannot be vectorised. Without the factor, every
    neuron's update is computed the same way and Brian2's conditional write
    (``v`` is written only where ``not_refractory``, set up by the same flag)
    keeps refractory neurons where they are: the same values, from a loop the
    compiler can vectorise, ``exp`` included (see
    :func:`brainsim.simulation.vector_math_args`).

    Parameters and return value are those of a Brian2 state-update method
    (``method=`` of a NeuronGroup): the equations, their variables, options;
    returns abstract code.
    """
    from brian2 import Equations, Expression, exponential_euler
    from brian2.equations.equations import DIFFERENTIAL_EQUATION, SingleEquation

    stripped = []
    for eq in equations.values():
        code = eq.expr.code if eq.expr is not None else ""
        if eq.type == DIFFERENTIAL_EQUATION and code.startswith(_REFRACTORY_FACTOR):
            assert code.endswith(")"), code
            eq = SingleEquation(eq.type, eq.varname, eq.dim, var_type=eq.var_type,
                                expr=Expression(code[len(_REFRACTORY_FACTOR):-1]),
                                flags=eq.flags)
        stripped.append(eq)
    return exponential_euler(Equations(stripped), variables, method_options)


def _add_skipped_rest(shape: NetworkShape, inputs, exc, inh, rule, slot_dt, sfx: str):
    """At each slot start, let the unsimulated part of the rest pass as exact decay.

    During the skipped part of the rest there is no input and no neuron can
    fire, so every variable relaxes exponentially on its own; applying that
    decay at once is equivalent to simulating it. The decay factors are in the
    namespace built by :func:`_namespace`.
    """
    code_e = "v = v_rest_e + (v - v_rest_e) * decay_v_e\nge = ge * decay_ge\ngi = gi * decay_gi"
    if rule is not None and shape.theta_decay:
        code_e += "\ntheta = theta * decay_theta"
        code_e += "".join(f"\n{tr.name} = {tr.name} * decay_{tr.name}" for tr in rule.post_traces)
    exc.run_regularly(code_e, dt=slot_dt, when="start", order=-2, name="rest_decay_exc" + sfx)
    inh.run_regularly(
        "v = v_rest_i + (v - v_rest_i) * decay_v_i\nge = ge * decay_ge",
        dt=slot_dt, when="start", order=-2, name="rest_decay_inh" + sfx,
    )
    if rule is not None and rule.pre_traces:
        code = "\n".join(f"{tr.name} = {tr.name} * decay_{tr.name}" for tr in rule.pre_traces)
        inputs.run_regularly(code, dt=slot_dt, when="start", order=-2,
                             name="rest_decay_traces" + sfx)


def _add_delay_line(inputs, exc, input_to_exc, ns: dict, sfx: str, *, frozen: bool,
                    lanes: int = 1):
    """Deliver the delayed input spikes to the excitatory layer without a spike queue.

    One call per time step (``when="synapses"``, like Brian2's synaptic
    propagation) of a C++ function that reads the input layer's spikes of this
    step from Brian2's spike space. While learning it keeps the spikes of the
    last steps and adds, for each input that fired d steps ago, the current
    weights of its synapses of delay d to ``ge`` (the weight at arrival, as in
    Brian2). A `frozen` network's weights do not change, so each spike's weights
    are added at once to a ring of future conductance increments, which is
    cheaper (one pass over each spiking input's synapses); the copies of a
    frozen network share one table of weights and delays (the binary stops
    with an error if they differ). The work is split into `lanes` ranges of
    excitatory neurons, one per neuron of the router group, so that Brian2's
    OpenMP loop over that group delivers them in parallel.
    """
    from brian2 import Function, defaultclock, get_device

    device = get_device()

    def name(var) -> str:
        return device.get_array_name(var, access_data=False)

    syn = input_to_exc.variables
    pre, post = name(syn["_synaptic_pre"]), name(syn["_synaptic_post"])
    lanes = max(1, min(int(lanes), int(ns["n_neurons"])))
    arrays = dict(pre=pre, post=post, w=name(syn["w"]),
                  spikespace=name(inputs.variables["_spikespace"]), ge=name(exc.variables["ge"]),
                  n_in=len(inputs), gain=float(ns["input_gain"]),
                  n_neurons=int(ns["n_neurons"]), n_lanes=lanes)
    if frozen:
        body = load_cpp("delay_ring.cpp", **arrays, n_pixels=int(ns["n_input"]),
                        n_copies=len(exc) // ns["n_neurons"])
    else:
        body = load_cpp("delay_line.cpp", **arrays)
    code = load_cpp("delay_steps.h", pre=pre, delay=name(syn["input_delay"])) + body
    route = Function(lambda step, dt, lane: 0.0, arg_units=[1, second, 1], return_unit=1,
                     arg_types=["integer", "float", "integer"], return_type="float",
                     stateless=False)
    route.implementations.add_implementation(
        "cpp", {"support_code": code}, name="brainsim_route_input",
        compiler_kwds={"headers": ['"objects.h"', "<vector>", "<cstdio>", "<cstdlib>"]},
    )
    router = NeuronGroup(lanes, "routed : 1", namespace=dict(ns, route_input=route),
                         name="input_router" + sfx)
    router.run_regularly("routed = route_input(timestep(t, dt), dt, i)", dt=defaultclock.dt,
                         when="synapses", name="input_routing" + sfx)
    return router


def _add_inhibition_loop(inh, exc, ns: dict, sfx: str, *, scheduled: bool, n_parts: int = 1):
    """Lateral inhibition without synapses (C++ standalone).

    Each step, right where Brian2 would propagate the inhibitory spikes, a C++
    function (``brainsim/cpp/lateral_inhibition.cpp``) adds ``w_inh`` to ``gi``
    of every excitatory neuron of each spiking inhibitory neuron's copy except
    its partner: what the all-to-all synapses ``i != j`` of [DC15] do, with the
    same additions in the same order (so the same numbers), but O(N) memory
    instead of N(N-1) synapses per copy, which at 1,600 neurons cost more set-up
    and output than simulation and at 6,400 neurons 41 million synapses a copy.
    With `n_parts` > 1 the network is one part of a layer shared by several
    processes: each step the parts exchange their numbers of inhibitory spikes
    (``part_exchange.cpp``), and every other part's spike inhibits every neuron
    of this part. Each part publishes its number first in the synaptic slot and
    collects the others' last in it, after the input spikes' delivery, so that
    the wait for the slowest part overlaps with that work; nothing else in the
    slot touches ``gi``.
    """
    from brian2 import defaultclock, get_device

    device = get_device()

    def name(group, var) -> str:
        return device.get_array_name(group.variables[var], access_data=False)

    weight = f"{name(exc, 'w_inh')}[j]" if scheduled else repr(float(ns["w_inh_to_exc"]))
    shared = n_parts > 1
    code = load_cpp("lateral_inhibition.cpp", spikespace=name(inh, "_spikespace"),
                    gi=name(exc, "gi"), n_total=len(inh), n_neurons=int(ns["n_neurons"]),
                    weight=weight, n_parts=n_parts)
    headers = ['"objects.h"']
    if shared:
        code = load_cpp("part_exchange.cpp", n_parts=n_parts, channel=0,
                        timeout_s=PART_TIMEOUT_S) + code
        headers += PART_EXCHANGE_HEADERS

    def function(cpp_name: str):
        return _cpp_function(cpp_name, code, headers, arg_units=[1], arg_types=["integer"])

    group = NeuronGroup(1, "inhibited : 1", namespace={
        "lateral_inhibition": function("brainsim_lateral_inhibition"),
        "other_parts_inhibition": function("brainsim_other_parts_inhibition")},
        name="inh_to_exc" + sfx)
    # shared: publish before the other synaptic work of the step, collect after it
    group.run_regularly("inhibited = lateral_inhibition(timestep(t, dt))", dt=defaultclock.dt,
                        when="synapses", order=-1 if shared else 0,
                        name="lateral_inhibition" + sfx)
    if shared:
        group.run_regularly("inhibited = other_parts_inhibition(timestep(t, dt))",
                            dt=defaultclock.dt, when="synapses", order=1,
                            name="other_parts_inhibition" + sfx)
    return group


#: Seconds a part waits for another that makes no progress before it stops with an error.
PART_TIMEOUT_S = 600.0
#: Headers the code of ``brainsim/cpp/part_exchange.cpp`` needs.
PART_EXCHANGE_HEADERS = ["<fcntl.h>", "<sched.h>", "<sys/mman.h>", "<time.h>", "<unistd.h>",
                         "<cstdio>", "<cstdlib>"]


def _cpp_function(cpp_name: str, code: str, headers: list[str], *, arg_units, arg_types):
    """A stateful Brian2 function returning a float, implemented (C++ only) by the
    function `cpp_name` of the support code `code`."""
    from brian2 import Function

    func = Function(lambda *args: 0.0, arg_units=arg_units, return_unit=1,
                    arg_types=arg_types, return_type="float", stateless=False)
    func.implementations.add_implementation(
        "cpp", {"support_code": code}, name=cpp_name, compiler_kwds={"headers": headers})
    return func


def _part_function(name: str, n_parts: int, *, channel: int, arg_units, arg_types):
    """A Brian2 function implemented by `name` of ``part_exchange.cpp`` (C++ only)."""
    code = load_cpp("part_exchange.cpp", n_parts=n_parts, channel=channel,
                    timeout_s=PART_TIMEOUT_S)
    return _cpp_function(name, code, PART_EXCHANGE_HEADERS, arg_units=arg_units,
                         arg_types=arg_types)


def _add_input_calendar(inputs, *, slot_steps: int, sfx: str):
    """Find the input spikes of each step from a calendar (C++ standalone).

    Brian2's thresholder tests ``t > next_spike`` for every input neuron at
    every step, although only a few of them fire; this C++ function, called
    once per step right after the (now empty) thresholder, writes the same
    neurons to the input layer's spike space from a calendar of next spike
    steps (``brainsim/cpp/input_calendar.cpp``). `slot_steps` is the number of
    time steps per slot, at whose multiples the input rates change.
    """
    from brian2 import Function, defaultclock, get_device

    device = get_device()
    code = load_cpp(
        "input_calendar.cpp",
        next_spike=device.get_array_name(inputs.variables["next_spike"], access_data=False),
        spikespace=device.get_array_name(inputs.variables["_spikespace"], access_data=False),
        n_in=len(inputs), slot_steps=slot_steps,
    )
    find = Function(lambda step, dt: 0.0, arg_units=[1, second], return_unit=1,
                    arg_types=["integer", "float"], return_type="float", stateless=False)
    find.implementations.add_implementation(
        "cpp", {"support_code": code}, name="brainsim_input_spikes",
        compiler_kwds={"headers": ['"objects.h"', "<vector>", "<algorithm>", "<cmath>"]},
    )
    calendar = NeuronGroup(1, "found : 1", namespace={"input_spikes": find},
                           name="input_calendar" + sfx)
    # after the thresholders (order 0), before synaptic propagation and resets
    calendar.run_regularly("found = input_spikes(timestep(t, dt), dt)", dt=defaultclock.dt,
                           when="thresholds", order=1, name="input_spike_search" + sfx)
    return calendar


def time_steps(duration: float) -> int:
    """Number of simulation time steps in `duration` (seconds).

    Raises
    ------
    ValueError
        If `duration` is not a whole number of time steps.
    """
    steps = round(duration / float(M.dt / second))
    if abs(steps * float(M.dt / second) - duration) > 1e-9:
        raise ValueError(f"{duration} s is not a whole number of {M.dt} time steps")
    return steps


def _stop_function(holder: dict):
    """Brian2 function ``request_stop(flag)``: ends the current run when flag is 1.

    In C++ standalone it sets Brian2's global stop flag; in runtime mode it calls
    ``Network.stop()`` on the network stored in ``holder["net"]``.
    """
    from brian2 import Function

    def request_stop(flag):
        flag = np.asarray(flag)
        if np.any(flag > 0) and "net" in holder:
            holder["net"].stop()
        return flag.astype(float)

    func = Function(request_stop, arg_units=[1], return_unit=1, arg_types=["integer"],
                    return_type="float", stateless=False)
    # Cython (runtime mode): the Python function itself, called once per slot
    func.implementations.add_implementation("cython", lambda flag: float(request_stop(flag)))
    func.implementations.add_implementation(
        "cpp", {"support_code": load_cpp("request_stop.cpp")}, name="brainsim_request_stop",
        compiler_kwds={"headers": ['"network.h"']},
    )
    return func


def _geometric_gap(p: str) -> str:
    """Expression drawing the number of empty steps before a Bernoulli(p) success.

    ``floor(log(U) / log(1 - p))`` with U uniform in (0, 1] is geometric on
    {0, 1, 2, ...}: it is >= m with probability (1 - p)**m. p is clipped below
    at 1e-12 so that a zero rate gives no spike instead of a division by zero,
    and the gap is capped at 1e9 steps (longer than any run; Brian2's numpy
    ``floor`` returns 32-bit integers).
    """
    return f"floor(clip(log(1 - rand()) / log(1 - clip({p}, 1e-12, 1)), 0, 1e9))"


def _linked(group: NeuronGroup, name: str, index: np.ndarray):
    from brian2 import linked_var

    return linked_var(group, name, index=index)
