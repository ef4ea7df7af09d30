"""Multi-panel figures of an experiment, assembled from :mod:`brainsim.plotting`.

Each function draws one figure from arrays and plain dicts, saves it as PNG
and PDF through :func:`brainsim.cli.save_figure` (atomic, same folder) and
returns the names written. :mod:`brainsim.plotting` holds the single-Axes
functions; this module only arranges them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from brainsim.analysis import lifetime_sparsity, population_sparsity
from brainsim.cli import save_figure
from brainsim.report import MODEL_LABELS, MODEL_ORDER

__all__ = ["snn_figures", "compare_figures", "learning_curves_figure", "rules_figure",
           "most_active",
           "COMPARE_FIGURES"]

#: Figure names of the comparison, in the issue's order.
COMPARE_FIGURES = (
    "fig1_receptive_fields",
    "fig2_confusion_matrices",
    "fig3_activity",
    "fig4_example_response",
    "fig5_learning_curves",
    "fig6_cka",
    "fig7_cost",
)


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
        title=f"Learned input weights, {snn.n_neurons} excitatory neurons ({snn.learning_rule_})",
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


def most_active(counts: np.ndarray, v: np.ndarray, threshold: np.ndarray, k: int = 3) -> np.ndarray:
    """Indices of the ``k`` neurons with most spikes; ties broken by how close each
    neuron's membrane potential came to its threshold (highest ``max(v) - threshold``)."""
    closeness = np.max(v, axis=1) - threshold if v.size else np.zeros(len(counts))
    order = np.lexsort((-closeness, -np.asarray(counts)))
    return order[:k]


# --------------------------------------------------------------------------- figures
def _title(name: str, results: dict) -> str:
    return f"{MODEL_LABELS.get(name, name)}\n{100 * results[name]['test_accuracy']:.1f} % correct"


def compare_figures(out: str | os.PathLike, data, snn, fitted: Mapping[str, Any],
                    results: Mapping[str, dict], test, activities: Mapping[str, dict],
                    cka: Mapping[str, Any], curves: Mapping[str, dict],
                    costs: Mapping[str, Any], assumptions: list[str],
                    example: Mapping[str, Any]) -> list[str]:
    """Draw and save the comparison's figures 1-7 (:data:`COMPARE_FIGURES`).

    Parameters
    ----------
    out : path
        Folder for the PNG and PDF files.
    data : Dataset
    snn : DiehlCookSNN
        The trained, labelled network.
    fitted : dict
        Model name -> fitted ANN (``ann_matched`` and ``kmeans_assign`` are used).
    results : dict
        Model name -> metrics entry with ``test_accuracy`` and ``y_pred``.
    test : InferenceResult
        The network's responses to the test images.
    activities : dict
        Model name -> {"values": (n_images, n_units) array, "unit": str}.
    cka : dict
        ``names``, ``labels``, ``matrix``, ``n_images``.
    curves : dict
        Model name -> {"n_train": [...], "test_accuracy": [...]}.
    costs : dict
        Bar label -> operations per image (a number or one value per image).
    assumptions : list of str
        The cost count's assumptions, printed under figure 7.
    example : dict
        From :func:`brainsim.comparison.record_example`.

    Returns
    -------
    list of str
        Names of the figures written (without extension).
    """
    import matplotlib.pyplot as plt

    from brainsim import plotting

    out = Path(out)
    plotting.apply_style()
    shape = data.image_shape
    N = snn.n_neurons
    written = []

    # 1. receptive fields
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8))
    plotting.plot_receptive_fields(
        snn.weights_, shape, ax=axes[0], cbar_label="Synaptic weight (0..1)",
        title=f"Spiking network: input synapses\n({N} excitatory neurons, STDP)")
    W = fitted["ann_matched"].coefs_[0]
    lim = float(np.abs(W).max()) or 1.0
    plotting.plot_receptive_fields(
        W, shape, ax=axes[1], cmap="RdBu_r", vmin=-lim, vmax=lim,
        cbar_label="Weight (a.u., signed)",
        title=f"Matched MLP: first-layer weights\n({W.shape[1]} hidden units, backprop)")
    plotting.plot_receptive_fields(
        fitted["kmeans_assign"].prototypes_.T, shape, ax=axes[2], cmap="gray_r",
        cbar_label="Pixel value (0..1)",
        title=f"k-means prototypes\n({N} centres, no labels)")
    fig.suptitle("Figure 1. What each unit responds to: its input weights drawn as an image")
    written.append(COMPARE_FIGURES[0])
    save_figure(fig, out, COMPARE_FIGURES[0])

    # 2. confusion matrices
    names = [n for n in MODEL_ORDER if n in results]
    ncols = 3
    nrows = int(np.ceil(len(names) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 4.2 * nrows))
    axes = np.atleast_1d(axes).ravel()
    for ax, name in zip(axes, names):
        plotting.plot_confusion_matrix(data.y_test, results[name]["y_pred"], data.n_classes,
                                       ax=ax, title=_title(name, results),
                                       colorbar=False)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    fig.suptitle(f"Figure 2. Confusion matrices on {len(data.y_test)} test images "
                 "(% of each true class; rows: true, columns: predicted)")
    fig.tight_layout()
    written.append(COMPARE_FIGURES[1])
    save_figure(fig, out, COMPARE_FIGURES[1])

    # 3. activity
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5))
    counts = test.counts
    top = int(counts.max()) if counts.size else 1
    plotting.plot_activity_histogram(
        counts, ax=axes[0, 0], log=True, bins=np.arange(-0.5, top + 1.5, 1.0), density=False,
        xlabel="Spikes per neuron per image",
        title=f"Spiking network ({N} neurons)")
    plotting.plot_activity_histogram(
        {MODEL_LABELS[n]: activities[n]["values"] for n in ("article_mlp", "ann_matched")},
        ax=axes[0, 1], log=True, bins=40, density=False,
        xlabel="ReLU output per hidden unit per image (a.u.)",
        title="ANN hidden layers")
    pop = {MODEL_LABELS[n]: population_sparsity(a["values"]) for n, a in activities.items()}
    life = {MODEL_LABELS[n]: lifetime_sparsity(a["values"]) for n, a in activities.items()}
    plotting.plot_sparsity(pop, ax=axes[1, 0], ylabel="Fraction of units active per image",
                           title="Population sparsity (lower = sparser)")
    plotting.plot_sparsity(life, ax=axes[1, 1],
                           ylabel="Fraction of images that activate a unit",
                           title="Lifetime sparsity (lower = more selective)")
    for ax in axes[1]:
        ax.set_ylim(-0.02, 1.02)
        ax.tick_params(axis="x", labelrotation=15)
    fig.suptitle("Figure 3. Activity on the test images: spikes vs ReLU activations "
                 "(k-means: one winner per image)")
    fig.tight_layout()
    written.append(COMPARE_FIGURES[2])
    save_figure(fig, out, COMPARE_FIGURES[2])

    # 4. one image through the spiking network and the ANN
    rec, idx = example["record"], example["index"]
    t_max = rec["t"][-1] if len(rec["t"]) else snn.presentation_time
    fig = plt.figure(figsize=(13, 8.5))
    gs = fig.add_gridspec(3, 2, width_ratios=[1.7, 1.0], height_ratios=[1.4, 1.0, 1.3],
                          hspace=0.45, wspace=0.3)
    ax_in = fig.add_subplot(gs[0, 0])
    ax_exc = fig.add_subplot(gs[1, 0], sharex=ax_in)
    ax_v = fig.add_subplot(gs[2, 0], sharex=ax_in)
    plotting.plot_raster(rec["input_spikes"][1], rec["input_spikes"][0], ax=ax_in,
                         t_max=t_max, n_neurons=int(np.prod(shape)), ylabel="Input pixel",
                         title="Input: Poisson spikes, rate = pixel / 4 Hz")
    n_exc = len(rec["exc_spikes"][0])
    plotting.plot_raster(rec["exc_spikes"][1], rec["exc_spikes"][0], ax=ax_exc, t_max=t_max,
                         n_neurons=N, ylabel="Excitatory neuron", marker_size=7.0,
                         color="tab:red",
                         title=f"Excitatory layer: {n_exc} spike{'s' if n_exc != 1 else ''}")
    winners = most_active(rec["counts"], rec["v"], rec["threshold"])
    plotting.plot_traces(
        rec["t"], rec["v"][winners] * 1e3, ax=ax_v,
        labels=[f"neuron {k}, {int(rec['counts'][k])} spikes" for k in winners],
        threshold=np.broadcast_to(rec["threshold"][winners][:, None] * 1e3,
                                  (len(winners), len(rec["t"]))),
        title="Membrane potential (solid) and adaptive threshold (dashed) of the most active "
              "neurons")
    ax_v.legend(loc="lower right", ncol=2, fontsize=7)
    for ax in (ax_in, ax_exc):
        ax.set_xlabel("")
    gs_right = gs[:, 1].subgridspec(3, 1, height_ratios=[1.3, 1.0, 1.0], hspace=0.6)
    ax_img = fig.add_subplot(gs_right[0])
    plotting.plot_receptive_fields(
        data.X_test[idx].reshape(-1, 1).astype(float), shape, ax=ax_img, cmap="gray_r",
        cbar_label="Pixel value (0..255)",
        title=f"Test image {idx} (class {data.class_names[data.y_test[idx]]})")
    ax_h = fig.add_subplot(gs_right[1])
    plotting.plot_activations_bar(
        example["hidden"], ax=ax_h, ylabel="ReLU output (a.u.)", xlabel="Hidden unit",
        title=f"Matched MLP hidden layer: {int(np.count_nonzero(example['hidden']))} of "
              f"{len(example['hidden'])} units active")
    ax_s = fig.add_subplot(gs_right[2])
    plotting.plot_activations_bar(
        example["counts"], ax=ax_s, ylabel="Spikes", xlabel="Excitatory neuron",
        title=f"Spiking network (test run): {int(np.count_nonzero(example['counts']))} of "
              f"{len(example['counts'])} neurons fired", color="tab:red")
    fig.suptitle("Figure 4. One image through the spiking network (left) and its ANN "
                 "activations (right)")
    written.append(COMPARE_FIGURES[3])
    save_figure(fig, out, COMPARE_FIGURES[3])

    # 5. learning curves
    written.append(learning_curves_figure(curves, data.n_classes, out))

    # 6. CKA
    labels = [cka["labels"][n] for n in cka["names"]]
    fig, ax = plt.subplots(figsize=(7.5, 6))
    plotting.plot_cka_matrix(labels, np.array(cka["matrix"], dtype=float), ax=ax,
                             title=f"Figure 6. Linear CKA between representations of "
                                   f"{cka['n_images']} test images")
    written.append(COMPARE_FIGURES[5])
    save_figure(fig, out, COMPARE_FIGURES[5])

    # 7. cost
    fig = plt.figure(figsize=(10, 7.8))
    ax = fig.add_axes([0.08, 0.42, 0.9, 0.5])
    plotting.plot_cost(costs, ax=ax, ylabel="Operations per test image (log scale)",
                       title="Figure 7. Cost of one inference: synaptic events (SNN) vs "
                             "multiply-accumulates (ANNs)")
    ax.tick_params(axis="x", labelrotation=20)
    notes = "\n".join(f"- {a}" for a in assumptions)
    import textwrap

    wrapped = "\n".join(textwrap.fill(line, 150, subsequent_indent="  ")
                        for line in notes.splitlines())
    fig.text(0.02, 0.02, "Assumptions:\n" + wrapped, fontsize=7, va="bottom", ha="left")
    written.append(COMPARE_FIGURES[6])
    save_figure(fig, out, COMPARE_FIGURES[6])
    return written


def learning_curves_figure(curves: Mapping[str, Mapping[str, Any]], n_classes: int,
                           out: str | os.PathLike, *, name: str = COMPARE_FIGURES[4],
                           title: str = "Figure 5. Test accuracy vs number of training images",
                           ) -> str:
    """Test accuracy against training images, one line per model, saved as ``name``.

    Parameters
    ----------
    curves : mapping
        Model name -> {"n_train": [...], "test_accuracy": [...]} (fractions),
        optionally with "test_accuracy_sd": [...] (standard deviation over
        seeds), drawn as error bars (+- 1 sd) and a shaded band.
    n_classes : int
        For the chance level.
    out : path
        Folder.

    Returns
    -------
    str
        ``name``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    from brainsim import plotting

    plotting.apply_style()
    fig, ax = plt.subplots(figsize=(7, 4.8))
    shown = {n: c for n, c in curves.items() if c["n_train"]}
    plotting.plot_learning_curves(
        {MODEL_LABELS.get(n, n): (c["n_train"], c["test_accuracy"])
         + ((c["test_accuracy_sd"],) if c.get("test_accuracy_sd") is not None else ())
         for n, c in shown.items()},
        ax=ax, chance=1.0 / n_classes, xlabel="Training images", title=title)
    for line, c in zip(ax.get_lines(), shown.values()):
        if c.get("test_accuracy_sd") is not None:
            ax.errorbar(c["n_train"], 100 * np.asarray(c["test_accuracy"], dtype=float),
                        yerr=100 * np.asarray(c["test_accuracy_sd"], dtype=float),
                        fmt="none", ecolor=line.get_color(), capsize=3, linewidth=1)
    sizes = sorted({n for c in shown.values() for n in c["n_train"]})
    ax.set_xticks(sizes)
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5))
    save_figure(fig, out, name)
    return name


def rules_figure(weights: Mapping[str, np.ndarray], accuracy: Mapping[str, float],
                 image_shape: tuple, out_dir: str | os.PathLike) -> list[str]:
    """The learned weights of every rule side by side (``receptive_fields_rules``).

    Parameters
    ----------
    weights : mapping
        Rule -> input weights, shape (n_inputs, n_neurons).
    accuracy : mapping
        Rule -> test accuracy (fraction), shown in the titles.
    image_shape : tuple
        Shape of one input image.
    out_dir : path

    Returns
    -------
    list of str
        Paths of the PNG and PDF written.
    """
    import matplotlib.pyplot as plt

    from brainsim import plotting

    plotting.apply_style()
    fig, axes = plt.subplots(1, len(weights), figsize=(4.2 * len(weights), 4.4), squeeze=False)
    for ax, (rule, w) in zip(axes[0], weights.items()):
        plotting.plot_receptive_fields(w, image_shape, ax=ax, colorbar=False,
                                       title=f"{rule} ({100 * accuracy[rule]:.1f} %)")
    return [str(p) for p in save_figure(fig, out_dir, "receptive_fields_rules")]
