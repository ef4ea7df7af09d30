"""ann.models: the article's network, the matched MLP, logistic regression, activations."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.neural_network import MLPClassifier

from ann.models import (
    article_mlp,
    hidden_activations,
    images_to_features,
    logistic_regression,
    matched_mlp,
)
from brainsim.datasets import load_dataset
from brainsim.errors import ConfigError


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def fitted_digits_mlp(digits):
    return article_mlp(random_state=0).fit(images_to_features(digits.X_train), digits.y_train)


def test_images_to_features():
    X = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    F = images_to_features(X)
    assert F.dtype == np.float64 and F.shape == (1, 4)
    np.testing.assert_allclose(F, [[0.0, 1.0, 0.2, 0.4]])
    np.testing.assert_array_equal(images_to_features(X.reshape(1, 4)), F)
    with pytest.raises(ConfigError, match="dtype float"):
        images_to_features(F)
    with pytest.raises(ConfigError, match="shape"):
        images_to_features(np.zeros((1, 2, 2, 2), dtype=np.uint8))
    with pytest.raises(ConfigError, match="0..255"):
        images_to_features(np.array([[300]]))


def test_article_recipe():
    mlp = article_mlp(random_state=3)
    assert isinstance(mlp, MLPClassifier)
    p = mlp.get_params()
    assert p["hidden_layer_sizes"] == (32,) and p["activation"] == "relu"
    assert p["solver"] == "adam" and p["batch_size"] == 32 and p["max_iter"] == 10
    assert p["learning_rate_init"] == 0.001 and p["alpha"] == 0.0 and p["shuffle"]
    assert p["random_state"] == 3 and not p["early_stopping"]
    assert article_mlp(max_iter=3).max_iter == 3
    with pytest.raises(ConfigError):
        article_mlp(max_iter=0)


def test_article_architecture_on_mnist(mnist_dir):
    ds = load_dataset("mnist", data_dir=mnist_dir, n_train=600, n_test=10)
    mlp = article_mlp(random_state=0, max_iter=2).fit(images_to_features(ds.X_train), ds.y_train)
    assert [w.shape for w in mlp.coefs_] == [(784, 32), (32, 10)]
    assert [b.shape for b in mlp.intercepts_] == [(32,), (10,)]
    assert mlp.out_activation_ == "softmax" and mlp.n_iter_ == 2
    proba = mlp.predict_proba(images_to_features(ds.X_test))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_fixed_epochs_without_convergence_warning(digits):
    X, y = images_to_features(digits.X_train[:300]), digits.y_train[:300]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mlp = article_mlp(max_iter=4).fit(X, y)
    assert mlp.n_iter_ == 4
    assert not [w for w in caught if "Converg" in type(w.message).__name__]
    # Plain MLPClassifier with the same recipe does warn: the suppression is what we test.
    with pytest.warns(Warning, match="Maximum iterations"):
        MLPClassifier(**{**mlp.get_params()}).fit(X, y)


def test_learns_digits_and_is_seeded(digits, fitted_digits_mlp):
    X_test = images_to_features(digits.X_test)
    assert fitted_digits_mlp.score(X_test, digits.y_test) > 0.85
    again = article_mlp(random_state=0).fit(images_to_features(digits.X_train), digits.y_train)
    np.testing.assert_array_equal(again.coefs_[0], fitted_digits_mlp.coefs_[0])
    other = article_mlp(random_state=1).fit(images_to_features(digits.X_train), digits.y_train)
    assert not np.array_equal(other.coefs_[0], fitted_digits_mlp.coefs_[0])


def test_matched_mlp(digits):
    mlp = matched_mlp(100, random_state=0, max_iter=2)
    assert mlp.hidden_layer_sizes == (100,) and mlp.batch_size == 32 and mlp.solver == "adam"
    mlp.fit(images_to_features(digits.X_train[:200]), digits.y_train[:200])
    assert mlp.coefs_[0].shape == (64, 100)
    for bad in (0, -5, 2.5, True):
        with pytest.raises(ConfigError, match="n_hidden"):
            matched_mlp(bad)


def test_logistic_regression(digits):
    model = logistic_regression(random_state=0)
    model.fit(images_to_features(digits.X_train), digits.y_train)
    assert model.coef_.shape == (10, 64)
    assert model.score(images_to_features(digits.X_test), digits.y_test) > 0.9


def test_hidden_activations_are_the_relu_layer(digits, fitted_digits_mlp):
    mlp = fitted_digits_mlp
    X = images_to_features(digits.X_test[:40])
    H = hidden_activations(mlp, digits.X_test[:40])  # uint8 images
    manual = np.maximum(X @ mlp.coefs_[0] + mlp.intercepts_[0], 0.0)
    assert H.shape == (40, 32)
    np.testing.assert_allclose(H, manual)
    np.testing.assert_allclose(hidden_activations(mlp, X), H)  # float features as given to fit
    assert (H >= 0).all() and (H == 0).any() and (H > 0).any()
    # The output layer applied to these activations reproduces the model's probabilities.
    logits = H @ mlp.coefs_[1] + mlp.intercepts_[1]
    soft = np.exp(logits - logits.max(axis=1, keepdims=True))
    soft /= soft.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(soft, mlp.predict_proba(X), rtol=1e-10, atol=1e-12)


def test_hidden_activations_errors(digits, fitted_digits_mlp):
    with pytest.raises(NotFittedError):
        hidden_activations(article_mlp(), digits.X_test[:2])
    with pytest.raises(ConfigError, match="64 inputs"):
        hidden_activations(fitted_digits_mlp, np.zeros((2, 28, 28), dtype=np.uint8))


def test_article_evaluation_bug_is_real():
    """The article's argmax(y_test, axis=1) cannot score integer labels."""
    y_test = np.array([7, 2, 1, 0])
    with pytest.raises(ValueError, match="axis 1 is out of bounds"):  # numpy AxisError
        np.argmax(y_test, axis=1)
    assert np.argmax(y_test.reshape(-1, 1), axis=1).tolist() == [0, 0, 0, 0]


def test_ann_does_not_import_brian2(repo_root):
    code = "import sys, ann.models; assert 'brian2' not in sys.modules, 'brian2 imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=repo_root)
