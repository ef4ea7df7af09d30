"""Exceptions raised by brainsim for problems a user can act on.

Every error a user can cause (a bad option, a missing or damaged data file, a
model file that does not fit) is a :class:`BrainsimError`. The command-line
scripts in ``experiments/`` print its message on one line and exit with code 2
(see :func:`brainsim.cli.run_script`); anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

__all__ = [
    "BrainsimError",
    "ConfigError",
    "DatasetError",
    "DataNotFoundError",
    "ChecksumError",
    "CorruptFileError",
    "ModelFileError",
    "FolderInUseError",
    "NotFittedError",
]


class BrainsimError(Exception):
    """Base class: a problem the user can fix; the message says what and how."""


class ConfigError(BrainsimError, ValueError):
    """A parameter or command-line option has a value that cannot be used."""


class DatasetError(BrainsimError):
    """Base class for problems with data sets and their files."""


class DataNotFoundError(DatasetError):
    """The data files are neither on disk nor downloadable."""


class ChecksumError(DatasetError):
    """A data file's SHA-256 differs from the canonical value; it is never used."""


class CorruptFileError(DatasetError):
    """A data file cannot be parsed (bad gzip, bad IDX magic number, wrong size)."""


class ModelFileError(BrainsimError):
    """A saved network cannot be loaded: corrupt, truncated or incompatible file."""


class FolderInUseError(BrainsimError):
    """Another run is writing into the same output or checkpoint folder."""


def _make_not_fitted_error() -> type:
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError

    class NotFittedError(ConfigError, SklearnNotFittedError):
        """A network is used before ``fit`` (scikit-learn's ``NotFittedError`` as well)."""

    NotFittedError.__module__ = __name__
    return NotFittedError


def __getattr__(name: str):
    # NotFittedError derives from scikit-learn's; made on first use so that importing
    # this module (which every script does) does not import scikit-learn.
    if name == "NotFittedError":
        cls = _make_not_fitted_error()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
