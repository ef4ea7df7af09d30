"""Bad input and faults: each case of docs/faults.md, pinned by a test.

Cases that need a simulation use the 10-neuron network of
tests/test_classifier.py on digits (same shapes, so the compiled networks in
$BRAINSIM_CACHE are shared); everything else runs without one.
"""

from __future__ import annotations

import builtins
import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from brainsim import cli, fileio
from brainsim.classifier import FILE_FORMAT_VERSION, DiehlCookSNN, LabelWarning
from brainsim.datasets import load_dataset
from brainsim.errors import BrainsimError, ConfigError, FolderInUseError, ModelFileError
from brainsim.presentation import TrainingProgress
from brainsim.simulation import initial_state

# 10-neuron networks often leave a class without neurons; the tests about that warning
# catch it with pytest.warns.
pytestmark = pytest.mark.filterwarnings("ignore::brainsim.classifier.LabelWarning")

REPO = Path(__file__).resolve().parent.parent
N_NEURONS = 10  # the shape of tests/test_classifier.py (one compile per shape)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def small_snn(**kw) -> DiehlCookSNN:
    params = dict(n_neurons=N_NEURONS, progress=False, random_state=0)
    params.update(kw)
    return DiehlCookSNN(**params)


def hand_made_network(classes=tuple(range(10)), n_neurons=N_NEURONS) -> DiehlCookSNN:
    """A 'trained' network made without simulating anything (for file tests)."""
    snn = small_snn(n_neurons=n_neurons)
    snn._set_state(initial_state(64, n_neurons, np.random.default_rng(0)))
    snn.image_shape_, snn.n_features_in_ = (8, 8), 64
    snn.classes_ = np.asarray(classes)
    snn.n_classes_ = len(snn.classes_)
    snn.assignments_ = np.arange(n_neurons) % snn.n_classes_
    snn.timings_ = {}
    return snn


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    """The single ``error: ...`` line a script printed; fails on a traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


def script(name: str, *args, env=None, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "experiments" / name), *map(str, args)],
                          cwd=REPO, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture
def deny_writes(monkeypatch):
    """Make a folder unwritable for this process, as chmod does for a normal user.

    The tests run as root, for whom chmod denies nothing, so creating files and
    folders below the given paths raises ``PermissionError`` instead.
    """
    denied: list[Path] = []
    real_open, real_mkdir, real_mkstemp = builtins.open, os.mkdir, fileio.tempfile.mkstemp

    def is_denied(path) -> bool:
        try:
            p = Path(os.fsdecode(path)).absolute()
        except TypeError:  # a file descriptor
            return False
        return any(p == d or d in p.parents for d in denied)

    def refuse(path):
        raise PermissionError(errno.EACCES, "Permission denied", os.fsdecode(path))

    def open_(file, mode="r", *a, **kw):
        if any(c in mode for c in "wax+") and is_denied(file):
            refuse(file)
        return real_open(file, mode, *a, **kw)

    def mkdir_(path, *a, **kw):
        if is_denied(path):
            refuse(path)
        return real_mkdir(path, *a, **kw)

    def mkstemp_(*a, dir=None, **kw):
        if dir is not None and is_denied(dir):
            refuse(dir)
        return real_mkstemp(*a, dir=dir, **kw)

    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(os, "mkdir", mkdir_)
    monkeypatch.setattr(fileio.tempfile, "mkstemp", mkstemp_)
    return lambda path: denied.append(Path(path).absolute())


# =====================================================================  arrays
def test_empty_arrays(digits):
    with pytest.raises(ConfigError, match="no images given"):
        small_snn().fit(digits.X_train[:0], digits.y_train[:0])


def test_one_image_is_one_class(digits):
    with pytest.raises(ConfigError, match="only one class"):
        small_snn().fit(digits.X_train[:1], digits.y_train[:1])


@pytest.mark.parametrize("X, message", [
    (np.full((5, 8, 8), "a"), r"numbers 0..255, got dtype <U1; convert them"),
    (np.ones((5, 8, 8), dtype=complex), "real numbers"),
    (np.ones((5, 8, 8), dtype=bool), r"not booleans; convert them with X.astype\(np.uint8\)"),
    (np.array([[1, 2], [3]], dtype=object), "non-numeric"),
    (np.zeros((5, 0)), "no pixels"),
    (np.zeros(10), "shape"),
])
def test_wrong_dtype_or_shape(X, message):
    with pytest.raises(ConfigError, match=message):
        small_snn().fit(X, np.arange(len(X)) % 2)


def test_sparse_input_is_refused():
    from scipy import sparse

    with pytest.raises(ConfigError, match=r"X.toarray\(\)"):
        small_snn().fit(sparse.csr_matrix(np.ones((4, 64))), [0, 1, 0, 1])


def test_image_shape_differs_between_fit_and_predict():
    snn = hand_made_network()
    with pytest.raises(ConfigError, match="784 pixels but the network was trained on 64"):
        snn.predict(np.zeros((2, 28, 28), dtype=np.uint8))
    with pytest.raises(ConfigError, match="4x16 pixels but the network was trained on 8x8"):
        snn.predict(np.zeros((2, 4, 16), dtype=np.uint8))


@pytest.mark.parametrize("value, message", [
    (np.nan, "NaN or infinite"), (np.inf, "NaN or infinite"),
    (-1.0, "0..255"), (256.0, "0..255"),
])
def test_bad_pixel_values(digits, value, message):
    X = digits.X_train[:5].astype(float)
    X[2, 3, 3] = value
    with pytest.raises(ConfigError, match=message):
        small_snn().fit(X, digits.y_train[:5])


def test_images_scaled_to_0_1_say_how_to_rescale(digits):
    with pytest.raises(ConfigError, match=r"multiply the images by 255 \(X \* 255\)"):
        small_snn().fit(digits.X_train[:5] / 255.0, digits.y_train[:5])


@pytest.mark.standalone
def test_non_contiguous_and_read_only_arrays_just_work(digits, standalone_cache):
    X, y = digits.X_train[:40], digits.y_train[:40]
    reference = small_snn().fit(X, y)
    wide = np.zeros((40, 8, 16), dtype=np.uint8)
    wide[:, :, ::2] = X
    strided = wide[:, :, ::2]  # a view every other column: not contiguous
    assert not strided.flags.c_contiguous
    frozen = X.copy()
    frozen.setflags(write=False)
    for variant in (strided, frozen, np.asfortranarray(X)):
        snn = small_snn().fit(variant, y)
        np.testing.assert_array_equal(snn.weights_, reference.weights_)
        np.testing.assert_array_equal(snn.predict(variant[:8]), reference.predict(X[:8]))
    assert not frozen.flags.writeable  # untouched


# =====================================================================  labels
def test_labels_of_another_length(digits):
    with pytest.raises(ConfigError, match="y has 4 labels but X has 5 images"):
        small_snn().fit(digits.X_train[:5], digits.y_train[:4])


@pytest.mark.parametrize("y, message", [
    (None, "requires y to be passed, but the target y is None"),
    (np.zeros((5, 1)), r"1-D array.*y.ravel\(\)"),
    (np.array([0, 1, np.nan, 1, 0]), "NaN"),
    (np.array([0, "a", 1, "b", 0], dtype=object), "mix types"),
])
def test_bad_labels(digits, y, message):
    with pytest.raises(ConfigError, match=message):
        small_snn().fit(digits.X_train[:5], y)


def test_only_one_class(digits):
    with pytest.raises(ConfigError, match=r"only one class \(7\)"):
        small_snn().fit(digits.X_train[:5], np.full(5, 7))


@pytest.mark.standalone
def test_any_label_values_come_back_from_predict(digits, standalone_cache):
    X, y = digits.X_train[:60], digits.y_train[:60]
    base = small_snn().fit(X, y)
    pred = base.predict(digits.X_test[:30])
    names = np.array([f"digit {k}" for k in range(10)])
    # Relabelings that keep the order of the classes give exactly the same answers (ties
    # between classes go to the first class of classes_, so another order may break a tie
    # differently).
    for mapped, classes in [
        (names[y], names),             # strings
        (y + 1, np.arange(1, 11)),     # 1..10
        (y * 10 - 3, np.arange(10) * 10 - 3),
    ]:
        snn = small_snn().fit(X, mapped)
        np.testing.assert_array_equal(snn.classes_, classes)
        lookup = dict(zip(y.tolist(), mapped.tolist()))
        np.testing.assert_array_equal(snn.predict(digits.X_test[:30]),
                                      [lookup[int(p)] for p in pred])
    words = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                      "nine"])
    snn = small_snn().fit(X, words[y])
    np.testing.assert_array_equal(snn.classes_, np.sort(words))  # sorted, as scikit-learn does
    assert set(snn.predict(digits.X_test[:30]).tolist()) <= set(words.tolist())
    shifted = small_snn().fit(X, y + 1)
    assert shifted.score(digits.X_test[:30], digits.y_test[:30] + 100) == 0.0  # unknown labels
    # -1/1: a two-class problem
    binary = np.where(y < 5, -1, 1)
    snn = small_snn().fit(X, binary)
    np.testing.assert_array_equal(snn.classes_, [-1, 1])
    assert set(snn.predict(digits.X_test[:30]).tolist()) <= {-1, 1}
    assert snn.decision_function(digits.X_test[:3]).shape == (3, 2)
    assert 0.0 <= snn.score(digits.X_test[:30], np.where(digits.y_test[:30] < 5, -1, 1)) <= 1.0


def test_string_labels_survive_save_and_load(tmp_path):
    snn = hand_made_network(classes=["cat", "dog", "emu"])
    loaded = DiehlCookSNN.load(snn.save(tmp_path / "net.npz"))
    np.testing.assert_array_equal(loaded.classes_, ["cat", "dog", "emu"])
    counts = np.zeros((2, N_NEURONS))
    counts[0, 1] = counts[1, 2] = 5  # neuron 1 -> "dog", neuron 2 -> "emu"
    assert loaded.predict_from_counts(counts).tolist() == ["dog", "emu"]


@pytest.mark.standalone
def test_class_without_assignment_images_warns_and_is_never_predicted(digits,
                                                                       standalone_cache):
    X, y = digits.X_train[:60], digits.y_train[:60].copy()
    y[40:] = 10  # class 10 appears only after the first 40 (assignment) images
    with pytest.warns(LabelWarning, match=r"classes 10 have no images among the 40 assignment"):
        snn = small_snn(n_assign=40).fit(X, y)
    assert 10 in snn.classes_
    assert 10 not in snn.predict(X[40:]).tolist()


def test_class_that_no_neuron_prefers_warns():
    snn = hand_made_network(classes=["a", "b", "c"])
    snn.assignments_ = np.array([0, 0, 1, 1, 0, 1, 1, 0, -1, -1])  # nobody prefers "c"
    snn.n_assign_ = 30
    with pytest.warns(LabelWarning, match=r"classes 'c' got no neuron in the label assignment "
                                          r"and are never predicted; use more neurons"):
        snn._warn_about_unpredictable_classes(np.array([0, 1, 2]))
    counts = np.ones((4, N_NEURONS))
    assert set(snn.predict_from_counts(counts).tolist()) <= {"a", "b"}


@pytest.mark.standalone
def test_all_black_images(digits, standalone_cache):
    """No input spikes: each image is retried 16 times and gives no spikes; no hang."""
    snn = small_snn().fit(digits.X_train[:40], digits.y_train[:40])
    black = np.zeros((5, 8, 8), dtype=np.uint8)
    start = time.perf_counter()
    counts = snn.transform(black)
    assert time.perf_counter() - start < 60
    assert counts.shape == (5, N_NEURONS) and counts.sum() == 0
    scores = snn.decision_function(black)
    assert np.all(np.isfinite(scores)) and np.all(scores == 0)
    np.testing.assert_array_equal(snn.predict(black), np.full(5, snn.classes_[0]))
    # learning from black images only: nothing fires, which the assignment says
    with pytest.warns(LabelWarning, match="no excitatory neuron fired"):
        dark = small_snn().fit(np.zeros((20, 8, 8), dtype=np.uint8), np.arange(20) % 2)
    assert np.all(dark.assignments_ == -1)
    np.testing.assert_array_equal(dark.predict(black[:2]), [0, 0])


@pytest.mark.standalone
def test_pickle_and_clone_of_a_trained_network(digits, standalone_cache):
    import pickle

    from sklearn.base import clone

    snn = small_snn().fit(digits.X_train[:30], digits.y_train[:30])
    again = pickle.loads(pickle.dumps(snn))
    np.testing.assert_array_equal(again.predict(digits.X_test[:10]),
                                  snn.predict(digits.X_test[:10]))
    fresh = clone(snn)
    assert fresh.get_params() == snn.get_params() and not hasattr(fresh, "weights_")


# ================================================================  parameters
@pytest.mark.parametrize("params, message", [
    (dict(n_neurons=0), "n_neurons must be an integer >= 1"),
    (dict(n_repeats=0), "n_repeats must be an integer >= 1"),
    (dict(chunk_size=0), "chunk_size must be an integer >= 1"),
    (dict(checkpoint_every=-5), "checkpoint_every must be an integer >= 1"),
    (dict(n_assign=0), "n_assign must be an integer >= 1"),
    (dict(openmp_threads=-1), "openmp_threads must be an integer >= 0"),
    (dict(presentation_time=float("nan")), "presentation_time must be a non-negative"),
    (dict(random_state=-1), "random_state must be an integer >= 0"),
    (dict(learning_rule="stdp"), "unknown learning rule 'stdp'; choose one of: power_law"),
])
def test_parameters_out_of_range(digits, params, message):
    with pytest.raises(ConfigError, match=message):
        small_snn(**params).fit(digits.X_train[:5], digits.y_train[:5])


@pytest.mark.standalone
def test_chunk_size_larger_than_the_data(digits, standalone_cache):
    snn = small_snn()
    assert snn.chunk_size > 30 and snn.inference_chunk_size * snn.n_copies > 30
    snn.fit(digits.X_train[:30], digits.y_train[:30])
    assert snn.n_training_images_ == 30 and snn.predict(digits.X_test[:7]).shape == (7,)


# ===============================================================  model files
def _rewrite(path: Path, out: Path, *, header=None, drop=(), **replace) -> Path:
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    if header is not None:
        arrays["header"] = np.array(json.dumps(header(json.loads(str(arrays["header"])))))
    for key in drop:
        del arrays[key]
    arrays.update(replace)
    np.savez(out, **arrays)
    return out


def test_model_file_truncated(tmp_path):
    path = hand_made_network().save(tmp_path / "net.npz")
    data = path.read_bytes()
    for size in (0, 10, len(data) // 2, len(data) - 1):
        cut = tmp_path / f"cut{size}.npz"
        cut.write_bytes(data[:size])
        with pytest.raises(ModelFileError, match="not a readable brainsim network file"):
            DiehlCookSNN.load(cut)


def test_model_file_of_another_format_version(tmp_path):
    path = hand_made_network().save(tmp_path / "net.npz")
    newer = _rewrite(path, tmp_path / "newer.npz",
                     header=lambda h: {**h, "format_version": FILE_FORMAT_VERSION + 1})
    with pytest.raises(ModelFileError, match="newer brainsim .*upgrade brainsim"):
        DiehlCookSNN.load(newer)
    broken = _rewrite(path, tmp_path / "broken.npz", header=lambda h: {**h, "format_version": "x"})
    with pytest.raises(ModelFileError, match="no valid format_version"):
        DiehlCookSNN.load(broken)
    # format 1 (before class labels were stored): still loads, classes 0..n-1
    old = _rewrite(path, tmp_path / "v1.npz", drop=("classes",),
                   header=lambda h: {**h, "format_version": 1})
    loaded = DiehlCookSNN.load(old)
    np.testing.assert_array_equal(loaded.classes_, np.arange(10))


def test_model_file_of_another_network_shape(tmp_path):
    path = hand_made_network().save(tmp_path / "net.npz")
    other = hand_made_network(n_neurons=12).save(tmp_path / "other.npz")
    with np.load(other) as f:
        weights = f["weights"]
    mixed = _rewrite(path, tmp_path / "mixed.npz", weights=weights)
    with pytest.raises(ModelFileError, match=r"array 'weights' is missing or has the wrong "
                                             r"shape \(expected \(64, 10\)\)"):
        DiehlCookSNN.load(mixed)


def test_model_file_with_missing_keys(tmp_path):
    path = hand_made_network().save(tmp_path / "net.npz")
    with pytest.raises(ModelFileError, match="'theta' is missing"):
        DiehlCookSNN.load(_rewrite(path, tmp_path / "a.npz", drop=("theta",)))
    with pytest.raises(ModelFileError, match="header lacks params"):
        DiehlCookSNN.load(_rewrite(path, tmp_path / "b.npz",
                                   header=lambda h: {k: v for k, v in h.items() if k != "params"}))
    with pytest.raises(ModelFileError, match="not a readable"):
        DiehlCookSNN.load(_rewrite(path, tmp_path / "c.npz", drop=("header",)))
    with pytest.raises(ModelFileError, match="saved parameters are not valid"):
        DiehlCookSNN.load(_rewrite(path, tmp_path / "d.npz", header=lambda h: {
            **h, "params": {**h["params"], "n_neurons": -3}}))


class _Payload:
    """Unpickling this would create a file: proof that a pickle was executed."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_pickle_renamed_to_npz_is_never_executed(tmp_path):
    import pickle

    marker = tmp_path / "pwned"
    evil = tmp_path / "net.npz"
    evil.write_bytes(pickle.dumps(_Payload(str(marker))))
    with pytest.raises(ModelFileError, match="not a readable brainsim network file"):
        DiehlCookSNN.load(evil)
    # an .npz holding a pickled object array is refused just the same
    np.savez(tmp_path / "objects.npz", header=np.array([_Payload(str(marker))], dtype=object))
    with pytest.raises(ModelFileError, match="not a readable"):
        DiehlCookSNN.load(tmp_path / "objects.npz")
    assert not marker.exists()


# ============================================================  atomic writes
_KILL_BEFORE_RENAME = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    kind, target = sys.argv[1], sys.argv[2]
    def die(src, dst):  # the temporary file is complete: die just before the rename
        os.kill(os.getpid(), signal.SIGKILL)
    if kind == "metrics":
        from brainsim.cli import write_metrics
        os.replace = die
        write_metrics(os.path.dirname(target), models={}, config={"new": True}, timings={})
    else:
        sys.path.insert(0, os.path.join(os.getcwd(), "tests"))
        from test_faults import hand_made_network
        from brainsim.presentation import TrainingProgress
        snn = hand_made_network()
        os.replace = die
        if kind == "model":
            snn.save(target)
        else:
            snn._write_checkpoint(__import__("pathlib").Path(target), snn._get_state(),
                                  TrainingProgress(next_image=99), "hash")
""")


def _write_old(kind: str, target: Path) -> None:
    snn = hand_made_network()
    if kind == "metrics":
        cli.write_metrics(target.parent, models={}, config={"new": False}, timings={})
    elif kind == "model":
        snn.save(target)
    else:
        snn._write_checkpoint(target, snn._get_state(), TrainingProgress(next_image=5), "hash")


def _check_complete(kind: str, target: Path, *, new: bool) -> None:
    if kind == "metrics":
        assert json.loads(target.read_text())["config"] == {"new": new}
    elif kind == "model":
        assert DiehlCookSNN.load(target).weights_.shape == (64, N_NEURONS)
    else:
        with np.load(target, allow_pickle=False) as f:
            meta = json.loads(str(f["meta"]))
        assert meta["progress"]["next_image"] == (99 if new else 5)


@pytest.mark.parametrize("kind, name, existing", [
    ("metrics", "metrics.json", True), ("metrics", "metrics.json", False),
    ("model", "snn.npz", True), ("checkpoint", "checkpoint.npz", True),
], ids=["metrics-old-file", "metrics-no-file", "model-old-file", "checkpoint-old-file"])
def test_killed_between_temp_write_and_rename(tmp_path, kind, name, existing):
    target = tmp_path / name
    if existing:
        _write_old(kind, target)
        before = target.read_bytes()
    proc = subprocess.run([sys.executable, "-c", _KILL_BEFORE_RENAME, kind, str(target)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1 and leftovers[0].startswith(f".{name}.")  # the killed write
    if existing:
        assert target.read_bytes() == before
        _check_complete(kind, target, new=False)
    else:
        assert not target.exists()


@pytest.mark.parametrize("kind, name", [("metrics", "metrics.json"), ("model", "snn.npz"),
                                        ("checkpoint", "checkpoint.npz")])
def test_failing_rename_keeps_the_old_file(tmp_path, monkeypatch, kind, name):
    target = tmp_path / name
    _write_old(kind, target)
    before = target.read_bytes()

    def fail(src, dst):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="Input/output error") as info:
        if kind == "metrics":
            cli.write_metrics(tmp_path, models={}, config={"new": True}, timings={})
        elif kind == "model":
            hand_made_network().save(target)
        else:
            snn = hand_made_network()
            snn._write_checkpoint(target, snn._get_state(), TrainingProgress(), "hash")
    assert info.value.filename == str(target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # temp file removed


def _fill_disk_after(monkeypatch, n_bytes: int = 100) -> None:
    """Let the next file written take ``n_bytes``, then fail with ENOSPC."""
    real_fdopen = os.fdopen

    class FullDisk:
        def __init__(self, fh):
            self.fh, self.room = fh, n_bytes

        def write(self, data):
            self.fh.write(bytes(data[: self.room]))
            self.room = max(0, self.room - len(data))
            if self.room == 0:
                raise OSError(errno.ENOSPC, "No space left on device")
            return len(data)

        def __getattr__(self, name):
            return getattr(self.fh, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **kw: FullDisk(real_fdopen(fd, *a, **kw)))


def test_disk_full_leaves_no_partial_file(tmp_path, monkeypatch):
    snn = hand_made_network()
    _fill_disk_after(monkeypatch)
    for write, name in [
        (lambda: cli.write_metrics(tmp_path, models={}, config={"x": "y" * 500}, timings={}),
         "metrics.json"),
        (lambda: snn.save(tmp_path / "snn.npz"), "snn.npz"),
        (lambda: snn._write_checkpoint(tmp_path / "c.npz", snn._get_state(),
                                       TrainingProgress(), "h"), "c.npz"),
    ]:
        with pytest.raises(OSError) as info:
            write()
        assert info.value.errno == errno.ENOSPC and info.value.filename == str(tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_disk_full_in_a_script_is_one_line(tmp_path, monkeypatch, capsys):
    def main(argv):
        args = cli.make_parser("t", default_out="t").parse_args(argv)
        cli.write_metrics(args.out, models={}, config={"x": "y" * 500}, timings={})

    _fill_disk_after(monkeypatch)
    with pytest.raises(SystemExit) as info:
        cli.run_script(main, ["--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert err == (f"error: No space left on device: {tmp_path / 'out' / 'metrics.json'}; the "
                   "disk is full: free some space or choose another folder with --out\n")
    assert not (tmp_path / "out" / "metrics.json").exists()


def test_figures_and_report_are_written_atomically(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    from brainsim import report

    monkeypatch.setattr(report, "render_report", lambda *a, **kw: "# new report\n")

    (tmp_path / "fig.png").write_bytes(b"old")
    (tmp_path / "report.md").write_text("old")
    monkeypatch.setattr(os, "replace", lambda s, d: (_ for _ in ()).throw(OSError(5, "EIO")))
    fig, ax = plt.subplots()
    with pytest.raises(OSError):
        cli.save_figure(fig, tmp_path, "fig")
    with pytest.raises(OSError):
        report.write_report({"models": {}}, [], tmp_path)
    assert (tmp_path / "fig.png").read_bytes() == b"old"
    assert (tmp_path / "report.md").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.png", "report.md"]


def test_atomic_write_helpers(tmp_path):
    target = fileio.write_json(tmp_path / "a.json", {"x": [1, 2]})
    assert json.loads(target.read_text()) == {"x": [1, 2]}
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~fileio._UMASK)  # not mkstemp's 0600
    with pytest.raises(TypeError):  # not serialisable: nothing written, old file kept
        fileio.write_json(target, {"x": object()})
    assert json.loads(target.read_text()) == {"x": [1, 2]}
    with pytest.raises(ValueError, match="never contain pickles"):
        fileio.write_npz(tmp_path / "o.npz", a=np.array([{}], dtype=object))
    with pytest.raises(FileNotFoundError) as info:
        fileio.write_text(tmp_path / "missing" / "x.txt", "x")
    assert info.value.filename == str(tmp_path / "missing" / "x.txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


# ====================================================  one writer per folder
_HOLD_LOCK = textwrap.dedent("""
    import sys, time
    from brainsim.fileio import lock_folder
    lock = lock_folder(sys.argv[1])
    print("locked", flush=True)
    time.sleep(120)
""")


@pytest.fixture
def lock_holder():
    """Start a process that holds the writer lock of a folder; kill it afterwards."""
    procs = []

    def hold(folder: Path) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(folder)], cwd=REPO,
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "locked"
        procs.append(proc)
        return proc

    yield hold
    for proc in procs:
        proc.kill()
        proc.wait()


def test_second_run_with_the_same_out_stops(tmp_path, lock_holder):
    out = tmp_path / "out"
    holder = lock_holder(out)
    proc = script("ann_baseline.py", "--out", out, "--n-train", 50)
    line = one_line_error(proc)
    assert line == (f"error: --out folder {out} is in use by another run (process "
                    f"{holder.pid}); wait for it to finish or choose another folder")
    assert sorted(p.name for p in out.iterdir()) == [fileio.LOCK_NAME]  # nothing written
    holder.kill()
    holder.wait()
    # once the first run has ended (even killed), the folder is free again
    with fileio.lock_folder(out):
        pass


def test_run_script_holds_the_out_folder_while_main_runs(tmp_path):
    out = tmp_path / "out"
    seen = {}

    def main(argv):
        cli.make_parser("t", default_out="t").parse_args(argv)
        with pytest.raises(FolderInUseError, match="in use"):
            fileio.lock_folder(out)  # a second writer, even in the same process
        seen["ran"] = True
        return 0

    with pytest.raises(SystemExit) as info:
        cli.run_script(main, ["--out", str(out)])
    assert info.value.code == 0 and seen["ran"]
    with fileio.lock_folder(out):  # released at the end
        pass


def test_second_training_into_the_same_checkpoint_folder_stops(tmp_path, lock_holder, digits):
    ckpt = tmp_path / "ckpt"
    holder = lock_holder(ckpt)
    snn = small_snn(checkpoint_dir=str(ckpt))
    with pytest.raises(FolderInUseError, match=f"checkpoint folder {ckpt} is in use by another "
                                               f"run \\(process {holder.pid}\\)"):
        snn.partial_fit(digits.X_train[:5])


def test_stale_temp_files_of_a_killed_run_are_removed(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".metrics.json.abc123.tmp").write_text("half")
    (out / "notes.tmp").write_text("not ours")
    cli.claim_output_folder(out)
    try:
        assert sorted(p.name for p in out.iterdir()) == [fileio.LOCK_NAME, "notes.tmp"]
    finally:
        cli.release_output_folders()


def test_work_folders_of_killed_runs_are_removed_from_the_cache(tmp_path):
    """run_<host>-<pid>_* folders of dead processes of this host go; others stay."""
    import platform
    import subprocess
    import sys

    from brainsim.simulation import remove_stale_run_folders

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = platform.node()
    names = [f"run_{host}-{dead.pid}_abc", f"run_{host}-{os.getpid()}_def",
             f"run_elsewhere-{dead.pid}_ghi", "run_old_style"]
    for name in names:
        (tmp_path / name).mkdir()
        (tmp_path / name / "arg_w.dat").write_bytes(b"0" * 8)
    removed = remove_stale_run_folders(tmp_path)
    assert [p.name for p in removed] == [names[0]]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[1:])


# ===================================================================  folders
def test_out_that_is_a_file(tmp_path):
    target = tmp_path / "taken"
    target.write_text("x")
    line = one_line_error(script("ann_baseline.py", "--out", target, "--n-train", 50))
    assert line == f"error: --out folder {target} is a file, not a folder; give a folder path"


def test_out_without_write_permission(tmp_path, deny_writes, capsys):
    deny_writes(tmp_path / "locked")

    def main(argv):
        cli.make_parser("t", default_out="t").parse_args(argv)
        return 0

    with pytest.raises(SystemExit) as info:
        cli.run_script(main, ["--out", str(tmp_path / "locked" / "out")])
    assert info.value.code == 2
    assert capsys.readouterr().err == (
        f"error: --out folder {tmp_path / 'locked' / 'out'} cannot be written (Permission "
        "denied); check the permissions or choose another folder with --out\n")


@pytest.mark.standalone
def test_read_only_compile_cache(tmp_path, deny_writes, monkeypatch, standalone_cache, digits):
    from brainsim import simulation

    snn = small_snn().fit(digits.X_train[:20], digits.y_train[:20])  # builds into the cache
    shape = snn._shape(learning=False)
    # a read-only cache that holds the build: used as it is, runs go to the temp folder
    before = snn.transform(digits.X_test[:8])
    deny_writes(standalone_cache)
    made = []
    real_mkdtemp = simulation.tempfile.mkdtemp

    def spy(*args, **kw):
        made.append(kw.get("prefix"))
        return real_mkdtemp(*args, **kw)

    monkeypatch.setattr(simulation.tempfile, "mkdtemp", spy)
    snn._inference_sim = simulation.StandaloneSimulator(shape, directory=standalone_cache)
    np.testing.assert_array_equal(snn.transform(digits.X_test[:8]), before)
    assert "brainsim_run_" in made  # refused in the cache, so the run went to the temp folder
    # a read-only cache without the build: a private cache, with a message
    empty = tmp_path / "readonly-cache"
    deny_writes(empty)
    monkeypatch.setattr(simulation, "private_cache_dir", lambda: Path(standalone_cache))
    with pytest.warns(UserWarning, match=f"compile cache {empty} cannot be written .*private "
                                         f"cache {standalone_cache}"):
        simulation.StandaloneSimulator(shape, directory=empty)


# ==============================================================  environment
@pytest.mark.parametrize("how", ["CXX", "PATH"])
def test_no_cxx_compiler(tmp_path, monkeypatch, digits, how):
    if how == "CXX":
        monkeypatch.setenv("CXX", str(tmp_path / "no-such-g++"))
    else:
        monkeypatch.delenv("CXX", raising=False)
        monkeypatch.setenv("PATH", str(tmp_path))  # no g++ on it
    snn = small_snn(cache_dir=str(tmp_path / "cache"), n_neurons=3)  # a shape never built
    with pytest.raises(BrainsimError, match=r"no C\+\+ compiler found.*backend='runtime' "
                                            r"\(--backend runtime in the scripts\)"):
        snn.fit(digits.X_train[:5], digits.y_train[:5])


def test_compiler_that_fails(tmp_path, monkeypatch, digits):
    """A compiler that exists but fails: the build's own error, naming backend='runtime'."""
    monkeypatch.setenv("CXX", "false")  # found on PATH, fails on every call
    snn = small_snn(cache_dir=str(tmp_path / "cache"), n_neurons=3)
    with pytest.raises(BrainsimError, match=r"building the C\+\+ standalone network failed "
                                            r"\(is a C\+\+ compiler such as g\+\+ installed\? "
                                            r"use backend='runtime'"):
        snn.fit(digits.X_train[:5], digits.y_train[:5])


def test_no_cxx_compiler_in_a_script(tmp_path):
    env = dict(os.environ, CXX=str(tmp_path / "no-such-g++"), BRAINSIM_CACHE=str(tmp_path / "c"))
    line = one_line_error(script("train_snn.py", "--n-neurons", 3, "--n-train", 5, "--n-test", 5,
                                 "--no-progress", "--out", tmp_path / "out", env=env))
    assert "no C++ compiler found" in line and "--backend runtime" in line


@pytest.mark.standalone
def test_ctrl_c_during_training(tmp_path, standalone_cache):
    out = tmp_path / "out"
    cmd = [sys.executable, str(REPO / "experiments" / "train_snn.py"), "--n-neurons", N_NEURONS,
           "--n-test", 20, "--no-progress", "--checkpoint-every", 1, "--out", out]
    proc = subprocess.Popen(list(map(str, cmd)), cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    checkpoint = out / "checkpoint" / "checkpoint.npz"
    deadline = time.time() + 600
    while not checkpoint.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines() == [
        "interrupted (Ctrl-C); files and checkpoints written so far are kept, and the same "
        "command resumes a checkpointed training"]
    with np.load(checkpoint, allow_pickle=False) as f:  # complete and readable
        assert json.loads(str(f["meta"]))["progress"]["next_image"] > 0
    assert not (out / "snn.npz").exists()
    assert not [p for p in out.rglob("*.tmp")]


@pytest.mark.slow
@pytest.mark.standalone
def test_sigkill_during_compare_then_rerun_completes(tmp_path, standalone_cache, no_data_env):
    out = tmp_path / "out"
    args = [sys.executable, str(REPO / "experiments" / "compare.py"), "--n-neurons", N_NEURONS,
            "--n-train", 100, "--n-test", 50, "--learning-curve-points", 100,
            "--no-progress", "--out", str(out)]
    env = dict(no_data_env, BRAINSIM_CACHE=standalone_cache)
    victim = subprocess.Popen(list(map(str, args)), cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 900
    while (victim.poll() is None and time.time() < deadline
           and not list(out.glob("*.png"))):  # killed while it writes its figures
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert victim.returncode == -signal.SIGKILL
    assert not (out / "metrics.json").exists()
    proc = subprocess.run(list(map(str, args)), cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0.0 <= metrics["models"]["snn"]["test_accuracy"] <= 1.0
    assert (out / "report.md").read_text().startswith("#")
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
