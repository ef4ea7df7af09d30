"""Figures of a sweep's statistics (``summary.json``'s groups).

Each group is one config without the seed: ``config``, ``varying`` (the keys
that differ between groups), ``n_seeds`` and ``metrics`` (figure ->
``mean``, ``sd``, ``ci95``, ``n``), as written by :func:`brainsim.sweep.summarize`.
Error bars are one standard deviation over seeds (none for one seed). Like
:mod:`brainsim.plotting`, every function takes ``ax=None`` and returns the Axes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import FixedLocator, NullLocator

from brainsim.plotting import _get_ax

__all__ = ["paper_accuracies", "plot_accuracy_vs_neurons", "plot_accuracy_per_rule"]

#: Models drawn beside the spiking network: label, line style, marker, x offset factor.
_MODEL_STYLE = {
    "snn": ("spiking network", "-", "o", 1.0),
    "kmeans": ("k-means, same size", "--", "s", 0.93),
    "ann_matched": ("MLP, same size", ":", "^", 1.07),
}


def paper_accuracies() -> dict[int, float]:
    """The paper's MNIST test accuracy (fraction) per network size.

    Diehl & Cook (2015), Front. Comput. Neurosci. 9:99, section 3: 82.9, 87.0,
    91.9 and 95.0 % for 100, 400, 1,600 and 6,400 excitatory neurons (the
    values live in :data:`brainsim.protocols.PAPER_PROTOCOL`).
    """
    from brainsim.protocols import PAPER_PROTOCOL

    return {n: run.paper_accuracy for n, run in PAPER_PROTOCOL.items()}


def _label(varying: Mapping, skip: Sequence[str]) -> str:
    parts = [f"{k}={v}" for k, v in varying.items() if k not in skip]
    return ", ".join(parts)


def _stat(group: Mapping, key: str) -> tuple[float, float] | None:
    m = group["metrics"].get(key)
    if not m or m.get("mean") is None:
        return None
    return 100 * m["mean"], 100 * (m["sd"] or 0.0)


def plot_accuracy_vs_neurons(groups: Sequence[Mapping], ax: Axes | None = None, *,
                             models: Sequence[str] = ("snn", "kmeans", "ann_matched"),
                             paper: bool = True, title: str | None = None) -> Axes:
    """Test accuracy (%) against the number of excitatory neurons (log x).

    One line per model and per combination of the other varying keys (rule,
    data set, ...), mean +- sd over seeds; the baselines of the same size are
    drawn slightly to the side. With ``paper`` the paper's four MNIST values are
    reference markers.

    Parameters
    ----------
    groups : sequence of mapping
        ``summary.json["groups"]``.
    models : sequence of str
        Model names to draw where the groups have them.
    paper : bool
        Draw Diehl & Cook's (2015) MNIST accuracies.
    """
    ax = _get_ax(ax, (5.5, 4))
    series: dict[str, list[Mapping]] = {}
    for g in groups:
        if "n_neurons" not in g["config"]:
            continue
        series.setdefault(_label(g.get("varying", {}), ("n_neurons",)), []).append(g)
    colors = [f"C{i}" for i in range(10)]
    xs_all: set[int] = set()
    for i, (label, members) in enumerate(sorted(series.items())):
        members = sorted(members, key=lambda g: g["config"]["n_neurons"])
        for j, model in enumerate(models):
            name, ls, marker, shift = _MODEL_STYLE.get(model, (model, "-.", "d", 1.0))
            # one series: a colour per model; several: a colour per series
            color = colors[(j if len(series) == 1 else i) % len(colors)]
            pts = [(g["config"]["n_neurons"], _stat(g, f"{model}.test_accuracy"), g["n_seeds"])
                   for g in members]
            pts = [(n, s, k) for n, s, k in pts if s is not None]
            if not pts:
                continue
            x = np.array([n for n, _, _ in pts], dtype=float)
            xs_all.update(int(n) for n in x)
            mean = np.array([s[0] for _, s, _ in pts])
            sd = np.array([s[1] for _, s, _ in pts])
            full = name + (f" ({label})" if label else "")
            ax.errorbar(x * shift, mean, yerr=sd, color=color, linestyle=ls, marker=marker,
                        capsize=3, label=full)
    if paper:
        ref = paper_accuracies()
        ax.plot(list(ref), [100 * a for a in ref.values()], linestyle="none", marker="*",
                markersize=11, color="black", label="Diehl & Cook 2015 (MNIST)")
        xs_all.update(ref)
    ax.set_xscale("log")
    if xs_all:
        ticks = sorted(xs_all)
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticklabels([f"{t:,}" for t in ticks])
        ax.set_xlim(min(ticks) / 1.4, max(ticks) * 1.4)
    ax.set_xlabel("Excitatory neurons (hidden units, prototypes)")
    ax.set_ylabel("Test accuracy (%), mean ± sd over seeds")
    n_seeds = sorted({g["n_seeds"] for g in groups})
    datasets = sorted({str(g["config"].get("dataset")) for g in groups if "dataset" in g["config"]})
    on = f" on {', '.join(datasets)}" if datasets else ""
    ax.set_title(title or f"Accuracy against network size{on} "
                 f"({'/'.join(map(str, n_seeds))} seeds per point)")
    ax.legend(loc="lower right")
    return ax


def plot_accuracy_per_rule(groups: Sequence[Mapping], ax: Axes | None = None, *,
                           model: str = "snn", title: str | None = None) -> Axes:
    """Test accuracy (%) of each STDP rule, mean +- sd over seeds.

    Bars per rule, side by side for each combination of the other varying keys
    (network size, data set, ...), with the number of seeds above each bar.
    """
    ax = _get_ax(ax, (5.5, 4))
    rules = sorted({g["config"].get("rule") for g in groups if g["config"].get("rule")})
    series: dict[str, dict] = {}
    for g in groups:
        if g["config"].get("rule") is None or _stat(g, f"{model}.test_accuracy") is None:
            continue
        label = _label(g.get("varying", {}), ("rule",))
        series.setdefault(label, {})[g["config"]["rule"]] = g
    width = 0.8 / max(len(series), 1)

    def order(item):  # by network size where that varies, else by label
        members = item[1].values()
        return (min(m["config"].get("n_neurons", 0) for m in members), item[0])

    for i, (label, by_rule) in enumerate(sorted(series.items(), key=order)):
        x = np.array([rules.index(r) for r in by_rule], dtype=float) + (i - (len(series) - 1) / 2) * width
        stats = [_stat(g, f"{model}.test_accuracy") for g in by_rule.values()]
        mean = np.array([s[0] for s in stats])
        sd = np.array([s[1] for s in stats])
        bars = ax.bar(x, mean, width * 0.9, yerr=sd, capsize=3, label=label or None,
                      color=f"C{i % 10}")
        for rect, g, m, s in zip(bars, by_rule.values(), mean, sd):
            ax.annotate(f"n={g['n_seeds']}", (rect.get_x() + rect.get_width() / 2, m + s),
                        xytext=(0, 2), textcoords="offset points", ha="center", fontsize=7)
    ax.set_xticks(range(len(rules)))
    ax.set_xticklabels([r.replace("_", " ") for r in rules])
    ax.set_xlabel("STDP rule")
    ax.set_ylabel("Test accuracy (%), mean ± sd over seeds")
    ax.set_ylim(0, 100)
    datasets = sorted({str(g["config"].get("dataset")) for g in groups if "dataset" in g["config"]})
    on = f" on {', '.join(datasets)}" if datasets else ""
    ax.set_title(title or f"Spiking network, accuracy per learning rule{on}")
    if any(series):
        ax.legend(loc="upper left", fontsize=7)
    return ax


def _groups_from_file(path) -> list[Mapping]:  # convenience for notebooks
    with open(path) as fh:
        return json.load(fh)["groups"]
