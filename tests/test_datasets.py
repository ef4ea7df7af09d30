"""brainsim.datasets: digits, real MNIST files, corrupt files, checksums, downloads."""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import struct
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from brainsim import datasets
from brainsim.datasets import DATASETS, Dataset, find_data_file, load_dataset, read_idx
from brainsim.errors import (
    BrainsimError,
    ChecksumError,
    ConfigError,
    CorruptFileError,
    DataNotFoundError,
)

MNIST_SHA = {spec.filename: spec.sha256 for spec in datasets._FILES["mnist"].values()}
FILES = tuple(MNIST_SHA)
TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS = (
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
)


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array as IDX (the format of the MNIST files)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def link_files(src: Path, dst: Path, names) -> None:
    """Symlink the real MNIST files ``names`` from ``src`` into ``dst``."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in names:
        os.symlink(src / (name + ".gz"), dst / (name + ".gz"))


@pytest.fixture
def http_server():
    """Start HTTP servers on 127.0.0.1 serving folders; returns start(folder) -> base URL."""
    servers = []

    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, *args):  # keep test output clean
            pass

    def start(folder: Path) -> str:
        handler = functools.partial(QuietHandler, directory=str(folder))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------- errors


def test_error_hierarchy():
    assert issubclass(ConfigError, ValueError) and issubclass(ConfigError, BrainsimError)
    for cls in (DataNotFoundError, ChecksumError, CorruptFileError):
        assert issubclass(cls, datasets.DatasetError) and issubclass(cls, BrainsimError)


# ---------------------------------------------------------------- digits


def test_digits_shapes_values_and_determinism():
    a = load_dataset("digits")
    b = load_dataset()
    assert a.name == "digits" and DATASETS == ("digits", "mnist", "fashion-mnist")
    assert a.X_train.shape == (1347, 8, 8) and a.X_test.shape == (450, 8, 8)
    assert a.X_train.dtype == np.uint8 and a.y_train.dtype == np.int64
    assert a.image_shape == (8, 8) and a.n_classes == 10
    assert a.X_train.max() == 255 and a.X_train.min() == 0
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    # Stratified: every class has 25 % +- 1 image of its examples in the test set.
    totals = np.bincount(np.concatenate([a.y_train, a.y_test]), minlength=10)
    test_counts = np.bincount(a.y_test, minlength=10)
    assert np.all(np.abs(test_counts - 0.25 * totals) <= 1)


def test_digits_pixels_are_rescaled_sklearn_values():
    from sklearn.datasets import load_digits

    raw = load_digits()
    ds = load_dataset("digits")
    expected = np.round(raw.images * 255 / 16).astype(np.uint8)
    # Each training image is one of the original images, rescaled, with its label.
    lookup = {img.tobytes(): lab for img, lab in zip(expected, raw.target)}
    for img, lab in zip(ds.X_train[:50], ds.y_train[:50]):
        assert lookup[img.tobytes()] == lab


def test_digits_subsets_and_other_split():
    full = load_dataset("digits")
    sub = load_dataset("digits", n_train=100, n_test=20)
    np.testing.assert_array_equal(sub.X_train, full.X_train[:100])
    np.testing.assert_array_equal(sub.y_test, full.y_test[:20])
    other = load_dataset("digits", random_state=1)
    assert not np.array_equal(other.y_train, full.y_train)


@pytest.mark.parametrize("kwargs", [{"n_train": 0}, {"n_train": 1348}, {"n_test": -1},
                                    {"n_test": 451}, {"n_train": 2.5}, {"n_train": True}])
def test_subset_sizes_out_of_range(kwargs):
    with pytest.raises(ConfigError, match="n_t(rain|est)"):
        load_dataset("digits", **kwargs)


def test_unknown_name_lists_valid_ones():
    with pytest.raises(ConfigError) as err:
        load_dataset("cifar10")
    for name in DATASETS:
        assert name in str(err.value)


def test_name_spelling_is_forgiving():
    assert load_dataset("Digits", n_train=5, n_test=5).name == "digits"


# ---------------------------------------------------------------- real MNIST


def test_mnist_real_files(mnist_dir):
    ds = load_dataset("mnist", data_dir=mnist_dir, download=False)
    assert isinstance(ds, Dataset)
    assert ds.X_train.shape == (60000, 28, 28) and ds.X_test.shape == (10000, 28, 28)
    assert ds.X_train.dtype == np.uint8 and ds.X_test.dtype == np.uint8
    assert ds.y_train.dtype == np.int64 and ds.y_test.shape == (10000,)
    assert ds.image_shape == (28, 28) and ds.n_classes == 10
    assert set(np.unique(ds.y_train)) == set(range(10))
    assert ds.X_train.max() == 255 and ds.X_train.min() == 0
    # The well-known first labels of the MNIST training and test sets.
    np.testing.assert_array_equal(ds.y_train[:8], [5, 0, 4, 1, 9, 2, 1, 3])
    np.testing.assert_array_equal(ds.y_test[:10], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
    assert Path(ds.source).resolve() == mnist_dir
    ds.X_train[0, 0, 0] = 1  # callers get writable copies


def test_mnist_subsets_are_first_examples(mnist_dir):
    full = load_dataset("mnist", data_dir=mnist_dir)
    sub = load_dataset("mnist", data_dir=mnist_dir, n_train=200, n_test=30)
    assert sub.X_train.shape == (200, 28, 28) and sub.y_test.shape == (30,)
    np.testing.assert_array_equal(sub.X_train, full.X_train[:200])
    np.testing.assert_array_equal(sub.y_test, full.y_test[:30])
    with pytest.raises(ConfigError, match="between 1 and 60000"):
        load_dataset("mnist", data_dir=mnist_dir, n_train=60001)


def test_env_var_is_honoured(mnist_dir, no_data_env, monkeypatch):
    monkeypatch.setenv("BRAINSIM_DATA", str(mnist_dir))
    ds = load_dataset("mnist", n_train=10, n_test=10, download=False)
    assert Path(ds.source).resolve() == mnist_dir


def test_data_dir_comes_before_env_var(mnist_dir, no_data_env, monkeypatch, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / (TRAIN_IMAGES + ".gz")).write_bytes(b"not gzip, not idx")
    monkeypatch.setenv("BRAINSIM_DATA", str(bad))
    ds = load_dataset("mnist", data_dir=mnist_dir, n_train=5, n_test=5, download=False)
    assert ds.y_test.tolist() == [7, 2, 1, 0, 4]
    # Without the explicit folder the broken file in BRAINSIM_DATA is used and rejected.
    with pytest.raises(CorruptFileError):
        load_dataset("mnist", download=False)


def test_subfolder_layout_and_raw_files(mnist_dir, no_data_env, tmp_path, monkeypatch):
    """A BRAINSIM_DATA folder may hold mnist/ as a sub-folder, files raw or gzipped."""
    sub = tmp_path / "data" / "mnist"
    link_files(mnist_dir, sub, [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES])
    (sub / TEST_LABELS).write_bytes(gzip.decompress((mnist_dir / (TEST_LABELS + ".gz")).read_bytes()))
    monkeypatch.setenv("BRAINSIM_DATA", str(tmp_path / "data"))
    ds = load_dataset("mnist", download=False)
    assert ds.y_test.shape == (10000,) and ds.y_test[0] == 7
    assert find_data_file("mnist", TEST_LABELS) == sub / TEST_LABELS


def test_fashion_request_with_mnist_files_is_explained(mnist_dir, no_data_env):
    with pytest.raises(ChecksumError, match="it is the mnist file"):
        load_dataset("fashion-mnist", data_dir=mnist_dir, download=False)


def test_fashion_system_folder_is_searched(no_data_env, monkeypatch, tmp_path):
    system = tmp_path / "usr-share-fashion"
    system.mkdir()
    (system / (TRAIN_IMAGES + ".gz")).write_bytes(b"")
    monkeypatch.setattr(datasets, "SYSTEM_DIRS", {"mnist": (), "fashion-mnist": (str(system),)})
    assert find_data_file("fashion-mnist", TRAIN_IMAGES) == system / (TRAIN_IMAGES + ".gz")
    assert find_data_file("mnist", TRAIN_IMAGES) is None


# ---------------------------------------------------------------- corrupt files


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"\x00\x00", "too short"),
        (b"\x12\x34\x08\x01" + struct.pack(">I", 3) + b"abc", "bad magic number"),
        (b"\x00\x00\x0d\x01" + struct.pack(">I", 3) + b"abc", "type code"),
        (b"\x00\x00\x08\x03" + struct.pack(">I", 3), "truncated inside its IDX header"),
        (b"\x00\x00\x08\x01" + struct.pack(">I", 10) + b"abc", "truncated"),
        (b"\x00\x00\x08\x01" + struct.pack(">I", 2) + b"abc", "longer than its header"),
    ],
)
def test_read_idx_rejects_damaged_files(tmp_path, payload, message):
    for name, data in [("raw", payload), ("packed.gz", gzip.compress(payload))]:
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(CorruptFileError, match=message) as err:
            read_idx(path)
        assert str(path) in str(err.value)


def test_read_idx_round_trip_and_bad_gzip(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a.gz").write_bytes(gzip.compress(idx_bytes(arr)))
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), arr)
    with pytest.raises(CorruptFileError, match="expected"):
        read_idx(tmp_path / "a.gz", expected_shape=(2, 3, 5))
    (tmp_path / "b.gz").write_bytes(gzip.compress(idx_bytes(arr))[:-12])
    with pytest.raises(CorruptFileError, match="gzip"):
        read_idx(tmp_path / "b.gz")


def test_truncated_mnist_file_is_rejected(mnist_dir, no_data_env, tmp_path):
    data = tmp_path / "d"
    link_files(mnist_dir, data, [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES])
    raw = gzip.decompress((mnist_dir / (TEST_LABELS + ".gz")).read_bytes())
    (data / (TEST_LABELS + ".gz")).write_bytes(gzip.compress(raw[:5000]))
    with pytest.raises(CorruptFileError, match="truncated") as err:
        load_dataset("mnist", data_dir=data, download=False)
    assert TEST_LABELS in str(err.value)


def test_wrong_checksum_names_file_and_both_hashes(no_data_env, tmp_path):
    """A well-formed IDX file with the right shape but the wrong content."""
    payload = idx_bytes(np.zeros((60000, 28, 28), dtype=np.uint8))
    path = tmp_path / (TRAIN_IMAGES + ".gz")
    path.write_bytes(gzip.compress(payload, compresslevel=1))
    with pytest.raises(ChecksumError) as err:
        load_dataset("mnist", data_dir=tmp_path, download=False)
    msg = str(err.value)
    assert str(path) in msg
    assert MNIST_SHA[TRAIN_IMAGES] in msg
    assert hashlib.sha256(payload).hexdigest() in msg
    assert path.exists()  # a user's own file is reported, not deleted


def test_missing_files_without_download(no_data_env, tmp_path):
    with pytest.raises(DataNotFoundError) as err:
        load_dataset("mnist", data_dir=tmp_path, download=False)
    msg = str(err.value)
    assert "BRAINSIM_DATA" in msg and "--data-dir" in msg and TRAIN_IMAGES in msg
    assert str(tmp_path) in msg and "switched off" in msg
    assert "\n" not in msg


def test_data_dir_that_does_not_exist(no_data_env, tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist"):
        load_dataset("mnist", data_dir=tmp_path / "nope")


def test_env_var_that_does_not_exist(no_data_env, tmp_path, monkeypatch):
    monkeypatch.setenv("BRAINSIM_DATA", str(tmp_path / "nope"))
    with pytest.raises(DataNotFoundError, match="BRAINSIM_DATA"):
        load_dataset("mnist")


# ---------------------------------------------------------------- downloads


def test_default_mirrors_and_cache_location(monkeypatch, tmp_path):
    monkeypatch.delenv("BRAINSIM_MNIST_MIRROR")
    assert datasets._mirrors("mnist") == list(datasets.MIRRORS["mnist"])
    assert all(u.startswith("http") for urls in datasets.MIRRORS.values() for u in urls)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert datasets.cache_dir("mnist") == tmp_path / "brainsim" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert datasets.cache_dir("mnist") == Path.home() / ".cache" / "brainsim" / "mnist"


def test_download_from_local_mirror(mnist_dir, no_data_env, http_server, monkeypatch, tmp_path):
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    # The first mirror answers 404 for everything, the second has the files.
    monkeypatch.setenv("BRAINSIM_MNIST_MIRROR", f"{http_server(empty)},{http_server(mnist_dir)}")
    ds = load_dataset("mnist", n_train=20, n_test=20)
    assert ds.y_test[:3].tolist() == [7, 2, 1]
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "brainsim" / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(f + ".gz" for f in FILES)
    assert Path(ds.source).resolve() == cache.resolve()
    # Now cached: no network needed.
    monkeypatch.setenv("BRAINSIM_MNIST_MIRROR", "http://127.0.0.1:9/")
    again = load_dataset("mnist", n_train=20, n_test=20, download=False)
    np.testing.assert_array_equal(again.X_train, ds.X_train)


def _cache_with_train_files(mnist_dir: Path) -> Path:
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "brainsim" / "mnist"
    link_files(mnist_dir, cache, [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES])
    return cache


def test_download_with_wrong_checksum_is_deleted(mnist_dir, no_data_env, http_server, monkeypatch, tmp_path):
    cache = _cache_with_train_files(mnist_dir)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    bad = idx_bytes(np.full(10000, 3, dtype=np.uint8))
    (mirror / (TEST_LABELS + ".gz")).write_bytes(gzip.compress(bad))
    base = http_server(mirror)
    monkeypatch.setenv("BRAINSIM_MNIST_MIRROR", base)
    with pytest.raises(ChecksumError) as err:
        load_dataset("mnist")
    msg = str(err.value)
    assert base + TEST_LABELS + ".gz" in msg
    assert MNIST_SHA[TEST_LABELS] in msg and hashlib.sha256(bad).hexdigest() in msg
    assert "deleted" in msg
    assert not any(p.name.startswith(TEST_LABELS) for p in cache.iterdir())


def test_download_of_garbage_is_deleted(mnist_dir, no_data_env, http_server, monkeypatch, tmp_path):
    cache = _cache_with_train_files(mnist_dir)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    good = (mnist_dir / (TEST_LABELS + ".gz")).read_bytes()
    (mirror / (TEST_LABELS + ".gz")).write_bytes(good[: len(good) // 2])  # cut-off download
    monkeypatch.setenv("BRAINSIM_MNIST_MIRROR", http_server(mirror))
    with pytest.raises(CorruptFileError, match="gzip"):
        load_dataset("mnist")
    assert not any(p.name.startswith(TEST_LABELS) for p in cache.iterdir())


def test_no_network_and_no_files(no_data_env, tmp_path):
    # conftest points the mirrors at a closed local port.
    with pytest.raises(DataNotFoundError) as err:
        load_dataset("mnist", data_dir=tmp_path)
    msg = str(err.value)
    assert "download failed" in msg and "BRAINSIM_DATA" in msg and "--data-dir" in msg
    assert "127.0.0.1" in msg
