"""Figures for brainsim experiments (matplotlib only).

Every function draws into a given :class:`matplotlib.axes.Axes` (``ax``) or,
when ``ax`` is None, into a new figure, and returns the Axes.  Nothing here
calls ``plt.show()`` or saves files; use :func:`brainsim.cli.save_figure`.
Units are given in the axis labels.  Call :func:`apply_style` once at the start
of a script for a consistent, print-friendly look.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from numpy.typing import ArrayLike

from brainsim.errors import ConfigError

__all__ = [
    "apply_style",
    "tile_receptive_fields",
    "plot_receptive_fields",
    "plot_raster",
    "plot_traces",
    "plot_confusion_matrix",
    "plot_activity_histogram",
    "plot_sparsity",
    "plot_cka_matrix",
    "plot_learning_curves",
    "plot_cost",
    "plot_activations_bar",
    "plot_win_shares",
    "plot_ablation",
]

#: rcParams set by :func:`apply_style`.
STYLE: dict[str, object] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.5,
    "lines.markersize": 4,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "image.interpolation": "nearest",
}


def apply_style() -> None:
    """Set a small, consistent matplotlib style (fonts, spines, dpi) globally."""
    mpl.rcParams.update(STYLE)


# --------------------------------------------------------------------------- helpers
def _get_ax(ax: Axes | None, figsize: tuple[float, float] = (4.5, 3.5)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _time_scale(time_unit: str) -> float:
    if time_unit == "ms":
        return 1e3
    if time_unit == "s":
        return 1.0
    raise ConfigError(f"time_unit must be 'ms' or 's', got {time_unit!r}.")


def _finite_1d(values: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64).ravel()
    return arr[np.isfinite(arr)]


def _format_count(value: float) -> str:
    """Short human-readable number: 25408 -> '25.4k', 1.2e6 -> '1.2M'."""
    if not np.isfinite(value):
        return "n/a"
    for limit, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


# --------------------------------------------------------------------------- receptive fields
def tile_receptive_fields(
    weights: ArrayLike,
    image_shape: tuple[int, int],
    n_cols: int | None = None,
    spacing: int = 1,
) -> np.ndarray:
    """Arrange each unit's incoming weights as an image tile in one big array.

    Unit ``j`` (column ``j`` of ``weights``, reshaped row-major to
    ``image_shape``) is placed in tile row ``j // n_cols``, tile column
    ``j % n_cols``; its top-left pixel is at
    ``(row * (h + spacing), col * (w + spacing))``.  Gaps between tiles and
    unused tiles of the last row are ``nan``.

    Parameters
    ----------
    weights : array_like, shape (n_inputs, n_units)
        Input weights, ``n_inputs == h * w``.
    image_shape : (int, int)
        Height and width ``(h, w)`` of an input image in pixels.
    n_cols : int, optional
        Tiles per row; default ``ceil(sqrt(n_units))``.
    spacing : int, default 1
        Gap between tiles in pixels.

    Returns
    -------
    grid : ndarray of float64, shape (n_rows * (h + spacing) - spacing, n_cols * (w + spacing) - spacing)
    """
    W = np.asarray(weights, dtype=np.float64)
    if W.ndim != 2:
        raise ConfigError(
            f"weights must be a 2-D array (n_inputs, n_units), got shape {W.shape}."
        )
    try:
        h, w = (int(s) for s in image_shape)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"image_shape must be (height, width), got {image_shape!r}.") from err
    if h < 1 or w < 1:
        raise ConfigError(f"image_shape must be positive, got {image_shape!r}.")
    n_inputs, n_units = W.shape
    if n_inputs != h * w:
        raise ConfigError(
            f"weights has {n_inputs} inputs (rows) but image_shape {h}x{w} has {h * w} "
            "pixels; pass weights as (n_inputs, n_units) (transpose if needed)."
        )
    if n_units < 1:
        raise ConfigError("weights has no units (0 columns).")
    if n_cols is None:
        n_cols = math.ceil(math.sqrt(n_units))
    if isinstance(n_cols, bool) or int(n_cols) != n_cols or n_cols < 1:
        raise ConfigError(f"n_cols must be a positive integer, got {n_cols!r}.")
    n_cols = int(min(n_cols, n_units))
    if int(spacing) != spacing or spacing < 0:
        raise ConfigError(f"spacing must be a non-negative integer, got {spacing!r}.")
    spacing = int(spacing)
    n_rows = math.ceil(n_units / n_cols)
    grid = np.full(
        (n_rows * (h + spacing) - spacing, n_cols * (w + spacing) - spacing), np.nan
    )
    for j in range(n_units):
        r, c = divmod(j, n_cols)
        y0, x0 = r * (h + spacing), c * (w + spacing)
        grid[y0 : y0 + h, x0 : x0 + w] = W[:, j].reshape(h, w)
    return grid


def plot_receptive_fields(
    weights: ArrayLike,
    image_shape: tuple[int, int],
    ax: Axes | None = None,
    n_cols: int | None = None,
    cmap: str = "hot_r",
    title: str | None = None,
    *,
    colorbar: bool = True,
    spacing: int = 1,
    vmin: float | None = None,
    vmax: float | None = None,
    cbar_label: str = "Synaptic weight (a.u.)",
) -> Axes:
    """Show every unit's input weights as an image in one tiled grid.

    This is the style of Diehl & Cook (2015) Fig. 2A: the weights from the
    input pixels to each excitatory neuron are reshaped to the image and the
    tiles are laid out row by row (see :func:`tile_receptive_fields`).  Works
    for 8x8 digits and 28x28 MNIST and any number of units.

    Parameters
    ----------
    weights : array_like, shape (n_inputs, n_units)
        Input weights (e.g. ``DiehlCookSNN.weights_`` or k-means prototypes
        transposed).
    image_shape : (int, int)
        ``(height, width)`` of one input image in pixels.
    ax : Axes, optional
    n_cols : int, optional
        Tiles per row; default ``ceil(sqrt(n_units))``.
    cmap : str, default "hot_r"
        Colour map (white = weight 0); gaps and empty tiles are light grey.
    title : str, optional
        Default: "Receptive fields (<n> units)".
    colorbar : bool, default True
    spacing : int, default 1
        Gap between tiles in pixels.
    vmin, vmax : float, optional
        Colour limits; default the minimum (capped at 0) and maximum weight.
    cbar_label : str
        Colour-bar label (include units).

    Returns
    -------
    ax : Axes
    """
    grid = tile_receptive_fields(weights, image_shape, n_cols=n_cols, spacing=spacing)
    ax = _get_ax(ax, figsize=(5.0, 4.5))
    values = grid[np.isfinite(grid)]
    if vmin is None:
        vmin = float(min(values.min(), 0.0)) if values.size else 0.0
    if vmax is None:
        vmax = float(values.max()) if values.size else 1.0
    if vmax <= vmin:
        vmax = vmin + 1.0
    cm = mpl.colormaps[cmap].with_extremes(bad="0.85")
    im = ax.imshow(grid, cmap=cm, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    n_units = np.asarray(weights).shape[1]
    h, w = (int(s) for s in image_shape)
    ax.set_title(title if title is not None else f"Receptive fields ({n_units} units, {h}x{w} px)")
    if colorbar:
        cbar = ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
        cbar.set_label(cbar_label)
    return ax


# --------------------------------------------------------------------------- spikes and traces
def plot_raster(
    spike_times_s: ArrayLike,
    spike_indices: ArrayLike,
    ax: Axes | None = None,
    t_max: float | None = None,
    *,
    n_neurons: int | None = None,
    ylabel: str = "Neuron index",
    title: str | None = None,
    label: str | None = None,
    color: str = "k",
    marker_size: float = 4.0,
    time_unit: str = "ms",
) -> Axes:
    """Spike raster: one tick per spike at (time, neuron index).

    Parameters
    ----------
    spike_times_s : array_like, shape (n_spikes,)
        Spike times in seconds.
    spike_indices : array_like of int, shape (n_spikes,)
        Index of the neuron that emitted each spike.
    ax : Axes, optional
    t_max : float, optional
        Right edge of the time axis in seconds (e.g. the presentation time).
    n_neurons : int, optional
        Population size, sets the y range to ``[-0.5, n_neurons - 0.5]``.
    ylabel, title, label : str, optional
        ``label`` is the legend entry of the spikes.
    color : str, default "k"
    marker_size : float, default 4
    time_unit : {"ms", "s"}, default "ms"
        Unit of the time axis.

    Returns
    -------
    ax : Axes
    """
    t = np.asarray(spike_times_s, dtype=np.float64).ravel()
    idx = np.asarray(spike_indices).ravel()
    if t.shape != idx.shape:
        raise ConfigError(
            f"spike_times_s and spike_indices must have the same length, got "
            f"{t.shape[0]} and {idx.shape[0]}."
        )
    scale = _time_scale(time_unit)
    ax = _get_ax(ax, figsize=(5.0, 3.0))
    ax.scatter(t * scale, idx, s=marker_size**2, marker="|", c=color, linewidths=0.8,
               label=label)
    ax.set_xlabel(f"Time ({time_unit})")
    ax.set_ylabel(ylabel)
    if t_max is not None:
        ax.set_xlim(0.0, t_max * scale)
    elif t.size == 0:
        ax.set_xlim(0.0, 1.0)
    if n_neurons is not None:
        ax.set_ylim(-0.5, n_neurons - 0.5)
    if title is not None:
        ax.set_title(title)
    if label is not None:
        ax.legend(loc="upper right")
    return ax


def plot_traces(
    t_s: ArrayLike,
    values: ArrayLike,
    ax: Axes | None = None,
    labels: Sequence[str] | None = None,
    threshold: ArrayLike | None = None,
    *,
    ylabel: str = "Membrane potential (mV)",
    title: str | None = None,
    time_unit: str = "ms",
) -> Axes:
    """Membrane-potential traces, optionally with their (adaptive) thresholds.

    Parameters
    ----------
    t_s : array_like, shape (n_times,)
        Sample times in seconds.
    values : array_like, shape (n_traces, n_times) or (n_times,)
        Traces in mV.
    ax : Axes, optional
    labels : sequence of str, optional
        Legend entry per trace.
    threshold : array_like, optional
        Firing threshold in mV drawn dashed in the colour of its trace: a
        scalar (one horizontal line), shape (n_times,) (shared), or
        (n_traces, n_times) (one per trace, e.g. ``v_thresh + theta``).
    ylabel, title : str
    time_unit : {"ms", "s"}, default "ms"

    Returns
    -------
    ax : Axes
    """
    t = np.asarray(t_s, dtype=np.float64).ravel()
    V = np.asarray(values, dtype=np.float64)
    if V.ndim == 1:
        V = V[None, :]
    if V.ndim != 2 or V.shape[1] != t.shape[0]:
        raise ConfigError(
            f"values must have shape (n_traces, n_times) with n_times = len(t_s) = "
            f"{t.shape[0]}, got {np.shape(values)}."
        )
    n_traces = V.shape[0]
    if labels is not None and len(labels) != n_traces:
        raise ConfigError(f"labels has {len(labels)} entries for {n_traces} traces.")
    scale = _time_scale(time_unit)
    ax = _get_ax(ax, figsize=(5.0, 3.0))
    colors = []
    for i in range(n_traces):
        (line,) = ax.plot(t * scale, V[i], label=None if labels is None else labels[i])
        colors.append(line.get_color())
    if threshold is not None:
        th = np.asarray(threshold, dtype=np.float64)
        if th.ndim == 0:
            ax.axhline(float(th), color="0.4", linestyle="--", linewidth=1.0,
                       label="threshold")
        else:
            if th.ndim == 1:
                th = np.broadcast_to(th, V.shape) if th.shape[0] == t.shape[0] else th
            if th.shape != V.shape:
                raise ConfigError(
                    f"threshold must be a scalar, shape ({t.shape[0]},) or {V.shape}, "
                    f"got {np.shape(threshold)}."
                )
            shared = np.ndim(threshold) == 1
            for i in range(1 if shared else n_traces):
                if shared or labels is None:
                    th_label = "threshold" if i == 0 else None
                else:
                    th_label = f"{labels[i]} threshold"
                ax.plot(t * scale, th[i], linestyle="--", linewidth=1.0,
                        color="0.4" if shared else colors[i], label=th_label)
    ax.set_xlabel(f"Time ({time_unit})")
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    if labels is not None or threshold is not None:
        ax.legend(loc="best")
    return ax


# --------------------------------------------------------------------------- accuracy
def plot_confusion_matrix(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    n_classes: int = 10,
    ax: Axes | None = None,
    normalize: bool = True,
    title: str | None = None,
    *,
    annotate: bool = True,
    cmap: str = "Blues",
    colorbar: bool = True,
) -> Axes:
    """Confusion matrix heat map (true class on rows, prediction on columns).

    With ``normalize=True`` each row shows the percentage of that true class
    assigned to each predicted class (rows sum to 100 %); otherwise counts.

    Returns
    -------
    ax : Axes
    """
    from brainsim.analysis import confusion_matrix

    cm = confusion_matrix(y_true, y_pred, n_classes, normalize=normalize)
    shown = cm * 100.0 if normalize else cm.astype(np.float64)
    ax = _get_ax(ax, figsize=(4.5, 4.0))
    vmax = 100.0 if normalize else max(float(np.nanmax(shown)) if shown.size else 1.0, 1.0)
    im = ax.imshow(shown, cmap=cmap, vmin=0.0, vmax=vmax, interpolation="nearest")
    ticks = np.arange(n_classes)
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.set_xlabel("Predicted class")
    ax.set_ylabel("True class")
    if annotate:
        for i in range(n_classes):
            for j in range(n_classes):
                v = shown[i, j]
                text = "" if not np.isfinite(v) else (f"{v:.0f}" if normalize else f"{int(v)}")
                ax.text(j, i, text, ha="center", va="center", fontsize=6 if n_classes > 10 else 7,
                        color="white" if np.isfinite(v) and v > 0.6 * vmax else "black")
    if title is None:
        acc = np.trace(confusion_matrix(y_true, y_pred, n_classes)) / max(len(np.asarray(y_true)), 1)
        title = f"Confusion matrix (accuracy {100 * acc:.1f} %)"
    ax.set_title(title)
    if colorbar:
        cbar = ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
        cbar.set_label("% of true class" if normalize else "Number of examples")
    return ax


# --------------------------------------------------------------------------- activity
def plot_activity_histogram(
    values: ArrayLike | Mapping[str, ArrayLike],
    ax: Axes | None = None,
    label: str | None = None,
    log: bool = False,
    *,
    bins: int | str = 30,
    density: bool = True,
    normalize: bool = False,
    xlabel: str = "Response per image (spikes or ReLU output)",
    title: str | None = None,
) -> Axes:
    """Histogram of activity values, e.g. spike counts vs ReLU activations.

    Parameters
    ----------
    values : array_like or mapping of str to array_like
        Activity values (flattened).  A mapping draws one outlined histogram
        per entry with the key as legend label.
    ax : Axes, optional
    label : str, optional
        Legend label when ``values`` is a single array.
    log : bool, default False
        Logarithmic y axis (helps with the large peak at 0).
    bins : int or str, default 30
    density : bool, default True
        Normalise each histogram to unit area (comparable across sets).
    normalize : bool, default False
        Divide each set by its maximum so that sets with different scales
        (spike counts, ReLU outputs) share the x axis "fraction of max".
    xlabel, title : str

    Returns
    -------
    ax : Axes
    """
    sets = dict(values) if isinstance(values, Mapping) else {label: values}
    if not sets:
        raise ConfigError("values is an empty mapping; nothing to plot.")
    ax = _get_ax(ax)
    for name, vals in sets.items():
        arr = _finite_1d(vals, f"values[{name!r}]")
        if normalize and arr.size and np.max(np.abs(arr)) > 0:
            arr = arr / np.max(np.abs(arr))
        ax.hist(arr, bins=bins, density=density, histtype="step", linewidth=1.5,
                label=None if name is None else str(name))
    ax.set_xlabel("Fraction of maximum response" if normalize else xlabel)
    ax.set_ylabel("Probability density" if density else "Number of values")
    if log:
        ax.set_yscale("log")
    if title is not None:
        ax.set_title(title)
    if any(name is not None for name in sets):
        ax.legend(loc="best")
    return ax


def plot_sparsity(
    fractions: Mapping[str, ArrayLike],
    ax: Axes | None = None,
    *,
    kind: str = "box",
    ylabel: str = "Fraction of units active per image",
    title: str | None = None,
) -> Axes:
    """Compare per-example sparsity distributions of several models.

    Parameters
    ----------
    fractions : mapping of str to array_like (n_examples,)
        E.g. :func:`brainsim.analysis.population_sparsity` of each model's
        activity; ``nan`` values are dropped.
    ax : Axes, optional
    kind : {"box", "violin"}, default "box"
    ylabel, title : str

    Returns
    -------
    ax : Axes
    """
    if not isinstance(fractions, Mapping) or not fractions:
        raise ConfigError("fractions must be a non-empty dict name -> per-example values.")
    if kind not in ("box", "violin"):
        raise ConfigError(f"kind must be 'box' or 'violin', got {kind!r}.")
    names = [str(k) for k in fractions]
    data = [_finite_1d(v, f"fractions[{k!r}]") for k, v in fractions.items()]
    empty = [n for n, d in zip(names, data) if d.size == 0]
    if empty:
        raise ConfigError(f"no finite values to plot for: {', '.join(empty)}.")
    ax = _get_ax(ax)
    positions = np.arange(1, len(data) + 1)
    if kind == "box":
        ax.boxplot(data, positions=positions, widths=0.6, showfliers=False)
    else:
        ax.violinplot(data, positions=positions, showmedians=True)
    ax.set_xticks(positions)
    ax.set_xticklabels(names, rotation=20 if len(names) > 3 else 0)
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    return ax


def plot_cka_matrix(
    names: Sequence[str],
    matrix: ArrayLike,
    ax: Axes | None = None,
    *,
    title: str | None = "Linear CKA between representations",
    cmap: str = "viridis",
    annotate: bool = True,
    colorbar: bool = True,
) -> Axes:
    """Annotated heat map of a CKA matrix (from :func:`brainsim.analysis.cka_matrix`).

    Returns
    -------
    ax : Axes
    """
    M = np.asarray(matrix, dtype=np.float64)
    k = len(names)
    if M.shape != (k, k):
        raise ConfigError(f"matrix must have shape ({k}, {k}) for {k} names, got {M.shape}.")
    ax = _get_ax(ax, figsize=(1.2 * k + 2.0, 1.0 * k + 1.5))
    cm = mpl.colormaps[cmap].with_extremes(bad="0.85")
    im = ax.imshow(M, cmap=cm, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks(np.arange(k))
    ax.set_yticks(np.arange(k))
    ax.set_xticklabels(list(names), rotation=30, ha="right")
    ax.set_yticklabels(list(names))
    if annotate:
        for i in range(k):
            for j in range(k):
                v = M[i, j]
                ax.text(j, i, "n/a" if not np.isfinite(v) else f"{v:.2f}", ha="center",
                        va="center", color="white" if np.isfinite(v) and v <= 0.6 else "black")
    if title is not None:
        ax.set_title(title)
    if colorbar:
        cbar = ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
        cbar.set_label("Linear CKA (0 = unrelated, 1 = identical)")
    return ax


# --------------------------------------------------------------------------- comparisons
def plot_learning_curves(
    curves: Mapping[str, tuple[ArrayLike, ArrayLike] | tuple[ArrayLike, ArrayLike, ArrayLike]],
    ax: Axes | None = None,
    *,
    logx: bool = True,
    percent: bool = True,
    xlabel: str = "Training examples",
    title: str | None = None,
    chance: float | None = None,
) -> Axes:
    """Test accuracy against the number of training examples.

    Parameters
    ----------
    curves : mapping of str to (n_train, accuracy) or (n_train, accuracy, std)
        Accuracies as fractions 0..1; an optional spread (e.g. std over seeds)
        is drawn as a shaded band.
    ax : Axes, optional
    logx : bool, default True
        Logarithmic x axis.
    percent : bool, default True
        Show accuracy in percent.
    xlabel, title : str
    chance : float, optional
        Chance level (fraction) drawn as a dotted line, e.g. 0.1.

    Returns
    -------
    ax : Axes
    """
    if not isinstance(curves, Mapping) or not curves:
        raise ConfigError("curves must be a non-empty dict name -> (n_train, accuracy).")
    scale = 100.0 if percent else 1.0
    ax = _get_ax(ax)
    for name, curve in curves.items():
        if len(curve) not in (2, 3):
            raise ConfigError(
                f"curves[{name!r}] must be (n_train, accuracy) or (n_train, accuracy, std)."
            )
        n = np.asarray(curve[0], dtype=np.float64).ravel()
        acc = np.asarray(curve[1], dtype=np.float64).ravel()
        if n.shape != acc.shape:
            raise ConfigError(
                f"curves[{name!r}]: {n.shape[0]} training sizes but {acc.shape[0]} accuracies."
            )
        order = np.argsort(n)
        (line,) = ax.plot(n[order], acc[order] * scale, marker="o", label=str(name))
        if len(curve) == 3:
            sd = np.asarray(curve[2], dtype=np.float64).ravel()[order]
            ax.fill_between(n[order], (acc[order] - sd) * scale, (acc[order] + sd) * scale,
                            color=line.get_color(), alpha=0.2, linewidth=0)
    if chance is not None:
        ax.axhline(chance * scale, color="0.5", linestyle=":", linewidth=1.0, label="chance")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Test accuracy (%)" if percent else "Test accuracy (fraction)")
    if title is not None:
        ax.set_title(title)
    ax.legend(loc="best")
    return ax


def plot_cost(
    costs: Mapping[str, float | ArrayLike],
    ax: Axes | None = None,
    ylabel: str = "Operations per inference",
    *,
    log: bool = True,
    title: str | None = None,
    annotate: bool = True,
) -> Axes:
    """Bar chart of the cost of one inference per model.

    Parameters
    ----------
    costs : mapping of str to float or array_like
        A number per model (e.g. :func:`brainsim.analysis.ann_macs`), or
        per-image values (e.g. :func:`brainsim.analysis.synaptic_events` for
        each test image): the bar is then the mean and the error bar the
        standard deviation.
    ax : Axes, optional
    ylabel : str
        Include what is counted, e.g. "MACs or synaptic events per image".
    log : bool, default True
        Logarithmic y axis (costs span orders of magnitude).
    title : str, optional
    annotate : bool, default True
        Write the value above each bar.

    Returns
    -------
    ax : Axes
    """
    if not isinstance(costs, Mapping) or not costs:
        raise ConfigError("costs must be a non-empty dict name -> operations per inference.")
    names = [str(k) for k in costs]
    means, errs = [], []
    for k, v in costs.items():
        arr = _finite_1d(v, f"costs[{k!r}]")
        if arr.size == 0:
            raise ConfigError(f"costs[{k!r}] has no finite values.")
        if np.any(arr < 0):
            raise ConfigError(f"costs[{k!r}] has negative values; costs are counts >= 0.")
        if log and np.any(arr <= 0):
            raise ConfigError(
                f"costs[{k!r}] has values <= 0, which a log axis cannot show; use log=False."
            )
        means.append(float(arr.mean()))
        errs.append(float(arr.std()) if arr.size > 1 else 0.0)
    ax = _get_ax(ax)
    x = np.arange(len(names))
    bars = ax.bar(x, means, yerr=errs if any(errs) else None, capsize=3, color="0.55",
                  edgecolor="black", linewidth=0.6)
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=20 if len(names) > 3 else 0)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
        # Start the axis a decade below the smallest bar so that it stays visible.
        low = min(m - e if m - e > 0 else m for m, e in zip(means, errs))
        high = max(m + e for m, e in zip(means, errs))
        ax.set_ylim(10.0 ** (math.floor(math.log10(low)) - 1), high * 3.0)
    else:
        ax.set_ylim(0.0, 1.15 * max(max(m + e for m, e in zip(means, errs)), 1e-12))
    if annotate:
        for rect, m, e in zip(bars, means, errs):
            ax.annotate(_format_count(m), (rect.get_x() + rect.get_width() / 2, m + e),
                        xytext=(0, 2), textcoords="offset points", ha="center",
                        va="bottom", fontsize=7)
    if title is not None:
        ax.set_title(title)
    return ax


def plot_activations_bar(
    values: ArrayLike,
    ax: Axes | None = None,
    *,
    ylabel: str = "Activation (ReLU output or spikes)",
    xlabel: str = "Unit index",
    title: str | None = None,
    color: str = "0.3",
) -> Axes:
    """Bar plot of one image's responses across units (ANN hidden layer or SNN).

    Parameters
    ----------
    values : array_like, shape (n_units,)
        Response of each unit to one image.
    ax : Axes, optional
    ylabel, xlabel, title : str
    color : str

    Returns
    -------
    ax : Axes
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1:
        raise ConfigError(
            f"values must be 1-D (one response per unit), got shape {v.shape}; "
            "pass a single row for one image."
        )
    ax = _get_ax(ax, figsize=(5.0, 2.5))
    ax.bar(np.arange(v.shape[0]), v, width=0.8, color=color)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xlim(-0.8, v.shape[0] - 0.2)
    if title is None:
        n_active = int(np.count_nonzero(v))
        title = f"{n_active} of {v.shape[0]} units active"
    ax.set_title(title)
    return ax


# --------------------------------------------------------------------------- recipes
def plot_win_shares(
    wins: ArrayLike | Mapping[str, ArrayLike],
    ax: Axes | None = None,
    *,
    greedy_factor: float = 5.0,
    title: str | None = "Which neurons win",
) -> Axes:
    """Share of the images each neuron wins, neurons sorted from most to fewest wins.

    A flat curve at 1/n is a population that shares the work; a curve that
    drops to 0 early has dead neurons (never win), one that starts high has
    greedy ones (above ``greedy_factor`` fair shares, dotted line). The legend
    gives both counts (see :func:`brainsim.analysis.dead_and_greedy`).

    Parameters
    ----------
    wins : array_like or mapping of str to array_like
        Per-neuron win counts (:func:`brainsim.analysis.win_counts`); a mapping
        draws one curve per model, e.g. per recipe.
    ax : Axes, optional
    greedy_factor : float, default 5
    title : str or None

    Returns
    -------
    ax : Axes
    """
    sets = dict(wins) if isinstance(wins, Mapping) else {None: wins}
    if not sets:
        raise ConfigError("wins is an empty mapping; nothing to plot.")
    ax = _get_ax(ax)
    fair = None
    for name, w in sets.items():
        arr = _finite_1d(w, f"wins[{name!r}]")
        if arr.size == 0 or arr.sum() <= 0:
            raise ConfigError(f"wins[{name!r}] holds no wins; nothing to plot.")
        share = np.sort(arr)[::-1] / arr.sum()
        fair = 1.0 / arr.size
        n_dead = int(np.sum(arr == 0))
        n_greedy = int(np.sum(share > greedy_factor * fair))
        label = f"{n_dead} dead, {n_greedy} greedy"
        if name is not None:
            label = f"{name}: {label}"
        ax.plot(np.arange(1, arr.size + 1), 100 * share, drawstyle="steps-mid", label=label)
    if fair is not None:
        ax.axhline(100 * fair, color="0.5", lw=0.8, ls="--", label="fair share")
        ax.axhline(100 * greedy_factor * fair, color="0.5", lw=0.8, ls=":",
                   label=f"{greedy_factor:g} x fair share")
    ax.set_xlabel("Neuron (sorted by wins)")
    ax.set_ylabel("Images won (%)")
    if title is not None:
        ax.set_title(title)
    ax.legend(loc="upper right")
    return ax


def plot_ablation(
    results: Mapping[str, ArrayLike],
    ax: Axes | None = None,
    *,
    reference: str | None = None,
    ylabel: str = "Validation accuracy (%)",
    title: str | None = "Ablation: one mechanism off at a time",
) -> Axes:
    """Accuracy of each variant of a recipe: mean, sample sd over seeds, every seed.

    Parameters
    ----------
    results : mapping of str to array_like
        Variant name -> accuracies (fractions) over seeds, e.g.
        ``{"local_plus": [...], "- eta_decay": [...], ...}``.
    ax : Axes, optional
    reference : str, optional
        Variant drawn as a horizontal line (the full recipe).
    ylabel, title : str

    Returns
    -------
    ax : Axes
    """
    if not results:
        raise ConfigError("results is empty; nothing to plot.")
    ax = _get_ax(ax, figsize=(1.0 + 0.9 * len(results), 3.5))
    names = list(results)
    for k, name in enumerate(names):
        acc = 100 * _finite_1d(results[name], f"results[{name!r}]")
        if acc.size == 0:
            raise ConfigError(f"results[{name!r}] is empty.")
        ax.bar(k, acc.mean(), color="C1" if name == reference else "C0", alpha=0.6,
               yerr=np.std(acc, ddof=1) if acc.size > 1 else None, capsize=3)
        ax.plot(np.full(acc.size, k), acc, "k.", ms=4)
    if reference is not None and reference in results:
        ax.axhline(100 * np.mean(results[reference]), color="C1", lw=0.8, ls="--")
    lo = min(100 * np.min(results[n]) for n in names)
    ax.set_ylim(max(0.0, lo - 5), 100)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    return ax

