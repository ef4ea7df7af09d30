"""The article's Keras network and its scikit-learn equivalents.

The article compares a small Keras network with the spiking network of Diehl &
Cook (2015). Its network is a dense 784 -> 32 (ReLU) -> 10 (softmax) perceptron
trained with Adam (learning rate 0.001) on the cross-entropy of integer labels
("sparse categorical cross-entropy"), in mini-batches of 32 for 10 epochs.
:func:`article_mlp` builds the same network with scikit-learn: its
``MLPClassifier`` has a softmax output with cross-entropy loss for multi-class
targets, ``solver="adam"`` and ``max_iter`` counts epochs.

Differences that remain, none of which matters for the comparison: Keras'
Adam uses ``epsilon=1e-7`` (scikit-learn: 1e-8); Keras initialises weights with
Glorot-uniform and biases with zeros, scikit-learn with a Glorot-uniform-like
scale for both; scikit-learn has an L2 penalty, which is set to 0 (``alpha``)
because the article's network has none.

The article's evaluation bug, and the fix
-----------------------------------------
The article scores its network with ``np.argmax(y_test, axis=1)`` as the true
classes, which is only right for one-hot labels. Its labels are integers (as
the sparse cross-entropy loss requires): on a 1-D integer array that call
raises numpy's ``AxisError``, and on an ``(n, 1)`` column it returns 0 for
every image, so every image counts as a "0" and the "accuracy" is the share of
test images the network predicts to be a 0 (about 10 %). The fix
used here compares ``argmax`` of the predicted class probabilities with the
integer labels as they are -- what ``MLPClassifier.predict`` and ``.score``
do.

All functions take images as given by :mod:`brainsim.datasets` (uint8, 0..255)
after :func:`images_to_features`. This module does not import Brian2.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.utils.validation import check_is_fitted

from brainsim.errors import ConfigError

__all__ = [
    "ARTICLE_HIDDEN",
    "FixedEpochMLP",
    "images_to_features",
    "article_mlp",
    "matched_mlp",
    "logistic_regression",
    "hidden_activations",
]

#: Hidden-layer width of the article's network.
ARTICLE_HIDDEN = 32

# The article's training recipe (Keras defaults where the article gives none).
_RECIPE = dict(
    activation="relu",
    solver="adam",
    batch_size=32,
    learning_rate_init=0.001,  # Keras Adam default
    beta_1=0.9,
    beta_2=0.999,
    alpha=0.0,  # no weight decay in the article's network
    shuffle=True,  # Keras fit() shuffles every epoch
    early_stopping=False,
)


class FixedEpochMLP(MLPClassifier):
    """``MLPClassifier`` trained for exactly ``max_iter`` epochs.

    Identical to :class:`sklearn.neural_network.MLPClassifier` except that
    :meth:`fit` silences the ``ConvergenceWarning`` scikit-learn issues when
    ``max_iter`` is reached: here a fixed number of epochs is the recipe (as
    in Keras' ``fit(epochs=10)``), not a failure to converge.
    """

    def fit(self, X, y):
        """Train for ``max_iter`` epochs; see ``MLPClassifier.fit``."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=ConvergenceWarning)
            return super().fit(X, y)


def images_to_features(X) -> np.ndarray:
    """Flatten images and scale pixels to [0, 1].

    Parameters
    ----------
    X : array of uint8 (or other integers 0..255), shape (n, h, w) or (n, d)
        Pixel intensities.

    Returns
    -------
    ndarray of float64, shape (n, h*w) or (n, d)
        ``pixel / 255``.

    Raises
    ------
    ConfigError
        Floating-point input (probably scaled already), values outside
        0..255, or an array that is not 2-D or 3-D.
    """
    X = np.asarray(X)
    if X.dtype.kind not in "ui":
        raise ConfigError(
            f"images_to_features expects integer pixel values 0..255 (uint8), got dtype {X.dtype}; "
            "features already scaled to [0, 1] can be used as they are"
        )
    if X.ndim not in (2, 3):
        raise ConfigError(f"images must have shape (n, h, w) or (n, d), got {X.shape}")
    if X.size and (X.min() < 0 or X.max() > 255):
        raise ConfigError("pixel values must lie in 0..255")
    return X.reshape(len(X), -1).astype(np.float64) / 255.0


def _check_seed(random_state):
    if random_state is not None and not isinstance(random_state, (numbers.Integral, np.random.RandomState)):
        raise ConfigError(f"random_state must be an int or None, got {random_state!r}")


def _check_epochs(max_iter) -> int:
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        raise ConfigError(f"max_iter (epochs) must be a whole number >= 1, got {max_iter!r}")
    return int(max_iter)


def article_mlp(*, random_state=0, max_iter: int = 10) -> MLPClassifier:
    """The article's network: 784 -> 32 ReLU -> 10 softmax.

    Adam (learning rate 0.001), cross-entropy on integer labels, batch 32,
    ``max_iter`` epochs (10 in the article), no weight decay.

    Parameters
    ----------
    random_state : int or None
        Seed of weight initialisation and batch shuffling.
    max_iter : int
        Number of epochs.

    Returns
    -------
    FixedEpochMLP
        An unfitted ``MLPClassifier``; fit it on :func:`images_to_features`.
    """
    return matched_mlp(ARTICLE_HIDDEN, random_state=random_state, max_iter=max_iter)


def matched_mlp(n_hidden: int, *, random_state=0, max_iter: int = 10) -> MLPClassifier:
    """The "equivalent dense network" of a spiking network: inputs -> n_hidden -> 10.

    Same recipe as :func:`article_mlp`, with ``n_hidden`` ReLU units (e.g. the
    number of excitatory neurons of the spiking network it is compared with).

    Parameters
    ----------
    n_hidden : int
        Hidden units (>= 1).
    random_state : int or None
        Seed of weight initialisation and batch shuffling.
    max_iter : int
        Number of epochs.

    Returns
    -------
    FixedEpochMLP
        An unfitted ``MLPClassifier``.
    """
    if isinstance(n_hidden, bool) or not isinstance(n_hidden, numbers.Integral) or n_hidden < 1:
        raise ConfigError(f"n_hidden must be a whole number >= 1, got {n_hidden!r}")
    _check_seed(random_state)
    return FixedEpochMLP(
        hidden_layer_sizes=(int(n_hidden),),
        max_iter=_check_epochs(max_iter),
        random_state=random_state,
        **_RECIPE,
    )


def logistic_regression(*, random_state=0) -> LogisticRegression:
    """Linear baseline: multinomial logistic regression on pixels.

    L-BFGS with the default L2 penalty (C=1), up to 500 iterations, which is
    enough for full MNIST on features scaled to [0, 1].

    Parameters
    ----------
    random_state : int or None
        Kept for a uniform interface (L-BFGS is deterministic).

    Returns
    -------
    LogisticRegression
        Unfitted.
    """
    _check_seed(random_state)
    return LogisticRegression(C=1.0, solver="lbfgs", max_iter=500, tol=1e-4, random_state=random_state)


_ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0.0),
    "identity": lambda z: z,
    "tanh": np.tanh,
    "logistic": lambda z: 1.0 / (1.0 + np.exp(-z)),
}


def hidden_activations(mlp: MLPClassifier, X) -> np.ndarray:
    """Outputs of the first hidden layer of a fitted MLP.

    Parameters
    ----------
    mlp : MLPClassifier
        Fitted.
    X : array
        Either uint8 images, shape (n, h, w) or (n, d) (converted with
        :func:`images_to_features`), or float features (n, d) exactly as
        given to ``fit``.

    Returns
    -------
    ndarray of float64, shape (n, n_hidden)
        ``activation(X @ W1 + b1)`` -- for the article's network the ReLU
        outputs, non-negative.
    """
    check_is_fitted(mlp, "coefs_")
    X = np.asarray(X)
    features = images_to_features(X) if X.dtype.kind in "ui" else X.reshape(len(X), -1).astype(np.float64)
    n_inputs = mlp.coefs_[0].shape[0]
    if features.shape[1] != n_inputs:
        raise ConfigError(
            f"the network takes {n_inputs} inputs, got images with {features.shape[1]} pixels"
        )
    z = features @ mlp.coefs_[0] + mlp.intercepts_[0]
    return _ACTIVATIONS[mlp.activation](z)
