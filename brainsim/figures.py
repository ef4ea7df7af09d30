"""Multi-panel figures of an experiment, assembled from :mod:`brainsim.plotting`.

Each function draws one figure from arrays and plain dicts, saves it as PNG
and PDF through :func:`brainsim.cli.save_figure` (atomic, same folder) and
returns the names written. :mod:`brainsim.plotting` holds the single-Axes
functions; this module only arranges them.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from brainsim.cli import save_figure

__all__ = ["snn_figures"]


def snn_figures(snn, data, y_pred: np.ndarray, out_dir: str | os.PathLike) -> list[str]:
    """Receptive fields, confusion matrix and one test image's response.

    Parameters
    ----------
    snn : DiehlCookSNN
        Trained and labelled network.
    data : Dataset
        The data set it was trained and tested on.
    y_pred : ndarray, shape (n_test,)
        The network's predictions on ``data.X_test``.
    out_dir : path
        Folder for ``receptive_fields``, ``confusion_matrix`` and
        ``example_response`` (PNG and PDF).

    Returns
    -------
    list of str
        Paths of the files written.
    """
    import matplotlib.pyplot as plt

    from brainsim import plotting

    out = Path(out_dir)
    plotting.apply_style()
    written = []
    fig, ax = plt.subplots(figsize=(6.5, 6))
    plotting.plot_receptive_fields(
        snn.weights_, data.image_shape, ax=ax,
        title=f"Learned input weights, {snn.n_neurons} excitatory neurons ({snn.learning_rule})",
    )
    written += save_figure(fig, out, "receptive_fields")

    fig, ax = plt.subplots(figsize=(5.5, 4.8))
    plotting.plot_confusion_matrix(data.y_test, y_pred, n_classes=snn.n_classes_, ax=ax,
                                   title="Spiking network, test set")
    written += save_figure(fig, out, "confusion_matrix")

    rec = snn.record_example(data.X_test[0])
    fig, axes = plt.subplots(3, 1, figsize=(7, 7.5), sharex=True,
                             gridspec_kw={"height_ratios": [2, 1.2, 1.5]})
    plotting.plot_raster(rec["input_spikes"][1], rec["input_spikes"][0], ax=axes[0],
                         ylabel="Input neuron", title=f"Test image 0 (label {data.y_test[0]})")
    plotting.plot_raster(rec["exc_spikes"][1], rec["exc_spikes"][0], ax=axes[1],
                         ylabel="Excitatory neuron", n_neurons=snn.n_neurons)
    winners = np.argsort(rec["counts"])[::-1][:3]
    plotting.plot_traces(rec["t"], rec["v"][winners] * 1e3, ax=axes[2],
                         labels=[f"neuron {k} ({int(rec['counts'][k])} spikes)" for k in winners],
                         threshold=np.repeat(rec["threshold"][winners, None] * 1e3,
                                             len(rec["t"]), axis=1))
    written += save_figure(fig, out, "example_response")
    return [str(p) for p in written]
