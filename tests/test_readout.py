"""Tests for brainsim.readout (Diehl & Cook label assignment and vote)."""

import numpy as np
import pytest

from brainsim.errors import ConfigError
from brainsim.readout import UNASSIGNED, assign_labels, class_scores, predict_from_counts


@pytest.fixture
def designed():
    """4 neurons, 3 classes, 6 examples (2 per class) with known preferences.

    neuron 0 prefers class 2, neuron 1 prefers class 0, neuron 2 never fires,
    neuron 3 prefers class 1 on average (mean 3 vs 2.5) even though its single
    largest response is to class 0.
    """
    labels = np.array([0, 0, 1, 1, 2, 2])
    counts = np.array(
        [
            [0, 5, 0, 5],
            [1, 3, 0, 0],
            [0, 0, 0, 3],
            [1, 1, 0, 3],
            [4, 0, 0, 0],
            [6, 2, 0, 1],
        ]
    )
    return counts, labels


def test_assign_labels_designed_matrix(designed):
    counts, labels = designed
    assignments = assign_labels(counts, labels, n_classes=3)
    np.testing.assert_array_equal(assignments, [2, 0, UNASSIGNED, 1])
    assert assignments.dtype == np.int64


def test_assign_labels_uses_mean_not_sum():
    # Class 0 has 3 examples, class 1 has 1; the sum favours class 0 but the
    # mean favours class 1.
    counts = np.array([[2], [2], [2], [3]])
    labels = np.array([0, 0, 0, 1])
    assert assign_labels(counts, labels, n_classes=2)[0] == 1


def test_assign_labels_tie_goes_to_lowest_class_and_absent_class_never_chosen():
    counts = np.array([[2, 0], [2, 1]])
    labels = np.array([1, 3])  # classes 0 and 2 have no examples
    # neuron 0: equal means for classes 1 and 3 -> 1; neuron 1: only class 3.
    np.testing.assert_array_equal(assign_labels(counts, labels, n_classes=4), [1, 3])


def test_class_scores_mean_over_assigned_neurons():
    counts = np.array([[4, 2, 9, 1]])
    assignments = np.array([0, 0, UNASSIGNED, 2])
    scores = class_scores(counts, assignments, n_classes=3)
    # class 0: mean(4, 2) = 3; class 1: no neurons -> 0; class 2: 1; the
    # unassigned neuron's 9 spikes are ignored.
    np.testing.assert_allclose(scores, [[3.0, 0.0, 1.0]])


def test_predict_from_counts_designed(designed):
    counts, labels = designed
    assignments = assign_labels(counts, labels, n_classes=3)
    pred = predict_from_counts(counts, assignments, n_classes=3)
    # row 1: class0 neuron has 3, class2 neuron 1 -> 0; row 5: class2 neuron 6 -> 2
    assert pred[1] == 0
    assert pred[5] == 2
    assert pred.dtype == np.int64


def test_predict_ties_go_to_lowest_class():
    assignments = np.array([0, 1, 2])
    counts = np.array([[0, 3, 3], [2, 2, 2], [0, 0, 1]])
    np.testing.assert_array_equal(predict_from_counts(counts, assignments, 3), [1, 0, 2])


def test_predict_all_zero_scores_is_deterministic_class_zero():
    assignments = np.array([2, 1, UNASSIGNED])
    counts = np.array([[0, 0, 7], [0, 0, 0]])  # only the unassigned neuron fires
    np.testing.assert_array_equal(predict_from_counts(counts, assignments, 3), [0, 0])


def test_predict_recovers_labels_of_a_clean_code():
    rng = np.random.default_rng(0)
    n_classes, per_class = 5, 4  # 4 neurons per class
    labels = rng.integers(0, n_classes, size=200)
    owner = np.repeat(np.arange(n_classes), per_class)
    counts = rng.poisson(0.2, size=(200, owner.size))
    counts[owner[None, :] == labels[:, None]] += 5
    assignments = assign_labels(counts, labels, n_classes)
    np.testing.assert_array_equal(assignments, owner)
    np.testing.assert_array_equal(predict_from_counts(counts, assignments, n_classes), labels)


def test_float_labels_that_are_integers_are_accepted():
    counts = np.array([[1, 0], [0, 1]])
    np.testing.assert_array_equal(assign_labels(counts, np.array([0.0, 1.0]), 2), [0, 1])


@pytest.mark.parametrize(
    "counts, labels, n_classes, message",
    [
        (np.ones((3, 2)), np.array([0, 1]), 2, "labels has 2 entries"),
        (-np.ones((2, 2)), np.array([0, 1]), 2, "non-negative"),
        (np.ones((2, 2)), np.array([0, 5]), 3, r"labels must lie in 0\.\.2"),
        (np.ones((2, 2)), np.array([-1, 0]), 3, r"labels must lie in 0\.\.2"),
        (np.ones(4), np.array([0, 1, 0, 1]), 2, "2-D array"),
        (np.ones((2, 2)), np.array([0.5, 1]), 2, "integers"),
        (np.array([[np.nan, 1.0], [0.0, 1.0]]), np.array([0, 1]), 2, "NaN"),
        (np.ones((2, 2)), np.array([0, 1]), 0, "positive integer"),
        (np.ones((0, 2)), np.array([], dtype=int), 2, "at least one"),
    ],
)
def test_assign_labels_rejects_bad_input(counts, labels, n_classes, message):
    with pytest.raises(ConfigError, match=message):
        assign_labels(counts, labels, n_classes)


def test_class_scores_rejects_mismatched_assignments():
    with pytest.raises(ConfigError, match="assignments has 3 entries"):
        class_scores(np.ones((2, 4)), np.array([0, 1, 2]), 3)
    with pytest.raises(ConfigError, match=r"-1\.\.2"):
        class_scores(np.ones((2, 3)), np.array([0, 1, 3]), 3)
    with pytest.raises(ConfigError, match=r"-1\.\.2"):
        predict_from_counts(np.ones((2, 3)), np.array([0, -2, 1]), 3)


def test_config_error_is_a_value_error():
    with pytest.raises(ValueError):
        assign_labels(np.ones((2, 2)), np.array([0, 9]), 3)
