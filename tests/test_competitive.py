"""Tests for ann.competitive.KMeansAssignmentClassifier."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone

from ann.competitive import KMeansAssignmentClassifier
from brainsim.datasets import load_dataset
from brainsim.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", random_state=0)


@pytest.fixture(scope="module")
def fitted(digits):
    return KMeansAssignmentClassifier(
        n_prototypes=40, method="full", n_init=1, random_state=0
    ).fit(digits.X_train, digits.y_train)


def test_assign_readout_well_above_chance(fitted, digits):
    acc = fitted.score(digits.X_test, digits.y_test)
    assert acc > 0.8  # chance is 0.1
    assert fitted.prototypes_.shape == (40, 64)
    assert fitted.image_shape_ == (8, 8)
    assert fitted.assignments_.shape == (40,)
    assert fitted.assignments_.min() >= -1 and fitted.assignments_.max() <= 9
    # every digit class owns at least one prototype
    assert set(fitted.assignments_.tolist()) >= set(range(10))


def test_logreg_readout_well_above_chance(digits):
    clf = KMeansAssignmentClassifier(
        n_prototypes=30, readout="logreg", method="minibatch", n_init=1, random_state=0
    ).fit(digits.X_train, digits.y_train)
    assert clf.score(digits.X_test, digits.y_test) > 0.9
    assert clf.readout_ is not None


def test_transform_is_one_hot_winner(fitted, digits):
    A = fitted.transform(digits.X_test)
    assert A.shape == (len(digits.X_test), 40)
    assert set(np.unique(A)) == {0.0, 1.0}
    np.testing.assert_array_equal(A.sum(axis=1), 1.0)
    D = fitted.distances(digits.X_test)
    assert D.shape == A.shape and np.all(D >= 0)
    np.testing.assert_array_equal(A.argmax(axis=1), D.argmin(axis=1))


def test_assign_prediction_is_class_of_nearest_prototype(fitted, digits):
    winners = fitted.distances(digits.X_test).argmin(axis=1)
    owner = fitted.assignments_[winners]
    expected = np.where(owner >= 0, fitted.classes_[np.maximum(owner, 0)], fitted.classes_[0])
    np.testing.assert_array_equal(fitted.predict(digits.X_test), expected)


def test_prototypes_are_learned_without_labels(digits):
    params = dict(n_prototypes=20, method="full", n_init=1, random_state=3)
    a = KMeansAssignmentClassifier(**params).fit(digits.X_train, digits.y_train)
    shuffled = np.random.default_rng(0).permutation(digits.y_train)
    b = KMeansAssignmentClassifier(**params).fit(digits.X_train, shuffled)
    np.testing.assert_array_equal(a.prototypes_, b.prototypes_)
    # ... but the labels do change the assignment
    assert not np.array_equal(a.assignments_, b.assignments_)


def test_deterministic_given_random_state_and_float_features(digits):
    X = digits.X_train.reshape(len(digits.X_train), -1) / 255.0  # float features as given
    params = dict(n_prototypes=15, method="full", n_init=1, random_state=7)
    p1 = KMeansAssignmentClassifier(**params).fit(X, digits.y_train)
    p2 = KMeansAssignmentClassifier(**params).fit(X, digits.y_train)
    np.testing.assert_array_equal(p1.prototypes_, p2.prototypes_)
    assert p1.image_shape_ is None
    # uint8 images and their float features give the same responses
    np.testing.assert_allclose(p1.distances(digits.X_test),
                               p1.distances(digits.X_test.reshape(len(digits.X_test), -1) / 255.0))


def test_string_labels_and_clone(digits):
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven",
                      "eight", "nine"])
    clf = KMeansAssignmentClassifier(20, method="full", n_init=1)
    clf.fit(digits.X_train, names[digits.y_train])
    pred = clf.predict(digits.X_test)
    assert set(pred) <= set(names)
    assert np.mean(pred == names[digits.y_test]) > 0.6
    fresh = clone(clf)
    assert fresh.get_params() == clf.get_params()
    assert not hasattr(fresh, "prototypes_")


@pytest.mark.parametrize(
    "params, message",
    [
        ({"readout": "svm"}, "readout"),
        ({"method": "dbscan"}, "method"),
        ({"n_prototypes": 0}, "n_prototypes"),
        ({"n_prototypes": 2.5}, "n_prototypes"),
        ({"C": -1.0}, "C must be"),
        ({"n_prototypes": 5000}, "at least as many"),
    ],
)
def test_bad_parameters(digits, params, message):
    with pytest.raises(ConfigError, match=message):
        KMeansAssignmentClassifier(**params).fit(digits.X_train, digits.y_train)


def test_bad_data(fitted, digits):
    with pytest.raises(ConfigError, match="one label per image"):
        KMeansAssignmentClassifier(5).fit(digits.X_train, digits.y_train[:-1])
    with pytest.raises(ConfigError, match="64 features"):
        fitted.predict(np.zeros((2, 28, 28), dtype=np.uint8))
    with pytest.raises(ConfigError, match="NaN"):
        fitted.transform(np.full((2, 64), np.nan))


def test_does_not_import_brian2():
    code = (
        "import sys; import ann.competitive; "
        "assert 'brian2' not in sys.modules, 'brian2 was imported'"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, env=env)
    assert result.returncode == 0, result.stderr
