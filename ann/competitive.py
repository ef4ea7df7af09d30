"""Unsupervised competitive learning as an ANN counterpart of STDP + WTA.

In the network of Diehl & Cook (2015) each excitatory neuron learns, without
labels, a prototype of the inputs it wins (STDP), and lateral inhibition makes
the neurons compete so that mostly one neuron responds to each image.  The
labels enter only afterwards, when each neuron is assigned the class it
responds to most (:func:`brainsim.readout.assign_labels`).

k-means is the rate-based, non-spiking version of that scheme: the cluster
centres are the prototypes, "the nearest centre wins" is a hard
winner-take-all, and the same label assignment turns the winners into a
classifier.  :class:`KMeansAssignmentClassifier` implements it with the
scikit-learn estimator API, so that the SNN can be compared with a model that
shares its learning principle but not its spiking machinery.

This module does not import Brian2.
"""

from __future__ import annotations

import numbers

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ann.models import images_to_features
from brainsim.errors import ConfigError
from brainsim.readout import assign_labels, predict_from_counts

__all__ = ["KMeansAssignmentClassifier"]

_READOUTS = ("assign", "logreg")
_METHODS = ("minibatch", "full")


def _to_features(X: ArrayLike) -> np.ndarray:
    """uint8 images -> pixel/255 features; float features are used as given."""
    X = np.asarray(X)
    if X.dtype.kind in "ui":
        return images_to_features(X)
    if X.dtype.kind != "f":
        raise ConfigError(
            f"X must hold integer pixel values 0..255 or float features, got dtype {X.dtype}."
        )
    if X.ndim not in (2, 3):
        raise ConfigError(f"X must have shape (n, h, w) or (n, d), got {X.shape}.")
    F = X.reshape(len(X), -1).astype(np.float64)
    if not np.all(np.isfinite(F)):
        raise ConfigError("X contains NaN or infinite values.")
    return F


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ConfigError(f"{name} must be a whole number >= 1, got {value!r}.")
    return int(value)


class KMeansAssignmentClassifier(ClassifierMixin, BaseEstimator):
    """k-means prototypes + winner-take-all + Diehl & Cook label assignment.

    Training has two separate stages, like the spiking network:

    1. **Unsupervised**: k-means on the pixel features (``pixel / 255``)
       *without labels* gives ``n_prototypes`` prototypes (cluster centres).
    2. **Supervised read-out**, one of

       * ``readout="assign"`` -- each prototype's one-hot winner-take-all
         response is used as its "spike count"; prototypes are labelled with
         :func:`brainsim.readout.assign_labels` and an image is classified by
         :func:`brainsim.readout.predict_from_counts`, i.e. as the class of its
         nearest prototype (class 0 if that prototype never won during
         training);
       * ``readout="logreg"`` -- a multinomial logistic regression on the
         standardised negative distances to all prototypes (a graded,
         non-WTA read-out of the same prototypes).

    Parameters
    ----------
    n_prototypes : int, default 100
        Number of prototypes (k), the counterpart of the number of excitatory
        neurons.
    readout : {"assign", "logreg"}, default "assign"
    method : {"minibatch", "full"}, default "minibatch"
        :class:`sklearn.cluster.MiniBatchKMeans` (fast on 60000 x 784 MNIST)
        or full-batch Lloyd :class:`sklearn.cluster.KMeans`.
    n_init : int, default 3
        Number of k-means initialisations (k-means++); the best is kept.
    max_iter : int, default 100
        Maximum k-means iterations (epochs over the data for "minibatch").
    batch_size : int, default 2048
        Mini-batch size for ``method="minibatch"``.
    C : float, default 1.0
        Inverse L2 regularisation strength of the "logreg" read-out.
    random_state : int or None, default 0
        Seed for k-means initialisation and mini-batch sampling.

    Attributes
    ----------
    prototypes_ : ndarray, shape (n_prototypes, n_features)
        Cluster centres in feature units (pixel / 255).
    assignments_ : ndarray of int, shape (n_prototypes,)
        Index into ``classes_`` assigned to each prototype, ``-1`` if it never
        won for a training image (computed for both read-outs).
    classes_ : ndarray, shape (n_classes,)
        Class labels seen in ``fit``.
    kmeans_ : KMeans or MiniBatchKMeans
        The fitted clustering.
    readout_ : Pipeline or None
        Fitted scaler + logistic regression (``readout="logreg"`` only).
    n_features_in_ : int
    image_shape_ : tuple of int or None
        ``(h, w)`` if ``fit`` got images of shape (n, h, w), else None.

    Notes
    -----
    Inputs are uint8 images (n, h, w) or (n, d) with values 0..255 (scaled with
    :func:`ann.models.images_to_features`), or float features (n, d) that are
    used as given.
    """

    def __init__(
        self,
        n_prototypes: int = 100,
        readout: str = "assign",
        *,
        method: str = "minibatch",
        n_init: int = 3,
        max_iter: int = 100,
        batch_size: int = 2048,
        C: float = 1.0,
        random_state: int | None = 0,
    ) -> None:
        self.n_prototypes = n_prototypes
        self.readout = readout
        self.method = method
        self.n_init = n_init
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.C = C
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def _check_params(self) -> None:
        _positive_int(self.n_prototypes, "n_prototypes")
        _positive_int(self.n_init, "n_init")
        _positive_int(self.max_iter, "max_iter")
        _positive_int(self.batch_size, "batch_size")
        if self.readout not in _READOUTS:
            raise ConfigError(f"readout must be one of {_READOUTS}, got {self.readout!r}.")
        if self.method not in _METHODS:
            raise ConfigError(f"method must be one of {_METHODS}, got {self.method!r}.")
        if not isinstance(self.C, numbers.Real) or not self.C > 0:
            raise ConfigError(f"C must be a positive number, got {self.C!r}.")
        if self.random_state is not None and not isinstance(
            self.random_state, (numbers.Integral, np.random.RandomState)
        ):
            raise ConfigError(f"random_state must be an int or None, got {self.random_state!r}.")

    def _make_kmeans(self):
        k = int(self.n_prototypes)
        if self.method == "full":
            return KMeans(n_clusters=k, n_init=self.n_init, max_iter=self.max_iter,
                          random_state=self.random_state)
        return MiniBatchKMeans(n_clusters=k, n_init=self.n_init, max_iter=self.max_iter,
                               batch_size=self.batch_size, random_state=self.random_state)

    def fit(self, X: ArrayLike, y: ArrayLike) -> "KMeansAssignmentClassifier":
        """Learn prototypes without labels, then fit the read-out with ``y``.

        Parameters
        ----------
        X : array, shape (n, h, w) or (n, d)
            Training images (uint8 0..255) or float features.
        y : array, shape (n,)
            Class labels; used only by the read-out stage.

        Returns
        -------
        self
        """
        self._check_params()
        X_arr = np.asarray(X)
        F = _to_features(X_arr)
        y_arr = np.asarray(y)
        if y_arr.ndim != 1 or y_arr.shape[0] != F.shape[0]:
            raise ConfigError(
                f"y must be a 1-D array with one label per image: X has {F.shape[0]} "
                f"images, y has shape {y_arr.shape}."
            )
        check_classification_targets(y_arr)
        if F.shape[0] < self.n_prototypes:
            raise ConfigError(
                f"n_prototypes={self.n_prototypes} needs at least as many training "
                f"images, got {F.shape[0]}; lower n_prototypes or use more data."
            )
        self.classes_, y_idx = np.unique(y_arr, return_inverse=True)
        self.n_features_in_ = F.shape[1]
        self.image_shape_ = tuple(int(s) for s in X_arr.shape[1:]) if X_arr.ndim == 3 else None

        # Stage 1: unsupervised -- y is not passed to k-means.
        self.kmeans_ = self._make_kmeans().fit(F)
        self.prototypes_ = self.kmeans_.cluster_centers_

        # Stage 2: label assignment from winner-take-all responses.
        D = self.kmeans_.transform(F)
        winners = self._onehot(np.argmin(D, axis=1))
        self.assignments_ = assign_labels(winners, y_idx, n_classes=len(self.classes_))
        self.readout_ = None
        if self.readout == "logreg":
            self.readout_ = make_pipeline(
                StandardScaler(),
                LogisticRegression(C=self.C, max_iter=1000, random_state=self.random_state),
            ).fit(-D, y_idx)
        return self

    # ------------------------------------------------------------------ responses
    def _onehot(self, winners: np.ndarray) -> np.ndarray:
        out = np.zeros((winners.shape[0], int(self.n_prototypes)), dtype=np.float64)
        out[np.arange(winners.shape[0]), winners] = 1.0
        return out

    def _features(self, X: ArrayLike) -> np.ndarray:
        check_is_fitted(self, "prototypes_")
        F = _to_features(X)
        if F.shape[1] != self.n_features_in_:
            raise ConfigError(
                f"the model was fitted on {self.n_features_in_} features (pixels), got "
                f"{F.shape[1]}; use images of the same size as in fit."
            )
        return F

    def distances(self, X: ArrayLike) -> np.ndarray:
        """Euclidean distance of each image to each prototype.

        Returns
        -------
        ndarray, shape (n, n_prototypes)
            Distances in feature units (pixel / 255).
        """
        return self.kmeans_.transform(self._features(X))

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Winner-take-all activity: one-hot code of the nearest prototype.

        This is the counterpart of the SNN's spike counts (``transform``):
        exactly one unit is active (value 1) per image; ties go to the lowest
        prototype index.

        Returns
        -------
        ndarray of float64, shape (n, n_prototypes)
        """
        return self._onehot(np.argmin(self.distances(X), axis=1))

    # ------------------------------------------------------------------ prediction
    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predicted class labels, shape (n,)."""
        check_is_fitted(self, "prototypes_")
        if self.readout_ is not None:
            idx = self.readout_.predict(-self.distances(X))
        else:
            idx = predict_from_counts(self.transform(X), self.assignments_,
                                      n_classes=len(self.classes_))
        return self.classes_[idx]
