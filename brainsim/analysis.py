"""Representation analysis and operation counts (plain numpy).

Contents
--------
* :func:`linear_cka`, :func:`cka_matrix` -- linear centred kernel alignment
  (Kornblith et al. 2019, ICML) to compare two representations of the same
  examples, e.g. SNN spike counts and ANN hidden activations.
* :func:`population_sparsity`, :func:`lifetime_sparsity`,
  :func:`treves_rolls_sparsity` -- how many units are active.
* :func:`per_class_accuracy`, :func:`confusion_matrix`.
* :func:`synaptic_events`, :func:`ann_macs`, :func:`count_active` -- rough
  cost of one inference in synaptic events (SNN) and multiply-accumulate
  operations (ANN).
* :func:`win_counts`, :func:`dead_and_greedy` -- how often each neuron wins
  the competition; neurons that never win (dead) or win far more than their
  share (greedy), the usual failure of the faithful spiking network.

All activity arrays are ``(n_examples, n_units)``: one row per example
(image), one column per unit (neuron).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from brainsim.errors import ConfigError

__all__ = [
    "linear_cka",
    "cka_matrix",
    "population_sparsity",
    "lifetime_sparsity",
    "treves_rolls_sparsity",
    "per_class_accuracy",
    "confusion_matrix",
    "synaptic_events",
    "ann_macs",
    "count_active",
    "win_counts",
    "dead_and_greedy",
]


# --------------------------------------------------------------------------- helpers
def _as_real_2d(A: ArrayLike, name: str, *, allow_1d: bool = False) -> np.ndarray:
    arr = np.asarray(A)
    if arr.dtype == bool:
        arr = arr.astype(np.float64)
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(
        arr.dtype, np.complexfloating
    ):
        raise ConfigError(f"{name} must hold real numbers, got dtype {arr.dtype}.")
    if allow_1d and arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        shape_hint = "(n_examples, n_units)"
        raise ConfigError(
            f"{name} must be a 2-D array of shape {shape_hint}, got shape {arr.shape}."
        )
    if arr.size and not np.all(np.isfinite(arr)):
        raise ConfigError(f"{name} contains NaN or infinite values.")
    return arr.astype(np.float64, copy=False)


def _as_labels(y: ArrayLike, name: str, n_classes: int) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ConfigError(f"{name} must be a 1-D array of labels, got shape {arr.shape}.")
    if arr.size == 0:
        return arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        if not (
            np.issubdtype(arr.dtype, np.floating)
            and np.all(np.isfinite(arr))
            and np.all(arr == np.round(arr))
        ):
            raise ConfigError(f"{name} must contain integer labels, got dtype {arr.dtype}.")
    arr = arr.astype(np.int64)
    if arr.min() < 0 or arr.max() >= n_classes:
        raise ConfigError(
            f"{name} must lie in 0..{n_classes - 1}, found values from {arr.min()} "
            f"to {arr.max()}; check n_classes."
        )
    return arr


def _check_positive_int(value: int, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(f"{name} must be an integer, got {value!r}.")
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}.")
    return int(value)


# --------------------------------------------------------------------------- CKA
def linear_cka(X: ArrayLike, Y: ArrayLike) -> float:
    """Linear centred kernel alignment between two representations.

    With column-centred ``X`` (n, p) and ``Y`` (n, q) (Kornblith et al. 2019,
    ICML, eq. for linear CKA)::

        CKA(X, Y) = ||Y^T X||_F^2 / (||X^T X||_F * ||Y^T Y||_F)

    The value lies in [0, 1]; it equals 1 for ``X`` compared with itself and
    is invariant to orthogonal transformations and isotropic scaling of either
    representation (but not to arbitrary invertible linear maps).  Rows of
    ``X`` and ``Y`` must describe the same examples in the same order; the
    numbers of features may differ.

    Parameters
    ----------
    X : array_like, shape (n_examples, p)
        First representation (e.g. spike counts per image).  A 1-D array is
        treated as a single feature.
    Y : array_like, shape (n_examples, q)
        Second representation (e.g. ReLU activations per image).

    Returns
    -------
    cka : float
        Linear CKA, or ``nan`` if either representation has zero variance
        over the examples (every feature constant, e.g. a silent network); a
        ``RuntimeWarning`` is issued in that case because the similarity is
        undefined.

    Raises
    ------
    brainsim.errors.ConfigError
        If the arrays are not 1-D/2-D, contain NaN/inf, have different
        numbers of rows, or fewer than 2 examples.
    """
    Xa = _as_real_2d(X, "X", allow_1d=True)
    Ya = _as_real_2d(Y, "Y", allow_1d=True)
    if Xa.shape[0] != Ya.shape[0]:
        raise ConfigError(
            f"X and Y must describe the same examples: X has {Xa.shape[0]} rows, "
            f"Y has {Ya.shape[0]}."
        )
    if Xa.shape[0] < 2:
        raise ConfigError("linear_cka needs at least 2 examples (rows).")
    Xc = Xa - Xa.mean(axis=0, keepdims=True)
    Yc = Ya - Ya.mean(axis=0, keepdims=True)
    # Scale each to unit Frobenius norm first: CKA is scale invariant and this
    # keeps the squared norms below from overflowing or underflowing.
    nx = np.linalg.norm(Xc)
    ny = np.linalg.norm(Yc)
    if nx == 0.0 or ny == 0.0:
        which = "X" if nx == 0.0 else "Y"
        warnings.warn(
            f"linear_cka: {which} has zero variance over the examples "
            "(all features constant); CKA is undefined, returning nan.",
            RuntimeWarning,
            stacklevel=2,
        )
        return float("nan")
    Xc /= nx
    Yc /= ny
    # Use whichever form is cheaper: feature-space products (p x q) or
    # example-space Gram matrices (n x n).
    n, p = Xc.shape
    q = Yc.shape[1]
    if n < max(p, q):
        K = Xc @ Xc.T
        L = Yc @ Yc.T
        hsic = float(np.sum(K * L))
        norm_x = float(np.linalg.norm(K))
        norm_y = float(np.linalg.norm(L))
    else:
        hsic = float(np.linalg.norm(Yc.T @ Xc) ** 2)
        norm_x = float(np.linalg.norm(Xc.T @ Xc))
        norm_y = float(np.linalg.norm(Yc.T @ Yc))
    return float(np.clip(hsic / (norm_x * norm_y), 0.0, 1.0))


def cka_matrix(
    representations: Mapping[str, ArrayLike],
) -> tuple[list[str], np.ndarray]:
    """Linear CKA between every pair of named representations.

    Parameters
    ----------
    representations : mapping of str to array_like (n_examples, n_features)
        All arrays must have the same number of rows (same examples, same
        order); the number of features may differ.

    Returns
    -------
    names : list of str
        Keys in insertion order.
    matrix : ndarray, shape (k, k)
        Symmetric matrix of :func:`linear_cka` values (``nan`` where a
        representation has zero variance).
    """
    if not isinstance(representations, Mapping) or len(representations) == 0:
        raise ConfigError(
            "representations must be a non-empty dict mapping a name to an "
            "(n_examples, n_features) array."
        )
    names = [str(k) for k in representations]
    arrays = [_as_real_2d(v, f"representations[{k!r}]", allow_1d=True)
              for k, v in representations.items()]
    n_rows = {a.shape[0] for a in arrays}
    if len(n_rows) != 1:
        sizes = ", ".join(f"{n}: {a.shape[0]}" for n, a in zip(names, arrays))
        raise ConfigError(
            f"all representations must have the same number of examples; got {sizes}."
        )
    k = len(arrays)
    matrix = np.empty((k, k), dtype=np.float64)
    for i in range(k):
        for j in range(i, k):
            matrix[i, j] = matrix[j, i] = linear_cka(arrays[i], arrays[j])
    return names, matrix


# --------------------------------------------------------------------------- sparsity
def population_sparsity(A: ArrayLike, threshold: float = 0.0) -> np.ndarray:
    """Fraction of units active for each example.

    Parameters
    ----------
    A : array_like, shape (n_examples, n_units)
        Activity (spike counts, ReLU outputs, ...).
    threshold : float, default 0.0
        A unit counts as active when its activity is ``> threshold``.

    Returns
    -------
    fraction : ndarray, shape (n_examples,)
        Fraction (0..1) of units active per example; a one-hot code with
        ``k`` units gives ``1/k``.  Lower means sparser.
    """
    arr = _as_real_2d(A, "A")
    if arr.shape[1] == 0:
        raise ConfigError("A has no units (0 columns).")
    return np.mean(arr > threshold, axis=1)


def lifetime_sparsity(A: ArrayLike, threshold: float = 0.0) -> np.ndarray:
    """Fraction of examples for which each unit is active.

    Parameters
    ----------
    A : array_like, shape (n_examples, n_units)
        Activity (spike counts, ReLU outputs, ...).
    threshold : float, default 0.0
        A unit counts as active when its activity is ``> threshold``.

    Returns
    -------
    fraction : ndarray, shape (n_units,)
        Fraction (0..1) of examples that activate each unit; 0 for a unit
        that never responds (a "dead" unit).  Lower means more selective.
    """
    arr = _as_real_2d(A, "A")
    if arr.shape[0] == 0:
        raise ConfigError("A has no examples (0 rows).")
    return np.mean(arr > threshold, axis=0)


def treves_rolls_sparsity(A: ArrayLike, *, normalized: bool = True) -> np.ndarray:
    """Treves-Rolls population sparseness for each example.

    The Treves & Rolls (1991) activity ratio of the ``N`` responses ``r_i``
    to one example is ``a = (mean r)^2 / mean(r^2)`` (1 when all units respond
    equally, ``1/N`` when a single unit responds).  Vinje & Gallant (2000,
    Science 287:1273) rescale it to ``S = (1 - a) / (1 - 1/N)``, which is 0
    for a uniform response and 1 for a one-hot response.

    Parameters
    ----------
    A : array_like, shape (n_examples, n_units)
        Non-negative activity (spike counts or ReLU outputs); at least 2 units.
    normalized : bool, default True
        Return Vinje & Gallant's ``S`` (higher = sparser) if True, the raw
        Treves-Rolls ratio ``a`` (lower = sparser) if False.

    Returns
    -------
    sparseness : ndarray, shape (n_examples,)
        ``nan`` for examples where no unit is active (the measure is undefined
        for an all-zero response).
    """
    arr = _as_real_2d(A, "A")
    n_units = arr.shape[1]
    if n_units < 2:
        raise ConfigError(f"treves_rolls_sparsity needs at least 2 units, got {n_units}.")
    if arr.size and arr.min() < 0:
        raise ConfigError(
            "treves_rolls_sparsity needs non-negative activity (rates, counts or "
            f"ReLU outputs); found a minimum of {arr.min()}."
        )
    mean = arr.mean(axis=1)
    mean_sq = np.mean(arr**2, axis=1)
    a = np.full(arr.shape[0], np.nan)
    ok = mean_sq > 0
    a[ok] = mean[ok] ** 2 / mean_sq[ok]
    if not normalized:
        return a
    return (1.0 - a) / (1.0 - 1.0 / n_units)


# --------------------------------------------------------------------------- accuracy
def confusion_matrix(
    y_true: ArrayLike, y_pred: ArrayLike, n_classes: int = 10, *, normalize: bool = False
) -> np.ndarray:
    """Confusion matrix with true classes on rows and predictions on columns.

    Parameters
    ----------
    y_true, y_pred : array_like of int, shape (n_examples,)
        Labels in ``0 .. n_classes - 1``.
    n_classes : int, default 10
    normalize : bool, default False
        If True, divide each row by the number of examples of that true class
        (rows sum to 1; rows of absent classes are all ``nan``).

    Returns
    -------
    cm : ndarray, shape (n_classes, n_classes)
        Counts (int64) or row fractions (float64).
    """
    n_classes = _check_positive_int(n_classes, "n_classes")
    t = _as_labels(y_true, "y_true", n_classes)
    p = _as_labels(y_pred, "y_pred", n_classes)
    if t.shape != p.shape:
        raise ConfigError(
            f"y_true and y_pred must have the same length, got {t.shape[0]} and {p.shape[0]}."
        )
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (t, p), 1)
    if not normalize:
        return cm
    totals = cm.sum(axis=1, keepdims=True).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, cm / np.where(totals > 0, totals, 1.0), np.nan)


def per_class_accuracy(
    y_true: ArrayLike, y_pred: ArrayLike, n_classes: int = 10
) -> np.ndarray:
    """Accuracy (recall) for each true class.

    Returns
    -------
    accuracy : ndarray, shape (n_classes,)
        Fraction (0..1) of the examples of each class that were predicted
        correctly; ``nan`` for classes absent from ``y_true``.
    """
    cm = confusion_matrix(y_true, y_pred, n_classes, normalize=True)
    return np.diag(cm).copy()


# --------------------------------------------------------------------------- cost
def _nonneg(values: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ConfigError(f"{name} contains NaN or infinite values.")
    if arr.size and arr.min() < 0:
        raise ConfigError(f"{name} must be non-negative, found {arr.min()}.")
    return arr


def synaptic_events(
    n_input_spikes: ArrayLike,
    n_exc_spikes: ArrayLike,
    n_inh_spikes: ArrayLike,
    n_neurons: int,
) -> np.ndarray | float:
    """Number of synaptic events in the Diehl & Cook network for one image.

    A synaptic event is one spike arriving at one synapse (one weight read
    and one conductance update).  The network topology of Diehl & Cook
    (2015, section 2.2) with ``N = n_neurons`` excitatory and ``N``
    inhibitory neurons gives:

    * input -> excitatory, all-to-all: each input spike reaches ``N``
      synapses;
    * excitatory -> inhibitory, one-to-one: each excitatory spike reaches
      1 synapse;
    * inhibitory -> excitatory, all-to-all except the neuron's own partner:
      each inhibitory spike reaches ``N - 1`` synapses.

    So ``events = n_input * N + n_exc * 1 + n_inh * (N - 1)``.  Spikes during
    the resting period, state updates of the neurons themselves and the
    per-time-step cost of clock-driven simulation are not counted.

    Parameters
    ----------
    n_input_spikes, n_exc_spikes, n_inh_spikes : array_like
        Spike counts of the input (Poisson) population, the excitatory and the
        inhibitory population during one presentation; scalars or arrays of
        shape (n_examples,) (broadcast together).
    n_neurons : int
        Number of excitatory neurons ``N`` (= number of inhibitory neurons).

    Returns
    -------
    events : float or ndarray
        Synaptic events per image (float; a scalar if all inputs are scalars).
    """
    n = _check_positive_int(n_neurons, "n_neurons")
    inp = _nonneg(n_input_spikes, "n_input_spikes")
    exc = _nonneg(n_exc_spikes, "n_exc_spikes")
    inh = _nonneg(n_inh_spikes, "n_inh_spikes")
    try:
        events = inp * n + exc * 1 + inh * (n - 1)
    except ValueError as err:
        raise ConfigError(
            "n_input_spikes, n_exc_spikes and n_inh_spikes must have broadcastable "
            f"shapes, got {inp.shape}, {exc.shape}, {inh.shape}."
        ) from err
    return float(events) if np.ndim(events) == 0 else events


def count_active(A: ArrayLike) -> np.ndarray:
    """Number of non-zero entries per example (row) of ``A`` (n_examples, n_units)."""
    arr = _as_real_2d(A, "A")
    return np.count_nonzero(arr, axis=1)


def ann_macs(
    layer_sizes: Sequence[int], *, n_active: Sequence[ArrayLike] | None = None
) -> int | np.ndarray:
    """Multiply-accumulate operations for one inference of a dense network.

    A dense layer from ``a`` to ``b`` units costs ``a * b`` MACs; biases and
    activation functions are not counted.  For ``784-32-10`` this is
    ``784*32 + 32*10 = 25408``.

    Parameters
    ----------
    layer_sizes : sequence of int
        Units per layer, input first (at least 2 entries).
    n_active : sequence of array_like, optional
        Event-driven ("active input") variant: for each weight layer ``i``
        (``len(layer_sizes) - 1`` entries), the number of *non-zero* inputs to
        it, as a scalar or an array (n_examples,) -- e.g. ``count_active(X)``
        for the pixels and ``count_active(hidden)`` for ReLU outputs.  Only
        those inputs are multiplied, so layer ``i`` costs
        ``n_active[i] * layer_sizes[i + 1]``.  This is the ANN analogue of
        counting synaptic events only for spikes that happen.

    Returns
    -------
    macs : int or ndarray
        MACs per inference (an int for the dense count; float array/scalar for
        the active-input variant).
    """
    if isinstance(layer_sizes, (str, bytes)) or not isinstance(layer_sizes, Sequence):
        layer_sizes = list(np.atleast_1d(np.asarray(layer_sizes)))
    sizes = [_check_positive_int(s, "each layer size") for s in layer_sizes]
    if len(sizes) < 2:
        raise ConfigError(
            f"layer_sizes needs at least an input and an output layer, got {sizes}."
        )
    if n_active is None:
        return int(sum(a * b for a, b in zip(sizes[:-1], sizes[1:])))
    if len(n_active) != len(sizes) - 1:
        raise ConfigError(
            f"n_active needs one entry per weight layer ({len(sizes) - 1}), "
            f"got {len(n_active)}."
        )
    total: np.ndarray | float = 0.0
    for i, (act, a, b) in enumerate(zip(n_active, sizes[:-1], sizes[1:])):
        arr = _nonneg(act, f"n_active[{i}]")
        if arr.size and arr.max() > a:
            raise ConfigError(
                f"n_active[{i}] has {arr.max()} active inputs but layer {i} has only "
                f"{a} units."
            )
        total = total + arr * b
    return float(total) if np.ndim(total) == 0 else total


def win_counts(A: ArrayLike) -> np.ndarray:
    """How many examples each unit wins (has the largest response to).

    Examples to which no unit responds (all zeros) are won by nobody; ties go
    to the lowest unit index.

    Parameters
    ----------
    A : array_like, shape (n_examples, n_units)
        Non-negative responses, e.g. spike counts.

    Returns
    -------
    ndarray of int64, shape (n_units,)
        Number of examples won by each unit; sums to the examples with any response.
    """
    arr = _as_real_2d(A, "A")
    winners = np.argmax(arr, axis=1)
    responded = arr.max(axis=1) > 0
    return np.bincount(winners[responded], minlength=arr.shape[1]).astype(np.int64)


def dead_and_greedy(A: ArrayLike, *, greedy_factor: float = 5.0) -> dict:
    """Count dead units (never win) and greedy units (win far more than their share).

    With n units, a fair share is 1/n of the examples; a unit is *greedy*
    when it wins more than ``greedy_factor`` fair shares, *dead* when it
    wins none.

    Parameters
    ----------
    A : array_like, shape (n_examples, n_units)
        Non-negative responses, e.g. spike counts of the training images.
    greedy_factor : float, default 5
        Multiple of the fair share above which a unit counts as greedy.

    Returns
    -------
    dict
        ``dead``, ``greedy`` (int), ``n_units``, ``n_examples``,
        ``top10_share`` (fraction of the examples won by the 10 % most winning
        units) and ``wins`` (per-unit win counts, ndarray).
    """
    if not (isinstance(greedy_factor, (int, float)) and greedy_factor > 1):
        raise ConfigError(f"greedy_factor must be a number > 1, got {greedy_factor!r}.")
    wins = win_counts(A)
    n_units = wins.size
    total = int(wins.sum())
    fair = total / n_units if n_units else 0.0
    top = np.sort(wins)[::-1][: max(1, int(round(0.1 * n_units)))]
    return {
        "dead": int(np.sum(wins == 0)),
        "greedy": int(np.sum(wins > greedy_factor * fair)) if total else 0,
        "n_units": int(n_units),
        "n_examples": int(np.asarray(A).shape[0]),
        "top10_share": float(top.sum() / total) if total else 0.0,
        "wins": wins,
    }

