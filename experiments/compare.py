#!/usr/bin/env python3
"""Train the spiking network and the ANNs on the same images and compare them.

Models (names as in every metrics.json), all trained on the same split with
the same seed:

- ``snn``: the Diehl & Cook (2015) spiking network, ``--n-neurons`` excitatory
  neurons, unsupervised STDP (``--rule``), neurons labelled afterwards;
- ``article_mlp``: the article's dense network (784-32-10 on MNIST, 64-32-10
  on ``digits``), backpropagation with Adam;
- ``ann_matched``: the same recipe with ``--n-neurons`` hidden units;
- ``logreg``: logistic regression on the pixels;
- ``kmeans_assign``: ``--n-neurons`` k-means prototypes learned without labels,
  winner-take-all and the spiking network's label assignment;
- ``kmeans_logreg``: the same prototypes with a logistic-regression read-out.

Writes into ``--out``: ``metrics.json`` (accuracy, per-class accuracy,
training time and size of every model; activity measures, representational
similarity and cost per inference), seven figures as PNG and PDF
(``fig1_receptive_fields`` ... ``fig7_cost``) and ``report.md``, which embeds
them and explains each comparison.

The learning curve (figure 5) costs one training of the spiking network: it
learns in stages up to each of ``--learning-curve-points`` and is labelled and
tested after each stage; the ANNs are trained afresh at each size.

With the C++ standalone back end the two compiled networks (learning and
inference) are built in the background while the ANNs train; they are cached
(``~/.cache/brainsim/standalone``, or ``$BRAINSIM_CACHE``), so later runs
start at once.

Examples::

    python experiments/compare.py                      # digits, about 3 minutes
    python experiments/compare.py --dataset mnist --data-dir ../shared/data/mnist \\
        --n-neurons 100 --n-train 10000 --n-test 10000
"""

from __future__ import annotations

import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from ann.competitive import KMeansAssignmentClassifier
from ann.models import (
    article_mlp,
    hidden_activations,
    images_to_features,
    logistic_regression,
    matched_mlp,
)
from brainsim.analysis import (
    ann_macs,
    cka_matrix,
    count_active,
    lifetime_sparsity,
    per_class_accuracy,
    population_sparsity,
    synaptic_events,
    treves_rolls_sparsity,
)
from brainsim.cli import (
    check_config,
    load_dataset_from_args,
    make_parser,
    positive_int,
    run_script,
    save_figure,
    write_metrics,
)
from brainsim.report import MODEL_LABELS, MODEL_ORDER, write_report

#: Figure names, in the issue's order.
FIGURES = (
    "fig1_receptive_fields",
    "fig2_confusion_matrices",
    "fig3_activity",
    "fig4_example_response",
    "fig5_learning_curves",
    "fig6_cka",
    "fig7_cost",
)

#: Fractions of the training set used as learning-curve points by default.
DEFAULT_CURVE_FRACTIONS = (0.1, 0.3, 1.0)

#: Time step of the simulation in seconds (brainsim.model.dt), for the cost notes.
SIM_DT = 0.5e-3

ANN_NAMES = ("article_mlp", "ann_matched", "logreg", "kmeans_assign", "kmeans_logreg")


def build_parser():
    """The shared options plus the network's and the comparison's."""
    from brainsim.plasticity import DEFAULT_RULE, RULES

    parser = make_parser(__doc__.splitlines()[0], default_out="compare")
    parser.add_argument("--n-neurons", type=positive_int, default=100,
                        help="excitatory neurons of the SNN = hidden units of ann_matched = "
                             "k-means prototypes")
    parser.add_argument("--rule", choices=sorted(RULES), default=DEFAULT_RULE,
                        help="STDP rule of the SNN (see brainsim/plasticity.py)")
    parser.add_argument("--n-train", type=positive_int, default=None,
                        help="training images (default: all)")
    parser.add_argument("--n-test", type=positive_int, default=None,
                        help="test images (default: all)")
    parser.add_argument("--n-assign", type=positive_int, default=None,
                        help="training images used to label the SNN's neurons (default: all "
                             "images learned so far)")
    parser.add_argument("--backend", choices=("standalone", "runtime", "cython"),
                        default="standalone",
                        help="SNN simulation: compiled C++ (fast) or Brian2 runtime mode "
                             "(no compiler, slow)")
    parser.add_argument("--learning-curve-points", type=positive_int, nargs="+", default=None,
                        metavar="N",
                        help="training sizes of the learning curves (figure 5); default: "
                             "10 %%, 30 %% and 100 %% of the training images")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return parser


# --------------------------------------------------------------------------- measures
def _clean(value):
    """NaN and inf -> None (strict JSON); numpy scalars and arrays -> Python."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    return value


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


def snn_cost(result, n_neurons: int, presentation_time: float) -> dict:
    """Synaptic events per test image of the spiking network.

    ``events = input spikes x N + excitatory spikes x 1 + inhibitory spikes x (N - 1)``
    (see :func:`brainsim.analysis.synaptic_events`), from the spikes counted
    over all presentations of each image, retries included.

    Parameters
    ----------
    result : InferenceResult
        From ``DiehlCookSNN.respond`` (fields input_spikes, exc_spikes,
        inh_spikes, presentations: one value per image).
    n_neurons : int
        Excitatory neurons N.
    presentation_time : float
        Seconds per presentation (for the count of neuron updates).

    Returns
    -------
    dict
        ``per_image`` (mean events), ``per_image_std``, ``unit``, the mean
        spikes of each layer, ``presentations_per_image`` and
        ``neuron_updates_per_image`` (2N neurons x time steps of the
        presentations; clock-driven work not counted as events).
    """
    events = np.atleast_1d(synaptic_events(result.input_spikes, result.exc_spikes,
                                           result.inh_spikes, n_neurons))
    presentations = np.asarray(result.presentations, dtype=np.float64)
    steps = presentation_time / SIM_DT
    return {
        "per_image": float(events.mean()),
        "per_image_std": float(events.std()),
        "unit": "synaptic events",
        "input_spikes_per_image": float(np.mean(result.input_spikes)),
        "exc_spikes_per_image": float(np.mean(result.exc_spikes)),
        "inh_spikes_per_image": float(np.mean(result.inh_spikes)),
        "presentations_per_image": float(presentations.mean()),
        "neuron_updates_per_image": float(2 * n_neurons * steps * presentations.mean()),
        "per_image_values": events,
    }


def ann_cost(layer_sizes: list[int], active_inputs: list[np.ndarray] | None = None) -> dict:
    """MACs per inference of a dense network, all inputs and non-zero inputs only."""
    dense = ann_macs(layer_sizes)
    cost = {"per_image": float(dense), "unit": "MACs", "layer_sizes": list(layer_sizes)}
    if active_inputs is not None:
        active = np.atleast_1d(ann_macs(layer_sizes, n_active=active_inputs))
        cost["active_inputs_per_image"] = float(active.mean())
        cost["active_values"] = active
    return cost


def cost_assumptions(n_neurons: int, n_inputs: int, presentation_time: float) -> list[str]:
    """The assumptions behind the cost counts, in words."""
    steps = int(round(presentation_time / SIM_DT))
    return [
        f"SNN: one synaptic event is one spike arriving at one synapse (one weight added to a "
        f"conductance). Input -> excitatory is all-to-all, so every input spike costs "
        f"N = {n_neurons} events; excitatory -> inhibitory is one-to-one (1 event per "
        f"excitatory spike); inhibitory -> excitatory reaches all other excitatory neurons "
        f"(N - 1 = {n_neurons - 1} events per inhibitory spike) (Diehl & Cook 2015, section 2.2).",
        "SNN: spikes are counted over every presentation of a test image, including the "
        "repeats at higher input rate when fewer than 5 excitatory spikes occurred, and the "
        "simulated part of the resting period.",
        f"SNN: the clock-driven update of the 2N = {2 * n_neurons} neuron states at every "
        f"0.5 ms time step ({steps} steps per presentation) is not counted as events; it is "
        "reported separately as neuron_updates_per_image in metrics.json.",
        f"ANN: a dense layer from a to b units costs a x b multiply-accumulates (MACs); biases, "
        f"ReLU and softmax are not counted. Input size {n_inputs} pixels.",
        "ANN 'non-zero inputs only': only non-zero pixels and non-zero ReLU outputs are "
        "multiplied, the event-driven counterpart of counting only spikes that happen.",
        "k-means: the distance of an image to each prototype costs one MAC per pixel and "
        "prototype (n_inputs x N); the argmin is not counted; kmeans_logreg adds the logistic "
        "read-out's N x classes MACs.",
        "A synaptic event (an addition) is cheaper in hardware than a MAC (a multiplication "
        "and an addition); the counts are compared as numbers of operations, not energy.",
    ]


# --------------------------------------------------------------------------- models
def _prebuild_standalone(snn, n_features: int, timings: dict) -> list[threading.Thread]:
    """Compile the learning and the inference network in a background thread.

    ``DiehlCookSNN.compile`` builds both in child processes; a build already in
    the cache returns at once. Errors are ignored here: the estimator builds
    again when it needs the network and reports them itself.
    """

    def build():
        start = time.perf_counter()
        try:
            for name, seconds in snn.compile(n_features).items():
                timings[f"build_{name}"] = seconds
        except Exception:  # noqa: BLE001 - reported by the estimator's own build
            pass
        timings["build_wall"] = time.perf_counter() - start

    thread = threading.Thread(target=build, daemon=True)
    thread.start()
    return [thread]


def _make_ann(name: str, n_neurons: int, seed: int):
    if name == "article_mlp":
        return article_mlp(random_state=seed)
    if name == "ann_matched":
        return matched_mlp(n_neurons, random_state=seed)
    if name == "logreg":
        return logistic_regression(random_state=seed)
    if name == "kmeans_assign":
        return KMeansAssignmentClassifier(n_neurons, readout="assign", random_state=seed)
    if name == "kmeans_logreg":
        return KMeansAssignmentClassifier(n_neurons, readout="logreg", random_state=seed)
    raise ValueError(name)


def _fit_quietly(model, X, y):
    with warnings.catch_warnings():
        # k-means on tiny subsets may find fewer distinct points than clusters.
        warnings.simplefilter("ignore", category=UserWarning)
        from sklearn.exceptions import ConvergenceWarning

        warnings.simplefilter("ignore", category=ConvergenceWarning)
        return model.fit(X, y)


def train_anns(data, X_train, X_test, points: list[int], args) -> tuple[dict, dict, dict]:
    """Fit every ANN on the full training set and on each learning-curve size.

    Returns
    -------
    fitted : dict name -> fitted model (full training set)
    results : dict name -> metrics entry
    curves : dict name -> {"n_train": [...], "test_accuracy": [...]}
    """
    fitted, results, curves = {}, {}, {}
    n = len(X_train)
    for name in ANN_NAMES:
        curves[name] = {"n_train": [], "test_accuracy": []}
        for p in points:
            if name.startswith("kmeans") and p < args.n_neurons:
                continue  # k-means needs at least as many images as prototypes
            model = _make_ann(name, args.n_neurons, args.seed)
            t0 = time.perf_counter()
            _fit_quietly(model, X_train[:p], data.y_train[:p])
            seconds = time.perf_counter() - t0
            y_pred = model.predict(X_test)
            acc = float(np.mean(y_pred == data.y_test))
            curves[name]["n_train"].append(int(p))
            curves[name]["test_accuracy"].append(acc)
            if p == n:
                fitted[name] = model
                results[name] = {
                    "test_accuracy": acc,
                    "per_class_accuracy": per_class_accuracy(data.y_test, y_pred, data.n_classes),
                    "train_seconds": seconds,
                    "n_train": int(n),
                    "n_test": int(len(X_test)),
                    "y_pred": y_pred,
                }
                if hasattr(model, "hidden_layer_sizes"):
                    results[name]["architecture"] = [X_train.shape[1], *model.hidden_layer_sizes,
                                                     int(model.n_outputs_)]
                    results[name]["epochs"] = int(model.n_iter_)
        print(f"{name:14s} test accuracy {100 * results[name]['test_accuracy']:6.2f} %  "
              f"(fit {results[name]['train_seconds']:.1f} s)", flush=True)
    return fitted, results, curves


def train_snn(snn, data, points: list[int], n_assign: int | None):
    """Learn in stages up to each point; label the neurons and test after each stage.

    Returns the test InferenceResult and predictions of the final network, the
    learning curve, and the seconds spent in the final label assignment.
    """
    curve = {"n_train": [], "test_accuracy": []}
    previous = 0
    test = y_pred = None
    assign_seconds = test_seconds = 0.0
    for p in points:
        snn.partial_fit(data.X_train[previous:p])
        previous = p
        k = p if n_assign is None else min(n_assign, p)
        t0 = time.perf_counter()
        snn.assign(data.X_train[:k], data.y_train[:k])
        assign_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        test = snn.respond(data.X_test, desc=f"test after {p} images")
        test_seconds = time.perf_counter() - t0
        y_pred = snn.predict_from_counts(test.counts)
        acc = float(np.mean(y_pred == data.y_test))
        curve["n_train"].append(int(p))
        curve["test_accuracy"].append(acc)
        print(f"snn after {p:6d} training images: test accuracy {100 * acc:6.2f} %", flush=True)
    return test, y_pred, curve, assign_seconds, test_seconds


def record_example(snn, data, test, y_pred, y_pred_ann, hidden, max_tries: int = 3) -> dict:
    """Record one test image for figure 4.

    Prefers an image that the spiking network and the matched MLP both classify
    correctly and that needed a single presentation in the test run (one at the
    starting rate, which is what ``record_example`` simulates); tries up to
    ``max_tries`` such images until the recording has excitatory spikes.
    """
    ok = (y_pred == data.y_test) & (y_pred_ann == data.y_test)
    single = np.asarray(test.presentations) == 1
    candidates = [int(i) for i in np.nonzero(ok & single)[0]]
    candidates += [int(i) for i in np.nonzero(ok & ~single)[0]]
    candidates += [i for i in range(len(data.y_test)) if i not in set(candidates)]
    rec, idx = None, candidates[0]
    for idx in candidates[:max_tries]:
        rec = snn.record_example(data.X_test[idx])
        if len(rec["exc_spikes"][0]):
            break
    return {"index": idx, "record": rec, "hidden": hidden[idx], "counts": test.counts[idx]}


def most_active(counts: np.ndarray, v: np.ndarray, threshold: np.ndarray, k: int = 3) -> np.ndarray:
    """Indices of the ``k`` neurons with most spikes; ties broken by how close each
    neuron's membrane potential came to its threshold (highest ``max(v) - threshold``)."""
    closeness = np.max(v, axis=1) - threshold if v.size else np.zeros(len(counts))
    order = np.lexsort((-closeness, -np.asarray(counts)))
    return order[:k]


def curve_points(requested: list[int] | None, n_train: int) -> list[int]:
    """Sorted distinct training sizes ending with ``n_train``."""
    if requested:
        too_big = [p for p in requested if p > n_train]
        check_config(not too_big,
                     f"--learning-curve-points {', '.join(map(str, too_big))} exceed the "
                     f"{n_train} training images; use sizes up to {n_train}")
        points = set(requested)
    else:
        points = {max(1, int(round(f * n_train))) for f in DEFAULT_CURVE_FRACTIONS}
    points.add(n_train)
    return sorted(points)


# --------------------------------------------------------------------------- figures
def _title(name: str, results: dict) -> str:
    return f"{MODEL_LABELS.get(name, name)}\n{100 * results[name]['test_accuracy']:.1f} % correct"


def make_figures(out: Path, data, snn, fitted, results, test, activities, cka, curves,
                 costs, assumptions, example) -> list[str]:
    """Draw and save figures 1-7; returns their names (without extension)."""
    import matplotlib.pyplot as plt

    from brainsim import plotting

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
    written.append(FIGURES[0])
    save_figure(fig, out, FIGURES[0])

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
    written.append(FIGURES[1])
    save_figure(fig, out, FIGURES[1])

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
    written.append(FIGURES[2])
    save_figure(fig, out, FIGURES[2])

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
    written.append(FIGURES[3])
    save_figure(fig, out, FIGURES[3])

    # 5. learning curves
    fig, ax = plt.subplots(figsize=(7, 4.8))
    plotting.plot_learning_curves(
        {MODEL_LABELS[n]: (c["n_train"], c["test_accuracy"]) for n, c in curves.items()
         if c["n_train"]},
        ax=ax, chance=1.0 / data.n_classes, xlabel="Training images",
        title="Figure 5. Test accuracy vs number of training images")
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    sizes = sorted({n for c in curves.values() for n in c["n_train"]})
    ax.set_xticks(sizes)
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5))
    written.append(FIGURES[4])
    save_figure(fig, out, FIGURES[4])

    # 6. CKA
    labels = [cka["labels"][n] for n in cka["names"]]
    fig, ax = plt.subplots(figsize=(7.5, 6))
    plotting.plot_cka_matrix(labels, np.array(cka["matrix"], dtype=float), ax=ax,
                             title=f"Figure 6. Linear CKA between representations of "
                                   f"{cka['n_images']} test images")
    written.append(FIGURES[5])
    save_figure(fig, out, FIGURES[5])

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
    written.append(FIGURES[6])
    save_figure(fig, out, FIGURES[6])
    return written


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    """Train, compare, draw and write results; returns the exit status."""
    args = build_parser().parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)  # fail early on an unusable --out
    timings: dict[str, float] = {}
    t_start = time.perf_counter()

    t0 = time.perf_counter()
    data = load_dataset_from_args(args, n_train=args.n_train, n_test=args.n_test)
    timings["load_data"] = time.perf_counter() - t0
    n_train, n_test = len(data.y_train), len(data.y_test)
    check_config(args.n_neurons >= 2, "--n-neurons must be at least 2 (lateral inhibition "
                                      "needs two neurons)")
    check_config(n_train >= args.n_neurons,
                 f"--n-train {n_train} is smaller than --n-neurons {args.n_neurons}; k-means "
                 "needs at least one training image per prototype")
    check_config(len(np.unique(data.y_train)) >= 2,
                 f"--n-train {args.n_train} leaves fewer than 2 classes to learn; use more images")
    check_config(n_test >= 2, "--n-test must be at least 2 (similarities need two images)")
    points = curve_points(args.learning_curve_points, n_train)
    print(f"{data.name}: {n_train} training and {n_test} test images of "
          f"{data.image_shape[0]}x{data.image_shape[1]} pixels"
          + (f" (from {data.source})" if data.source else "")
          + f"; learning-curve points {points}", flush=True)

    from brainsim.classifier import DiehlCookSNN

    snn = DiehlCookSNN(n_neurons=args.n_neurons, learning_rule=args.rule,
                       backend=args.backend, progress=not args.no_progress,
                       random_state=args.seed)
    X_train, X_test = images_to_features(data.X_train), images_to_features(data.X_test)
    builders = []
    if args.backend == "standalone":
        builders = _prebuild_standalone(snn, X_train.shape[1], timings)

    # ANNs first: they train while the spiking network compiles. One BLAS/OpenMP
    # thread each, so that they do not fight the compiler for the cores.
    from threadpoolctl import threadpool_limits

    t0 = time.perf_counter()
    with threadpool_limits(limits=1 if builders else None):
        fitted, results, curves = train_anns(data, X_train, X_test, points, args)
    timings["ann_models"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    test, y_pred, snn_curve, assign_s, test_s = train_snn(snn, data, points, args.n_assign)
    timings["snn_total"] = time.perf_counter() - t0
    timings["snn_stdp"] = snn.timings_.get("train", 0.0)
    timings["snn_test"] = test_s
    for t in builders:
        t.join()
    results["snn"] = {
        "test_accuracy": float(np.mean(y_pred == data.y_test)),
        "per_class_accuracy": per_class_accuracy(data.y_test, y_pred, data.n_classes),
        "train_seconds": snn.timings_.get("train", 0.0) + assign_s,
        "stdp_seconds": snn.timings_.get("train", 0.0),
        "assign_seconds": assign_s,
        "n_train": int(n_train),
        "n_test": int(n_test),
        "n_assign": int(snn.n_assign_),
        "n_neurons": int(args.n_neurons),
        "rule": args.rule,
        "training_presentations": int(snn.training_presentations_),
        "unassigned_neurons": int(np.sum(snn.assignments_ < 0)),
        "test_images_per_s": n_test / test_s if test_s else None,
        "y_pred": y_pred,
    }
    curves = {"snn": snn_curve, **curves}
    print(f"{'snn':14s} test accuracy {100 * results['snn']['test_accuracy']:6.2f} %  "
          f"(STDP {results['snn']['stdp_seconds']:.1f} s + labelling {assign_s:.1f} s)",
          flush=True)

    # Activity, similarity and cost on the test images.
    t0 = time.perf_counter()
    hidden = {n: hidden_activations(fitted[n], X_test) for n in ("article_mlp", "ann_matched")}
    kmeans_onehot = fitted["kmeans_assign"].transform(X_test)
    activities = {
        "snn": {"values": test.counts.astype(float), "unit": "spikes per neuron per image"},
        "article_mlp": {"values": hidden["article_mlp"], "unit": "ReLU output (a.u.)"},
        "ann_matched": {"values": hidden["ann_matched"], "unit": "ReLU output (a.u.)"},
        "kmeans_assign": {"values": kmeans_onehot, "unit": "winner-take-all (0 or 1)"},
    }
    for name, act in activities.items():
        results[name]["activity"] = activity_summary(act["values"], act["unit"])

    reps = {
        "pixels": X_test,
        "snn": test.counts.astype(float),
        "article_mlp": hidden["article_mlp"],
        "ann_matched": hidden["ann_matched"],
        "kmeans_assign": fitted["kmeans_assign"].distances(X_test),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a silent network gives nan
        names, matrix = cka_matrix(reps)
    cka = {
        "names": names,
        "labels": {"pixels": "pixels", "snn": "SNN spike counts",
                   "article_mlp": "article MLP hidden", "ann_matched": "matched MLP hidden",
                   "kmeans_assign": "k-means distances"},
        "matrix": matrix,
        "n_images": int(n_test),
        "method": "linear CKA (Kornblith et al. 2019) over the test images",
    }

    d, C, N = X_test.shape[1], data.n_classes, args.n_neurons
    pixels_on = count_active(X_test)
    results["snn"]["cost"] = snn_cost(test, N, float(snn.presentation_time))
    results["article_mlp"]["cost"] = ann_cost(
        results["article_mlp"]["architecture"], [pixels_on, count_active(hidden["article_mlp"])])
    results["ann_matched"]["cost"] = ann_cost(
        results["ann_matched"]["architecture"], [pixels_on, count_active(hidden["ann_matched"])])
    results["logreg"]["cost"] = ann_cost([d, C], [pixels_on])
    results["kmeans_assign"]["cost"] = ann_cost([d, N])
    results["kmeans_logreg"]["cost"] = ann_cost([d, N, C])
    assumptions = cost_assumptions(N, d, float(snn.presentation_time))
    cost_bars = {
        "SNN\nsynaptic events": results["snn"]["cost"]["per_image_values"],
        "article MLP\nMACs": results["article_mlp"]["cost"]["per_image"],
        "article MLP MACs\n(non-zero inputs)": results["article_mlp"]["cost"]["active_values"],
        "matched MLP\nMACs": results["ann_matched"]["cost"]["per_image"],
        "matched MLP MACs\n(non-zero inputs)": results["ann_matched"]["cost"]["active_values"],
        "logistic regr.\nMACs": results["logreg"]["cost"]["per_image"],
        "k-means\nMACs": results["kmeans_assign"]["cost"]["per_image"],
    }
    timings["analysis"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    example = record_example(snn, data, test, y_pred, results["ann_matched"]["y_pred"],
                             hidden["ann_matched"])
    timings["record_example"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    figures = make_figures(out, data, snn, fitted, results, test, activities, cka, curves,
                           cost_bars, assumptions, example)
    timings["figures"] = time.perf_counter() - t0

    # metrics.json and report.md
    for entry in results.values():
        entry.pop("y_pred", None)
        cost = entry.get("cost")
        if cost:
            cost.pop("per_image_values", None)
            cost.pop("active_values", None)
    models = {name: _clean(results[name]) for name in MODEL_ORDER if name in results}
    cka_out = _clean(cka)
    timings["total"] = time.perf_counter() - t_start
    config = dict(vars(args))
    config["learning_curve_points"] = points
    config["presentation_time"] = float(snn.presentation_time)
    dataset = {"name": data.name, "n_train": n_train, "n_test": n_test,
               "image_shape": list(data.image_shape), "n_classes": int(data.n_classes),
               "class_names": [str(c) for c in data.class_names], "source": data.source}
    extra = dict(dataset=dataset, cka=cka_out, learning_curves=_clean(curves),
                 cost_assumptions=assumptions, figures=list(figures))
    path = write_metrics(out, models=models, config=config, timings=timings, **extra)
    metrics = {"models": models, "config": config, "timings": timings, **extra}
    from brainsim.cli import library_versions

    metrics["versions"] = library_versions()
    report = write_report(metrics, figures, out)
    print(f"wrote {path}, {report} and {len(figures)} figures (PNG + PDF) in "
          f"{timings['total']:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    run_script(main, sys.argv[1:])
