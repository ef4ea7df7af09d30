"""One experiment is one library call: a config in, a metrics dict (and a folder) out.

A script in ``experiments/``, a sweep task, a lesson and a test all call the
same functions and get the same result:

- :func:`snn_experiment` -- train the spiking network, label its neurons, test
  it (what ``experiments/train_snn.py`` runs), optionally with baselines of the
  same size trained on the same images;
- :func:`compare_experiment` -- the spiking network and five ANNs on the same
  images: accuracy, learning curves, activity, similarity, cost, seven
  figures and a report (what ``experiments/compare.py`` runs); with
  ``seeds`` it runs once per seed and reports mean and spread
  (:mod:`brainsim.comparison`, :mod:`brainsim.seeds`);
- :func:`rules_experiment` -- the network trained once per STDP rule on the
  same images (what ``experiments/rules.py`` runs).

The returned dict has the shape of ``metrics.json`` (see :mod:`brainsim.cli`):
``config`` (every option, defaults filled in), ``models`` (one entry per model,
at least ``test_accuracy``, ``n_train``, ``n_test``), ``versions`` and
``timings`` (seconds), plus ``figures``. When ``out_dir`` is given the same dict
is written there as ``metrics.json`` together with the figures.

Configs are plain mappings; a parameter lives in one place, the ``DEFAULT_*``
mapping of its experiment, and the scripts take their defaults from there. An
unknown key is a :class:`~brainsim.errors.ConfigError`. Options of
:class:`~brainsim.classifier.DiehlCookSNN` that have no key of their own go
into ``snn_params`` (a dict passed on to the estimator).

Example
-------
>>> from brainsim.experiment import snn_experiment
>>> result = snn_experiment({"n_neurons": 10, "n_train": 200, "n_test": 100,
...                          "baselines": ["kmeans"]})  # doctest: +SKIP
>>> result["models"]["snn"]["test_accuracy"]  # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
import time
import warnings
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping

import numpy as np

from brainsim.errors import ConfigError
from brainsim.plasticity import PAPER_RULES, RULES
from brainsim.protocols import PROTOCOLS, apply_protocol
from brainsim.recipes import DEFAULT_RECIPE, RECIPES

__all__ = [
    "BACKENDS",
    "DEFAULT_COMPARE_CONFIG",
    "DEFAULT_RULES_CONFIG",
    "DEFAULT_SNN_CONFIG",
    "SNN_BASELINES",
    "compare_experiment",
    "default_snn_config",
    "load_experiment_data",
    "logreg_readout_entry",
    "merge_config",
    "parse_validation",
    "resolve_compare_config",
    "resolve_snn_config",
    "rules_experiment",
    "snn_experiment",
    "snn_kwargs",
    "to_json",
]

#: Back ends of the spiking network.
BACKENDS = ("standalone", "runtime", "cython")

#: Baselines :func:`snn_experiment` can train beside the spiking network, by model name.
SNN_BASELINES = ("kmeans", "ann_matched")

#: Defaults of :func:`snn_experiment` (read-only; copy with :func:`default_snn_config`).
DEFAULT_SNN_CONFIG: Mapping[str, Any] = MappingProxyType({
    "dataset": "digits",      # "digits" (bundled), "mnist" or "fashion-mnist"
    "data_dir": None,         # folder of the IDX files (None: the usual search)
    "seed": 0,                # seeds the network (weights, delays, spike trains) and baselines
    "n_neurons": 100,         # excitatory neurons (the paper: 100, 400, 1600, 6400)
    "rule": None,             # STDP rule, see brainsim.plasticity (None: the recipe's rule)
    "recipe": DEFAULT_RECIPE,  # learning mechanisms, see brainsim.recipes
    "validation": None,       # score on the last N (or a fraction of the) training images
    "n_train": None,          # training images learned per epoch (None: all)
    "epochs": 1,              # passes over those images
    "n_assign": None,         # training images that label the neurons (None: n_train)
    "n_test": None,           # test images (None: all)
    "protocol": None,         # "paper": n_train, epochs, n_assign, n_test of [DC15]
    "n_repeats": None,        # presentations per image in assignment and test, summed
    #                           (None: the recipe's inference_repeats)
    "backend": "standalone",  # compiled C++; "runtime"/"cython": no compiler needed
    "threads": 0,             # OpenMP threads of the compiled network (0: one)
    "learning_processes": 1,  # processes sharing the learning network (one core each)
    "jobs": None,             # inference blocks run at once (None: one stream; -1: all cores)
    "checkpoint_dir": None,   # None: OUT/checkpoint when out_dir is given, else none
    "checkpoint_every": 1000,  # training images between checkpoints
    "fresh": False,           # delete an existing checkpoint first
    "progress": True,         # progress bars
    "figures": True,          # draw figures when out_dir is given
    "baselines": (),          # names from SNN_BASELINES
    "snn_params": MappingProxyType({}),  # further DiehlCookSNN keyword arguments
})

#: Defaults of :func:`compare_experiment`; the keys it shares with the spiking
#: network's experiment take their defaults from :data:`DEFAULT_SNN_CONFIG`.
DEFAULT_COMPARE_CONFIG: Mapping[str, Any] = MappingProxyType({
    **{k: DEFAULT_SNN_CONFIG[k] for k in ("dataset", "data_dir", "seed", "n_neurons", "rule",
                                          "recipe", "validation", "n_train", "n_test",
                                          "n_assign", "backend", "progress", "figures",
                                          "snn_params", "jobs")},
    # further recipes trained beside `recipe` on the same images, as snn_<name>
    "recipes": tuple(r for r in RECIPES if r != DEFAULT_RECIPE),
    "seeds": None,            # list of seeds: one run per seed, mean and spread reported
    "learning_curve_points": None,  # training sizes of figure 5 (None: 10, 30, 100 %)
})

#: Defaults of :func:`rules_experiment` (the check of the four learning rules).
DEFAULT_RULES_CONFIG: Mapping[str, Any] = MappingProxyType({
    **{k: DEFAULT_SNN_CONFIG[k] for k in ("dataset", "data_dir", "seed", "n_neurons",
                                          "recipe", "backend", "progress", "figures",
                                          "snn_params")},
    "rules": PAPER_RULES,     # learning rules to train, each on the same images
    "n_train": 2000,          # training images (also used for the label assignment)
    "n_test": 1000,           # test images
})

#: Config keys named differently from the DiehlCookSNN parameter they set. Every
#: other config key that is a DiehlCookSNN parameter name (n_neurons, n_assign,
#: backend, ...) is passed on as it is, so a new estimator option needs one line
#: in the DEFAULT_*_CONFIG mapping only.
_RENAMED = {"rule": "learning_rule", "seed": "random_state", "epochs": "n_epochs",
            "threads": "openmp_threads", "rules": "learning_rule", "jobs": "n_jobs"}


def _snn_param(key: str) -> str | None:
    """The DiehlCookSNN parameter a config key sets, or None."""
    from brainsim.classifier import DiehlCookSNN

    name = _RENAMED.get(key, key)
    return name if name in DiehlCookSNN._PARAM_NAMES else None


def snn_kwargs(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """DiehlCookSNN keyword arguments of a resolved config (its keys and ``snn_params``)."""
    kw = {_snn_param(k): v for k, v in cfg.items()
          if k not in ("rules", "recipes") and _snn_param(k)}
    kw.update(cfg.get("snn_params") or {})
    return kw


def default_snn_config() -> dict[str, Any]:
    """A fresh, mutable copy of :data:`DEFAULT_SNN_CONFIG`."""
    return _thaw(DEFAULT_SNN_CONFIG)


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return list(value)
    return value


def merge_config(defaults: Mapping[str, Any], config: Mapping[str, Any] | None,
                 what: str) -> dict[str, Any]:
    """``defaults`` updated with ``config``; an unknown key is a ConfigError.

    Parameters
    ----------
    defaults : mapping
        Every key the experiment knows, with its default.
    config : mapping or None
        The caller's settings.
    what : str
        Name of the experiment, for the error message.
    """
    if config is None:
        config = {}
    if not isinstance(config, Mapping):
        raise ConfigError(f"the {what} config must be a mapping of option names to values, "
                          f"got {type(config).__name__}")
    unknown = sorted(set(config) - set(defaults))
    if unknown:
        raise ConfigError(
            f"unknown {what} config key{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(map(repr, unknown))}; known keys: {', '.join(sorted(defaults))}"
        )
    merged = _thaw(defaults)
    merged.update(_thaw(dict(config)))
    return merged


def _check_int(config: Mapping[str, Any], key: str, minimum: int, optional: bool) -> None:
    value = config[key]
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{key} must be a whole number >= {minimum}"
                          f"{' or None' if optional else ''}, got {value!r}")


def _check_choices(cfg: Mapping[str, Any]) -> None:
    from brainsim.datasets import DATASETS

    for key, choices in (("dataset", DATASETS), ("rule", sorted(RULES)), ("backend", BACKENDS),
                         ("recipe", sorted(RECIPES))):
        if key in cfg and cfg[key] not in choices and not (key == "rule" and cfg[key] is None):
            raise ConfigError(f"unknown {key} {cfg[key]!r}; choose one of {', '.join(choices)}")
    from brainsim.presentation import parallel_blocks  # imports Brian2: only when checking

    parallel_blocks(cfg.get("jobs"), "jobs")
    if "recipes" in cfg:
        recipes = cfg["recipes"]
        if isinstance(recipes, str) or not all(r in RECIPES for r in recipes):
            raise ConfigError(f"recipes must be a list of names among "
                              f"{', '.join(sorted(RECIPES))}, got {recipes!r}")
    if cfg.get("validation") is not None:
        value = cfg["validation"]
        ok = (not isinstance(value, bool) and isinstance(value, (int, float, np.integer,
                                                                 np.floating))
              and (0 < value < 1 or (value >= 1 and float(value) == int(value))))
        if not ok:
            raise ConfigError(f"validation must be a number of training images >= 1, a "
                              f"fraction in (0, 1) or None, got {value!r}")


def parse_validation(text: str) -> int | float:
    """``--validation`` of the scripts: a number of images, or a fraction below 1."""
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"--validation must be a number of images or a fraction in (0, 1), "
                          f"got {text!r}") from None
    return value if 0 < value < 1 else int(value)


def load_experiment_data(cfg: Mapping[str, Any], n_train: int | None):
    """The data set of an experiment: test set, or validation split with ``validation``.

    With ``cfg["validation"]`` (N images or a fraction) the "test" images are
    the last N training images (:func:`brainsim.datasets.validation_split`),
    the training images the first ``n_train`` of the others, and ``n_test``
    limits the validation images; the test set is not used at all.

    Returns
    -------
    data : Dataset
    split : str
        ``"validation"`` or ``"test"``.
    """
    from dataclasses import replace

    from brainsim.datasets import load_dataset, validation_split

    if cfg.get("validation") is None:
        return load_dataset(cfg["dataset"], data_dir=cfg["data_dir"], n_train=n_train,
                            n_test=cfg["n_test"]), "test"
    full = load_dataset(cfg["dataset"], data_dir=cfg["data_dir"])
    data = validation_split(full, cfg["validation"], n_train=n_train)
    if cfg["n_test"] is not None and cfg["n_test"] < len(data.y_test):
        data = replace(data, X_test=data.X_test[:cfg["n_test"]],
                       y_test=data.y_test[:cfg["n_test"]])
    return data, "validation"


def logreg_readout_entry(snn, y_assign, test_counts, y_test, seed: int, split: str) -> dict:
    """Metrics entry of ``snn_logreg``: a linear read-out of the network's spike counts.

    The logistic regression (:func:`brainsim.readout.fit_logreg_readout`) is
    fitted on ``snn.assignment_counts_`` -- the counts of the training images
    that labelled the neurons, with their labels ``y_assign`` -- and scored on
    ``test_counts``, the counts the vote was scored on (nothing is simulated
    again).
    """
    from brainsim.analysis import per_class_accuracy
    from brainsim.readout import fit_logreg_readout

    counts = snn.assignment_counts_
    index = {c: i for i, c in enumerate(snn.classes_.tolist())}
    y_index = np.array([index[c] for c in np.asarray(y_assign).tolist()])
    t0 = time.perf_counter()
    readout = fit_logreg_readout(counts, y_index, random_state=int(seed))
    seconds = time.perf_counter() - t0
    y_pred = snn.classes_[readout.predict(np.asarray(test_counts, dtype=float))]
    return {
        "test_accuracy": float(np.mean(y_pred == y_test)),
        "per_class_accuracy": per_class_accuracy(y_test, y_pred, snn.n_classes_),
        "readout": "logistic regression on standardised spike counts",
        "readout_train_counts_shape": [int(n) for n in counts.shape],
        "train_seconds": seconds,
        "n_train": int(counts.shape[0]), "n_test": int(len(y_test)), "split": split,
    }


def _check_snn_params(params: Any, defaults: Mapping[str, Any]) -> None:
    """``snn_params`` must name DiehlCookSNN parameters without a config key of their own."""
    from brainsim.classifier import DiehlCookSNN

    own = {_snn_param(k): k for k in defaults if _snn_param(k)}
    if not isinstance(params, Mapping):
        raise ConfigError(f"snn_params must be a mapping of DiehlCookSNN parameters, "
                          f"got {params!r}")
    for name in params:
        if name in own:
            raise ConfigError(f"snn_params[{name!r}] has a config key of its own; "
                              f"set {own[name]!r} instead")
        if name not in DiehlCookSNN._PARAM_NAMES:
            raise ConfigError(f"snn_params: {name!r} is not a DiehlCookSNN parameter; known: "
                              f"{', '.join(n for n in DiehlCookSNN._PARAM_NAMES if n not in own)}")


def resolve_snn_config(config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Defaults filled in, the protocol applied, every value checked.

    Parameters
    ----------
    config : mapping, optional
        Keys of :data:`DEFAULT_SNN_CONFIG`.

    Returns
    -------
    dict
        The complete config the experiment runs with.

    Raises
    ------
    ConfigError
        Unknown key, a value of the wrong kind, or a protocol clash.
    """
    cfg = merge_config(DEFAULT_SNN_CONFIG, config, "snn experiment")
    _check_choices(cfg)
    if cfg["protocol"] is not None and cfg["protocol"] not in PROTOCOLS:
        raise ConfigError(f"unknown protocol {cfg['protocol']!r}; choose one of "
                          f"{', '.join(PROTOCOLS)} or None")
    for key, minimum, optional in [("n_neurons", 2, False), ("seed", 0, False),
                                   ("epochs", 1, False), ("n_repeats", 1, True),
                                   ("threads", 0, False), ("learning_processes", 1, False),
                                   ("checkpoint_every", 1, False),
                                   ("n_train", 1, True), ("n_assign", 1, True),
                                   ("n_test", 1, True)]:
        _check_int(cfg, key, minimum, optional)
    baselines = cfg["baselines"]
    if isinstance(baselines, str) or not all(b in SNN_BASELINES for b in baselines):
        raise ConfigError(f"baselines must be a list of names among {', '.join(SNN_BASELINES)}, "
                          f"got {baselines!r}")
    cfg["baselines"] = list(dict.fromkeys(baselines))
    _check_snn_params(cfg["snn_params"], DEFAULT_SNN_CONFIG)
    return apply_protocol(cfg, DEFAULT_SNN_CONFIG)


def resolve_compare_config(config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """:data:`DEFAULT_COMPARE_CONFIG` updated with ``config``, every value checked.

    Raises
    ------
    ConfigError
        Unknown key or a value of the wrong kind.
    """
    cfg = merge_config(DEFAULT_COMPARE_CONFIG, config, "compare experiment")
    _check_choices(cfg)
    for key, minimum, optional in [("n_neurons", 2, False), ("seed", 0, False),
                                   ("n_train", 1, True), ("n_assign", 1, True),
                                   ("n_test", 1, True)]:
        _check_int(cfg, key, minimum, optional)
    _check_snn_params(cfg["snn_params"], DEFAULT_COMPARE_CONFIG)
    cfg["recipes"] = [r for r in dict.fromkeys(cfg["recipes"]) if r != cfg["recipe"]]
    for key in ("seeds", "learning_curve_points"):
        values = cfg[key]
        if values is None:
            continue
        if (isinstance(values, (str, bytes)) or not hasattr(values, "__len__")
                or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                           for v in values)):
            raise ConfigError(f"{key} must be a list of whole numbers or None, got {values!r}")
        cfg[key] = [int(v) for v in values]
    seeds = cfg["seeds"]
    if seeds is not None:
        if len(seeds) < 2 or len(set(seeds)) != len(seeds) or min(seeds) < 0:
            raise ConfigError(f"seeds must be at least 2 different seeds >= 0 (got {seeds}); "
                              "for one run set seed instead")
    if cfg["learning_curve_points"] is not None and (
            not cfg["learning_curve_points"] or min(cfg["learning_curve_points"]) < 1):
        raise ConfigError("learning_curve_points must be training sizes >= 1")
    return cfg


def compare_experiment(config: Mapping[str, Any] | None = None,
                       out_dir: str | os.PathLike | None = None, *,
                       log: Callable[[str], None] | None = None) -> dict:
    """The spiking network and the ANNs trained on the same images, compared.

    Models (names as in metrics.json), all trained on the same split with the
    same seed: ``snn`` (Diehl & Cook 2015, ``n_neurons`` excitatory neurons,
    learning with ``recipe``) and ``snn_logreg`` (a logistic regression on its
    spike counts), one ``snn_<recipe>`` and ``snn_<recipe>_logreg`` per name in
    ``recipes`` (the same network with other learning mechanisms), ``article_mlp`` (inputs-32-10), ``ann_matched`` (inputs-``n_neurons``-10),
    ``logreg``, ``kmeans_assign`` and ``kmeans_logreg`` (``n_neurons``
    prototypes with the network's label assignment / a logistic read-out).

    With ``config["seeds"]`` (two or more seeds) the comparison runs once per
    seed into ``out_dir/seed_<s>/`` and the result reports, per model, the
    mean and standard deviation over seeds, the learning curves with error
    bars, and whether each model's gap to the spiking network is larger than
    the seed-to-seed spread (:func:`brainsim.seeds.paired_gaps`).

    Parameters
    ----------
    config : mapping, optional
        Keys of :data:`DEFAULT_COMPARE_CONFIG`.
    out_dir : path, optional
        Folder for metrics.json, the figures (PNG and PDF) and report.md.
    log : callable, optional
        Called with one line of progress at a time (e.g. ``print``).

    Returns
    -------
    dict
        Shaped like ``metrics.json``: ``models``, ``config``, ``versions``,
        ``timings``, ``dataset``, ``learning_curves`` and more; see
        :func:`brainsim.comparison.compare_one_seed` and
        :func:`brainsim.comparison.compare_seeds`.
    """
    from brainsim import comparison

    cfg = resolve_compare_config(config)
    if cfg["seeds"] is None:
        return comparison.compare_one_seed(cfg, out_dir, log=log)
    return comparison.compare_seeds(cfg, out_dir, log=log)


# --------------------------------------------------------------------------- helpers
def to_json(value: Any) -> Any:
    """Plain JSON values: numpy scalars and arrays -> Python, NaN and inf -> None."""
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_json(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, Path):
        return str(value)
    return value


def fit_quietly(model, X, y):
    """``model.fit(X, y)`` without k-means' and the MLP's convergence warnings."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        # k-means on tiny subsets may find fewer distinct points than clusters.
        warnings.simplefilter("ignore", category=UserWarning)
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        return model.fit(X, y)


def make_ann(name: str, n_neurons: int, seed: int):
    """An unfitted ANN of the comparison by model name (see :data:`ANN_MODELS`)."""
    from ann.competitive import KMeansAssignmentClassifier
    from ann.models import article_mlp, logistic_regression, matched_mlp

    if name == "article_mlp":
        return article_mlp(random_state=seed)
    if name == "ann_matched":
        return matched_mlp(n_neurons, random_state=seed)
    if name == "logreg":
        return logistic_regression(random_state=seed)
    if name in ("kmeans_assign", "kmeans"):
        return KMeansAssignmentClassifier(n_neurons, readout="assign", random_state=seed)
    if name == "kmeans_logreg":
        return KMeansAssignmentClassifier(n_neurons, readout="logreg", random_state=seed)
    raise ConfigError(f"unknown model {name!r}")


def fit_and_score(name: str, n_neurons: int, seed: int, X_train, y_train, X_test, y_test,
                  n_classes: int) -> tuple[Any, dict]:
    """Fit one ANN and score it; returns the model and its metrics entry."""
    from brainsim.analysis import per_class_accuracy

    model = make_ann(name, n_neurons, seed)
    t0 = time.perf_counter()
    fit_quietly(model, X_train, y_train)
    seconds = time.perf_counter() - t0
    y_pred = model.predict(X_test)
    entry = {
        "test_accuracy": float(np.mean(y_pred == y_test)),
        "per_class_accuracy": per_class_accuracy(y_test, y_pred, n_classes),
        "train_seconds": seconds,
        "n_train": int(len(y_train)),
        "n_test": int(len(y_test)),
        "y_pred": y_pred,
    }
    if hasattr(model, "hidden_layer_sizes"):
        entry["architecture"] = [int(X_train.shape[1]), *map(int, model.hidden_layer_sizes),
                                 int(model.n_outputs_)]
        entry["epochs"] = int(model.n_iter_)
    elif name.startswith("kmeans"):
        entry["n_prototypes"] = int(n_neurons)
    return model, entry


def write_result(out_dir: str | os.PathLike, result: Mapping[str, Any]) -> Path:
    """Write a result dict as ``out_dir/metrics.json`` (atomically, via cli.write_metrics)."""
    from brainsim.cli import write_metrics

    extra = {k: v for k, v in result.items()
             if k not in ("models", "config", "timings", "versions")}
    return write_metrics(out_dir, models=result["models"], config=result["config"],
                         timings=result["timings"], **extra)


def _finish(models: dict, config: dict, timings: dict, **extra: Any) -> dict:
    from brainsim.cli import library_versions

    for entry in models.values():
        entry.pop("y_pred", None)
    return to_json({"models": models, "config": config, "versions": library_versions(),
                    "timings": timings, **extra})


# --------------------------------------------------------------------------- snn
def snn_experiment(config: Mapping[str, Any] | None = None,
                   out_dir: str | os.PathLike | None = None) -> dict:
    """Train the spiking network without labels, label its neurons, test it.

    Protocol ([DC15] section 2.5): STDP on the first ``n_train`` training
    images, ``epochs`` times in the same order; then learning and thresholds
    are frozen and each neuron is labelled with the class it answers most over
    the first ``n_assign`` training images; the test images are classified by
    the labelled neurons' votes. Baselines (``config["baselines"]``) are
    trained on the same training images (the first ``max(n_train, n_assign)``,
    the labels the network saw) with the same seed: ``kmeans`` (``n_neurons``
    prototypes, winner-take-all and the same label assignment) and
    ``ann_matched`` (the MLP inputs -> ``n_neurons`` ReLU -> classes).

    Parameters
    ----------
    config : mapping, optional
        Keys of :data:`DEFAULT_SNN_CONFIG`; missing keys take their default.
    out_dir : path, optional
        Folder for ``metrics.json``, ``snn.npz``, the figures and (by default)
        the training checkpoint. Nothing is written when None.

    Returns
    -------
    dict
        Shaped like ``metrics.json``: ``config`` (resolved), ``models``
        (``snn`` and one entry per baseline), ``versions``, ``timings``
        (seconds), ``figures`` (paths written).

    Raises
    ------
    ConfigError
        Bad config (before anything is trained).
    """
    from brainsim.analysis import per_class_accuracy
    from brainsim.classifier import DiehlCookSNN

    t_start = time.perf_counter()
    cfg = resolve_snn_config(config)
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)  # fail early on an unusable folder
    # the assignment may use more training images than the learning (the paper:
    # 40,000 to learn, a pass over all 60,000 to label the neurons)
    n_load = None if cfg["n_train"] is None else max(cfg["n_train"], cfg["n_assign"] or 0)
    t0 = time.perf_counter()
    try:
        data, split = load_experiment_data(cfg, n_load)
    except ConfigError as err:
        if cfg["protocol"] is None:
            raise
        raise ConfigError(f"protocol {cfg['protocol']!r} needs {n_load} training and "
                          f"{cfg['n_test']} test images, more than {cfg['dataset']} has "
                          f"({err}); use dataset mnist") from None
    load_seconds = time.perf_counter() - t0
    n_train = len(data.y_train) if cfg["n_train"] is None else cfg["n_train"]
    n_assign = n_train if cfg["n_assign"] is None else min(cfg["n_assign"], len(data.y_train))

    checkpoint_dir = cfg["checkpoint_dir"]
    if checkpoint_dir is None and out is not None:
        checkpoint_dir = str(out / "checkpoint")
    if cfg["fresh"] and checkpoint_dir is not None and Path(checkpoint_dir).exists():
        shutil.rmtree(checkpoint_dir)
    snn = DiehlCookSNN(**dict(snn_kwargs(cfg), checkpoint_dir=checkpoint_dir))

    # STDP, no labels; `epochs` epochs of the recipe's passes (fit's schedule)
    snn.partial_fit(data.X_train[:n_train], passes=snn.training_passes(n_train),
                    total_images=n_train)
    snn.assign(data.X_train[:n_assign], data.y_train[:n_assign])
    t0 = time.perf_counter()
    test = snn.respond(data.X_test, desc="test")
    y_pred = snn.predict_from_counts(test.counts)
    test_seconds = time.perf_counter() - t0
    acc = float(np.mean(y_pred == data.y_test))
    assign_acc = float(np.mean(snn.predict_from_counts(snn.assignment_counts_)
                               == data.y_train[:n_assign]))
    train_s = snn.timings_.get("train", 0.0)
    n_shown = n_train * cfg["epochs"]
    models: dict[str, dict] = {"snn": {
        "test_accuracy": acc,
        "assignment_accuracy": assign_acc,
        "per_class_accuracy": per_class_accuracy(data.y_test, y_pred, snn.n_classes_),
        "n_train": int(n_train), "n_test": int(len(data.y_test)),
        "n_assign": int(n_assign), "n_neurons": cfg["n_neurons"], "rule": snn.learning_rule_,
        "epochs": int(cfg["epochs"]),
        "training_images_shown": int(n_shown),
        "training_presentations": int(snn.training_presentations_),
        "train_seconds": train_s,
        "train_images_per_s": n_shown / train_s if train_s else None,
        "test_images_per_s": len(data.y_test) / test_seconds if test_seconds else None,
        "unassigned_neurons": int(np.sum(snn.assignments_ < 0)),
        "mean_test_spikes_per_image": float(test.counts.sum(axis=1).mean()),
        "presentations_per_image": snn.effective_n_repeats(),  # while frozen; counts are summed
        # factor on theta_plus while learning (recipe homeostasis_strength / _scaling)
        "homeostasis_strength": getattr(snn, "homeostasis_strength_", None),
        "recipe": cfg["recipe"], "split": split,
    }}
    models["snn_logreg"] = logreg_readout_entry(snn, data.y_train[:n_assign], test.counts,
                                                data.y_test, cfg["seed"], split)
    cfg["split"] = split
    timings = dict(snn.timings_, load_data=load_seconds, test=test_seconds)

    if cfg["baselines"]:
        from ann.models import images_to_features

        n_seen = max(n_train, n_assign)
        X_tr = images_to_features(data.X_train[:n_seen])
        X_te = images_to_features(data.X_test)
        for name in cfg["baselines"]:
            t0 = time.perf_counter()
            _, models[name] = fit_and_score(name, cfg["n_neurons"], cfg["seed"], X_tr,
                                            data.y_train[:n_seen], X_te, data.y_test,
                                            data.n_classes)
            models[name]["split"] = split
            timings[name] = time.perf_counter() - t0

    figures: list[str] = []
    if out is not None:
        snn.save(out / "snn.npz")
        if cfg["figures"]:
            from brainsim.figures import snn_figures

            t0 = time.perf_counter()
            figures = snn_figures(snn, data, y_pred, out)
            timings["figures"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - t_start
    result = _finish(models, cfg, timings, figures=figures)
    if out is not None:
        write_result(out, result)
    return result


# --------------------------------------------------------------------------- rules
def rules_experiment(config: Mapping[str, Any] | None = None,
                     out_dir: str | os.PathLike | None = None, *,
                     log: Callable[[str], None] | None = None) -> dict:
    """Train the spiking network once per learning rule on the same images.

    Each network learns from the first ``n_train`` training images, is labelled
    on the same images and scored on ``n_test`` test images.

    Parameters
    ----------
    config : mapping, optional
        Keys of :data:`DEFAULT_RULES_CONFIG`.
    out_dir : path, optional
        Folder for metrics.json and ``receptive_fields_rules`` (PNG and PDF).
    log : callable, optional
        Called with one line per rule.

    Returns
    -------
    dict
        Shaped like metrics.json; one model ``snn_<rule>`` per rule.
    """
    from brainsim.classifier import DiehlCookSNN
    from brainsim.datasets import load_dataset

    t_start = time.perf_counter()
    cfg = merge_config(DEFAULT_RULES_CONFIG, config, "rules experiment")
    _check_choices(cfg)
    rules = cfg["rules"]
    if isinstance(rules, str) or not rules or not all(r in RULES for r in rules):
        raise ConfigError(f"rules must be a list of names among {', '.join(sorted(RULES))}, "
                          f"got {rules!r}")
    for key, minimum in [("n_neurons", 2), ("seed", 0), ("n_train", 1), ("n_test", 1)]:
        _check_int(cfg, key, minimum, False)
    _check_snn_params(cfg["snn_params"], DEFAULT_RULES_CONFIG)
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    data = load_dataset(cfg["dataset"], data_dir=cfg["data_dir"], n_train=cfg["n_train"],
                        n_test=cfg["n_test"])
    models, timings, weights = {}, {}, {}
    for rule in rules:
        start = time.perf_counter()
        snn = DiehlCookSNN(**dict(snn_kwargs(cfg), learning_rule=rule))
        snn.fit(data.X_train, data.y_train)
        acc = snn.score(data.X_test, data.y_test)
        timings[rule] = time.perf_counter() - start
        weights[rule] = snn.weights_
        models[f"snn_{rule}"] = {
            "test_accuracy": acc, "n_train": len(data.y_train), "n_test": len(data.y_test),
            "rule": rule, "n_neurons": cfg["n_neurons"],
            "training_presentations": snn.training_presentations_,
            "unassigned_neurons": int(np.sum(snn.assignments_ < 0)),
            "train_seconds": snn.timings_.get("train"),
        }
        if log is not None:
            log(f"{rule:12s} test accuracy {acc:.3f} ({len(data.y_test)} images, "
                f"{timings[rule]:.0f} s)")
    figures: list[str] = []
    if out is not None and cfg["figures"]:
        from brainsim.figures import rules_figure

        accuracy = {rule: models[f"snn_{rule}"]["test_accuracy"] for rule in rules}
        figures = rules_figure(weights, accuracy, data.image_shape, out)
    timings["total"] = time.perf_counter() - t_start
    result = _finish(models, cfg, timings, figures=figures)
    if out is not None:
        write_result(out, result)
    return result
