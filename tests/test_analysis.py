"""Tests for brainsim.analysis (CKA, sparsity, accuracy, operation counts)."""

import numpy as np
import pytest

from brainsim.analysis import (
    ann_macs,
    cka_matrix,
    confusion_matrix,
    count_active,
    lifetime_sparsity,
    linear_cka,
    per_class_accuracy,
    population_sparsity,
    synaptic_events,
    treves_rolls_sparsity,
)
from brainsim.errors import ConfigError


def _random_orthogonal(d, rng):
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


# ----------------------------------------------------------------------- CKA
@pytest.mark.parametrize("shape", [(50, 8), (10, 40)])  # feature and Gram branches
def test_cka_self_is_one(shape):
    X = np.random.default_rng(0).standard_normal(shape)
    assert linear_cka(X, X) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("shape", [(60, 12), (10, 40)])
def test_cka_invariant_to_rotation_scaling_and_offset(shape):
    rng = np.random.default_rng(1)
    X = rng.standard_normal(shape)
    Y = X[:, :5] ** 2 + 0.3 * rng.standard_normal((shape[0], 5))
    base = linear_cka(X, Y)
    Q = _random_orthogonal(shape[1], rng)
    assert linear_cka(X @ Q, Y) == pytest.approx(base, rel=1e-10)
    assert linear_cka(7.5 * X, Y) == pytest.approx(base, rel=1e-10)
    assert linear_cka(X + 3.0, 0.01 * Y) == pytest.approx(base, rel=1e-10)
    # rotation keeps the representation "identical" for CKA
    assert linear_cka(X, X @ Q) == pytest.approx(1.0, abs=1e-12)


def test_cka_not_invariant_to_anisotropic_scaling():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((100, 5))
    Xs = X * np.array([10.0, 1.0, 1.0, 1.0, 0.1])
    assert linear_cka(X, Xs) < 0.9


def test_cka_independent_random_representations_is_small():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((2000, 10))
    Y = rng.standard_normal((2000, 10))
    assert linear_cka(X, Y) < 0.05


def test_cka_is_symmetric_and_in_unit_interval():
    rng = np.random.default_rng(4)
    X = rng.random((30, 6))
    Y = rng.random((30, 3)) + X[:, :3]
    c = linear_cka(X, Y)
    assert 0.0 < c < 1.0
    assert linear_cka(Y, X) == pytest.approx(c, rel=1e-12)


def test_cka_zero_variance_returns_nan_with_warning():
    X = np.ones((10, 3))
    Y = np.random.default_rng(5).standard_normal((10, 2))
    with pytest.warns(RuntimeWarning, match="zero variance"):
        assert np.isnan(linear_cka(X, Y))


def test_cka_rejects_mismatched_rows_and_nan():
    with pytest.raises(ConfigError, match="same examples"):
        linear_cka(np.ones((5, 2)), np.ones((6, 2)))
    with pytest.raises(ConfigError, match="NaN"):
        linear_cka(np.array([[np.nan], [1.0]]), np.ones((2, 1)))
    with pytest.raises(ConfigError, match="at least 2"):
        linear_cka(np.ones((1, 2)), np.ones((1, 2)))


def test_cka_matrix():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((40, 5))
    reps = {"a": X, "b": 2.0 * X, "c": rng.standard_normal((40, 3))}
    names, M = cka_matrix(reps)
    assert names == ["a", "b", "c"]
    assert M.shape == (3, 3)
    np.testing.assert_allclose(np.diag(M), 1.0)
    np.testing.assert_allclose(M, M.T)
    assert M[0, 1] == pytest.approx(1.0)
    assert M[0, 2] == pytest.approx(linear_cka(X, reps["c"]))
    with pytest.raises(ConfigError, match="same number of examples"):
        cka_matrix({"a": X, "b": X[:10]})
    with pytest.raises(ConfigError, match="non-empty"):
        cka_matrix({})


# ----------------------------------------------------------------------- sparsity
def test_sparsity_of_one_hot_code():
    k = 8
    winners = np.array([0, 3, 7, 3, 3])
    A = np.eye(k)[winners]
    np.testing.assert_allclose(population_sparsity(A), np.full(5, 1 / k))
    expected_lifetime = np.bincount(winners, minlength=k) / winners.size
    np.testing.assert_allclose(lifetime_sparsity(A), expected_lifetime)
    np.testing.assert_allclose(treves_rolls_sparsity(A), 1.0)
    np.testing.assert_allclose(treves_rolls_sparsity(A, normalized=False), 1 / k)


def test_sparsity_threshold_and_dense_code():
    A = np.array([[0.0, 0.5, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0]])
    np.testing.assert_allclose(population_sparsity(A), [0.75, 1.0])
    np.testing.assert_allclose(population_sparsity(A, threshold=1.0), [0.5, 0.0])
    np.testing.assert_allclose(lifetime_sparsity(A), [0.5, 1.0, 1.0, 1.0])
    tr = treves_rolls_sparsity(A)
    assert tr[1] == pytest.approx(0.0)  # uniform response: not sparse
    # row 0: a = (5.5/4)^2 / (13.25/4)
    a0 = (5.5 / 4) ** 2 / (13.25 / 4)
    assert tr[0] == pytest.approx((1 - a0) / (1 - 1 / 4))


def test_treves_rolls_all_zero_example_is_nan_and_negative_rejected():
    A = np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    tr = treves_rolls_sparsity(A)
    assert np.isnan(tr[0]) and tr[1] == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="non-negative"):
        treves_rolls_sparsity(-A - 1)
    with pytest.raises(ConfigError, match="2-D"):
        population_sparsity(np.ones(3))


# ----------------------------------------------------------------------- accuracy
def test_per_class_accuracy_and_confusion():
    y_true = np.array([0, 0, 1, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 1, 0, 0])
    acc = per_class_accuracy(y_true, y_pred, n_classes=4)
    np.testing.assert_allclose(acc[:3], [0.5, 2 / 3, 0.0])
    assert np.isnan(acc[3])  # class 3 absent
    cm = confusion_matrix(y_true, y_pred, 3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [1, 2, 0], [1, 0, 0]])
    np.testing.assert_allclose(confusion_matrix(y_true, y_pred, 3, normalize=True).sum(1), 1.0)
    with pytest.raises(ConfigError, match="same length"):
        per_class_accuracy(y_true, y_pred[:3], 3)
    with pytest.raises(ConfigError, match=r"0\.\.2"):
        per_class_accuracy(y_true, y_pred + 2, 3)


# ----------------------------------------------------------------------- cost
def test_synaptic_events_known_counts():
    # 100 neurons; 300 input spikes -> 30000, 12 exc -> 12, 5 inh -> 5 * 99
    assert synaptic_events(300, 12, 5, n_neurons=100) == 300 * 100 + 12 + 5 * 99
    per_image = synaptic_events(np.array([10, 20]), np.array([1, 0]), np.array([2, 0]), 4)
    np.testing.assert_allclose(per_image, [10 * 4 + 1 + 2 * 3, 20 * 4])
    assert synaptic_events(0, 0, 0, 1) == 0.0


def test_synaptic_events_rejects_bad_input():
    with pytest.raises(ConfigError, match="non-negative"):
        synaptic_events(-1, 0, 0, 10)
    with pytest.raises(ConfigError, match="n_neurons"):
        synaptic_events(1, 0, 0, 0)
    with pytest.raises(ConfigError, match="broadcastable"):
        synaptic_events(np.ones(3), np.ones(2), 0, 5)


def test_ann_macs_dense_and_active():
    assert ann_macs([784, 32, 10]) == 784 * 32 + 32 * 10
    assert isinstance(ann_macs((64, 10)), int)
    X = np.array([[0.0, 1.0, 2.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    H = np.array([[0.0, 3.0], [0.0, 0.0]])
    act = ann_macs([4, 2, 3], n_active=[count_active(X), count_active(H)])
    np.testing.assert_allclose(act, [2 * 2 + 1 * 3, 4 * 2 + 0 * 3])
    assert ann_macs([4, 2, 3], n_active=[4, 2]) == ann_macs([4, 2, 3])
    with pytest.raises(ConfigError, match="at least an input"):
        ann_macs([784])
    with pytest.raises(ConfigError, match="one entry per weight layer"):
        ann_macs([4, 2, 3], n_active=[1])
    with pytest.raises(ConfigError, match="only 4 units"):
        ann_macs([4, 2], n_active=[5])
    with pytest.raises(ConfigError, match=">= 1"):
        ann_macs([784, 0, 10])


@pytest.mark.parametrize("shape", [(30, 4), (6, 20)])
def test_cka_matches_hsic_formula_with_centering_matrix(shape):
    rng = np.random.default_rng(7)
    X = rng.standard_normal(shape)
    Y = rng.standard_normal((shape[0], 3)) + X[:, :3]
    n = shape[0]
    H = np.eye(n) - np.ones((n, n)) / n
    K, L = X @ X.T, Y @ Y.T
    hsic = lambda A, B: np.trace(A @ H @ B @ H)  # noqa: E731
    expected = hsic(K, L) / np.sqrt(hsic(K, K) * hsic(L, L))
    assert linear_cka(X, Y) == pytest.approx(expected, rel=1e-10)
