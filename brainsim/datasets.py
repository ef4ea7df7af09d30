"""Image data sets: scikit-learn's 8x8 digits, MNIST and Fashion-MNIST.

One entry point, :func:`load_dataset`, returns train and test images as
``uint8`` arrays of shape ``(n, height, width)`` and integer labels.

``digits``
    scikit-learn's bundled 8x8 handwritten digits (1,797 images, no download).
    Pixel values 0..16 are rescaled to 0..255 (``round(x * 255 / 16)``) and the
    images are split 75 % / 25 % into train and test, stratified by class, with
    a fixed seed, so the split is the same on every machine.
``mnist``, ``fashion-mnist``
    The standard IDX files (``.gz`` or uncompressed), 60,000 training and
    10,000 test images of 28x28 pixels. Subsets are the first ``n_train`` /
    ``n_test`` examples in file order.

Where the IDX files are looked for, in this order (each file separately):

1. the ``data_dir`` argument (``--data-dir`` in the scripts);
2. the folder named by the environment variable ``BRAINSIM_DATA``;
3. the per-user cache, ``$XDG_CACHE_HOME/brainsim/<name>`` (by default
   ``~/.cache/brainsim/<name>``);
4. for Fashion-MNIST, ``/usr/share/datasets/fashion-mnist`` (Debian's
   ``dataset-fashion-mnist`` package);
5. otherwise the file is downloaded from a public mirror into the cache
   (unless ``download=False``).

In folders 1-3 a file may lie directly in the folder or in a sub-folder named
after the data set (``<folder>/mnist/...``), so one ``BRAINSIM_DATA`` folder
can hold both data sets.

Every file, found or downloaded, is checked before use: it must be a valid IDX
file of the expected shape, and the SHA-256 of its *decompressed* bytes must
equal the canonical value (gzip wrappers differ between mirrors, the content
does not). A file that fails is never used; a downloaded one is deleted.

Checksums: the MNIST values are the canonical ones listed with the project's
shared copy of the data. The Fashion-MNIST values are the SHA-256 of the
decompressed files of Zalando Research's release
(https://github.com/zalandoresearch/fashion-mnist); they were checked here
against the files of Debian's ``dataset-fashion-mnist`` package and agree
with the values listed by several independent public projects.

MNIST: Y. LeCun, C. Cortes and C. J. C. Burges; LeCun et al. (1998), Proc.
IEEE 86(11):2278-2324; licence CC BY-SA 3.0. Fashion-MNIST: H. Xiao, K. Rasul
and R. Vollgraf (2017), arXiv:1708.07747; licence MIT.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import math
import os
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
import numpy as np

from brainsim.errors import (
    ChecksumError,
    ConfigError,
    CorruptFileError,
    DataNotFoundError,
    DatasetError,
)

__all__ = [
    "DATASETS",
    "DATA_ENV",
    "Dataset",
    "load_dataset",
    "validation_split",
    "read_idx",
    "find_data_file",
    "cache_dir",
]

#: Names accepted by :func:`load_dataset`.
DATASETS = ("digits", "mnist", "fashion-mnist")

#: Environment variable naming a folder that holds the IDX files.
DATA_ENV = "BRAINSIM_DATA"

#: Environment variables that replace the mirror list (comma-separated base URLs).
MIRROR_ENV = {
    "mnist": "BRAINSIM_MNIST_MIRROR",
    "fashion-mnist": "BRAINSIM_FASHION_MNIST_MIRROR",
}

#: Public mirrors, tried in order; a file's URL is base URL + file name + ".gz".
MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    "fashion-mnist": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
    ),
}

#: Read-only system folders searched after the cache.
SYSTEM_DIRS: dict[str, tuple[str, ...]] = {
    "mnist": (),
    "fashion-mnist": ("/usr/share/datasets/fashion-mnist",),
}

#: Seconds to wait for a mirror to answer.
DOWNLOAD_TIMEOUT = 30.0

_N_CLASSES = {"digits": 10, "mnist": 10, "fashion-mnist": 10}

_CLASS_NAMES = {
    "digits": tuple(str(i) for i in range(10)),
    "mnist": tuple(str(i) for i in range(10)),
    "fashion-mnist": (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ),
}

_DIGITS_TEST_FRACTION = 0.25


@dataclass(frozen=True)
class _IdxSpec:
    """One IDX file of a data set: its name (without .gz), checksum and shape."""

    filename: str
    sha256: str
    shape: tuple[int, ...]


def _idx_specs(sha: dict[str, str]) -> dict[str, _IdxSpec]:
    return {
        "train_images": _IdxSpec("train-images-idx3-ubyte", sha["train-images"], (60000, 28, 28)),
        "train_labels": _IdxSpec("train-labels-idx1-ubyte", sha["train-labels"], (60000,)),
        "test_images": _IdxSpec("t10k-images-idx3-ubyte", sha["t10k-images"], (10000, 28, 28)),
        "test_labels": _IdxSpec("t10k-labels-idx1-ubyte", sha["t10k-labels"], (10000,)),
    }


# SHA-256 of the decompressed IDX bytes.
_FILES: dict[str, dict[str, _IdxSpec]] = {
    "mnist": _idx_specs({
        "train-images": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    }),
    "fashion-mnist": _idx_specs({
        "train-images": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    }),
}

# Which (data set, file) a known checksum belongs to, to explain mix-ups.
_KNOWN_HASHES = {
    spec.sha256: (ds, spec.filename) for ds, specs in _FILES.items() for spec in specs.values()
}


@dataclass(frozen=True, eq=False)
class Dataset:
    """Train and test images with integer labels.

    Attributes
    ----------
    name : str
        One of :data:`DATASETS`.
    X_train, X_test : ndarray of uint8, shape (n, height, width)
        Pixel intensities 0..255.
    y_train, y_test : ndarray of int64, shape (n,)
        Class labels 0..n_classes-1.
    source : str or None
        Where the files were read from (None for ``digits``).
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    source: str | None = None

    @property
    def image_shape(self) -> tuple[int, int]:
        """(height, width) of one image in pixels."""
        return (int(self.X_train.shape[1]), int(self.X_train.shape[2]))

    @property
    def n_classes(self) -> int:
        """Number of classes of the data set (10 for all three)."""
        return _N_CLASSES[self.name]

    @property
    def class_names(self) -> tuple[str, ...]:
        """Human-readable class names, indexed by label."""
        return _CLASS_NAMES[self.name]


# --------------------------------------------------------------------------
# public entry point


def load_dataset(
    name: str = "digits",
    *,
    data_dir: str | os.PathLike | None = None,
    n_train: int | None = None,
    n_test: int | None = None,
    random_state: int = 0,
    download: bool = True,
) -> Dataset:
    """Load a data set as uint8 images and int64 labels.

    Parameters
    ----------
    name : {"digits", "mnist", "fashion-mnist"}
        The data set.
    data_dir : path, optional
        Folder holding the IDX files; searched first (MNIST-like sets only).
    n_train, n_test : int, optional
        Number of training / test examples to return (default: all). For MNIST
        and Fashion-MNIST the first examples in file order.
    random_state : int
        Seed of the stratified train/test split of ``digits`` (ignored by the
        IDX data sets, whose split is fixed by the files).
    download : bool
        Download missing IDX files into the per-user cache.

    Returns
    -------
    Dataset

    Raises
    ------
    ConfigError
        Unknown name, or ``n_train`` / ``n_test`` out of range.
    DataNotFoundError
        Files missing and not downloadable.
    ChecksumError
        A file's decompressed SHA-256 differs from the canonical value.
    CorruptFileError
        A file is not a valid IDX file of the expected shape.
    """
    key = _normalise_name(name)
    if key == "digits":
        ds = _load_digits(random_state)
    else:
        ds = _load_idx_dataset(key, data_dir=data_dir, download=download)
    n_tr = _check_count("n_train", n_train, len(ds.y_train), key)
    n_te = _check_count("n_test", n_test, len(ds.y_test), key)
    # Copies: the arrays of a verified file are cached read-only; callers get their own.
    return Dataset(
        name=ds.name,
        X_train=ds.X_train[:n_tr].copy(),
        y_train=ds.y_train[:n_tr].copy(),
        X_test=ds.X_test[:n_te].copy(),
        y_test=ds.y_test[:n_te].copy(),
        source=ds.source,
    )


def validation_split(data: Dataset, n_validation: int | float, *,
                     n_train: int | None = None) -> Dataset:
    """Carve a validation set out of the training set, for choosing hyperparameters.

    The returned data set's "test" images are the *last* `n_validation` training
    images (for MNIST the last 10,000 of the 60,000, a common choice); its
    training images are the first `n_train` of the others. The real test set is
    not part of it, so that no choice can be made on it.

    Parameters
    ----------
    data : Dataset
        The full data set (e.g. from :func:`load_dataset`).
    n_validation : int or float
        Number of validation images, or a fraction in (0, 1) of the training set
        (e.g. 0.2 for ``digits``, whose training set is already shuffled).
    n_train : int, optional
        Training images to keep (default: all that remain).

    Returns
    -------
    Dataset
        With ``X_test``/``y_test`` holding the validation images and ``source``
        saying so.

    Raises
    ------
    ConfigError
        If the split leaves no training or no validation images.
    """
    n_all = len(data.y_train)
    if isinstance(n_validation, bool) or not isinstance(n_validation, (int, float, np.integer, np.floating)):
        raise ConfigError(f"validation must be a number of images or a fraction, got {n_validation!r}")
    if isinstance(n_validation, (float, np.floating)) and 0 < n_validation < 1:
        n_val = int(round(n_validation * n_all))
    elif float(n_validation) == int(n_validation):
        n_val = int(n_validation)
    else:
        raise ConfigError(f"validation must be a whole number of images or a fraction in "
                          f"(0, 1), got {n_validation!r}")
    if not 1 <= n_val < n_all:
        raise ConfigError(f"validation must leave training images: between 1 and {n_all - 1} "
                          f"images of the {n_all} training images of {data.name}, got {n_val}")
    n_rest = n_all - n_val
    n_tr = _check_count("n_train", n_train, n_rest, f"{data.name} without its validation split")
    where = f"last {n_val} of {n_all} training images"
    return Dataset(
        name=data.name,
        X_train=data.X_train[:n_tr].copy(),
        y_train=data.y_train[:n_tr].copy(),
        X_test=data.X_train[n_rest:].copy(),
        y_test=data.y_train[n_rest:].copy(),
        source=f"{data.source or data.name} (validation split: {where})",
    )


def _normalise_name(name: str) -> str:
    key = str(name).strip().lower().replace("_", "-")
    if key not in DATASETS:
        raise ConfigError(
            f"unknown data set {name!r}; choose one of: {', '.join(DATASETS)}"
        )
    return key


def _check_count(what: str, value, available: int, name: str) -> int:
    if value is None:
        return available
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(f"{what} must be a whole number, got {value!r}")
    if not 1 <= int(value) <= available:
        raise ConfigError(
            f"{what} must be between 1 and {available} for {name}, got {int(value)}"
        )
    return int(value)


# --------------------------------------------------------------------------
# digits


def _load_digits(random_state: int) -> Dataset:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    images = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)
    labels = bunch.target.astype(np.int64)
    idx_train, idx_test = train_test_split(
        np.arange(len(labels)),
        test_size=_DIGITS_TEST_FRACTION,
        stratify=labels,
        random_state=random_state,
    )
    return Dataset(
        name="digits",
        X_train=images[idx_train],
        y_train=labels[idx_train],
        X_test=images[idx_test],
        y_test=labels[idx_test],
        source=None,
    )


# --------------------------------------------------------------------------
# IDX files


_IDX_DTYPES = {0x08: np.uint8}
_verified_cache: dict[tuple, np.ndarray] = {}
_VERIFIED_CACHE_SIZE = 8


def read_idx(path: str | os.PathLike, *, expected_shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Read an IDX file (gzip-compressed or raw) of unsigned bytes.

    Does not check a checksum (see :func:`load_dataset` for that).

    Parameters
    ----------
    path : path
        The file; gzip compression is detected from its content.
    expected_shape : tuple of int, optional
        Shape the array must have.

    Returns
    -------
    ndarray of uint8

    Raises
    ------
    CorruptFileError
        Bad gzip stream, bad magic number, unsupported type, or a length
        that does not match the header (truncated or padded file).
    """
    path = Path(path)
    data = _read_bytes(path)
    return _parse_idx(data, path, expected_shape)


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise DatasetError(f"cannot read {path}: {err.strerror or err}") from None
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:
        raise CorruptFileError(
            f"{path} is not a valid gzip file ({err}); delete it and download it again"
        ) from None


def _parse_idx(data: bytes, path: Path, expected_shape: tuple[int, ...] | None) -> np.ndarray:
    hint = "delete it and download it again"
    if len(data) < 4:
        raise CorruptFileError(f"{path} is too short to be an IDX file ({len(data)} bytes); {hint}")
    if data[0] != 0 or data[1] != 0:
        raise CorruptFileError(
            f"{path} is not an IDX file: bad magic number 0x{data[:4].hex()}; {hint}"
        )
    type_code, ndim = data[2], data[3]
    if type_code not in _IDX_DTYPES:
        raise CorruptFileError(
            f"{path}: IDX type code 0x{type_code:02x} is not supported (expected 0x08, unsigned bytes)"
        )
    if ndim == 0:
        raise CorruptFileError(f"{path}: IDX header declares 0 dimensions; {hint}")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise CorruptFileError(f"{path} is truncated inside its IDX header; {hint}")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    if expected_shape is not None and (len(dims) != len(expected_shape) or dims != tuple(expected_shape)):
        raise CorruptFileError(
            f"{path}: IDX header declares shape {dims}, expected {tuple(expected_shape)}; {hint}"
        )
    n_values = math.prod(dims)  # Python integers: no overflow for absurd headers
    n_data = len(data) - header_len
    if n_data != n_values:
        state = "truncated" if n_data < n_values else "longer than its header says"
        raise CorruptFileError(
            f"{path} is {state}: header declares shape {dims} ({n_values} values) "
            f"but the file holds {n_data} bytes of data; {hint}"
        )
    dtype = _IDX_DTYPES[type_code]
    return np.frombuffer(data, dtype=dtype, offset=header_len).reshape(dims)


def _verified_array(path: Path, spec: _IdxSpec, name: str) -> np.ndarray:
    """Parse ``path`` and check it against ``spec``; raise if it does not match."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, spec.sha256)
    if key in _verified_cache:
        return _verified_cache[key]
    data = _read_bytes(path)
    array = _parse_idx(data, path, spec.shape)
    actual = hashlib.sha256(data).hexdigest()
    if actual != spec.sha256:
        raise ChecksumError(_checksum_message(path, spec, name, actual))
    if len(_verified_cache) >= _VERIFIED_CACHE_SIZE:
        _verified_cache.pop(next(iter(_verified_cache)))
    _verified_cache[key] = array
    return array


def _checksum_message(
    where, spec: _IdxSpec, name: str, actual: str, fate: str = "the file was not used"
) -> str:
    msg = (
        f"checksum mismatch for {where}: SHA-256 of the decompressed bytes is {actual}, "
        f"expected {spec.sha256} ({name} {spec.filename}); {fate}"
    )
    other = _KNOWN_HASHES.get(actual)
    if other is not None:
        msg += f" (it is the {other[0]} file {other[1]}: wrong folder for {name}?)"
    else:
        msg += "; delete it and download it again"
    return msg


def cache_dir(name: str | None = None) -> Path:
    """Per-user cache folder: ``$XDG_CACHE_HOME/brainsim[/<name>]``.

    ``XDG_CACHE_HOME`` defaults to ``~/.cache``.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    root = Path(base) / "brainsim"
    return root / name if name else root


def _search_dirs(name: str, data_dir) -> list[tuple[str, Path]]:
    """Folders to search, in order, each with a label saying where it came from."""
    dirs: list[tuple[str, Path]] = []
    if data_dir is not None:
        d = Path(data_dir).expanduser()
        if not d.is_dir():
            raise DataNotFoundError(
                f"data folder {d} (--data-dir / data_dir) does not exist or is not a folder"
            )
        dirs += [("data_dir", d / name), ("data_dir", d)]
    env = os.environ.get(DATA_ENV)
    if env:
        d = Path(env).expanduser()
        if not d.is_dir():
            raise DataNotFoundError(
                f"{DATA_ENV}={env} does not exist or is not a folder; "
                f"point it at the folder holding the IDX files or unset it"
            )
        dirs += [(DATA_ENV, d / name), (DATA_ENV, d)]
    dirs.append(("cache", cache_dir(name)))
    dirs += [("system", Path(p)) for p in SYSTEM_DIRS.get(name, ())]
    return dirs


def find_data_file(name: str, filename: str, data_dir=None) -> Path | None:
    """First existing ``filename`` or ``filename.gz`` in the search folders, or None."""
    key = _normalise_name(name)
    for _, d in _search_dirs(key, data_dir):
        for candidate in (d / (filename + ".gz"), d / filename):
            if candidate.is_file():
                return candidate
    return None


def _mirrors(name: str) -> list[str]:
    env = os.environ.get(MIRROR_ENV[name], "").strip()
    if env:
        return [u.strip() for u in env.split(",") if u.strip()]
    return list(MIRRORS[name])


def _load_idx_dataset(name: str, *, data_dir, download: bool) -> Dataset:
    specs = _FILES[name]
    arrays: dict[str, np.ndarray] = {}
    sources: list[Path] = []
    for part, spec in specs.items():
        path = find_data_file(name, spec.filename, data_dir)
        if path is None:
            if not download:
                raise DataNotFoundError(
                    _not_found_message(name, spec, data_dir, "downloading is switched off")
                )
            path = _download(name, spec, data_dir)
        arrays[part] = _verified_array(path, spec, name)
        sources.append(path.parent)
    for split in ("train", "test"):
        labels = arrays[f"{split}_labels"]
        if labels.max() >= _N_CLASSES[name]:
            raise CorruptFileError(f"{name} {split} labels contain values >= {_N_CLASSES[name]}")
    unique_sources = sorted({str(s) for s in sources})
    return Dataset(
        name=name,
        X_train=arrays["train_images"],
        y_train=arrays["train_labels"].astype(np.int64),
        X_test=arrays["test_images"],
        y_test=arrays["test_labels"].astype(np.int64),
        source=", ".join(unique_sources),
    )


def _not_found_message(name: str, spec: _IdxSpec, data_dir, reason: str) -> str:
    searched = ", ".join(str(d) for _, d in _search_dirs(name, data_dir))
    files = ", ".join(s.filename + ".gz" for s in _FILES[name].values())
    return (
        f"{name} file {spec.filename}(.gz) not found (searched: {searched}) and {reason}. "
        f"Put the IDX files ({files}; .gz or uncompressed) in a folder and pass it with "
        f"--data-dir DIR, or set {DATA_ENV}=DIR, or copy them into {cache_dir(name)}"
    )


def _download(name: str, spec: _IdxSpec, data_dir) -> Path:
    """Fetch ``spec`` from the mirrors into the cache, verify it, return its path."""
    target_dir = cache_dir(name)
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataNotFoundError(
            _not_found_message(name, spec, data_dir, f"the cache folder cannot be created ({err.strerror})")
        ) from None
    failures: list[str] = []
    checksum_failure: DatasetError | None = None
    for base in _mirrors(name):
        url = base if base.endswith("/") else base + "/"
        url += spec.filename + ".gz"
        part = target_dir / (spec.filename + ".gz.part")
        try:
            _fetch(url, part)
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as err:
            # an interrupted download is never used: the partial file goes
            part.unlink(missing_ok=True)
            failures.append(f"{url}: {_reason(err)}")
            continue
        try:
            data = _read_bytes(part)
            _parse_idx(data, Path(url), spec.shape)
            actual = hashlib.sha256(data).hexdigest()
            if actual != spec.sha256:
                raise ChecksumError(
                    _checksum_message(url, spec, name, actual, "the downloaded file was deleted")
                )
        except DatasetError as err:
            part.unlink(missing_ok=True)
            checksum_failure = err
            failures.append(f"{url}: {err}")
            continue
        with open(part, "rb") as fh:
            compressed = fh.read(2) == b"\x1f\x8b"
        final = target_dir / (spec.filename + (".gz" if compressed else ""))
        os.replace(part, final)  # only a verified, complete file gets the name that is used
        from brainsim.fileio import _fsync_folder

        _fsync_folder(target_dir)
        return final
    if checksum_failure is not None:
        raise type(checksum_failure)("; ".join(failures))
    raise DataNotFoundError(
        _not_found_message(name, spec, data_dir, "the download failed (" + "; ".join(failures) + ")")
    )


def _reason(err: BaseException) -> str:
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code} {err.reason}"
    if isinstance(err, urllib.error.URLError):
        return str(err.reason)
    if isinstance(err, http.client.IncompleteRead):
        return (f"connection closed after {len(err.partial)} bytes"
                + (f", {err.expected} more expected" if err.expected else ""))
    return str(err) or type(err).__name__


def _fetch(url: str, dest: Path) -> None:
    """Stream ``url`` into ``dest`` with a tqdm progress bar (on stderr)."""
    from tqdm import tqdm

    request = urllib.request.Request(url, headers={"User-Agent": "brainsim"})
    with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT) as response:
        total = response.headers.get("Content-Length")
        total = int(total) if total and total.isdigit() else None
        with open(dest, "wb") as fh, tqdm(
            total=total, unit="B", unit_scale=True, unit_divisor=1024,
            desc=f"downloading {dest.name.removesuffix('.part')}", leave=False,
        ) as bar:
            while True:
                chunk = response.read(1 << 16)
                if not chunk:
                    break
                fh.write(chunk)
                bar.update(len(chunk))
            fh.flush()
            os.fsync(fh.fileno())  # on disk before it is verified and renamed
        if total is not None and dest.stat().st_size != total:
            raise OSError(f"connection closed after {dest.stat().st_size} of {total} bytes")

