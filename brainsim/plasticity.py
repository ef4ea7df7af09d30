"""The four STDP rules of Diehl & Cook (2015), as Brian2 code snippets.

Each rule acts on the input -> excitatory synapses. Every rule

* keeps the synaptic weight ``w`` in ``[0, w_max]``;
* keeps ``wsum_post``, the running sum of the postsynaptic neuron's incoming
  weights, up to date (it is used by the weight normalisation that
  :mod:`brainsim.network` applies before each presentation, so no summed
  variable has to be recomputed every time step);
* uses event-driven traces, so nothing is integrated per synapse and time step.

The rules (x are traces: +1 per spike, exponential decay; eta are learning
rates; w_max = 1):

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

All constants come from :mod:`brainsim.model`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from brainsim import model as M
from brainsim.errors import ConfigError

#: Name of the rule used when none is given: the rule of [DC15]'s main results.
DEFAULT_RULE = "power_law"


@dataclass(frozen=True)
class LearningRule:
    """Brian2 code for one plasticity rule of the input -> excitatory synapses.

    Attributes
    ----------
    name : str
        Identifier used on the command line and in saved files.
    model : str
        Synaptic model equations (weight and event-driven traces).
    on_pre, on_post : str
        Statements run on a presynaptic / postsynaptic spike; ``on_pre`` does
        not include the conductance increase ``ge_post += w``.
    namespace : dict
        Constants the statements refer to, with units.
    formula : str
        The weight update in words, for reports.
    """

    name: str
    model: str
    on_pre: str
    on_post: str
    namespace: dict = field(default_factory=dict)
    formula: str = ""
    traces: tuple = ()  # (variable, time-constant name) of the event-driven traces


def _clipped_update(dw: str) -> str:
    """Statements applying ``w += dw`` clipped to [0, w_max] and tracking ``wsum_post``."""
    return (
        f"w_new = clip(w + {dw}, 0, w_max)\n"
        "wsum_post += w_new - w\n"
        "w = w_new"
    )


# (w_max - w) is clipped at 0: after normalisation a weight may briefly exceed w_max.
_POWER_LAW_POST = "eta_post * (pre - x_tar) * clip(w_max - w, 0, w_max)**mu"

RULES: dict[str, LearningRule] = {
    "power_law": LearningRule(
        name="power_law",
        model="w : 1\ndpre/dt = -pre / tau_pre : 1 (event-driven)",
        on_pre="pre += 1",
        on_post=_clipped_update(_POWER_LAW_POST),
        namespace=dict(eta_post=M.nu_post, x_tar=M.x_tar, mu=M.mu, tau_pre=M.tau_pre),
        formula="post spike: dw = eta (x_pre - x_tar) (w_max - w)^mu",
        traces=(("pre", "tau_pre"),),
    ),
    "exponential": LearningRule(
        name="exponential",
        model="w : 1\ndpre/dt = -pre / tau_pre : 1 (event-driven)",
        on_pre="pre += 1",
        on_post=_clipped_update(
            "eta_post * (pre * exp(-beta * w) - x_tar * exp(-beta * (w_max - w)))"
        ),
        namespace=dict(eta_post=M.nu_post, x_tar=M.x_tar, beta=M.beta, tau_pre=M.tau_pre),
        formula="post spike: dw = eta (x_pre exp(-beta w) - x_tar exp(-beta (w_max - w)))",
        traces=(("pre", "tau_pre"),),
    ),
    "pre_post": LearningRule(
        name="pre_post",
        model=(
            "w : 1\n"
            "dpre/dt = -pre / tau_pre : 1 (event-driven)\n"
            "dpost/dt = -post / tau_post : 1 (event-driven)"
        ),
        on_pre="pre += 1\n" + _clipped_update("-eta_pre * post * clip(w, 0, w_max)**mu"),
        on_post="post += 1\n" + _clipped_update(_POWER_LAW_POST),
        namespace=dict(
            eta_pre=M.nu_pre, eta_post=M.nu_post, x_tar=M.x_tar, mu=M.mu,
            tau_pre=M.tau_pre, tau_post=M.tau_post1,
        ),
        formula=(
            "pre spike: dw = -eta_pre x_post w^mu; "
            "post spike: dw = eta_post (x_pre - x_tar) (w_max - w)^mu"
        ),
        traces=(("pre", "tau_pre"), ("post", "tau_post")),
    ),
    "triplet": LearningRule(
        name="triplet",
        model=(
            "w : 1\n"
            "dpre/dt = -pre / tau_pre : 1 (event-driven)\n"
            "dpost1/dt = -post1 / tau_post1 : 1 (event-driven)\n"
            "dpost2/dt = -post2 / tau_post2 : 1 (event-driven)"
        ),
        on_pre="pre = 1\n" + _clipped_update("-nu_pre * post1"),
        on_post=(
            _clipped_update("nu_post * pre * post2")  # post2 read before its reset
            + "\npost1 = 1\npost2 = 1"
        ),
        namespace=dict(
            nu_pre=M.nu_pre, nu_post=M.nu_post, tau_pre=M.tau_pre,
            tau_post1=M.tau_post1, tau_post2=M.tau_post2,
        ),
        formula="pre spike: dw = -nu_pre x_post1; post spike: dw = nu_post x_pre x_post2",
        traces=(("pre", "tau_pre"), ("post1", "tau_post1"), ("post2", "tau_post2")),
    ),
}


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
