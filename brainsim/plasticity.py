"""The four STDP rules of Diehl & Cook (2015), as Brian2 code snippets.

Each rule acts on the input -> excitatory synapses. Every rule

* keeps the synaptic weight ``w`` in ``[0, w_max]``;
* keeps ``wsum_post``, the running sum of the postsynaptic neuron's incoming
  weights, up to date (it is used by the weight normalisation that
  :mod:`brainsim.network` applies before each presentation, so no summed
  variable has to be recomputed every time step).

Traces are properties of the neurons, as in the authors' Brian 1 code (whose
``STDP`` class kept them in the pre- and postsynaptic neuron groups): the
presynaptic trace ``xpre`` lives in each input neuron, the postsynaptic traces
in each excitatory neuron. They are stored lazily: the value at the last spike
and the time of that spike, so nothing is integrated per time step; a rule
reads ``x(t) = x_last exp(-(t - t_last) / tau)``.

The rules (x are traces: +1 per spike, or set to 1 for nearest-spike traces,
with exponential decay; eta are learning rates; w_max = 1):

``power_law`` (default; [DC15] eq. 4)
    on a postsynaptic spike: dw = eta_post (x_pre - x_tar) (w_max - w)^mu
``exponential`` ([DC15] eq. 5)
    on a postsynaptic spike:
    dw = eta_post (x_pre exp(-beta w) - x_tar exp(-beta (w_max - w)))
``pre_post`` ([DC15] eq. 6)
    on a presynaptic spike:  dw = -eta_pre x_post w^mu
    on a postsynaptic spike: dw =  eta_post (x_pre - x_tar) (w_max - w)^mu
``triplet`` ([PG06] as used in [DC-code]; nearest-spike traces set to 1)
    on a presynaptic spike:  dw = -nu_pre x_post1
    on a postsynaptic spike: dw =  nu_post x_pre x_post2 (x_post2 taken just
    before the spike), then divisive weight normalisation as for all rules.
``instar`` (not in [DC15]; the rule of the ``local_plus`` recipe)
    on a postsynaptic spike: dw = eta_instar (x_pre - c_instar w): every input
    weight of the neuron that fired moves towards its presynaptic trace
    (S. Grossberg (1976), Biol. Cybern. 23:121; T. Kohonen (1982), Biol.
    Cybern. 43:59). With the weight normalisation before each presentation the
    weights of a neuron settle on the mean trace of the inputs it wins: online
    spherical k-means, without the power law's threshold x_tar that, with the
    clip at 0, lets a few noisy pixels take a neuron's weight.

All constants come from :mod:`brainsim.model`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from brainsim import model as M
from brainsim.errors import ConfigError

#: Name of the rule used when none is given: the rule of [DC15]'s main results.
DEFAULT_RULE = "power_law"


@dataclass(frozen=True)
class Trace:
    """A spike trace kept in a neuron group.

    Attributes
    ----------
    name : str
        Variable name (the spike time is stored in ``tlast_<name>``).
    tau : str
        Name of its time constant in the rule's namespace.
    nearest : bool
        True: set to 1 at each spike (nearest-spike); False: increased by 1.
    """

    name: str
    tau: str
    nearest: bool = False

    def equations(self) -> str:
        """Neuron-group variables holding the trace."""
        return f"{self.name} : 1\ntlast_{self.name} : second"

    def on_spike(self) -> str:
        """Statements updating the trace at a spike of its neuron."""
        value = "1" if self.nearest else f"{self.value()} + 1"
        return f"{self.name} = {value}\ntlast_{self.name} = t"

    def value(self, suffix: str = "") -> str:
        """Expression of the trace's current value (``suffix`` "_pre"/"_post" in synapses)."""
        return f"({self.name}{suffix} * exp(-(t - tlast_{self.name}{suffix}) / {self.tau}))"


@dataclass(frozen=True)
class LearningRule:
    """Brian2 code for one plasticity rule of the input -> excitatory synapses.

    Attributes
    ----------
    name : str
        Identifier used on the command line and in saved files.
    pre_traces, post_traces : tuple of Trace
        Traces kept in the input (presynaptic) / excitatory (postsynaptic) neurons.
    on_pre, on_post : str
        Synaptic statements run on a presynaptic spike's arrival / a
        postsynaptic spike; ``on_pre`` does not include ``ge_post += w``.
    namespace : dict
        Constants the statements refer to, with units.
    formula : str
        The weight update in words, for reports.
    """

    name: str
    pre_traces: tuple
    post_traces: tuple
    on_pre: str
    on_post: str
    namespace: dict = field(default_factory=dict)
    formula: str = ""
    rates: tuple = ()  # names of the learning rates in on_pre / on_post

    def scaled(self, code: str, factor: str) -> str:
        """`code` with each learning rate of the rule multiplied by `factor`.

        Used by learning-rate schedules (:mod:`brainsim.recipes`): ``factor`` is
        a variable set before each run, e.g. ``eta_scale_post``.
        """
        for rate in self.rates:
            code = re.sub(rf"\b{rate}\b", f"({rate} * {factor})", code)
        return code

    def neuron_equations(self, side: str) -> str:
        """Trace variables of the "pre" (input) or "post" (excitatory) neurons."""
        traces = self.pre_traces if side == "pre" else self.post_traces
        return "\n".join(tr.equations() for tr in traces)

    def neuron_reset(self, side: str) -> str:
        """Statements updating the traces at a spike of a "pre" or "post" neuron."""
        traces = self.pre_traces if side == "pre" else self.post_traces
        return "\n".join(tr.on_spike() for tr in traces)

    @property
    def traces(self) -> tuple:
        """All traces of the rule."""
        return self.pre_traces + self.post_traces


def _clipped_update(dw: str) -> str:
    """Statements applying ``w += dw`` clipped to [0, w_max] and tracking ``wsum_post``."""
    return (
        f"w_new = clip(w + {dw}, 0, w_max)\n"
        "wsum_post += w_new - w\n"
        "w = w_new"
    )


XPRE = Trace("xpre", "tau_pre")
XPOST = Trace("xpost", "tau_post")
XPRE_NEAREST = Trace("xpre", "tau_pre", nearest=True)
XPOST1_NEAREST = Trace("xpost1", "tau_post1", nearest=True)
XPOST2_NEAREST = Trace("xpost2", "tau_post2", nearest=True)
XPRE_SLOW = Trace("xpre", "tau_pre_slow")

# (w_max - w) is clipped at 0: after normalisation a weight may briefly exceed w_max.
_POWER_LAW_POST = (
    f"eta_post * ({XPRE.value('_pre')} - x_tar) * clip(w_max - w, 0, w_max)**mu"
)

RULES: dict[str, LearningRule] = {
    "power_law": LearningRule(
        name="power_law",
        pre_traces=(XPRE,),
        post_traces=(),
        on_pre="",
        on_post=_clipped_update(_POWER_LAW_POST),
        namespace=dict(eta_post=M.eta_post, x_tar=M.x_tar, mu=M.mu, tau_pre=M.tau_pre),
        formula="post spike: dw = eta (x_pre - x_tar) (w_max - w)^mu",
        rates=("eta_post",),
    ),
    "exponential": LearningRule(
        name="exponential",
        pre_traces=(XPRE,),
        post_traces=(),
        on_pre="",
        on_post=_clipped_update(
            f"eta_post * ({XPRE.value('_pre')} * exp(-beta * w)"
            " - x_tar * exp(-beta * (w_max - w)))"
        ),
        namespace=dict(eta_post=M.eta_post, x_tar=M.x_tar, beta=M.beta, tau_pre=M.tau_pre),
        formula="post spike: dw = eta (x_pre exp(-beta w) - x_tar exp(-beta (w_max - w)))",
        rates=("eta_post",),
    ),
    "pre_post": LearningRule(
        name="pre_post",
        pre_traces=(XPRE,),
        post_traces=(XPOST,),
        on_pre=_clipped_update(f"-eta_pre * {XPOST.value('_post')} * clip(w, 0, w_max)**mu"),
        on_post=_clipped_update(_POWER_LAW_POST),
        namespace=dict(
            eta_pre=M.eta_pre, eta_post=M.eta_post, x_tar=M.x_tar, mu=M.mu,
            tau_pre=M.tau_pre, tau_post=M.tau_post1,
        ),
        formula=(
            "pre spike: dw = -eta_pre x_post w^mu; "
            "post spike: dw = eta_post (x_pre - x_tar) (w_max - w)^mu"
        ),
        rates=("eta_pre", "eta_post"),
    ),
    "triplet": LearningRule(
        name="triplet",
        pre_traces=(XPRE_NEAREST,),
        post_traces=(XPOST1_NEAREST, XPOST2_NEAREST),
        on_pre=_clipped_update(f"-nu_pre * {XPOST1_NEAREST.value('_post')}"),
        # the synapses' on_post runs before the neuron's reset, so xpost2 is the
        # value just before this spike, as in [DC-code] (post2before)
        on_post=_clipped_update(
            f"nu_post * {XPRE_NEAREST.value('_pre')} * {XPOST2_NEAREST.value('_post')}"
        ),
        namespace=dict(
            nu_pre=M.nu_pre, nu_post=M.nu_post, tau_pre=M.tau_pre,
            tau_post1=M.tau_post1, tau_post2=M.tau_post2,
        ),
        formula="pre spike: dw = -nu_pre x_post1; post spike: dw = nu_post x_pre x_post2",
        rates=("nu_pre", "nu_post"),
    ),
    "instar": LearningRule(
        name="instar",
        pre_traces=(XPRE_SLOW,),
        post_traces=(),
        on_pre="",
        on_post=_clipped_update(f"eta_instar * ({XPRE_SLOW.value('_pre')} - c_instar * w)"),
        namespace=dict(eta_instar=M.eta_instar, c_instar=M.c_instar, tau_pre_slow=M.tau_pre_slow),
        formula="post spike: dw = eta (x_pre - c w)",
        rates=("eta_instar",),
    ),
}


#: The four rules of [DC15] (what ``experiments/rules.py`` compares by default).
PAPER_RULES = ("power_law", "exponential", "pre_post", "triplet")


def get_rule(name: str) -> LearningRule:
    """Return the learning rule called `name`.

    Raises
    ------
    ConfigError
        If there is no rule of that name (the message lists the valid names).
    """
    try:
        return RULES[name]
    except (KeyError, TypeError):
        raise ConfigError(
            f"unknown learning rule {name!r}; choose one of: {', '.join(RULES)}"
        ) from None
