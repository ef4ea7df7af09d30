"""Training protocols by name: the paper's training length, assignment and test sets.

[DC15] Diehl, P. U. & Cook, M. (2015). Unsupervised learning of digit
recognition using spike-timing-dependent plasticity. Front. Comput. Neurosci.
9:99. doi:10.3389/fncom.2015.00099

The paper trains on the MNIST training set (60,000 images) and shows it several
times to the larger networks; the numbers below are the paper's:

========  ===============================  ===========================
neurons   training presentations           test accuracy ([DC15] sec. 3)
========  ===============================  ===========================
100       40,000 images (one partial pass) 82.9 %
400       3 passes over 60,000 images      87.0 %
1,600     7 passes over 60,000 images      91.9 %
6,400     15 passes over 60,000 images     95.0 %
========  ===============================  ===========================

- Training length: [DC15] section 2.5 ("Training and classification") and
  section 3 ("Results"), which give the number of examples shown to each size.
- Assignment: after training, learning and the thresholds are frozen and each
  neuron is labelled by its responses over *one presentation of the training
  set* ([DC15] section 2.5): all 60,000 training images, for every size.
- Test: the 10,000 MNIST test images ([DC15] section 3).

Every epoch shows the images in the same order (the first ``n_train`` training
images, as the authors' published code does by indexing the training set
modulo 60,000); the Poisson spike trains differ from epoch to epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from brainsim.errors import ConfigError

__all__ = ["PaperRun", "PAPER_PROTOCOL", "PROTOCOLS", "paper_run", "apply_protocol"]


@dataclass(frozen=True)
class PaperRun:
    """One row of the paper's protocol.

    Attributes
    ----------
    n_neurons : int
        Excitatory neurons.
    n_train : int
        Training images shown per epoch (the first ones of the training set).
    epochs : int
        Passes over those images.
    n_assign : int
        Training images used to label the neurons.
    n_test : int
        Test images.
    paper_accuracy : float
        Test accuracy the paper reports for this size (fraction).
    source : str
        Where the figures come from.
    """

    n_neurons: int
    n_train: int
    epochs: int
    n_assign: int
    n_test: int
    paper_accuracy: float
    source: str


_MNIST_TRAIN, _MNIST_TEST = 60_000, 10_000

#: The paper's protocol per network size ([DC15] sections 2.5 and 3).
PAPER_PROTOCOL: dict[int, PaperRun] = {
    100: PaperRun(100, 40_000, 1, _MNIST_TRAIN, _MNIST_TEST, 0.829,
                  "[DC15] sec. 2.5/3: 100 neurons trained on 40,000 examples; 82.9 %"),
    400: PaperRun(400, _MNIST_TRAIN, 3, _MNIST_TRAIN, _MNIST_TEST, 0.870,
                  "[DC15] sec. 2.5/3: 400 neurons, 3 presentations of the training set; 87.0 %"),
    1600: PaperRun(1600, _MNIST_TRAIN, 7, _MNIST_TRAIN, _MNIST_TEST, 0.919,
                   "[DC15] sec. 2.5/3: 1,600 neurons, 7 presentations; 91.9 %"),
    6400: PaperRun(6400, _MNIST_TRAIN, 15, _MNIST_TRAIN, _MNIST_TEST, 0.950,
                   "[DC15] sec. 2.5/3: 6,400 neurons, 15 presentations; 95.0 %"),
}

#: Protocol names accepted by :func:`apply_protocol` (None: the config's own sizes).
PROTOCOLS = ("paper",)

#: Config keys a protocol sets; giving them as well is a conflict.
PROTOCOL_KEYS = ("n_train", "epochs", "n_assign", "n_test")


def paper_run(n_neurons: int) -> PaperRun:
    """The paper's protocol for a network of ``n_neurons`` excitatory neurons.

    Raises
    ------
    ConfigError
        If the paper has no network of that size.
    """
    try:
        return PAPER_PROTOCOL[int(n_neurons)]
    except (KeyError, TypeError, ValueError):
        sizes = ", ".join(str(n) for n in PAPER_PROTOCOL)
        raise ConfigError(
            f"the paper's protocol is defined for {sizes} neurons, not {n_neurons!r}; "
            "choose one of these sizes or set n_train/epochs yourself"
        ) from None


def apply_protocol(config: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Fill the training length, assignment and test sets from ``config["protocol"]``.

    Parameters
    ----------
    config : mapping
        An experiment config with ``protocol`` (None or "paper") and ``n_neurons``.
    defaults : mapping
        The default config; a protocol key that differs from its default counts
        as set by the user.

    Returns
    -------
    dict
        A copy of ``config`` with ``n_train``, ``epochs``, ``n_assign`` and
        ``n_test`` set by the protocol (unchanged when ``protocol`` is None).

    Raises
    ------
    ConfigError
        Unknown protocol, a size the paper did not use, or a protocol key also
        set explicitly.
    """
    out = dict(config)
    name = out.get("protocol")
    if name is None:
        return out
    if name not in PROTOCOLS:
        raise ConfigError(f"unknown protocol {name!r}; choose one of {', '.join(PROTOCOLS)}")
    run = paper_run(out["n_neurons"])
    clash = [k for k in PROTOCOL_KEYS if out.get(k) != defaults.get(k)
             and out.get(k) != getattr(run, k)]
    if clash:
        options = ", ".join(f"{k} (--{k.replace('_', '-')})" for k in clash)
        raise ConfigError(
            f"protocol {name!r} sets {', '.join(clash)} itself; drop {options} or the protocol")
    for key in PROTOCOL_KEYS:
        out[key] = getattr(run, key)
    return out
