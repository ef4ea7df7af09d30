"""The DiehlCookSNN estimator: protocol, errors, save/load, checkpoints, back ends.

Tests marked ``standalone`` compile small C++ networks once per test session
(cached in $BRAINSIM_CACHE, see conftest.py); all use the same shapes.
"""

import numpy as np
import pytest

from brainsim import model as M
from brainsim.classifier import DiehlCookSNN
from brainsim.datasets import load_dataset
from brainsim.encoding import stimulus_rows
from brainsim.errors import ConfigError, ModelFileError
from brainsim.simulation import ChunkInput, RuntimeSimulator, StandaloneSimulator

N_NEURONS = 10  # small network shared by every standalone test (one compile per shape)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def small_snn(**kw) -> DiehlCookSNN:
    params = dict(n_neurons=N_NEURONS, progress=False, random_state=0)
    params.update(kw)
    return DiehlCookSNN(**params)


@pytest.fixture(scope="module")
def trained(digits, standalone_cache):
    """A small network trained on 300 digits (standalone back end)."""
    return small_snn(n_assign=300).fit(digits.X_train[:300], digits.y_train[:300])


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("params, message", [
    (dict(n_neurons=0), "n_neurons"),
    (dict(n_neurons=1), "at least 2"),
    (dict(learning_rule="oja"), "power_law"),
    (dict(backend="gpu"), "backend"),
    (dict(presentation_time=-1.0), "presentation_time"),
    (dict(presentation_time=0.3502), "whole number of 0.5 ms"),
    (dict(resting_time=0.0101), "resting_time must be a whole number"),
    (dict(chunk_size=2.5), "chunk_size"),
])
def test_bad_parameters_raise_clear_errors(digits, params, message):
    with pytest.raises(ConfigError, match=message):
        small_snn(**params).fit(digits.X_train[:5], digits.y_train[:5])


def test_bad_images_and_labels(digits):
    snn = small_snn()
    with pytest.raises(ConfigError, match="0..255"):
        snn.fit(digits.X_train[:5] * 2.0, digits.y_train[:5])
    with pytest.raises(ConfigError, match="shape"):
        snn.fit(np.zeros(10), digits.y_train[:5])
    with pytest.raises(ConfigError, match="labels"):
        snn.fit(digits.X_train[:5], digits.y_train[:4])
    with pytest.raises(ConfigError, match="not trained"):
        snn.predict(digits.X_test[:3])


def test_compile_builds_both_networks_ahead_of_time():
    snn = small_snn(backend="runtime")
    seconds = snn.compile(64)
    assert set(seconds) == {"learning", "inference"}
    assert snn._training_sim.shape.learning and not snn._inference_sim.shape.learning
    assert snn._inference_sim.shape.n_copies == snn.n_copies
    assert snn.timings_["build"] == pytest.approx(sum(seconds.values()))  # one after the other
    with pytest.raises(ConfigError, match="takes 64 inputs, not 784"):
        snn.compile(784)


def test_stimulus_is_pixel_over_eight_hz():
    X = np.array([[[0, 8], [255, 128]]], dtype=np.uint8)
    np.testing.assert_allclose(stimulus_rows(X), [[0, 1, 31.875, 16]])
    # at the starting intensity 2 this is the paper's pixel / 4 (max 63.75 Hz)
    assert stimulus_rows(X).max() * M.intensity_start == pytest.approx(63.75)


# ----------------------------------------------------------- end to end
@pytest.mark.standalone
def test_protocol_learns_and_beats_chance(trained, digits):
    snn = trained
    assert snn.weights_.shape == (64, N_NEURONS)
    assert snn.assignments_.shape == (N_NEURONS,)
    assert snn.training_presentations_ >= 300  # retries included
    # thresholds adapted during learning and no longer change afterwards
    assert np.all(snn.theta_ >= float(M.theta_init) * 0.99)
    assert snn.theta_.max() > float(M.theta_init)
    # weights stayed in bounds
    assert snn.weights_.min() >= 0 and snn.weights_.max() <= M.w_max + 1e-9
    acc = snn.score(digits.X_test[:100], digits.y_test[:100])
    assert acc > 0.3  # 10 classes: chance is 0.1


@pytest.mark.standalone
def test_same_seed_same_result(trained, digits):
    again = small_snn(n_assign=300).fit(digits.X_train[:300], digits.y_train[:300])
    np.testing.assert_array_equal(again.weights_, trained.weights_)
    np.testing.assert_array_equal(again.assignments_, trained.assignments_)
    other = small_snn(n_assign=300, random_state=1).fit(digits.X_train[:300],
                                                        digits.y_train[:300])
    assert not np.array_equal(other.weights_, trained.weights_)


@pytest.mark.standalone
def test_transform_counts_and_prediction(trained, digits):
    counts = trained.transform(digits.X_test[:40])
    assert counts.shape == (40, N_NEURONS)
    # the retry rule guarantees at least five spikes per answered image (or max retries)
    assert np.all(counts.sum(axis=1) >= M.min_spikes)
    pred = trained.predict_from_counts(counts)
    scores = trained.decision_function(digits.X_test[:40])
    assert scores.shape == (40, 10)
    assert pred.shape == (40,)


# --------------------------------------------------------------- save/load
@pytest.mark.standalone
def test_save_load_round_trip(trained, tmp_path, digits):
    path = trained.save(tmp_path / "net.npz")
    loaded = DiehlCookSNN.load(path)
    np.testing.assert_array_equal(loaded.weights_, trained.weights_)
    np.testing.assert_array_equal(loaded.theta_, trained.theta_)
    np.testing.assert_array_equal(loaded.delays_, trained.delays_)
    np.testing.assert_array_equal(loaded.assignments_, trained.assignments_)
    assert loaded.get_params() == trained.get_params()
    assert loaded.image_shape_ == (8, 8)
    assert "brian2" in loaded.saved_versions_
    # save() adds the .npz suffix; load() accepts the name without it as well
    assert trained.save(tmp_path / "bare") == tmp_path / "bare.npz"
    np.testing.assert_array_equal(DiehlCookSNN.load(tmp_path / "bare").weights_, trained.weights_)
    # the loaded network answers like the original one (same seed, same binary)
    np.testing.assert_array_equal(loaded.transform(digits.X_test[:16]),
                                  trained.transform(digits.X_test[:16]))


def test_load_rejects_damaged_files(tmp_path):
    missing = tmp_path / "nothing.npz"
    with pytest.raises(ModelFileError, match="no saved network"):
        DiehlCookSNN.load(missing)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file at all")
    with pytest.raises(ModelFileError, match="not a readable"):
        DiehlCookSNN.load(garbage)
    other = tmp_path / "other.npz"
    np.savez(other, x=np.zeros(3))
    with pytest.raises(ModelFileError):
        DiehlCookSNN.load(other)


@pytest.mark.standalone
def test_load_rejects_truncated_and_mismatched_files(trained, tmp_path):
    path = trained.save(tmp_path / "net.npz")
    data = path.read_bytes()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError):
        DiehlCookSNN.load(cut)
    # arrays that do not fit the header
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["weights"] = arrays["weights"][:10]
    bad = tmp_path / "bad.npz"
    np.savez(bad, **arrays)
    with pytest.raises(ModelFileError, match="weights"):
        DiehlCookSNN.load(bad)


# -------------------------------------------------------------- checkpoints
class Interrupt(Exception):
    pass


@pytest.mark.standalone
def test_resume_after_interruption_gives_same_weights(digits, tmp_path, monkeypatch):
    X, y = digits.X_train[:400], digits.y_train[:400]
    reference = small_snn(n_assign=50).fit(X, y)

    calls = {"n": 0}
    original = DiehlCookSNN._write_checkpoint

    def write_then_die(self, *args, **kw):
        original(self, *args, **kw)
        calls["n"] += 1
        if calls["n"] == 2:
            raise Interrupt  # as if the process were killed right after a checkpoint

    monkeypatch.setattr(DiehlCookSNN, "_write_checkpoint", write_then_die)
    ckpt = tmp_path / "ckpt"
    with pytest.raises(Interrupt):
        small_snn(n_assign=50, checkpoint_dir=str(ckpt), checkpoint_every=1).fit(X, y)
    assert (ckpt / "checkpoint.npz").exists()
    monkeypatch.setattr(DiehlCookSNN, "_write_checkpoint", original)

    import brainsim.classifier as classifier_module

    starts = []
    real_train_chunks = classifier_module.train_chunks

    def spy(*args, progress=None, **kw):
        starts.append(progress.next_image)
        return real_train_chunks(*args, progress=progress, **kw)

    monkeypatch.setattr(classifier_module, "train_chunks", spy)
    resumed = small_snn(n_assign=50, checkpoint_dir=str(ckpt), checkpoint_every=1).fit(X, y)
    np.testing.assert_array_equal(resumed.weights_, reference.weights_)
    np.testing.assert_array_equal(resumed.theta_, reference.theta_)
    np.testing.assert_array_equal(resumed.assignments_, reference.assignments_)
    assert starts[0] > 0  # training went on from the checkpoint, not from image 0
    assert resumed.training_presentations_ == reference.training_presentations_

    # a checkpoint from another run is refused with a clear message
    with pytest.raises(ModelFileError, match="different training run"):
        small_snn(n_assign=50, checkpoint_dir=str(ckpt), random_state=7).fit(X, y)


# ------------------------------------------------------------ back ends agree
@pytest.mark.standalone
def test_runtime_and_standalone_give_the_same_spikes(trained, digits, standalone_cache):
    """Brian2 seeds numpy's and the compiled code's random generators alike, and
    both back ends draw the random numbers in the same order: for the same seed a
    learning chunk and an inference chunk give the same spikes, retries and
    weights on both (up to rounding), although the compiled network delivers
    the input spikes through its delay line and the runtime one through
    Brian2's spike queue."""
    state = trained._get_state()
    for shape in (trained._training_sim.shape, trained._inference_sim.shape):
        B, S = shape.n_copies, shape.n_slots
        n = 12 if shape.learning else 2  # images per copy; the run stops after them
        rows = np.zeros((B * S, shape.n_input))
        for b in range(B):
            rows[b * S: b * S + n] = stimulus_rows(digits.X_test[b * n: (b + 1) * n])
        chunk = ChunkInput(stimulus=rows, n_rows=np.full(B, float(n)), img=np.full(B, -1.0),
                           count=np.full(B, float(M.min_spikes)),
                           intensity=np.full(B, M.intensity_start), seed=7)
        runtime = RuntimeSimulator(shape).run(state, chunk)
        compiled = StandaloneSimulator(shape, directory=standalone_cache).run(state, chunk)
        assert runtime.slot_count.sum() > 5 * B * n  # the network answers
        np.testing.assert_array_equal(runtime.slot_img, compiled.slot_img)
        np.testing.assert_array_equal(runtime.slot_count, compiled.slot_count)
        np.testing.assert_array_equal(runtime.slot_inh_spikes, compiled.slot_inh_spikes)
        if not shape.learning:
            np.testing.assert_array_equal(runtime.slot_input_spikes, compiled.slot_input_spikes)
            np.testing.assert_array_equal(runtime.exc_counts, compiled.exc_counts)
        np.testing.assert_allclose(runtime.state.weights, compiled.state.weights, atol=1e-9)
        np.testing.assert_allclose(runtime.state.theta, compiled.state.theta, atol=1e-12)


@pytest.mark.standalone
@pytest.mark.parametrize("backend", ["runtime", "standalone"])
def test_input_delays_reach_the_network(trained, digits, standalone_cache, backend):
    """The per-synapse input delays are part of the simulated model on both back
    ends: with every delay at 340 ms the input of a presentation arrives only in
    its last 10 ms, so first presentations draw far fewer excitatory spikes."""
    shape = trained._inference_sim.shape
    sim = (RuntimeSimulator(shape) if backend == "runtime"
           else StandaloneSimulator(shape, directory=standalone_cache))
    B, S = shape.n_copies, shape.n_slots
    rows = np.zeros((B * S, shape.n_input))
    rows[::S] = stimulus_rows(digits.X_test[:B])  # one image per copy, in its first slot
    chunk = ChunkInput(stimulus=rows, n_rows=np.ones(B), img=np.full(B, -1.0),
                       count=np.full(B, float(M.min_spikes)),
                       intensity=np.full(B, M.intensity_start), seed=3)
    state = trained._get_state()
    first_counts = {}
    for delay in (0.0, 0.340):
        state.delays = np.full_like(state.delays, delay)
        first_counts[delay] = sim.run(state, chunk).slot_count[:, 0].sum()
    assert first_counts[0.0] >= 2 * B  # the trained network answers the images
    assert first_counts[0.340] <= 0.2 * first_counts[0.0]


@pytest.mark.standalone
@pytest.mark.slow
def test_openmp_build_gives_the_same_statistics(trained, digits, standalone_cache):
    """openmp_threads=2 builds a separate binary; its threads draw from their own
    random generators, so the spikes differ, but not their statistics."""
    shape = trained._inference_sim.shape
    B, S = shape.n_copies, shape.n_slots
    rows = np.zeros((B * S, shape.n_input))
    n = 3
    for b in range(B):
        rows[b * S: b * S + n] = stimulus_rows(digits.X_test[b * n: (b + 1) * n])
    chunk = ChunkInput(stimulus=rows, n_rows=np.full(B, float(n)), img=np.full(B, -1.0),
                       count=np.full(B, float(M.min_spikes)),
                       intensity=np.full(B, M.intensity_start), seed=5)
    state = trained._get_state()
    single = StandaloneSimulator(shape, directory=standalone_cache)
    threaded = StandaloneSimulator(shape, openmp_threads=2, directory=standalone_cache)
    assert threaded.key != single.key
    a, b = single.run(state, chunk), threaded.run(state, chunk)
    np.testing.assert_array_equal(a.slot_img[:, 0], b.slot_img[:, 0])
    assert b.slot_input_spikes.sum() == pytest.approx(a.slot_input_spikes.sum(), rel=0.1)
    assert b.exc_counts.sum() == pytest.approx(a.exc_counts.sum(), rel=0.3)
    # the same neuron answers most copies' first image
    agree = np.argmax(a.exc_counts[:, 0], axis=1) == np.argmax(b.exc_counts[:, 0], axis=1)
    assert agree.mean() >= 0.5
