"""Parallel inference (``DiehlCookSNN(n_jobs=...)``, :func:`brainsim.presentation.infer_blocks`).

The block logic is checked with a stand-in simulator (no Brian2); the estimator
with the small compiled test network of tests/test_classifier.py (10 neurons,
digits, the same compiled shapes).
"""

from __future__ import annotations

import copy
import threading
import time
import warnings

import numpy as np
import pytest

from brainsim import model as M
from brainsim.classifier import DiehlCookSNN, LabelWarning
from brainsim.datasets import load_dataset
from brainsim.errors import BrainsimError, ConfigError
from brainsim.network import NetworkShape
from brainsim.presentation import block_bounds, chunk_seed, infer_blocks, infer_chunks
from brainsim.simulation import ChunkOutput, NetworkState, initial_state


class SeededSimulator:
    """Stand-in for a frozen network: spike counts drawn from the chunk's seed and rows.

    Counts how many runs overlap (``max_running``); ``fail_on_seed`` makes the run
    with that seed raise, ``delay`` makes every run last that long (seconds).
    """

    def __init__(self, shape: NetworkShape, *, concurrent: bool = True, delay: float = 0.0,
                 fail_on_seed: int | None = None):
        self.shape, self.concurrent_runs, self.delay = shape, concurrent, delay
        self.fail_on_seed = fail_on_seed
        self.lock = threading.Lock()
        self.running = self.max_running = self.runs = 0
        self.terminated = 0

    def terminate_runs(self) -> None:
        self.terminated += 1

    def run(self, state: NetworkState, chunk) -> ChunkOutput:
        with self.lock:
            self.running += 1
            self.runs += 1
            self.max_running = max(self.max_running, self.running)
        try:
            time.sleep(self.delay)
            if chunk.seed == self.fail_on_seed:
                raise BrainsimError("the compiled network stopped with exit code 1")
            B, S, N = self.shape.n_copies, self.shape.n_slots, self.shape.n_neurons
            rng = np.random.default_rng(chunk.seed)
            rows = chunk.stimulus.reshape(B, S, -1)
            counts = rng.poisson(rows.sum(axis=2, keepdims=True) / 50.0, size=(B, S, N))
            return ChunkOutput(
                state=state, slot_img=np.tile(np.arange(S), (B, 1)),
                slot_intensity=np.full((B, S), 2.0), slot_count=np.full((B, S), 5.0),
                slot_input_spikes=rows.sum(axis=2), slot_exc_spikes=counts.sum(axis=2) * 1.0,
                slot_inh_spikes=np.zeros((B, S)), exc_counts=counts.astype(np.int32))
        finally:
            with self.lock:
                self.running -= 1


def _stand_in(**kw) -> SeededSimulator:
    shape = NetworkShape(n_input=16, n_neurons=3, n_slots=4, rule=None, n_copies=2)
    return SeededSimulator(shape, **kw)


def _stimulus(n: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (n, 16)).astype(np.uint8)


STATE = initial_state(16, 3, np.random.default_rng(0))


def test_jobs_blocks_have_a_fixed_size():
    assert block_bounds(20, 8) == [(0, 8), (8, 16), (16, 20)]
    assert block_bounds(0, 8) == []
    with pytest.raises(ValueError, match="block_size"):
        block_bounds(5, 0)


@pytest.mark.parametrize("concurrent", [True, False])
def test_jobs_give_the_same_result_for_any_number_of_jobs(concurrent):
    X = _stimulus(37)  # 5 blocks of 8 images, the last one short
    results = []
    for n_jobs in (1, 2, 3, 8):
        sim = _stand_in(concurrent=concurrent, delay=0.03)
        results.append(infer_blocks(sim, X, STATE, random_state=4, block_size=8,
                                    n_jobs=n_jobs, n_repeats=2))
        # never more than n_jobs runs at once; several at once when it may
        assert sim.max_running <= (min(n_jobs, 5) if concurrent else 1)
        assert sim.max_running >= (2 if concurrent and n_jobs > 1 else 1)
    for other in results[1:]:
        for key in ("counts", "presentations", "input_spikes", "exc_spikes", "inh_spikes"):
            np.testing.assert_array_equal(getattr(other, key), getattr(results[0], key))
    assert results[0].counts.shape == (37, 3)
    np.testing.assert_array_equal(results[0].presentations, 2)  # two repeats, no retries
    # block i is infer_chunks on its images with the block's own seed
    block = infer_chunks(_stand_in(), X[16:24], STATE, n_repeats=2,
                         random_state=chunk_seed(4, "infer_block", 2))
    np.testing.assert_array_equal(results[0].counts[16:24], block.counts)
    # ... and differs from one stream over all images (other seeds)
    stream = infer_chunks(_stand_in(), X, STATE, random_state=4, n_repeats=2)
    assert not np.array_equal(stream.counts, results[0].counts)


def test_jobs_report_progress_and_stop_all_blocks_on_an_error():
    X = _stimulus(40)
    done = []
    infer_blocks(_stand_in(delay=0.01), X, STATE, random_state=0, block_size=8, n_jobs=2,
                 on_chunk=done.append)
    assert sum(done) == 40
    failing = _stand_in(delay=0.05, fail_on_seed=chunk_seed(chunk_seed(0, "infer_block", 1),
                                                            "infer", 0))
    with pytest.raises(BrainsimError, match="exit code 1"):
        infer_blocks(failing, X, STATE, random_state=0, block_size=8, n_jobs=2)
    # blocks 2..4 were never started or stopped before their runs: far fewer than 5 runs
    assert failing.runs < 5 and failing.running == 0


@pytest.mark.parametrize("value", [0, -2, 1.5, "two", True])
def test_jobs_invalid_values_are_refused_in_one_line(value):
    snn = DiehlCookSNN(n_neurons=10, n_jobs=value, progress=False)
    with pytest.raises(ConfigError, match=r"^n_jobs must be None, -1 \(all cores\) or an "
                                          r"integer >= 1, got") as err:
        snn.fit(np.zeros((4, 8, 8), dtype=np.uint8), [0, 1, 0, 1])
    assert "\n" not in str(err.value)


def test_jobs_minus_one_means_every_core():
    from joblib import cpu_count

    assert DiehlCookSNN(n_jobs=-1)._check_n_jobs() == cpu_count()
    assert DiehlCookSNN(n_jobs=3)._check_n_jobs() == 3
    assert DiehlCookSNN()._check_n_jobs() is None
    assert "n_jobs=2" in repr(DiehlCookSNN(n_jobs=2))


# ------------------------------------------------------------ compiled network
@pytest.fixture(scope="module")
def trained(standalone_cache):
    """The 10-neuron test network (shapes of tests/test_classifier.py), trained on 200 digits."""
    data = load_dataset("digits")
    snn = DiehlCookSNN(n_neurons=10, progress=False, random_state=0, n_assign=200)
    with warnings.catch_warnings():  # 10 neurons leave some classes without a neuron
        warnings.simplefilter("ignore", LabelWarning)
        return snn.fit(data.X_train[:200], data.y_train[:200]), data


@pytest.mark.standalone
def test_jobs_on_the_compiled_network_same_counts_for_1_and_2_jobs(trained):
    snn, data = trained
    X = data.X_train  # 1,347 images: 2 blocks of 8 copies x 125 slots
    assert snn.inference_block_size == 1000
    by_jobs = {}
    for n_jobs in (1, 2, None):
        model = copy.deepcopy(snn).set_params(n_jobs=n_jobs)
        by_jobs[n_jobs] = model.respond(X)
    np.testing.assert_array_equal(by_jobs[1].counts, by_jobs[2].counts)
    np.testing.assert_array_equal(by_jobs[1].presentations, by_jobs[2].presentations)
    # statistically equivalent to one stream of chunks (other spike trains)
    blocks, stream = by_jobs[2], by_jobs[None]
    assert not np.array_equal(blocks.counts, stream.counts)
    assert np.all(blocks.counts.sum(axis=1) >= M.min_spikes)
    assert blocks.counts.sum(axis=1).mean() == pytest.approx(
        stream.counts.sum(axis=1).mean(), rel=0.05)
    assert blocks.input_spikes.mean() == pytest.approx(stream.input_spikes.mean(), rel=0.05)
    assert blocks.presentations.mean() == pytest.approx(stream.presentations.mean(), rel=0.05)
    predicted = {k: snn.predict_from_counts(r.counts) for k, r in by_jobs.items()}
    acc = {k: np.mean(p == data.y_train) for k, p in predicted.items()}
    assert acc[2] > 0.3 and abs(acc[2] - acc[None]) < 0.05
    # blocks and the stream agree on the predicted class as often as two streams
    # with different seeds do (10 neurons: about two images in three)
    other_seed = copy.deepcopy(snn).set_params(random_state=1).respond(X)
    stream_vs_stream = np.mean(snn.predict_from_counts(other_seed.counts) == predicted[None])
    assert np.mean(predicted[2] == predicted[None]) > stream_vs_stream - 0.05


# ------------------------------------------------------------ experiments and scripts
def test_jobs_config_key_reaches_the_estimator():
    from brainsim.experiment import resolve_compare_config, resolve_snn_config, snn_kwargs

    assert DiehlCookSNN(**snn_kwargs(resolve_snn_config({"jobs": 2}))).n_jobs == 2
    assert DiehlCookSNN(**snn_kwargs(resolve_snn_config({}))).n_jobs is None
    assert snn_kwargs(resolve_compare_config({"jobs": -1}))["n_jobs"] == -1
    for bad in (0, -2, 1.5, "two"):
        with pytest.raises(ConfigError, match="jobs must be None, -1"):
            resolve_snn_config({"jobs": bad})


def test_jobs_option_of_the_scripts(capsys):
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    parsers = {}
    for name in ("train_snn", "compare", "benchmark"):
        spec = importlib.util.spec_from_file_location(f"script_{name}",
                                                      root / "experiments" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        parsers[name] = module.build_parser()
        assert "--jobs N" in parsers[name].format_help(), name
    assert parsers["train_snn"].parse_args(["--jobs", "-1"]).jobs == -1
    assert parsers["compare"].parse_args([]).jobs is None
    with pytest.raises(SystemExit) as stop:
        parsers["train_snn"].parse_args(["--jobs", "0"])
    assert stop.value.code == 2
    assert "--jobs: must be at least 1, or -1 for every core; got 0" in capsys.readouterr().err
