"""Statistics over seeds: mean and spread per model, paired gaps to a reference.

The rule for "the gap is larger than the seed-to-seed spread"
(:data:`GAP_RULE`): every seed trains all models on the same images, so the
accuracies are paired by seed. For a model m and the reference r (the spiking
network), the per-seed differences d_s = acc_m(s) - acc_r(s) are tested with a
two-sided paired t-test (Student 1908; the same as a one-sample t-test of d):
t = mean(d) / (sd(d) / sqrt(n)), n - 1 degrees of freedom. The gap counts as
larger than the spread when p < 0.05, i.e. when the 95 % confidence interval
of the mean difference excludes zero. With few seeds the critical t is large
(12.7 for 2 seeds, 2.78 for 5), so only gaps far above the spread pass.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

__all__ = ["GAP_RULE", "ALPHA", "seed_statistics", "paired_gaps", "curve_statistics"]

#: Significance level of the paired test.
ALPHA = 0.05

#: The rule, in words, as written into metrics.json and the report.
GAP_RULE = (
    "paired two-sided t-test over seeds of the per-seed accuracy differences "
    "(model minus spiking network); the gap is larger than the seed-to-seed spread "
    f"when p < {ALPHA:g}, i.e. when the 95 % confidence interval of the mean "
    "difference excludes 0"
)


def seed_sd(values) -> float:
    """Sample standard deviation (ddof 1) of per-seed values; NaN for one seed.

    The spread over seeds that every script of brainsim reports.
    """
    values = np.asarray(values, dtype=float)
    return float(np.std(values, ddof=1)) if values.size > 1 else float("nan")


_sd = seed_sd


def seed_statistics(models_by_seed: Mapping[Any, Mapping[str, Mapping[str, Any]]]) -> dict:
    """Mean and standard deviation of each model's figures over seeds.

    Parameters
    ----------
    models_by_seed : mapping
        Seed -> the ``models`` dict of that seed's metrics.

    Returns
    -------
    dict
        Model name -> ``test_accuracy`` (mean over seeds), ``test_accuracy_sd``
        (sample standard deviation, ddof = 1), ``test_accuracy_per_seed``,
        ``n_seeds``, ``n_train``, ``n_test``, ``train_seconds`` (mean) and
        ``per_class_accuracy`` (mean). Models missing from some seed are left out.
    """
    seeds = list(models_by_seed)
    names = [n for n in models_by_seed[seeds[0]]
             if all(n in models_by_seed[s] for s in seeds)]
    out = {}
    for name in names:
        entries = [models_by_seed[s][name] for s in seeds]
        acc = np.array([float(e["test_accuracy"]) for e in entries])
        stats = {
            "test_accuracy": float(acc.mean()),
            "test_accuracy_sd": _sd(acc),
            "test_accuracy_per_seed": acc.tolist(),
            "n_seeds": len(seeds),
            "n_train": entries[0]["n_train"],
            "n_test": entries[0]["n_test"],
        }
        secs = [e.get("train_seconds") for e in entries]
        if all(isinstance(v, (int, float)) for v in secs):
            stats["train_seconds"] = float(np.mean(secs))
        pcs = [e.get("per_class_accuracy") for e in entries]
        if all(p is not None for p in pcs):
            pc = np.array([[np.nan if v is None else v for v in p] for p in pcs], dtype=float)
            with np.errstate(all="ignore"):
                stats["per_class_accuracy"] = np.nanmean(pc, axis=0).tolist() \
                    if np.isfinite(pc).any() else pc[0].tolist()
        for key in ("n_neurons", "rule", "architecture"):
            if key in entries[0]:
                stats[key] = entries[0][key]
        out[name] = stats
    return out


def paired_gaps(models_by_seed: Mapping[Any, Mapping[str, Mapping[str, Any]]],
                reference: str = "snn") -> dict:
    """Each model's accuracy gap to ``reference``, paired by seed, with the verdict.

    Parameters
    ----------
    models_by_seed : mapping
        Seed -> the ``models`` dict of that seed's metrics.
    reference : str
        The model the others are compared with.

    Returns
    -------
    dict
        Model name -> ``mean_pp`` (mean of model minus reference, percentage
        points), ``sd_pp`` (sd of the per-seed differences), ``diff_per_seed_pp``,
        ``ci95_pp`` ([low, high]), ``t``, ``p_value``, ``n_seeds``,
        ``larger_than_spread`` (bool, :data:`GAP_RULE`), and ``rule``.
    """
    from scipy import stats

    seeds = list(models_by_seed)
    n = len(seeds)
    ref = np.array([float(models_by_seed[s][reference]["test_accuracy"]) for s in seeds])
    out = {}
    for name in models_by_seed[seeds[0]]:
        if name == reference or not all(name in models_by_seed[s] for s in seeds):
            continue
        acc = np.array([float(models_by_seed[s][name]["test_accuracy"]) for s in seeds])
        d = 100.0 * (acc - ref)
        mean, sd = float(d.mean()), _sd(d)
        if n < 2:
            t = p = float("nan")
            half = float("nan")
        elif sd == 0.0:  # identical differences on every seed
            t = math.copysign(math.inf, mean) if mean else float("nan")
            p = 0.0 if mean else 1.0
            half = 0.0
        else:
            se = sd / math.sqrt(n)
            t = mean / se
            p = float(2 * stats.t.sf(abs(t), n - 1))
            half = float(stats.t.ppf(1 - ALPHA / 2, n - 1) * se)
        out[name] = {
            "mean_pp": mean,
            "sd_pp": sd,
            "diff_per_seed_pp": d.tolist(),
            "ci95_pp": [mean - half, mean + half],
            "t": t,
            "p_value": p,
            "n_seeds": n,
            "larger_than_spread": bool(np.isfinite(p) and p < ALPHA),
            "rule": GAP_RULE,
        }
    return out


def curve_statistics(curves_by_seed: Mapping[Any, Mapping[str, Mapping[str, list]]]) -> dict:
    """Mean and sd over seeds of every learning curve, point by point.

    Parameters
    ----------
    curves_by_seed : mapping
        Seed -> {model: {"n_train": [...], "test_accuracy": [...]}}.

    Returns
    -------
    dict
        Model -> ``n_train``, ``test_accuracy`` (mean), ``test_accuracy_sd``,
        ``n_seeds``; only sizes present in every seed.
    """
    seeds = list(curves_by_seed)
    out = {}
    for name in curves_by_seed[seeds[0]]:
        per_seed = [dict(zip(curves_by_seed[s][name]["n_train"],
                             curves_by_seed[s][name]["test_accuracy"]))
                    for s in seeds if name in curves_by_seed[s]]
        if len(per_seed) != len(seeds):
            continue
        sizes = sorted(set.intersection(*(set(c) for c in per_seed)))
        acc = np.array([[c[p] for p in sizes] for c in per_seed], dtype=float)
        out[name] = {
            "n_train": sizes,
            "test_accuracy": acc.mean(axis=0).tolist() if sizes else [],
            "test_accuracy_sd": (acc.std(axis=0, ddof=1).tolist()
                                 if sizes and len(seeds) > 1 else [0.0] * len(sizes)),
            "n_seeds": len(seeds),
        }
    return out
