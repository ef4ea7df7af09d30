"""Label assignment and class read-out from population responses.

This is the supervised read-out used by Diehl & Cook (2015, Front. Comput.
Neurosci. 9:99, section 2.5) on top of an *unsupervised* network: after
learning, every excitatory neuron is given the digit class to which it
responded most strongly on average over a set of labelled "assignment"
examples.  A new example is then classified as the class whose assigned
neurons have the highest mean spike count.

Only plain numpy is used here, so the same read-out serves the spiking network
(spike counts) and the ANN counterparts (e.g. one-hot winner-take-all
responses of :class:`ann.competitive.KMeansAssignmentClassifier`).

Conventions
-----------
* ``spike_counts`` has shape ``(n_examples, n_neurons)``; entries are
  non-negative responses per example (spike counts, or any non-negative
  activity such as firing rates).
* Class labels are integers ``0 .. n_classes - 1``.
* An assignment of ``-1`` marks a neuron that never responded to any
  assignment example; such neurons take no part in the vote.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from brainsim.errors import ConfigError

__all__ = ["UNASSIGNED", "assign_labels", "class_scores", "predict_from_counts",
           "fit_logreg_readout"]

#: Assignment value given to neurons that never responded.
UNASSIGNED = -1


def _check_n_classes(n_classes: int) -> int:
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)):
        raise ConfigError(
            f"n_classes must be a positive integer, got {n_classes!r} "
            f"({type(n_classes).__name__})."
        )
    if n_classes < 1:
        raise ConfigError(f"n_classes must be a positive integer, got {n_classes}.")
    return int(n_classes)


def _check_counts(spike_counts: ArrayLike) -> np.ndarray:
    counts = np.asarray(spike_counts)
    if counts.ndim != 2:
        raise ConfigError(
            "spike_counts must be a 2-D array of shape (n_examples, n_neurons), "
            f"got an array with shape {counts.shape}."
        )
    if counts.dtype == bool:
        counts = counts.astype(np.int64)
    if not np.issubdtype(counts.dtype, np.number) or np.issubdtype(
        counts.dtype, np.complexfloating
    ):
        raise ConfigError(
            f"spike_counts must hold real numbers, got dtype {counts.dtype}."
        )
    if counts.size and not np.all(np.isfinite(counts)):
        raise ConfigError("spike_counts contains NaN or infinite values.")
    if counts.size and counts.min() < 0:
        raise ConfigError(
            f"spike_counts must be non-negative (spike counts or rates), "
            f"found a minimum of {counts.min()}."
        )
    return counts


def _check_int_vector(values: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ConfigError(f"{name} must be a 1-D array, got shape {arr.shape}.")
    if arr.size == 0:
        return arr.astype(np.int64)
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64)
    if np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(
        arr == np.round(arr)
    ):
        return arr.astype(np.int64)
    raise ConfigError(
        f"{name} must contain integers, got dtype {arr.dtype} "
        f"(first values: {arr[:5].tolist()})."
    )


def _check_assignments(assignments: ArrayLike, n_neurons: int, n_classes: int) -> np.ndarray:
    assign = _check_int_vector(assignments, "assignments")
    if assign.shape[0] != n_neurons:
        raise ConfigError(
            f"assignments has {assign.shape[0]} entries but spike_counts has "
            f"{n_neurons} neurons (columns); they must match."
        )
    if assign.size and (assign.min() < UNASSIGNED or assign.max() >= n_classes):
        raise ConfigError(
            f"assignments must lie in -1..{n_classes - 1} (-1 = unassigned), "
            f"found values from {assign.min()} to {assign.max()}; "
            "check n_classes."
        )
    return assign


def assign_labels(
    spike_counts: ArrayLike, labels: ArrayLike, n_classes: int = 10
) -> np.ndarray:
    """Assign each neuron the class it responds to most strongly.

    For every neuron the mean response over the examples of each class is
    computed; the neuron is assigned the class with the highest mean
    (Diehl & Cook 2015, section 2.5).  Classes without any example in
    ``labels`` can never be chosen.  Ties go to the lowest class index.

    Parameters
    ----------
    spike_counts : array_like, shape (n_examples, n_neurons)
        Non-negative response of every neuron to every assignment example
        (spike counts per presentation, or rates in Hz).
    labels : array_like of int, shape (n_examples,)
        True class of each example, in ``0 .. n_classes - 1``.
    n_classes : int, default 10
        Number of classes.

    Returns
    -------
    assignments : ndarray of int64, shape (n_neurons,)
        Assigned class per neuron, or ``-1`` (:data:`UNASSIGNED`) for neurons
        that did not respond to any of the examples.

    Raises
    ------
    brainsim.errors.ConfigError
        If shapes do not match, counts are negative or non-finite, or labels
        fall outside ``0 .. n_classes - 1``.
    """
    n_classes = _check_n_classes(n_classes)
    counts = _check_counts(spike_counts)
    y = _check_int_vector(labels, "labels")
    n_examples, n_neurons = counts.shape
    if y.shape[0] != n_examples:
        raise ConfigError(
            f"labels has {y.shape[0]} entries but spike_counts has {n_examples} "
            "examples (rows); they must match."
        )
    if n_examples == 0:
        raise ConfigError("assign_labels needs at least one labelled example.")
    if y.min() < 0 or y.max() >= n_classes:
        raise ConfigError(
            f"labels must lie in 0..{n_classes - 1}, found values from {y.min()} "
            f"to {y.max()}; pass the right n_classes or re-encode the labels."
        )

    # Sum of responses per (class, neuron) via one matrix product.
    onehot = np.zeros((n_examples, n_classes), dtype=np.float64)
    onehot[np.arange(n_examples), y] = 1.0
    sums = onehot.T @ counts.astype(np.float64)  # (n_classes, n_neurons)
    n_per_class = onehot.sum(axis=0)
    means = np.full((n_classes, n_neurons), -np.inf)
    present = n_per_class > 0
    means[present] = sums[present] / n_per_class[present, None]

    assignments = np.argmax(means, axis=0).astype(np.int64)  # first max = lowest class
    never_fired = counts.sum(axis=0) == 0
    assignments[never_fired] = UNASSIGNED
    return assignments


def class_scores(
    spike_counts: ArrayLike, assignments: ArrayLike, n_classes: int = 10
) -> np.ndarray:
    """Mean response of the neurons assigned to each class.

    Parameters
    ----------
    spike_counts : array_like, shape (n_examples, n_neurons)
        Non-negative responses (spike counts per presentation).
    assignments : array_like of int, shape (n_neurons,)
        Output of :func:`assign_labels`; ``-1`` entries are ignored.
    n_classes : int, default 10
        Number of classes.

    Returns
    -------
    scores : ndarray of float64, shape (n_examples, n_classes)
        ``scores[i, c]`` is the mean count over the neurons assigned to class
        ``c`` for example ``i`` (in the units of ``spike_counts``).  Classes
        with no assigned neuron score 0.
    """
    n_classes = _check_n_classes(n_classes)
    counts = _check_counts(spike_counts)
    assign = _check_assignments(assignments, counts.shape[1], n_classes)

    member = np.zeros((counts.shape[1], n_classes), dtype=np.float64)
    assigned = assign >= 0
    member[np.flatnonzero(assigned), assign[assigned]] = 1.0
    n_members = member.sum(axis=0)
    sums = counts.astype(np.float64) @ member  # (n_examples, n_classes)
    scores = np.zeros_like(sums)
    has = n_members > 0
    scores[:, has] = sums[:, has] / n_members[has]
    return scores


def predict_from_counts(
    spike_counts: ArrayLike, assignments: ArrayLike, n_classes: int = 10
) -> np.ndarray:
    """Predict classes by the Diehl & Cook vote.

    The predicted class is the one with the highest :func:`class_scores`.
    Ties are broken in favour of the lowest class index; in particular an
    example with all scores equal to 0 (no assigned neuron fired) is
    predicted as class 0.  The result is therefore always deterministic.

    Parameters
    ----------
    spike_counts : array_like, shape (n_examples, n_neurons)
        Non-negative responses (spike counts per presentation).
    assignments : array_like of int, shape (n_neurons,)
        Output of :func:`assign_labels`.
    n_classes : int, default 10
        Number of classes.

    Returns
    -------
    predictions : ndarray of int64, shape (n_examples,)
    """
    scores = class_scores(spike_counts, assignments, n_classes)
    return np.argmax(scores, axis=1).astype(np.int64)


def fit_logreg_readout(spike_counts: ArrayLike, labels: ArrayLike, *, C: float = 1.0,
                       random_state: int = 0):
    """Supervised linear read-out of spike counts (``snn_logreg``).

    A multinomial logistic regression on standardised spike counts, the same
    read-out that :class:`ann.competitive.KMeansAssignmentClassifier` offers
    beside its label vote. It is trained on the *training* set's counts only
    (e.g. ``DiehlCookSNN.assignment_counts_`` with the matching labels) and
    then applied to the counts of other images; what it adds over the vote
    shows how much class information the network's responses hold that the
    vote does not use.

    Parameters
    ----------
    spike_counts : array_like, shape (n_examples, n_neurons)
        Non-negative responses of the training images.
    labels : array_like of int, shape (n_examples,)
        Their classes.
    C : float, default 1.0
        Inverse L2 regularisation strength.
    random_state : int, default 0

    Returns
    -------
    sklearn.pipeline.Pipeline
        Fitted; ``predict(counts)`` / ``score(counts, y)`` take counts of shape
        (n, n_neurons).

    Raises
    ------
    brainsim.errors.ConfigError
        For bad counts, mismatched labels or fewer than two classes.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    counts = _check_counts(spike_counts)
    y = _check_int_vector(labels, "labels")
    if y.shape[0] != counts.shape[0]:
        raise ConfigError(f"labels has {y.shape[0]} entries but spike_counts has "
                          f"{counts.shape[0]} examples (rows); they must match.")
    if np.unique(y).size < 2:
        raise ConfigError("the linear read-out needs examples of at least two classes.")
    if not (isinstance(C, (int, float)) and not isinstance(C, bool) and C > 0):
        raise ConfigError(f"C must be a positive number, got {C!r}.")
    model = make_pipeline(
        StandardScaler(),
        LogisticRegression(C=float(C), max_iter=2000, random_state=random_state),
    )
    return model.fit(counts.astype(np.float64), y)

