"""Conventions shared by every script in ``experiments/``.

Each script builds its parser with :func:`make_parser` (options ``--dataset``,
``--data-dir``, ``--seed``, ``--out``), loads data with
:func:`load_dataset_from_args`, writes ``metrics.json`` with
:func:`write_metrics` and figures with :func:`save_figure`, and is started
through :func:`run_script`, which turns a :class:`~brainsim.errors.BrainsimError`
or a file-system error into a one-line ``error: ...`` message and exit code 2,
and Ctrl-C into a one-line note and exit code 130. Inside ``run_script`` the
parser also claims the ``--out`` folder (:func:`claim_output_folder`): one run
writes into one folder at a time. Results are written atomically
(:mod:`brainsim.fileio`).

``metrics.json`` has one shape for all scripts::

    {"models": {"<name>": {"test_accuracy": 0.97, "n_train": 60000, "n_test": 10000, ...}},
     "config": {... every option, including the seed ...},
     "versions": {"python": ..., "numpy": ..., ...},
     "timings": {"<step>": seconds, ...},
     ... anything else the script adds ...}
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib.metadata
import math
import os
import platform
import sys
from pathlib import Path
from typing import Any, Callable, NoReturn


from brainsim.datasets import DATASETS, Dataset, load_dataset
from brainsim.errors import BrainsimError, ConfigError
from brainsim.fileio import FolderLock, json_value, lock_folder, save_figure_file, write_json

__all__ = [
    "make_parser",
    "load_dataset_from_args",
    "library_versions",
    "write_metrics",
    "save_figure",
    "run_script",
    "positive_int",
    "check_config",
    "claim_output_folder",
    "release_output_folders",
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
    parser = _ScriptParser(
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


class _ScriptParser(argparse.ArgumentParser):
    """A parser that, inside :func:`run_script`, also claims the ``--out`` folder.

    Every script parses its options first, so the folder is claimed before
    anything is written: a second run with the same ``--out`` stops at once
    (see :func:`claim_output_folder`). Parsing outside ``run_script`` (tests,
    notebooks) takes no lock.
    """

    def parse_known_args(self, args=None, namespace=None):
        namespace, rest = super().parse_known_args(args, namespace)
        if _claim_on_parse and getattr(namespace, "out", None) is not None:
            claim_output_folder(namespace.out)
        return namespace, rest


#: Set by :func:`run_script` while a script's ``main`` runs.
_claim_on_parse = False
#: Folders this process holds the writer lock of (resolved path -> lock).
_held_locks: dict[str, FolderLock] = {}


def claim_output_folder(out: str | os.PathLike, *, option: str = "--out") -> Path:
    """Create ``out`` and hold its writer lock until the script ends.

    One run writes into one folder at a time: a second process that claims a
    folder in use stops with :class:`~brainsim.errors.FolderInUseError`
    instead of interleaving its files with the first one's. The lock
    (``fcntl.flock`` on ``out/.brainsim.lock``) is released by
    :func:`release_output_folders`, or by the operating system when the
    process ends, however it ends.

    Parameters
    ----------
    out : path
        The output folder.
    option : str
        The option that named it, for messages.

    Returns
    -------
    Path
        The folder.

    Raises
    ------
    ConfigError
        ``out`` is a file, or the folder cannot be created or written.
    FolderInUseError
        Another run holds the folder.
    """
    folder = Path(out)
    key = str(folder.resolve())
    if key in _held_locks and _held_locks[key].held:
        return folder
    try:
        _held_locks[key] = lock_folder(folder, what=f"{option} folder")
    except OSError as err:
        raise ConfigError(
            f"{option} folder {folder} cannot be written ({err.strerror or err}); "
            f"{_hint(err, option)}"
        ) from None
    for stale in folder.glob(".*.tmp"):  # left by a killed run; ours now that we hold the lock
        with contextlib.suppress(OSError):
            stale.unlink()
    return folder


def release_output_folders() -> None:
    """Release every folder claimed by :func:`claim_output_folder`."""
    while _held_locks:
        _held_locks.popitem()[1].release()


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
    return write_json(out / "metrics.json", payload, default=json_value)


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
        save_figure_file(fig, paths[0], dpi=150, bbox_inches="tight")
        save_figure_file(fig, paths[1], bbox_inches="tight")
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
    global _claim_on_parse
    _claim_on_parse = True
    try:
        status = main(argv)
    except BrainsimError as err:
        print(f"error: {_one_line(str(err))}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    except OSError as err:
        where = f": {err.filename}" if getattr(err, "filename", None) else ""
        print(f"error: {_one_line(err.strerror or str(err))}{where}; {_hint(err)}",
              file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        print("interrupted (Ctrl-C); files and checkpoints written so far are kept, and "
              "the same command resumes a checkpointed training", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    finally:
        _claim_on_parse = False
        release_output_folders()
    sys.exit(int(status or 0))


def _hint(err: OSError, option: str = "--out") -> str:
    """What to do about a file-system error."""
    if err.errno == errno.ENOSPC:
        return f"the disk is full: free some space or choose another folder with {option}"
    if err.errno in (errno.EACCES, errno.EPERM):
        return f"check the permissions or choose another folder with {option}"
    if err.errno == errno.EROFS:
        return f"the file system is read-only: choose another folder with {option}"
    if err.errno in (errno.ENOTDIR, errno.EEXIST):
        return f"a file stands where a folder is needed: choose another path with {option}"
    return f"check the path, or choose another folder with {option}"


def positive_int(text: str) -> int:
    """``argparse`` type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def jobs_int(text: str) -> int:
    """``argparse`` type of ``--jobs``: an integer >= 1, or -1 for every core."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1 and value != -1:
        raise argparse.ArgumentTypeError(f"must be at least 1, or -1 for every core; got {value}")
    return value


def add_jobs_option(parser: argparse.ArgumentParser, default: int | None) -> None:
    """Add ``--jobs N`` (parallel inference, ``DiehlCookSNN(n_jobs=N)``) to a script's parser."""
    parser.add_argument("--jobs", type=jobs_int, default=default, metavar="N",
                        help="inference (labelling, testing) in N parallel processes: the "
                             "images are split into fixed blocks, each seeded from its "
                             "index, N blocks run at once (-1: every core); results are the "
                             "same for every N. Default: one stream of chunks, as in the "
                             "published figures. Training is unaffected (sequential). See "
                             "docs/performance.md, Threads")


def add_threads_option(parser: argparse.ArgumentParser, default: int) -> None:
    """Add ``--threads N`` (OpenMP threads of the compiled network) to a script's parser."""
    parser.add_argument("--threads", type=int, default=default,
                        help="OpenMP threads of the compiled network (0: single-threaded, the "
                             "fastest for up to 1,600 neurons on 2 cores; to use more cores "
                             "use --learning-processes for training and --jobs for "
                             "inference; docs/performance.md, Threads)")


def add_learning_processes_option(parser: argparse.ArgumentParser, default: int) -> None:
    """Add ``--learning-processes N`` (``DiehlCookSNN(learning_processes=N)``)."""
    parser.add_argument("--learning-processes", type=positive_int, default=default, metavar="N",
                        help="run the learning network as N processes, each simulating "
                             "1/N of the neurons on a core of its own (the same spikes and "
                             "weights as one process; 2 on 2 cores: about 1.6x faster "
                             "training at 1,600 neurons); N must divide --n-neurons. See "
                             "docs/performance.md, Threads")


def check_config(condition: bool, message: str) -> None:
    """Raise :class:`ConfigError` with ``message`` unless ``condition``."""
    if not condition:
        raise ConfigError(message)
