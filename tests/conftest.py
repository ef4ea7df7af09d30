"""Shared test set-up: headless matplotlib, no internet, the real MNIST files."""

from __future__ import annotations

import os
import socket
from pathlib import Path

# Headless plotting, also for scripts started in subprocesses.
os.environ["MPLBACKEND"] = "Agg"
import matplotlib  # noqa: E402

matplotlib.use("Agg")

import pytest  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Default location of the project's shared MNIST copy (never inside the repo).
DEFAULT_MNIST_DIR = REPO_ROOT.parent / "shared" / "data" / "mnist"

MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Tests never reach the internet: unless a test sets its own mirror, a download
# goes to a closed port on this machine and fails at once ("connection refused").
# Set in os.environ so that scripts run in subprocesses inherit it.
_NOWHERE = f"http://127.0.0.1:{_closed_port()}/"
os.environ["BRAINSIM_MNIST_MIRROR"] = _NOWHERE
os.environ["BRAINSIM_FASHION_MNIST_MIRROR"] = _NOWHERE


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's root folder."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """Folder with the real MNIST IDX files (``../shared/data/mnist`` by default).

    ``BRAINSIM_TEST_MNIST`` overrides the location. Tests that need it are
    skipped, with the reason, when the files are absent.
    """
    override = os.environ.get("BRAINSIM_TEST_MNIST")
    path = Path(override) if override else DEFAULT_MNIST_DIR
    missing = [
        f for f in MNIST_FILES
        if not (path / (f + ".gz")).is_file() and not (path / f).is_file()
    ]
    if missing:
        pytest.skip(
            f"real MNIST files not found in {path} (missing {', '.join(missing)}); "
            "set BRAINSIM_TEST_MNIST to the folder holding them"
        )
    return path.resolve()


@pytest.fixture
def no_data_env(monkeypatch, tmp_path) -> dict:
    """Isolate data look-ups: no BRAINSIM_DATA, an empty per-user cache, no system folder.

    Returns the environment (a dict) to pass to scripts run in a subprocess.
    """
    from brainsim import datasets

    cache = tmp_path / "xdg-cache"
    cache.mkdir()
    monkeypatch.delenv("BRAINSIM_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setattr(datasets, "SYSTEM_DIRS", {"mnist": (), "fashion-mnist": ()})
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    return env


# Compiled C++ standalone networks are cached here for the whole test session and
# for later runs in the same checkout (each new shape costs about a minute to
# compile on 2 cores). Set in os.environ so that scripts run in subprocesses share it.
os.environ.setdefault(
    "BRAINSIM_CACHE",
    os.environ.get("BRAINSIM_TEST_CACHE", str(REPO_ROOT / ".brainsim_cache" / "standalone")),
)


@pytest.fixture(scope="session")
def standalone_cache() -> str:
    """Folder of the compiled networks shared by all tests (see BRAINSIM_CACHE)."""
    return os.environ["BRAINSIM_CACHE"]
