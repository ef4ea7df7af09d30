"""Rate coding of images for the Poisson input layer ([DC15] section 2.3).

A pixel of intensity p (0..255) fires as a Poisson process at p/4 Hz (at most
63.75 Hz). When the network answers an image with fewer than five spikes, the
rate is raised by p/8 Hz (about 32 Hz for a white pixel) and the image is shown
again. Inside the simulation the rate is ``stimulus * intensity`` with
``stimulus = p/8 Hz`` and ``intensity = 2, 3, 4, ...``; this module computes the
``stimulus`` rows.
"""

from __future__ import annotations

import numpy as np
from brian2 import Hz

from brainsim import model as M
from brainsim.errors import ConfigError

#: Input rate per unit of intensity and per unit of pixel value, in Hz (1/8 Hz).
RATE_PER_PIXEL_VALUE = float(M.rate_step / Hz)


def flatten_images(X: np.ndarray) -> np.ndarray:
    """Return images as a 2-D array (n_images, n_pixels) after checking them.

    The values keep their dtype (no copy for uint8 images), so that a whole
    data set is not held in memory as floats.

    Parameters
    ----------
    X : array_like, shape (n, h, w) or (n, n_pixels)
        Pixel intensities in 0..255 (uint8 or any numeric type).

    Raises
    ------
    ConfigError
        For an empty array, a wrong number of dimensions, non-finite values or
        values outside 0..255.
    """
    X = np.asarray(X)
    if X.ndim not in (2, 3):
        raise ConfigError(
            f"images must be an array of shape (n, height, width) or (n, n_pixels); "
            f"got shape {X.shape}"
        )
    if X.shape[0] == 0:
        raise ConfigError("no images given (the array has length 0)")
    if not np.issubdtype(X.dtype, np.number):
        raise ConfigError(f"images must be numeric, got dtype {X.dtype}")
    if X.dtype == bool:
        raise ConfigError("images must hold intensities 0..255, not booleans")
    flat = X.reshape(X.shape[0], -1)
    if np.issubdtype(flat.dtype, np.floating) and not np.all(np.isfinite(flat)):
        raise ConfigError("images contain NaN or infinite values")
    lo, hi = float(flat.min()), float(flat.max())
    if lo < 0 or hi > M.max_pixel_value:
        raise ConfigError(
            f"pixel values must lie in 0..{M.max_pixel_value:g} (uint8 images); got "
            f"{lo:g}..{hi:g}. Rescale your data, e.g. X * 255 / X.max()."
        )
    return flat


def stimulus_rows(X: np.ndarray) -> np.ndarray:
    """Input rate per unit of intensity, in Hz: pixel / 8 ([DC-code]).

    Multiplied by the starting intensity 2 this gives the paper's pixel / 4.

    Parameters
    ----------
    X : array_like, shape (n, h, w) or (n, n_pixels)
        Images with values in 0..255.

    Returns
    -------
    ndarray, shape (n, n_pixels)
        Rates in Hz (float64).
    """
    return flatten_images(X) * RATE_PER_PIXEL_VALUE



def input_rates(X: np.ndarray) -> np.ndarray:
    """Poisson rates in Hz of the first presentation: pixel / 4 (max 63.75 Hz)."""
    return stimulus_rows(X) * M.intensity_start


def mean_pixel_value(X: np.ndarray) -> float:
    """Mean pixel value (0..255) over all images: the target of :func:`normalised_rows`."""
    flat = flatten_images(X)
    return float(flat.mean(dtype=np.float64))


def normalised_rows(rows: np.ndarray, mean_pixel: float) -> np.ndarray:
    """Input rates per unit of intensity (Hz) with the same total for every image.

    Each image's pixels are scaled so that their mean is `mean_pixel`: every
    image then sends the same expected number of input spikes, faint and bold
    digits alike (input normalisation of the recipe ``local_plus``,
    :mod:`brainsim.recipes`). Blank images stay blank.

    Parameters
    ----------
    rows : ndarray, shape (n, n_pixels)
        Pixel values 0..255.
    mean_pixel : float
        Target mean pixel value (e.g. :func:`mean_pixel_value` of the training set).

    Returns
    -------
    ndarray, shape (n, n_pixels)
        Rates in Hz per unit of intensity (times 2 at the first presentation).
    """
    rows = np.asarray(rows, dtype=np.float64)
    means = rows.mean(axis=1, keepdims=True)
    scale = np.divide(float(mean_pixel), means, out=np.zeros_like(means), where=means > 0)
    return rows * scale * RATE_PER_PIXEL_VALUE

