"""Activity measures of a representation over a set of images (plain numpy).

Used by the comparison (:mod:`brainsim.comparison`) for the spike counts of the
spiking network and the ReLU outputs of the ANNs alike.
"""

from __future__ import annotations

import warnings

import numpy as np

from brainsim.analysis import (
    count_active,
    lifetime_sparsity,
    population_sparsity,
    treves_rolls_sparsity,
)

__all__ = ["activity_summary"]


def activity_summary(A: np.ndarray, unit: str) -> dict:
    """Activity measures of a representation over a set of images.

    Parameters
    ----------
    A : ndarray, shape (n_images, n_units)
        Non-negative responses: spike counts per neuron per image, or ReLU
        outputs per hidden unit per image.
    unit : str
        What one value of ``A`` is (e.g. "spikes per neuron per image").

    Returns
    -------
    dict
        ``mean_population_sparsity`` (mean over images of the fraction of
        units active), ``mean_lifetime_sparsity`` (mean over units of the
        fraction of images that activate them), ``mean_active_units_per_image``,
        ``mean_activity`` (mean of ``A``, in ``unit``), ``max_activity``,
        ``mean_treves_rolls_sparseness`` (Vinje & Gallant's S, 1 = one-hot;
        images with no active unit are skipped), ``silent_units`` (never active),
        ``n_units`` and ``activity_unit``.
    """
    A = np.asarray(A, dtype=np.float64)
    life = lifetime_sparsity(A)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        tr = treves_rolls_sparsity(A) if A.shape[1] >= 2 else np.array([np.nan])
        tr_mean = float(np.nanmean(tr)) if np.any(np.isfinite(tr)) else float("nan")
    return {
        "mean_population_sparsity": float(population_sparsity(A).mean()),
        "mean_lifetime_sparsity": float(life.mean()),
        "mean_active_units_per_image": float(count_active(A).mean()),
        "mean_activity": float(A.mean()),
        "max_activity": float(A.max()) if A.size else 0.0,
        "mean_treves_rolls_sparseness": tr_mean,
        "silent_units": int(np.sum(life == 0)),
        "n_units": int(A.shape[1]),
        "activity_unit": unit,
    }
