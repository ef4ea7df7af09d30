"""A network split into processes (PartsSimulator, DiehlCookSNN(learning_processes=...)):
the same spikes and weights as the whole network in one process, and failures that
stop every part instead of leaving one waiting."""

from __future__ import annotations

import time

import numpy as np
import pytest

from brainsim import model as M
from brainsim.classifier import DiehlCookSNN
from brainsim.datasets import load_dataset
from brainsim.encoding import stimulus_rows
from brainsim.errors import BrainsimError, ConfigError
from brainsim.network import NetworkShape
from brainsim.simulation import (ChunkInput, PartsSimulator, StandaloneSimulator,
                                 initial_state, make_simulator)

N_NEURONS, N_SLOTS = 10, 12


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def _chunk(digits, *, scale: float = 1.0, w_inh: float = M.w_inh_to_exc,
           n_rows: int = N_SLOTS, seed: int = 3) -> ChunkInput:
    return ChunkInput(stimulus=stimulus_rows(digits.X_train[:N_SLOTS]) * scale,
                      n_rows=np.array([float(n_rows)]), img=np.array([-1.0]),
                      count=np.array([float(M.min_spikes)]),
                      intensity=np.array([M.intensity_start]), seed=seed, w_inh=w_inh)


def _assert_same_run(whole, parts):
    """Spikes, weights and thresholds exactly; membrane potentials to the last bits
    (the compiler may split its vector loops differently for fewer neurons)."""
    for name in ("slot_img", "slot_intensity", "slot_count", "slot_exc_spikes",
                 "slot_inh_spikes", "slot_input_spikes"):
        np.testing.assert_array_equal(getattr(parts, name), getattr(whole, name), err_msg=name)
    np.testing.assert_array_equal(parts.state.weights, whole.state.weights)
    np.testing.assert_array_equal(parts.state.theta, whole.state.theta)
    np.testing.assert_allclose(parts.state.v_exc, whole.state.v_exc, rtol=0, atol=1e-12)
    np.testing.assert_allclose(parts.state.v_inh, whole.state.v_inh, rtol=0, atol=1e-12)
    if whole.exc_counts is not None:
        np.testing.assert_array_equal(parts.exc_counts, whole.exc_counts)


@pytest.mark.parametrize("rule, scheduled, scale", [
    ("instar", True, 1.0),      # local_plus: scheduled inhibition, STDP on postsynaptic spikes
    ("power_law", False, 0.1),  # the faithful network, dim images: retries at higher rates
], ids=["instar", "power_law with retries"])
def test_two_parts_learn_exactly_what_the_whole_network_learns(digits, standalone_cache, rule,
                                                               scheduled, scale):
    shape = NetworkShape(n_input=64, n_neurons=N_NEURONS, n_slots=N_SLOTS, rule=rule,
                         scheduled=scheduled)
    state = initial_state(64, N_NEURONS, np.random.default_rng(0))
    chunk = _chunk(digits, scale=scale, w_inh=60.0 if scheduled else M.w_inh_to_exc)
    whole = StandaloneSimulator(shape, directory=standalone_cache).run(state, chunk)
    split = PartsSimulator(shape, 2, directory=standalone_cache)
    assert split.part.shape.n_neurons == N_NEURONS // 2 and split.part.shape.n_parts == 2
    parts = split.run(state, chunk)
    _assert_same_run(whole, parts)
    assert whole.slot_count.sum() > 0 and not np.array_equal(parts.state.weights, state.weights)
    if scale < 1:  # the retry rule counted the whole layer's spikes, not one part's
        assert (whole.slot_intensity > M.intensity_start).any()
    # both parts' neurons won images: the inhibition crossed between the processes
    won = np.flatnonzero(parts.state.theta > state.theta)
    assert won.min() < N_NEURONS // 2 <= won.max()


def test_a_frozen_network_in_parts_counts_the_same_spikes(digits, standalone_cache):
    shape = NetworkShape(n_input=64, n_neurons=N_NEURONS, n_slots=N_SLOTS, rule=None)
    state = initial_state(64, N_NEURONS, np.random.default_rng(1))
    chunk = _chunk(digits, seed=4)
    whole = StandaloneSimulator(shape, directory=standalone_cache).run(state, chunk)
    parts = PartsSimulator(shape, 2, directory=standalone_cache).run(state, chunk)
    _assert_same_run(whole, parts)
    assert whole.slot_inh_spikes.sum() > 0


def test_compiled_networks_do_not_read_the_clock_every_step(standalone_cache):
    """brainsim.cppcode.time_run_once (Brian2 2.9) or Brian2 itself (>= 2.10): no
    clock reading at the end of each step of Network::run."""
    shape = NetworkShape(n_input=64, n_neurons=N_NEURONS, n_slots=N_SLOTS, rule=None)
    text = (StandaloneSimulator(shape, directory=standalone_cache).project_dir
            / "network.cpp").read_text()
    loop = text[text.index("while(clock"):text.index("Network::_globally_running = false;")]
    assert "elapsed_realtime =" not in loop


def test_a_failing_part_stops_the_others(digits, standalone_cache, monkeypatch):
    """Part 1 is started with a part index the network does not have: it stops at
    once; part 0, waiting for it, is killed, and the run raises a one-line error."""
    shape = NetworkShape(n_input=64, n_neurons=N_NEURONS, n_slots=N_SLOTS, rule="instar",
                         scheduled=True)
    sim = PartsSimulator(shape, 2, directory=standalone_cache)
    start = sim.part._start

    def broken_start(state, chunk, env=None):
        if env["BRAINSIM_PART"] == "1":
            env = dict(env, BRAINSIM_PART="7")
        return start(state, chunk, env)

    monkeypatch.setattr(sim.part, "_start", broken_start)
    began = time.perf_counter()
    with pytest.raises(BrainsimError, match="BRAINSIM_PART is not a part of this network"):
        sim.run(initial_state(64, N_NEURONS, np.random.default_rng(0)), _chunk(digits))
    assert time.perf_counter() - began < 60
    assert not sim.part._running
    assert not list(sim.part.project_dir.glob("run_*"))  # work folders removed


def test_parts_are_refused_where_they_cannot_work(standalone_cache):
    shape = NetworkShape(n_input=64, n_neurons=N_NEURONS, n_slots=N_SLOTS, rule="instar")
    with pytest.raises(ConfigError, match="10 neurons cannot be split into 3 equal parts"):
        PartsSimulator(shape, 3, directory=standalone_cache)
    with pytest.raises(ConfigError, match="only a network of one copy"):
        PartsSimulator(NetworkShape(n_input=64, n_neurons=10, n_slots=4, rule=None, n_copies=2),
                       2, directory=standalone_cache)
    with pytest.raises(ConfigError, match="at least 2 parts"):
        PartsSimulator(shape, 1, directory=standalone_cache)
    with pytest.raises(ConfigError, match="backend='standalone'"):
        make_simulator(shape, "runtime", parts=2)
    X = np.zeros((4, 64))
    for params, message in [
        (dict(learning_processes=3), "does not divide n_neurons=10"),
        (dict(learning_processes=2, backend="runtime"), "backend='standalone'"),
        (dict(learning_processes=2, openmp_threads=2), "openmp_threads=0"),
        (dict(learning_processes=0), "learning_processes must be an integer >= 1"),
    ]:
        with pytest.raises(ConfigError, match=message):
            DiehlCookSNN(n_neurons=N_NEURONS, cache_dir=standalone_cache, progress=False,
                         **params).fit(X, np.arange(4) % 2)


@pytest.mark.filterwarnings("ignore:classes .* got no neuron")
def test_the_estimator_learns_the_same_network_in_two_processes(digits, standalone_cache):
    """learning_processes=2 changes how the learning network runs, not what it learns."""
    X, y = digits.X_train[:30], digits.y_train[:30]
    kw = dict(n_neurons=N_NEURONS, chunk_size=N_SLOTS, n_copies=2, inference_chunk_size=8,
              cache_dir=standalone_cache, progress=False, random_state=2, recipe="local_plus",
              recipe_options={"n_passes": 1, "min_images": 0})
    one = DiehlCookSNN(**kw).fit(X, y)
    two = DiehlCookSNN(**kw, learning_processes=2).fit(X, y)
    assert two._training_sim.n_parts == 2
    np.testing.assert_array_equal(two.weights_, one.weights_)
    np.testing.assert_array_equal(two.theta_, one.theta_)
    np.testing.assert_array_equal(two.assignments_, one.assignments_)
    assert two.get_params()["learning_processes"] == 2
