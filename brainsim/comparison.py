"""The comparison of the spiking network with ANNs: training loops and measures.

:func:`brainsim.experiment.compare_experiment` is the entry point; this module
holds its steps. One seed (:func:`compare_one_seed`):

1. load the data; fit every ANN on the full training set and on each
   learning-curve size (while the spiking network compiles in the background);
2. let the spiking network learn in stages up to each learning-curve size,
   labelling and testing it after each stage (:func:`train_snn_stages`);
3. activity (:mod:`brainsim.activity`), representational similarity (linear
   CKA) and cost per inference (:mod:`brainsim.cost`) on the test images;
4. figures 1-7 (:func:`brainsim.figures.compare_figures`), metrics.json and
   report.md.

Several seeds (:func:`compare_seeds`): step 1-4 once per seed, each in its own
folder, then mean, standard deviation and paired gaps over the seeds
(:mod:`brainsim.seeds`).
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from brainsim.errors import ConfigError
from brainsim.experiment import (fit_and_score, load_experiment_data, logreg_readout_entry,
                                 snn_kwargs, to_json, write_result)

__all__ = [
    "ANN_NAMES",
    "DEFAULT_CURVE_FRACTIONS",
    "compare_one_seed",
    "compare_seeds",
    "curve_points",
    "record_example",
    "train_anns",
    "train_snn_stages",
]

#: Fractions of the training set used as learning-curve points by default.
DEFAULT_CURVE_FRACTIONS = (0.1, 0.3, 1.0)

#: The ANNs of the comparison, in training order.
ANN_NAMES = ("article_mlp", "ann_matched", "logreg", "kmeans_assign", "kmeans_logreg")

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def curve_points(requested: list[int] | None, n_train: int) -> list[int]:
    """Sorted distinct training sizes ending with ``n_train``.

    Default: 10 %, 30 % and 100 % of the training images.

    Raises
    ------
    ConfigError
        A requested size exceeds ``n_train``.
    """
    if requested:
        too_big = [p for p in requested if p > n_train]
        if too_big:
            raise ConfigError(
                f"learning-curve points {', '.join(map(str, too_big))} exceed the "
                f"{n_train} training images; use sizes up to {n_train}")
        points = set(requested)
    else:
        points = {max(1, int(round(f * n_train))) for f in DEFAULT_CURVE_FRACTIONS}
    points.add(n_train)
    return sorted(points)


def _prebuild_standalone(snns: list, n_features: int, timings: dict,
                         n_images: int | None = None) -> threading.Thread:
    """Compile the learning and the inference networks of ``snns`` in a background thread.

    ``DiehlCookSNN.compile`` builds both in child processes; a build already in
    the cache returns at once. Errors are ignored here: the estimator builds
    again when it needs the network and reports them itself.
    """

    def build():
        start = time.perf_counter()
        for i, snn in enumerate(snns):
            prefix = "build_" if i == 0 else f"build_{snn.recipe}_"
            try:
                for name, seconds in snn.compile(n_features, n_images).items():
                    timings[f"{prefix}{name}"] = seconds
            except Exception:  # noqa: BLE001 - reported by the estimator's own build
                pass
        timings["build_wall"] = time.perf_counter() - start

    thread = threading.Thread(target=build, daemon=True)
    thread.start()
    return thread


def train_anns(data, X_train: np.ndarray, X_test: np.ndarray, points: list[int],
               n_neurons: int, seed: int, log: Log = _quiet) -> tuple[dict, dict, dict]:
    """Fit every ANN on the full training set and on each learning-curve size.

    Parameters
    ----------
    data : Dataset
        Labels (``y_train``, ``y_test``) and ``n_classes``.
    X_train, X_test : ndarray
        Features (pixels / 255).
    points : list of int
        Learning-curve sizes, the last one the whole training set.
    n_neurons : int
        Hidden units of ``ann_matched`` and prototypes of k-means.
    seed : int
    log : callable

    Returns
    -------
    fitted : dict name -> fitted model (full training set)
    results : dict name -> metrics entry (with ``y_pred``)
    curves : dict name -> {"n_train": [...], "test_accuracy": [...]}
    """
    fitted, results, curves = {}, {}, {}
    n = len(X_train)
    for name in ANN_NAMES:
        curves[name] = {"n_train": [], "test_accuracy": []}
        for p in points:
            if name.startswith("kmeans") and p < n_neurons:
                continue  # k-means needs at least as many images as prototypes
            model, entry = fit_and_score(name, n_neurons, seed, X_train[:p], data.y_train[:p],
                                         X_test, data.y_test, data.n_classes)
            curves[name]["n_train"].append(int(p))
            curves[name]["test_accuracy"].append(entry["test_accuracy"])
            if p == n:
                fitted[name], results[name] = model, entry
        log(f"{name:14s} test accuracy {100 * results[name]['test_accuracy']:6.2f} %  "
            f"(fit {results[name]['train_seconds']:.1f} s)")
    return fitted, results, curves


def train_snn_stages(snn, data, points: list[int], n_assign: int | None, log: Log = _quiet):
    """Learn in stages up to each point; label the neurons and test after each stage.

    Returns
    -------
    test : InferenceResult
        The final network's responses to the test images.
    y_pred : ndarray
        Its predictions.
    curve : dict
        {"n_train": [...], "test_accuracy": [...]}.
    assign_seconds, test_seconds : float
        Of the final label assignment and test.
    """
    curve = {"n_train": [], "test_accuracy": []}
    previous = 0
    test = y_pred = None
    assign_seconds = test_seconds = 0.0
    # every stage shows its new images as often as a fit on all of them would
    # (local_plus: 3 passes over the digits training set), not one more time
    # per stage for each small part
    passes = snn.training_passes(points[-1]) if points else 1
    for p in points:
        snn.partial_fit(data.X_train[previous:p], passes=passes, total_images=points[-1])
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
        log(f"snn after {p:6d} training images: test accuracy {100 * acc:6.2f} %")
    return test, y_pred, curve, assign_seconds, test_seconds


def _naming_split(log: Log, split: str) -> Log:
    """`log` with "test accuracy" in its lines renamed to "<split> accuracy"."""
    return lambda message: log(message.replace("test accuracy", f"{split} accuracy"))


def train_other_recipes(others: Mapping[str, Any], data, cfg: Mapping[str, Any], split: str,
                        log: Log = _quiet) -> dict:
    """Train one network per further recipe on all training images; vote and read-out.

    Each network (``snn_<recipe>``) learns from the same images with the same
    seed as ``snn``, in one stage (no learning curve), is labelled on the same
    images and scored on the same test images; ``snn_<recipe>_logreg`` is the
    linear read-out of its counts (:func:`brainsim.experiment.logreg_readout_entry`).
    """
    from brainsim.analysis import per_class_accuracy

    models = {}
    n_train = len(data.y_train)
    for recipe, net in others.items():
        net.partial_fit(data.X_train, passes=net.training_passes(n_train), total_images=n_train)
        k = n_train if cfg["n_assign"] is None else min(cfg["n_assign"], n_train)
        t0 = time.perf_counter()
        net.assign(data.X_train[:k], data.y_train[:k])
        assign_s = time.perf_counter() - t0
        test = net.respond(data.X_test, desc=f"test {recipe}")
        y_pred = net.predict_from_counts(test.counts)
        name = f"snn_{recipe}"
        models[name] = {
            "test_accuracy": float(np.mean(y_pred == data.y_test)),
            "per_class_accuracy": per_class_accuracy(data.y_test, y_pred, data.n_classes),
            "train_seconds": net.timings_.get("train", 0.0) + assign_s,
            "n_train": int(n_train), "n_test": int(len(data.y_test)),
            "n_assign": int(net.n_assign_), "n_neurons": int(cfg["n_neurons"]),
            "rule": cfg["rule"], "recipe": recipe, "split": split,
            "training_presentations": int(net.training_presentations_),
            "unassigned_neurons": int(np.sum(net.assignments_ < 0)),
        }
        models[f"{name}_logreg"] = logreg_readout_entry(
            net, data.y_train[:k], test.counts, data.y_test, cfg["seed"], split)
        log(f"{name:14s} test accuracy {100 * models[name]['test_accuracy']:6.2f} %, "
            f"linear read-out {100 * models[name + '_logreg']['test_accuracy']:6.2f} %")
    return models


def recipes_figure(nets: Mapping[str, Any], models: Mapping[str, Any], image_shape: tuple,
                   out_dir: Path) -> list[str]:
    """``fig8_receptive_fields_recipes``: the learned weights of every recipe side by side."""
    import matplotlib.pyplot as plt

    from brainsim import plotting
    from brainsim.cli import save_figure

    plotting.apply_style()
    fig, axes = plt.subplots(1, len(nets), figsize=(4.4 * len(nets), 4.4), squeeze=False)
    for i, (ax, (recipe, net)) in enumerate(zip(axes[0], nets.items())):
        acc = models["snn" if i == 0 else f"snn_{recipe}"]["test_accuracy"]
        plotting.plot_receptive_fields(net.weights_, image_shape, ax=ax, colorbar=False,
                                       title=f"{recipe} ({100 * acc:.1f} %)")
    save_figure(fig, out_dir, "fig8_receptive_fields_recipes")
    return ["fig8_receptive_fields_recipes"]  # names as compare_figures returns them


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


def _check_sizes(cfg: Mapping[str, Any], n_train: int, data) -> None:
    if n_train < cfg["n_neurons"]:
        raise ConfigError(
            f"n_train {n_train} is smaller than n_neurons {cfg['n_neurons']}; k-means needs "
            "at least one training image per prototype")
    if len(np.unique(data.y_train)) < 2:
        raise ConfigError(f"n_train {n_train} leaves fewer than 2 classes to learn; "
                          "use more images")
    if len(data.y_test) < 2:
        raise ConfigError("n_test must be at least 2 (similarities need two images)")


def _analyse(results: dict, fitted: dict, test, X_test: np.ndarray, snn, n_classes: int,
             n_neurons: int) -> tuple[dict, dict, dict, list[str], dict]:
    """Activity, CKA and cost on the test images; fills ``results`` in place."""
    from ann.models import hidden_activations
    from brainsim.activity import activity_summary
    from brainsim.analysis import cka_matrix, count_active
    from brainsim.cost import ann_cost, cost_assumptions, snn_cost

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
        "n_images": int(len(X_test)),
        "method": "linear CKA (Kornblith et al. 2019) over the test images",
    }

    d, C, N = X_test.shape[1], n_classes, n_neurons
    pixels_on = count_active(X_test)
    results["snn"]["cost"] = snn_cost(test, N, float(snn.presentation_time))
    for name in ("article_mlp", "ann_matched"):
        results[name]["cost"] = ann_cost(results[name]["architecture"],
                                         [pixels_on, count_active(hidden[name])])
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
    return activities, cka, cost_bars, assumptions, hidden


def compare_one_seed(cfg: Mapping[str, Any], out_dir: str | os.PathLike | None = None, *,
                     log: Log | None = None) -> dict:
    """One comparison run with ``cfg["seed"]`` (a resolved compare config).

    Returns
    -------
    dict
        Shaped like metrics.json: ``models`` (:data:`brainsim.report.MODEL_ORDER`),
        ``config`` (with the learning-curve points and the presentation time),
        ``versions``, ``timings``, ``dataset``, ``cka``, ``learning_curves``,
        ``cost_assumptions``, ``figures``.
    """
    from threadpoolctl import threadpool_limits

    from ann.models import images_to_features
    from brainsim.analysis import per_class_accuracy
    from brainsim.classifier import DiehlCookSNN
    from brainsim.report import MODEL_ORDER, write_report

    log = log or _quiet
    cfg = dict(cfg)
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)  # fail early on an unusable folder
    timings: dict[str, float] = {}
    t_start = time.perf_counter()

    t0 = time.perf_counter()
    data, split = load_experiment_data(cfg, cfg["n_train"])
    timings["load_data"] = time.perf_counter() - t0
    n_train, n_test = len(data.y_train), len(data.y_test)
    _check_sizes(cfg, n_train, data)
    points = curve_points(cfg["learning_curve_points"], n_train)
    if split != "test":  # progress lines name the split that is scored
        log = _naming_split(log, split)
    log(f"{data.name}: {n_train} training and {n_test} test images of "
        f"{data.image_shape[0]}x{data.image_shape[1]} pixels"
        + (f" (from {data.source})" if data.source else "")
        + f"; learning-curve points {points}; seed {cfg['seed']}"
        + (f"; scored on the {split} split" if split != "test" else ""))

    snn = DiehlCookSNN(**snn_kwargs(cfg))
    others = {r: DiehlCookSNN(**dict(snn_kwargs(cfg), recipe=r)) for r in cfg["recipes"]}
    X_train, X_test = images_to_features(data.X_train), images_to_features(data.X_test)
    builder = None
    if snn.backend == "standalone":
        builder = _prebuild_standalone([snn, *others.values()], X_train.shape[1], timings,
                                        len(X_train))

    # ANNs first: they train while the spiking network compiles. One BLAS/OpenMP
    # thread each, so that they do not fight the compiler for the cores.
    t0 = time.perf_counter()
    with threadpool_limits(limits=1 if builder else None):
        fitted, results, curves = train_anns(data, X_train, X_test, points, cfg["n_neurons"],
                                             cfg["seed"], log)
    timings["ann_models"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    test, y_pred, snn_curve, assign_s, test_s = train_snn_stages(snn, data, points,
                                                                  cfg["n_assign"], log)
    timings["snn_total"] = time.perf_counter() - t0
    timings["snn_stdp"] = snn.timings_.get("train", 0.0)
    timings["snn_test"] = test_s
    if builder is not None:
        builder.join()
    results["snn"] = {
        "test_accuracy": float(np.mean(y_pred == data.y_test)),
        "per_class_accuracy": per_class_accuracy(data.y_test, y_pred, data.n_classes),
        "train_seconds": snn.timings_.get("train", 0.0) + assign_s,
        "stdp_seconds": snn.timings_.get("train", 0.0),
        "assign_seconds": assign_s,
        "n_train": int(n_train),
        "n_test": int(n_test),
        "n_assign": int(snn.n_assign_),
        "n_neurons": int(cfg["n_neurons"]),
        "rule": cfg["rule"],
        "training_presentations": int(snn.training_presentations_),
        "unassigned_neurons": int(np.sum(snn.assignments_ < 0)),
        "test_images_per_s": n_test / test_s if test_s else None,
        "recipe": cfg["recipe"],
        "y_pred": y_pred,
    }
    curves = {"snn": snn_curve, **curves}
    log(f"{'snn':14s} test accuracy {100 * results['snn']['test_accuracy']:6.2f} %  "
        f"(STDP {results['snn']['stdp_seconds']:.1f} s + labelling {assign_s:.1f} s)")
    snn_models = {"snn": results["snn"]}
    snn_models["snn_logreg"] = logreg_readout_entry(
        snn, data.y_train[:snn.n_assign_], test.counts, data.y_test, cfg["seed"], split)
    log(f"{'snn_logreg':14s} test accuracy "
        f"{100 * snn_models['snn_logreg']['test_accuracy']:6.2f} %")
    t0 = time.perf_counter()
    snn_models.update(train_other_recipes(others, data, cfg, split, log))
    timings["snn_other_recipes"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    activities, cka, cost_bars, assumptions, hidden = _analyse(
        results, fitted, test, X_test, snn, data.n_classes, cfg["n_neurons"])
    timings["analysis"] = time.perf_counter() - t0

    figures: list[str] = []
    if out is not None and cfg["figures"]:
        from brainsim.figures import compare_figures

        t0 = time.perf_counter()
        example = record_example(snn, data, test, y_pred, results["ann_matched"]["y_pred"],
                                 hidden["ann_matched"])
        timings["record_example"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        figures = compare_figures(out, data, snn, fitted, results, test, activities, cka,
                                  curves, cost_bars, assumptions, example)
        if others:
            figures += recipes_figure({cfg["recipe"]: snn, **others}, snn_models,
                                      data.image_shape, out)
        timings["figures"] = time.perf_counter() - t0

    for entry in results.values():
        entry.pop("y_pred", None)
        entry.setdefault("split", split)
        cost = entry.get("cost")
        if cost:
            cost.pop("per_image_values", None)
            cost.pop("active_values", None)
    models = {**snn_models, **{name: results[name] for name in MODEL_ORDER if name in results}}
    timings["total"] = time.perf_counter() - t_start
    cfg["split"] = split
    cfg["learning_curve_points"] = points
    cfg["presentation_time"] = float(snn.presentation_time)
    dataset = {"name": data.name, "n_train": n_train, "n_test": n_test,
               "image_shape": list(data.image_shape), "n_classes": int(data.n_classes),
               "class_names": [str(c) for c in data.class_names], "source": data.source}
    from brainsim.cli import library_versions

    result = to_json({"models": models, "config": cfg, "versions": library_versions(),
                      "timings": timings, "dataset": dataset, "cka": cka,
                      "learning_curves": curves, "cost_assumptions": assumptions,
                      "figures": list(figures)})
    if out is not None:
        path = write_result(out, result)
        report = write_report(result, figures, out)
        log(f"wrote {path}, {report} and {len(figures)} figures (PNG + PDF) in "
            f"{timings['total']:.0f} s")
    return result


def compare_seeds(cfg: Mapping[str, Any], out_dir: str | os.PathLike | None = None, *,
                  log: Log | None = None) -> dict:
    """The comparison once per seed of ``cfg["seeds"]``, then statistics over seeds.

    Each seed's run is a complete :func:`compare_one_seed` in
    ``out_dir/seed_<s>/`` (figures, metrics.json, report.md). The result has
    the shape of metrics.json: per model the mean ``test_accuracy`` over seeds,
    ``test_accuracy_sd`` (sample standard deviation), ``test_accuracy_per_seed``
    and ``n_seeds``; ``gaps``, the paired comparison of every model with the
    spiking network (:func:`brainsim.seeds.paired_gaps`); learning curves with
    their standard deviation; ``runs``, the seed folders. ``out_dir`` receives
    metrics.json, ``fig5_learning_curves`` (error bars: +- 1 sd) and report.md.
    """
    from brainsim.cli import library_versions
    from brainsim.report import write_seed_report
    from brainsim.seeds import curve_statistics, paired_gaps, seed_statistics

    log = log or _quiet
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    runs: dict[int, dict] = {}
    timings: dict[str, float] = {}
    for seed in cfg["seeds"]:
        one = dict(cfg, seed=seed, seeds=None)
        log(f"--- seed {seed} ({len(runs) + 1} of {len(cfg['seeds'])})")
        runs[seed] = compare_one_seed(one, out / f"seed_{seed}" if out is not None else None,
                                      log=log)
        timings[f"seed_{seed}"] = runs[seed]["timings"]["total"]
    first = runs[cfg["seeds"][0]]
    models = seed_statistics({s: r["models"] for s, r in runs.items()})
    gaps = paired_gaps({s: r["models"] for s, r in runs.items()}, reference="snn")
    curves = curve_statistics({s: r["learning_curves"] for s, r in runs.items()})
    config = dict(cfg, seed=None, learning_curve_points=first["config"]["learning_curve_points"],
                  presentation_time=first["config"]["presentation_time"])
    figures: list[str] = []
    if out is not None and cfg["figures"]:
        from brainsim.figures import learning_curves_figure

        figures.append(learning_curves_figure(
            curves, first["dataset"]["n_classes"], out,
            title=f"Figure 5. Test accuracy vs training images, mean +- sd over "
                  f"{len(runs)} seeds"))
    timings["total"] = time.perf_counter() - t_start
    result = to_json({"models": models, "config": config, "versions": library_versions(),
                      "timings": timings, "dataset": first["dataset"], "seeds": list(runs),
                      "gaps": gaps, "learning_curves": curves,
                      "runs": {str(s): f"seed_{s}" for s in runs}, "figures": figures})
    if out is not None:
        path = write_result(out, result)
        report = write_seed_report(result, out)
        log(f"wrote {path} and {report} ({len(runs)} seeds, {timings['total']:.0f} s)")
    return result
