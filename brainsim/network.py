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
    )
    if rule is not None:
        ns.update(rule.namespace)
    # factors of the exact decay over the unsimulated part of the rest
    skip = shape.skipped_rest * second

    def decay(tau) -> float:
        return float(np.exp(-skip / tau))

    ns.update(decay_v_e=decay(M.tau_e), decay_v_i=decay(M.tau_i), decay_ge=decay(M.tau_ge),
              decay_gi=decay(M.tau_gi), decay_theta=decay(M.tau_theta))
    if rule is not None:
        ns.update({f"decay_{tr.name}": decay(rule.namespace[tr.tau]) for tr in rule.traces})
    return ns


def build_network(shape: NetworkShape, *, name_suffix: str = "",
                  delay_line: bool = False, input_calendar: bool = False) -> DiehlCookNetwork:
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

    Returns
    -------
    DiehlCookNetwork
        The objects, collected in a :class:`brian2.Network`. State variables
        are at their defaults; :mod:`brainsim.simulation` sets them.
    """
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

    controller = NeuronGroup(
        shape.n_copies, CONTROLLER_EQUATIONS, namespace=ns, name="controller" + sfx
    )
    controller.run_regularly(
        CONTROLLER_SLOT_CODE, dt=slot_dt, when="start", order=2, name="controller_slot" + sfx
    )

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
        refractory=M.refrac_e,
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
        refractory=M.refrac_i,
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
    else:
        input_to_exc.connect(condition="copy_pre == copy_post")
    # per-synapse delays; the real values are set before each run
    if delay_line:
        input_to_exc.input_delay = "0 * ms"
    else:
        input_to_exc.delay = "0 * ms"

    exc_to_inh = Synapses(
        exc, inh, on_pre="ge_post += w_exc_to_inh", namespace=ns, name="exc_to_inh" + sfx
    )
    exc_to_inh.connect(j="i")
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
                                       frozen=not shape.learning))

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


_DELAY_STEPS_CPP = r"""
// Each input synapse's delay in time steps, rounded as Brian2 rounds it; returns
// the longest.
static int64_t _brainsim_delay_steps(double dt, std::vector<int64_t>& steps)
{
    using namespace brian;
    const int64_t n_syn = %(pre)s.size();
    steps.assign(n_syn, 0);
    int64_t max_steps = 0;
    for (int64_t s = 0; s < n_syn; s++) {
        steps[s] = (int64_t)(%(delay)s[s] / dt + 0.5);
        if (steps[s] > max_steps) max_steps = steps[s];
    }
    return max_steps;
}
"""

_DELAY_LINE_CPP = r"""
// Input -> excitatory transmission with per-synapse delays, for networks whose
// presynaptic spikes do nothing but raise ge (learning off, or a rule acting on
// postsynaptic spikes). The input spikes of the last n_rows steps are kept; at each
// step, the synapses of delay d of the inputs that fired d steps ago add their
// current weight to ge: Brian2's "ge_post += w * input_gain" at the delayed step,
// without its spike queue's per-synapse bookkeeping. Synapses are sorted by input
// and delay, so each (input, delay) pair is one contiguous range.
static std::vector<int64_t> _brainsim_first;   // range of each (input, delay) pair
static std::vector<int32_t> _brainsim_syn;     // sorted: Brian2's synapse index
static std::vector<int32_t> _brainsim_post;    // sorted: target neuron
static std::vector<std::vector<int32_t> > _brainsim_history;  // spikes of recent steps
static int64_t _brainsim_rows = 0;             // longest delay in steps + 1

static void _brainsim_prepare(double dt)
{
    using namespace brian;
    const int64_t n_syn = %(pre)s.size();
    std::vector<int64_t> steps;
    const int64_t rows = _brainsim_delay_steps(dt, steps) + 1;
    // counting sort by (input, delay)
    _brainsim_first.assign(%(n_in)d * rows + 1, 0);
    for (int64_t s = 0; s < n_syn; s++)
        _brainsim_first[(int64_t)%(pre)s[s] * rows + steps[s] + 1]++;
    for (int64_t k = 0; k < %(n_in)d * rows; k++)
        _brainsim_first[k + 1] += _brainsim_first[k];
    std::vector<int64_t> fill(_brainsim_first.begin(), _brainsim_first.end() - 1);
    _brainsim_syn.assign(n_syn, 0);
    _brainsim_post.assign(n_syn, 0);
    for (int64_t s = 0; s < n_syn; s++) {
        const int64_t k = fill[(int64_t)%(pre)s[s] * rows + steps[s]]++;
        _brainsim_syn[k] = (int32_t)s;
        _brainsim_post[k] = %(post)s[s];
    }
    _brainsim_history.assign(rows, std::vector<int32_t>());
    _brainsim_rows = rows;
}

double brainsim_route_input(int64_t step, double dt)
{
    using namespace brian;
    if (_brainsim_rows == 0) _brainsim_prepare(dt);
    const int64_t rows = _brainsim_rows;
    // remember this step's input spikes
    const int32_t* spikes = %(spikespace)s;
    const int32_t n_spikes = spikes[%(n_in)d];
    std::vector<int32_t>& now = _brainsim_history[step %% rows];
    now.assign(spikes, spikes + n_spikes);
    // deliver the spikes that arrive now, with the weights as they are now
    const double* __restrict w = &%(w)s[0];
    double* __restrict ge = %(ge)s;
    const int64_t* __restrict first = &_brainsim_first[0];
    const int32_t* __restrict syn = &_brainsim_syn[0];
    const int32_t* __restrict post = &_brainsim_post[0];
    for (int64_t d = 0; d < rows && d <= step; d++) {
        const std::vector<int32_t>& fired = _brainsim_history[(step - d) %% rows];
        for (size_t k = 0; k < fired.size(); k++) {
            const int64_t pair = (int64_t)fired[k] * rows + d;
            for (int64_t s = first[pair]; s < first[pair + 1]; s++)
                ge[post[s]] += w[syn[s]] * %(gain)r;
        }
    }
    return 0.0;
}
"""


_DELAY_RING_CPP = r"""
// Input -> excitatory transmission with per-synapse delays for a frozen network
// (the weights do not change during the run). ring[(step + d) mod n_rows][j]
// accumulates the weights of the input spikes that reach excitatory neuron j d steps
// later; each step the row due now is added to ge (times input_gain) and cleared.
// Brian2's "ge_post += w * input_gain" at the delayed step, summed in another order.
// The copies of the network share their weights and delays, so one table serves
// them all: copy 0's synapses, sorted by input pixel, delay and target neuron.
static std::vector<double> _brainsim_ring;
static std::vector<int64_t> _brainsim_first;   // range of each pixel's synapses
static std::vector<int32_t> _brainsim_offset;  // sorted: d * n_exc + target in copy 0
static std::vector<double> _brainsim_w;        // sorted: weight
static int64_t _brainsim_rows = 0;             // longest delay in steps + 1

static void _brainsim_prepare(double dt)
{
    using namespace brian;
    const int64_t n_syn = %(pre)s.size();
    const int64_t n_pairs = (int64_t)%(n_pixels)d * %(n_neurons)d;
    std::vector<int64_t> steps;
    const int64_t rows = _brainsim_delay_steps(dt, steps) + 1;
    // every copy must have the synapses of copy 0, with the same delays and weights
    std::vector<int64_t> delay0(n_pairs, -1);
    std::vector<double> w0(n_pairs, 0.0);
    int64_t n_syn0 = 0;
    for (int64_t s = 0; s < n_syn; s++) {
        if (%(pre)s[s] >= %(n_pixels)d) continue;
        const int64_t pair = (int64_t)%(pre)s[s] * %(n_neurons)d + %(post)s[s];
        delay0[pair] = steps[s];
        w0[pair] = %(w)s[s];
        n_syn0++;
    }
    bool shared = (n_syn == n_syn0 * %(n_copies)d);
    for (int64_t s = 0; s < n_syn && shared; s++) {
        const int64_t c = %(pre)s[s] / %(n_pixels)d;
        const int64_t j = %(post)s[s] - c * %(n_neurons)d;
        const int64_t pair = (%(pre)s[s] - c * %(n_pixels)d) * %(n_neurons)d + j;
        shared = (j >= 0 && j < %(n_neurons)d && delay0[pair] == steps[s] && w0[pair] == %(w)s[s]);
    }
    if (!shared) {
        fprintf(stderr, "brainsim: the copies of a frozen network must share their "
                        "input weights and delays\n");
        exit(3);
    }
    // counting sort by (pixel, delay); targets in increasing order within each pair
    std::vector<int64_t> fill(%(n_pixels)d * rows + 1, 0);
    for (int64_t pair = 0; pair < n_pairs; pair++)
        if (delay0[pair] >= 0)
            fill[(pair / %(n_neurons)d) * rows + delay0[pair] + 1]++;
    for (int64_t k = 0; k < %(n_pixels)d * rows; k++) fill[k + 1] += fill[k];
    _brainsim_first.assign(%(n_pixels)d + 1, 0);
    for (int64_t p = 0; p <= %(n_pixels)d; p++) _brainsim_first[p] = fill[p * rows];
    _brainsim_offset.assign(n_syn0, 0);
    _brainsim_w.assign(n_syn0, 0.0);
    for (int64_t pair = 0; pair < n_pairs; pair++) {
        if (delay0[pair] < 0) continue;
        const int64_t k = fill[(pair / %(n_neurons)d) * rows + delay0[pair]]++;
        _brainsim_offset[k] = (int32_t)(delay0[pair] * %(n_exc)d + pair %% %(n_neurons)d);
        _brainsim_w[k] = w0[pair];
    }
    _brainsim_rows = rows;
    _brainsim_ring.assign(rows * %(n_exc)d, 0.0);
}

double brainsim_route_input(int64_t step, double dt)
{
    using namespace brian;
    if (_brainsim_rows == 0) _brainsim_prepare(dt);
    const int64_t size = _brainsim_rows * %(n_exc)d;
    const int64_t base = (step %% _brainsim_rows) * %(n_exc)d;
    double* __restrict ring = &_brainsim_ring[0];
    const double* __restrict w = &_brainsim_w[0];
    const int32_t* __restrict offset = &_brainsim_offset[0];
    const int32_t* spikes = %(spikespace)s;
    const int32_t n_spikes = spikes[%(n_in)d];
    for (int32_t k = 0; k < n_spikes; k++) {
        const int64_t c = spikes[k] / %(n_pixels)d;
        const int64_t pixel = spikes[k] - c * %(n_pixels)d;
        const int64_t start = base + c * %(n_neurons)d;  // this copy's neuron 0, now
        for (int64_t s = _brainsim_first[pixel]; s < _brainsim_first[pixel + 1]; s++) {
            int64_t at = start + offset[s];
            if (at >= size) at -= size;
            ring[at] += w[s];
        }
    }
    double* __restrict ge = %(ge)s;
    double* __restrict due = ring + base;
    for (int64_t j = 0; j < %(n_exc)d; j++) {
        ge[j] += due[j] * %(gain)r;
        due[j] = 0.0;
    }
    return 0.0;
}
"""


def _add_delay_line(inputs, exc, input_to_exc, ns: dict, sfx: str, *, frozen: bool):
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
    with an error if they differ).
    """
    from brian2 import Function, defaultclock, get_device

    device = get_device()

    def name(var) -> str:
        return device.get_array_name(var, access_data=False)

    syn = input_to_exc.variables
    code = (_DELAY_STEPS_CPP + (_DELAY_RING_CPP if frozen else _DELAY_LINE_CPP)) % dict(
        pre=name(syn["_synaptic_pre"]), post=name(syn["_synaptic_post"]),
        delay=name(syn["input_delay"]), w=name(syn["w"]),
        spikespace=name(inputs.variables["_spikespace"]), ge=name(exc.variables["ge"]),
        n_in=len(inputs), n_exc=len(exc), gain=float(ns["input_gain"]),
        n_pixels=ns["n_input"], n_neurons=ns["n_neurons"], n_copies=len(exc) // ns["n_neurons"],
    )
    route = Function(lambda step, dt: 0.0, arg_units=[1, second], return_unit=1,
                     arg_types=["integer", "float"], return_type="float", stateless=False)
    route.implementations.add_implementation(
        "cpp", {"support_code": code}, name="brainsim_route_input",
        compiler_kwds={"headers": ['"objects.h"', "<vector>", "<cstdio>", "<cstdlib>"]},
    )
    router = NeuronGroup(1, "routed : 1", namespace=dict(ns, route_input=route),
                         name="input_router" + sfx)
    router.run_regularly("routed = route_input(timestep(t, dt), dt)", dt=defaultclock.dt,
                         when="synapses", name="input_routing" + sfx)
    return router


_INPUT_CALENDAR_CPP = r"""
// The input layer's spikes of each step, from a calendar instead of a scan of the
// threshold "t > next_spike" over every input neuron. An input neuron's next spike
// time changes only at a slot start (input_rates draws every neuron's first spike)
// and when it fires (its reset draws the next one), and it fires at the first step
// k with k * dt > next_spike. So at a slot start every neuron is filed under that
// step; at every other step the neurons that fired in the step before are filed
// again with their new next_spike. The neurons due now are written to Brian2's spike
// space in increasing index order, as Brian2's thresholder writes them.
static std::vector<std::vector<int32_t> > _brainsim_due;  // by step within the slot
static std::vector<int32_t> _brainsim_fired;              // spikes of the last step
static int64_t _brainsim_slot_start = 0;

static void _brainsim_file(int32_t i, int64_t step, double dt)
{
    using namespace brian;
    const double next = %(next_spike)s[i];
    if (!(next < 1e15)) return;  // no further spike in this slot ("never", inf)
    int64_t k = (int64_t)floor(next / dt) + 1;  // first k with k * dt > next
    while (k > step && (k - 1) * dt > next) k--;
    while (k * dt <= next) k++;
    if (k < step) k = step;  // overdue (cannot happen): fire now, as the threshold would
    const int64_t slot_step = k - _brainsim_slot_start;
    if (slot_step < %(slot_steps)d) _brainsim_due[slot_step].push_back(i);
}

double brainsim_input_spikes(int64_t step, double dt)
{
    using namespace brian;
    int32_t* spikes = %(spikespace)s;
    if (_brainsim_due.empty()) _brainsim_due.resize(%(slot_steps)d);
    if (step %% %(slot_steps)d == 0) {  // slot start: every neuron has a new next spike
        for (size_t k = 0; k < _brainsim_due.size(); k++) _brainsim_due[k].clear();
        _brainsim_slot_start = step;
        for (int32_t i = 0; i < %(n_in)d; i++) _brainsim_file(i, step, dt);
    } else {
        for (size_t k = 0; k < _brainsim_fired.size(); k++)
            _brainsim_file(_brainsim_fired[k], step, dt);
    }
    std::vector<int32_t>& now = _brainsim_due[step - _brainsim_slot_start];
    std::sort(now.begin(), now.end());
    std::copy(now.begin(), now.end(), spikes);
    spikes[%(n_in)d] = (int32_t)now.size();
    _brainsim_fired.swap(now);
    now.clear();
    return 0.0;
}
"""


def _add_input_calendar(inputs, *, slot_steps: int, sfx: str):
    """Find the input spikes of each step from a calendar (C++ standalone).

    Brian2's thresholder tests ``t > next_spike`` for every input neuron at
    every step, although only a few of them fire; this C++ function, called
    once per step right after the (now empty) thresholder, writes the same
    neurons to the input layer's spike space from a calendar of next spike
    steps (see :data:`_INPUT_CALENDAR_CPP`). `slot_steps` is the number of
    time steps per slot, at whose multiples the input rates change.
    """
    from brian2 import Function, defaultclock, get_device

    device = get_device()
    code = _INPUT_CALENDAR_CPP % dict(
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


_STOP_CPP = """
double brainsim_request_stop(int flag)
{
    if (flag) Network::_globally_stopped = true;
    return (double)flag;
}
"""


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
        "cpp", {"support_code": _STOP_CPP}, name="brainsim_request_stop",
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
