"""Conventions shared by every script in ``experiments/``.

Each script builds its parser with :func:`make_parser` (options ``--dataset``,
``--data-dir``, ``--seed``, ``--out``), loads data with
:func:`load_dataset_from_args`, writes ``metrics.json`` with
:func:`write_metrics` and figures with :func:`save_figure`, and is started
through :func:`run_script`, which turns a :class:`~brainsim.errors.BrainsimError`
into a one-line ``error: ...`` message and exit code 2.

``metrics.json`` has one shape for all scripts::

    {"models": {"<name>": {"test_accuracy": 0.97, "n_train": 60000, "n_test": 10000, ...}},
     "config": {... every option, including the seed ...},
     "versions": {"python": ..., "numpy": ..., ...},
     "timings": {"<step>": seconds, ...},
     ... anything else the script adds ...}
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import os
import platform
import sys
from pathlib import Path
from typing import Any, Callable, NoReturn

import numpy as np

from brainsim.datasets import DATASETS, Dataset, load_dataset
from brainsim.errors import BrainsimError, ConfigError

__all__ = [
    "make_parser",
    "load_dataset_from_args",
    "library_versions",
    "write_metrics",
    "save_figure",
    "run_script",
    "positive_int",
    "check_config",
]

#: Exit code for bad input (a :class:`BrainsimError`).
EXIT_BAD_INPUT = 2
#: Exit code after Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130


def make_parser(description: str, *, default_out: str) -> argparse.ArgumentParser:
    """Argument parser with the options every experiment script shares.

    Parameters
    ----------
    description : str
        Shown by ``--help``.
    default_out : str
        Sub-folder of ``results/`` used when ``--out`` is not given.

    Returns
    -------
    argparse.ArgumentParser
        With ``--dataset``, ``--data-dir``, ``--seed`` and ``--out``; the script
        adds its own options.
    """
    parser = argparse.ArgumentParser(
        description=description,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--dataset", choices=DATASETS, default="digits",
        help="data set; digits is bundled with scikit-learn and needs no download",
    )
    parser.add_argument(
        "--data-dir", metavar="PATH", default=None,
        help="folder holding the MNIST/Fashion-MNIST IDX files (searched before "
             "$BRAINSIM_DATA, the per-user cache and a download)",
    )
    parser.add_argument(
        "--seed", type=int, default=0,
        help="random seed of the models (the data split is fixed)",
    )
    parser.add_argument(
        "--out", metavar="DIR", default=os.path.join("results", default_out),
        help="output folder for metrics.json and figures (created if needed)",
    )
    return parser


def load_dataset_from_args(
    args: argparse.Namespace, *, n_train: int | None = None, n_test: int | None = None
) -> Dataset:
    """Load the data set chosen by ``--dataset`` / ``--data-dir``.

    The train/test split of ``digits`` is the fixed default one, whatever
    ``--seed`` is, so runs with different seeds are scored on the same images.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options of a parser made by :func:`make_parser`.
    n_train, n_test : int, optional
        Subset sizes (default: all examples).

    Returns
    -------
    Dataset
    """
    return load_dataset(
        args.dataset, data_dir=args.data_dir, n_train=n_train, n_test=n_test
    )


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries the results depend on.

    A library already imported reports its ``__version__``; one that is not
    (typically Brian2 in ANN-only scripts) reports its installed version from
    the package metadata, so that this function never pays for an import.

    Returns
    -------
    dict of str to str
        Keys ``python``, ``platform``, ``numpy``, ``scipy``, ``sklearn``,
        ``matplotlib``, ``brainsim`` and, when it is installed, ``brian2``.
    """
    versions = {"python": platform.python_version(), "platform": platform.platform()}
    for key, module, dist in [
        ("numpy", "numpy", "numpy"),
        ("scipy", "scipy", "scipy"),
        ("sklearn", "sklearn", "scikit-learn"),
        ("matplotlib", "matplotlib", "matplotlib"),
        ("brainsim", "brainsim", "brainsim"),
        ("brian2", "brian2", "Brian2"),
    ]:
        mod = sys.modules.get(module)
        version = getattr(mod, "__version__", None) if mod is not None else None
        if version is None:
            try:
                version = importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                version = None
        if version is None and key == "brainsim":
            import brainsim

            version = brainsim.__version__
        if version is not None:
            versions[key] = str(version)
        elif key != "brian2":
            versions[key] = "unavailable"
    return versions


def _to_json(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to metrics.json")


def _check_models(models: dict) -> None:
    if not isinstance(models, dict):
        raise TypeError("models must map a model name to a dict of figures")
    for name, entry in models.items():
        missing = [k for k in ("test_accuracy", "n_train", "n_test") if k not in entry]
        if missing:
            raise ValueError(f"metrics of model {name!r} lack {', '.join(missing)}")
        acc = float(entry["test_accuracy"])
        if not (math.isnan(acc) or 0.0 <= acc <= 1.0):
            raise ValueError(f"test_accuracy of {name!r} must be a fraction in [0, 1], got {acc}")


def write_metrics(
    out_dir: str | os.PathLike,
    *,
    models: dict,
    config: dict,
    timings: dict,
    **extra: Any,
) -> Path:
    """Write ``out_dir/metrics.json`` in the shape shared by all scripts.

    Parameters
    ----------
    out_dir : path
        Created if needed.
    models : dict
        Model name -> dict with at least ``test_accuracy`` (fraction 0..1),
        ``n_train`` and ``n_test``.
    config : dict
        Every option of the run, including the seed.
    timings : dict
        Step name -> wall time in seconds.
    **extra
        Further top-level entries.

    Returns
    -------
    Path
        The file written.
    """
    _check_models(models)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    payload = {
        "models": models,
        "config": config,
        "versions": library_versions(),
        "timings": timings,
        **extra,
    }
    path = out / "metrics.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=_to_json) + "\n")
    os.replace(tmp, path)
    return path


def save_figure(fig, out_dir: str | os.PathLike, name: str) -> list[Path]:
    """Save ``fig`` as ``name.png`` (150 dpi) and ``name.pdf`` and close it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    out_dir : path
        Created if needed.
    name : str
        File name without extension.

    Returns
    -------
    list of Path
        The PNG and the PDF.
    """
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.png", out / f"{name}.pdf"]
    try:
        fig.savefig(paths[0], dpi=150, bbox_inches="tight")
        fig.savefig(paths[1], bbox_inches="tight")
    finally:
        plt.close(fig)
    return paths


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


def run_script(main: Callable[[list[str] | None], int | None], argv: list[str] | None = None) -> NoReturn:
    """Run a script's ``main(argv)`` and exit with its status.

    A :class:`~brainsim.errors.BrainsimError` is reported as ``error: <message>``
    on one line of stderr with exit code 2, and so is an ``OSError`` from the
    file system (for example an ``--out`` folder that cannot be written).
    Ctrl-C exits with code 130 and a one-line note. Other exceptions are bugs
    and keep their traceback.
    """
    try:
        status = main(argv)
    except BrainsimError as err:
        print(f"error: {_one_line(str(err))}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    except OSError as err:
        where = f": {err.filename}" if getattr(err, "filename", None) else ""
        print(f"error: {_one_line(err.strerror or str(err))}{where}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        print("interrupted (Ctrl-C); results written so far are kept", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(int(status or 0))


def positive_int(text: str) -> int:
    """``argparse`` type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def check_config(condition: bool, message: str) -> None:
    """Raise :class:`ConfigError` with ``message`` unless ``condition``."""
    if not condition:
        raise ConfigError(message)
