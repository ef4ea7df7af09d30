"""Studies of recipes: ablation, and recipes side by side.

:func:`run_ablation` trains, for every seed, the full recipe, the recipe with
one of its mechanisms switched off (:meth:`brainsim.recipes.Recipe.without`)
for each mechanism, and the faithful network, and scores each on a validation
split carved out of the training set (:func:`brainsim.datasets.validation_split`),
never on the test set. :func:`write_ablation` writes ``metrics.json``, a
markdown table and a figure. ``experiments/ablation.py`` is the script.

:func:`compare_recipes` trains whole recipes over seeds and scores them with the
label vote and the linear read-out (``snn_logreg``), keeping the weights and
win counts for the figures of ``experiments/recipes.py``.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from brainsim.datasets import Dataset
from brainsim.errors import ConfigError
from brainsim.recipes import DEFAULT_RECIPE, resolve_recipe
from brainsim.seeds import seed_sd

__all__ = ["ablation_variants", "run_ablation", "ablation_table", "write_ablation",
           "evaluate_recipe", "compare_recipes"]


def ablation_variants(recipe: str = "local_plus", recipe_options: dict | None = None
                      ) -> dict[str, tuple[str, dict]]:
    """Variants of an ablation: name -> (recipe name, recipe options).

    The full recipe first, then ``"- <mechanism>"`` for each mechanism the
    recipe uses, then the faithful network ``diehl_cook_2015`` (unless switching
    off a recipe's only mechanism already gives it: that variant is then named
    ``"- <mechanism> (= diehl_cook_2015)"``).
    """
    full = resolve_recipe(recipe, recipe_options)
    mechanisms = full.mechanisms()
    if not mechanisms:
        raise ConfigError(f"recipe {recipe!r} uses no mechanism to switch off; "
                          "ablate an improved recipe such as 'local_plus'")
    base = dict(recipe_options or {})
    variants = {full.name: (recipe, base)}
    faithful = resolve_recipe(DEFAULT_RECIPE)
    with_faithful = False
    for mech in mechanisms:
        off = full.without(mech).to_dict()
        off.pop("name")
        name = f"- {mech}"
        if resolve_recipe(recipe, off) == replace(faithful, name=full.name):
            name += f" (= {DEFAULT_RECIPE})"  # the last mechanism: the faithful network
            with_faithful = True
        variants[name] = (recipe, off)
    if not with_faithful:
        variants[DEFAULT_RECIPE] = (DEFAULT_RECIPE, {})
    return variants


def run_ablation(data: Dataset, *, recipe: str = "local_plus",
                 recipe_options: dict | None = None, n_neurons: int = 100,
                 seeds: tuple[int, ...] = (0, 1, 2), estimator_params: dict | None = None,
                 log: Callable[[str], None] | None = print) -> dict[str, Any]:
    """Train and score every variant of `recipe` on every seed.

    Parameters
    ----------
    data : Dataset
        Training images and the validation images as its "test" set (from
        :func:`brainsim.datasets.validation_split`).
    recipe, recipe_options : str, dict
        The recipe to ablate (:mod:`brainsim.recipes`).
    n_neurons : int
        Excitatory neurons.
    seeds : tuple of int
        Random states; every variant runs on each.
    estimator_params : dict, optional
        Further :class:`~brainsim.classifier.DiehlCookSNN` parameters (backend, ...).
    log : callable or None
        Receives one line per finished run.

    Returns
    -------
    dict
        ``variants``: name -> {"recipe", "recipe_options", "accuracy" (per seed,
        label vote), "logreg_accuracy", "dead", "greedy", "seconds"};
        ``reference``: the full recipe's name; ``seeds``; ``n_train``; ``n_validation``.
    """
    from brainsim.analysis import dead_and_greedy
    from brainsim.classifier import DiehlCookSNN
    from brainsim.readout import fit_logreg_readout

    if not seeds:
        raise ConfigError("give at least one seed")
    variants = ablation_variants(recipe, recipe_options)
    out: dict[str, Any] = {"variants": {}, "reference": resolve_recipe(recipe, recipe_options).name,
                           "seeds": list(seeds), "n_train": int(len(data.y_train)),
                           "n_validation": int(len(data.y_test)), "n_neurons": int(n_neurons)}
    for name, (rname, options) in variants.items():
        entry = {"recipe": rname, "recipe_options": options, "accuracy": [],
                 "logreg_accuracy": [], "dead": [], "greedy": [], "seconds": []}
        for seed in seeds:
            start = time.perf_counter()
            snn = DiehlCookSNN(n_neurons=n_neurons, recipe=rname, recipe_options=options or None,
                               random_state=int(seed), **(estimator_params or {}))
            snn.fit(data.X_train, data.y_train)
            counts = snn.transform(data.X_test)
            acc = float(np.mean(snn.predict_from_counts(counts) == data.y_test))
            readout = fit_logreg_readout(snn.assignment_counts_, data.y_train[: snn.n_assign_],
                                         random_state=int(seed))
            dg = dead_and_greedy(snn.assignment_counts_)
            entry["accuracy"].append(acc)
            entry["logreg_accuracy"].append(float(readout.score(counts, data.y_test)))
            entry["dead"].append(dg["dead"])
            entry["greedy"].append(dg["greedy"])
            entry["seconds"].append(time.perf_counter() - start)
            if log is not None:
                log(f"{name:28s} seed {seed}: vote {100 * acc:.1f} %, logreg "
                    f"{100 * entry['logreg_accuracy'][-1]:.1f} %, dead {dg['dead']}, "
                    f"greedy {dg['greedy']} ({entry['seconds'][-1]:.0f} s)")
        out["variants"][name] = entry
    return out


def ablation_table(result: dict[str, Any]) -> str:
    """Markdown table of an ablation: mean +- std over seeds of each variant."""
    ref = np.mean(result["variants"][result["reference"]]["accuracy"])
    lines = [
        f"Validation accuracy ({result['n_validation']} images held out of the training "
        f"set; {result['n_train']} training images; {result['n_neurons']} neurons; "
        f"seeds {', '.join(map(str, result['seeds']))}); mean +- sample standard deviation (ddof 1) over seeds.",
        "",
        "| variant | label vote (%) | change vs full (points) | linear read-out (%) "
        "| dead neurons | greedy neurons |",
        "|---|---|---|---|---|---|",
    ]
    for name, e in result["variants"].items():
        acc = 100 * np.asarray(e["accuracy"])
        lr = 100 * np.asarray(e["logreg_accuracy"])
        lines.append(
            f"| {name} | {acc.mean():.1f} +- {seed_sd(acc):.1f} | {acc.mean() - 100 * ref:+.1f} "
            f"| {lr.mean():.1f} +- {seed_sd(lr):.1f} | {np.mean(e['dead']):.1f} "
            f"| {np.mean(e['greedy']):.1f} |"
        )
    return "\n".join(lines) + "\n"


def write_ablation(result: dict[str, Any], out_dir: str | Path, *, config: dict,
                   timings: dict) -> list[Path]:
    """Write ``metrics.json``, ``ablation.md`` and the figure ``ablation`` (PNG, PDF).

    In ``metrics.json`` each variant is a model whose ``test_accuracy`` is the
    mean accuracy on the *validation* split (``"split": "validation"``).
    """
    import matplotlib.pyplot as plt

    from brainsim import plotting
    from brainsim.cli import save_figure, write_metrics

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    models = {
        name: {"test_accuracy": float(np.mean(e["accuracy"])), "split": "validation",
               "accuracy_std": seed_sd(e["accuracy"]),
               "logreg_accuracy": float(np.mean(e["logreg_accuracy"])),
               "n_train": result["n_train"], "n_test": result["n_validation"], **e}
        for name, e in result["variants"].items()
    }
    table = out / "ablation.md"
    tmp = table.with_suffix(".md.tmp")
    tmp.write_text("# Ablation\n\n" + ablation_table(result))
    tmp.replace(table)
    plotting.apply_style()
    fig, ax = plt.subplots(figsize=(1.2 + 0.9 * len(models), 3.6))
    plotting.plot_ablation({k: v["accuracy"] for k, v in result["variants"].items()}, ax=ax,
                           reference=result["reference"])
    figures = save_figure(fig, out, "ablation")
    metrics = write_metrics(out, models=models, config=config, timings=timings,
                            figures=[str(p) for p in figures], ablation_table=str(table))
    return [metrics, table, *figures]


def evaluate_recipe(data: Dataset, *, recipe: str, recipe_options: dict | None = None,
                    n_neurons: int = 100, seed: int = 0,
                    estimator_params: dict | None = None) -> dict[str, Any]:
    """Train one network of `recipe` and score it on ``data.X_test``.

    Returns
    -------
    dict
        ``accuracy`` (label vote), ``logreg_accuracy`` (linear read-out
        trained on the training counts only), ``dead``, ``greedy``, ``wins``
        (per-neuron wins on the training images), ``weights``, ``seconds``,
        ``training_presentations``.
    """
    from brainsim.analysis import dead_and_greedy
    from brainsim.classifier import DiehlCookSNN
    from brainsim.readout import fit_logreg_readout

    start = time.perf_counter()
    snn = DiehlCookSNN(n_neurons=n_neurons, recipe=recipe, recipe_options=recipe_options or None,
                       random_state=int(seed), **(estimator_params or {}))
    snn.fit(data.X_train, data.y_train)
    counts = snn.transform(data.X_test)
    readout = fit_logreg_readout(snn.assignment_counts_, data.y_train[: snn.n_assign_],
                                 random_state=int(seed))
    dg = dead_and_greedy(snn.assignment_counts_)
    return {
        "accuracy": float(np.mean(snn.predict_from_counts(counts) == data.y_test)),
        "logreg_accuracy": float(readout.score(counts, data.y_test)),
        "dead": dg["dead"], "greedy": dg["greedy"], "wins": dg["wins"],
        "weights": snn.weights_, "seconds": time.perf_counter() - start,
        "training_presentations": int(snn.training_presentations_),
    }


def compare_recipes(data: Dataset, *, recipes: tuple[str, ...] = ("diehl_cook_2015", "local_plus"),
                    n_neurons: int = 100, seeds: tuple[int, ...] = (0,),
                    estimator_params: dict | None = None,
                    log: Callable[[str], None] | None = print) -> dict[str, Any]:
    """Every recipe on every seed (:func:`evaluate_recipe`).

    Returns
    -------
    dict
        recipe name -> {"runs": [per-seed results], "accuracy": [...],
        "logreg_accuracy": [...]}; the first seed's weights and wins are kept
        in each run for the figures.
    """
    if not seeds:
        raise ConfigError("give at least one seed")
    out: dict[str, Any] = {}
    for name in recipes:
        runs = []
        for seed in seeds:
            runs.append(evaluate_recipe(data, recipe=name, n_neurons=n_neurons, seed=seed,
                                        estimator_params=estimator_params))
            if log is not None:
                r = runs[-1]
                log(f"{name:18s} seed {seed}: vote {100 * r['accuracy']:.1f} %, logreg "
                    f"{100 * r['logreg_accuracy']:.1f} %, dead {r['dead']}, greedy "
                    f"{r['greedy']} ({r['seconds']:.0f} s)")
        out[name] = {"runs": runs, "accuracy": [r["accuracy"] for r in runs],
                     "logreg_accuracy": [r["logreg_accuracy"] for r in runs]}
    return out

