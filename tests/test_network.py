"""The network and its in-simulation schedule, in Brian2's runtime mode (no compiler)."""

import numpy as np
import pytest
from brian2 import second, volt

from brainsim import model as M
from brainsim.encoding import stimulus_rows
from brainsim.network import NetworkShape
from brainsim.simulation import (
    ChunkInput,
    RuntimeSimulator,
    initial_state,
    normalise_weights,
)

N_INPUT = 64
N_NEURONS = 10


def bright_images(n: int, rng) -> np.ndarray:
    """Random 8x8 images with a bright blob, so that the network answers them."""
    X = np.zeros((n, N_INPUT))
    for k in range(n):
        X[k, rng.choice(N_INPUT, 24, replace=False)] = 255
    return X


def fresh_start(n_copies: int, n_rows: int) -> dict:
    return dict(n_rows=np.full(n_copies, float(n_rows)), img=np.full(n_copies, -1.0),
                count=np.full(n_copies, float(M.min_spikes)),
                intensity=np.full(n_copies, M.intensity_start))


@pytest.fixture(scope="module")
def state():
    rng = np.random.default_rng(0)
    st = initial_state(N_INPUT, N_NEURONS, rng)
    st.weights = normalise_weights(st.weights, N_INPUT)
    return st


def test_lateral_inhibition_lets_few_neurons_win(state, monkeypatch):
    """Neuron 0's weights match the image; with inhibition it fires most of the
    spikes and few others fire; without inhibition many neurons fire."""
    rng = np.random.default_rng(1)
    X = bright_images(1, rng)
    st = state.copy()
    st.weights[:, 0] = X[0] / 255.0
    st.weights = normalise_weights(st.weights, N_INPUT)
    results = {}
    for label, w_inh in (("with", M.w_inh_to_exc), ("without", 0.0)):
        monkeypatch.setattr(M, "w_inh_to_exc", w_inh)
        shape = NetworkShape(n_input=N_INPUT, n_neurons=N_NEURONS, n_slots=1, rule=None)
        out = RuntimeSimulator(shape).run(
            st, ChunkInput(stimulus=stimulus_rows(X), seed=5, **fresh_start(1, 1)))
        results[label] = out.exc_counts[0, 0]
    c = results["with"]
    assert c.sum() >= M.min_spikes
    assert c[0] == c.max() and c[0] >= 0.5 * c.sum()  # the matching neuron wins
    assert np.count_nonzero(c) <= 3
    free = results["without"]
    assert np.count_nonzero(free) >= 2 * np.count_nonzero(c)
    assert free.sum() > 2 * c.sum()


def test_retry_raises_intensity_until_five_spikes(state):
    shape = NetworkShape(n_input=N_INPUT, n_neurons=N_NEURONS, n_slots=6, rule=None,
                         presentation_time=0.1, resting_time=0.05)
    sim = RuntimeSimulator(shape)
    faint = np.zeros((6, N_INPUT))
    faint[:, :8] = 40  # too faint for five spikes at the normal rate
    out = sim.run(state, ChunkInput(stimulus=stimulus_rows(faint), seed=1, **fresh_start(1, 6)))
    img, intensity, count = out.slot_img[0], out.slot_intensity[0], out.slot_count[0]
    assert img[0] == 0 and intensity[0] == M.intensity_start
    for k in range(1, 6):
        if count[k - 1] >= M.min_spikes:  # advance at the normal rate
            assert img[k] == img[k - 1] + 1 and intensity[k] == M.intensity_start
        else:  # same image, one step brighter
            assert img[k] == img[k - 1] and intensity[k] == intensity[k - 1] + 1
    assert intensity.max() > M.intensity_start  # at least one retry happened
    # the controller's count is the number of excitatory spikes while the image is on
    np.testing.assert_array_equal(count, out.exc_counts[0].sum(axis=1))


def test_run_stops_when_all_images_are_done(state):
    shape = NetworkShape(n_input=N_INPUT, n_neurons=N_NEURONS, n_slots=6, rule=None,
                         presentation_time=0.1, resting_time=0.05)
    sim = RuntimeSimulator(shape)
    rng = np.random.default_rng(2)
    X = bright_images(6, rng)
    out = sim.run(state, ChunkInput(stimulus=stimulus_rows(X) * 3, seed=1, **fresh_start(1, 1)))
    t_end = float(sim.network.net.t / second)
    # one real image (shown until it drew five spikes): the run ends after the
    # first time step of the first slot that is past it
    assert out.slot_img[0, 0] == 0
    first_done = int(np.argmax(out.slot_img[0] >= 1))
    assert first_done >= 1
    assert out.slot_count[0, first_done - 1] >= M.min_spikes
    assert t_end == pytest.approx(first_done * shape.slot_time + float(M.dt / second), abs=1e-9)
    assert t_end < shape.duration


def test_normalisation_and_running_weight_sum(state):
    """Learning changes the weights; before each presentation each neuron's
    incoming weights are rescaled to 78/784 per input; the running sum kept by
    the plasticity code equals the true sum."""
    shape = NetworkShape(n_input=N_INPUT, n_neurons=N_NEURONS, n_slots=2, rule="power_law")
    sim = RuntimeSimulator(shape)
    rng = np.random.default_rng(3)
    X = np.vstack([bright_images(1, rng), np.zeros((1, N_INPUT))])  # image, then darkness
    start = state.copy()
    start.weights = state.weights * 1.7  # not normalised: the first slot must fix this
    out = sim.run(start, ChunkInput(stimulus=stimulus_rows(X) * 3, seed=2, **fresh_start(1, 2)))
    assert out.slot_count[0, 0] >= M.min_spikes  # the image was learned in slot 0
    w = out.state.weights
    assert not np.allclose(w, normalise_weights(start.weights, N_INPUT))  # STDP acted
    # slot 1 showed a dark image: no spikes, no weight change after its normalisation
    target = M.weight_sum_per_input * N_INPUT
    np.testing.assert_allclose(w.sum(axis=0), target, rtol=1e-9)
    np.testing.assert_allclose(np.asarray(sim.network.exc.wsum[:]), w.sum(axis=0), rtol=1e-9)
    assert np.all((w >= 0) & (w <= M.w_max))


def test_theta_is_frozen_without_learning(state):
    shape = NetworkShape(n_input=N_INPUT, n_neurons=N_NEURONS, n_slots=1, rule=None)
    sim = RuntimeSimulator(shape)
    X = bright_images(1, np.random.default_rng(4))
    out = sim.run(state, ChunkInput(stimulus=stimulus_rows(X) * 3, seed=3, **fresh_start(1, 1)))
    assert out.exc_counts.sum() > 0
    np.testing.assert_array_equal(out.state.theta, state.theta)
    np.testing.assert_array_equal(out.state.weights, state.weights)


def test_copies_are_independent(state):
    """Two copies shown the same image behave like two independent networks:
    identical statistics, different Poisson noise, no cross-talk."""
    shape = NetworkShape(n_input=N_INPUT, n_neurons=N_NEURONS, n_slots=1, rule=None,
                         n_copies=2)
    sim = RuntimeSimulator(shape)
    X = bright_images(1, np.random.default_rng(5))
    blank = np.zeros_like(X)
    out = sim.run(state, ChunkInput(stimulus=stimulus_rows(np.vstack([X, blank])) * 3, seed=4,
                                    **fresh_start(2, 1)))
    assert out.exc_counts[0, 0].sum() >= 5
    assert out.exc_counts[1, 0].sum() == 0  # the dark copy gets no input from the other
    assert out.slot_input_spikes[1, 0] == 0


def test_skipped_rest_equals_simulated_rest(state, monkeypatch):
    """Applying the last 130 ms of the rest as exact decay gives the same state as
    simulating them (no input, so nothing can fire)."""
    dark = np.zeros((1, N_INPUT))
    start = state.copy()
    start.v_exc = np.full(N_NEURONS, -0.105)  # far from rest, so that the decay shows
    start.v_inh = np.full(N_NEURONS, -0.100)
    finals = []
    for simulated in (0.15, float(M.rest_simulated / second)):
        monkeypatch.setattr(M, "rest_simulated", simulated * second)
        shape = NetworkShape(n_input=N_INPUT, n_neurons=N_NEURONS, n_slots=1, rule="power_law")
        assert shape.skipped_rest == pytest.approx(0.15 - simulated)
        out = RuntimeSimulator(shape).run(
            start, ChunkInput(stimulus=stimulus_rows(dark), seed=0, **fresh_start(1, 1)))
        finals.append(out.state)
    full, skipped = finals
    assert not np.allclose(full.v_exc, start.v_exc)
    np.testing.assert_allclose(skipped.v_exc, full.v_exc, atol=1e-5)  # volts: 0.01 mV
    np.testing.assert_allclose(skipped.v_inh, full.v_inh, atol=1e-5)
    np.testing.assert_allclose(skipped.theta, full.theta, rtol=1e-9)


@pytest.mark.parametrize("rule", [None, "power_law"])
def test_membrane_update_is_brian2s_exponential_euler(state, monkeypatch, rule):
    """The vectorisable membrane update and refractory condition give what Brian2's
    own exponential Euler with "(unless refractory)" and refractory=5*ms give: the
    same spikes and voltage traces, and an excitatory neuron stays at its reset
    potential for the refractory period."""
    from brainsim import network

    X = bright_images(2, np.random.default_rng(3))
    shape = NetworkShape(n_input=N_INPUT, n_neurons=N_NEURONS, n_slots=2, rule=rule,
                         presentation_time=0.1, resting_time=0.05,
                         record_input_spikes=True, record_traces=True)
    chunk = ChunkInput(stimulus=stimulus_rows(X), seed=3, **fresh_start(1, 2))
    ours = RuntimeSimulator(shape).run(state, chunk).recordings
    monkeypatch.setattr(network, "exponential_euler_when_not_refractory", "exponential_euler")
    # ... and Brian2's own refractory period (a time, counted in whole time steps)
    monkeypatch.setattr(network, "refractory_condition", lambda period: getattr(M, period))
    stock = RuntimeSimulator(shape).run(state, chunk).recordings

    for key in ("exc_spikes", "inh_spikes"):
        np.testing.assert_array_equal(ours[key][0], stock[key][0])
        np.testing.assert_allclose(ours[key][1], stock[key][1])
    np.testing.assert_allclose(ours["v"], stock["v"], rtol=0, atol=1e-12)  # volts
    spikes_i, spikes_t = ours["exc_spikes"]
    assert len(spikes_i) >= 10
    dt = float(M.dt / second)
    hold = round(float(M.refrac_e / M.dt))  # steps of the refractory period
    for i, t_spike in zip(spikes_i, spikes_t):
        step = round(t_spike / dt)
        after = ours["v"][i, step + 1: step + 1 + hold]  # recorded at each step's start
        if len(after) == hold:
            np.testing.assert_array_equal(after, float(M.v_reset_e / volt))


def test_input_spike_trains_are_poisson_on_the_time_grid(state):
    """Input neurons fire as Bernoulli trials per time step (p = rate * dt, like
    Brian2's PoissonGroup): mean count rate * T, binomial variance, no spike while
    the image is off, and a new rate applies from the next slot."""
    shape = NetworkShape(n_input=N_INPUT, n_neurons=N_NEURONS, n_slots=2, rule=None,
                         record_input_spikes=True)
    X = np.zeros((2, N_INPUT))
    X[0, :32] = 255          # 63.75 Hz at the starting intensity (pixel / 8 Hz * 2)
    X[1, :] = 64             # 16 Hz everywhere
    out = RuntimeSimulator(shape).run(
        state, ChunkInput(stimulus=stimulus_rows(X), seed=5, **fresh_start(1, 2)))
    i, t = out.recordings["input_spikes"]
    slot = np.floor(t / shape.slot_time).astype(int)
    phase = t - slot * shape.slot_time
    assert np.all(phase < shape.presentation_time)  # silent during the rest
    steps = round(shape.presentation_time / float(M.dt / second))
    for k in range(2):
        # the image and intensity of slot k (the second slot may be a brighter retry)
        rates = stimulus_rows(X)[out.slot_img[0, k]] * out.slot_intensity[0, k]
        cells = np.nonzero(rates)[0]
        rate = rates[cells[0]]
        assert np.all(rates[cells] == rate)
        counts = np.bincount(i[slot == k], minlength=N_INPUT)[cells]
        p = rate * float(M.dt / second)
        mean, var = steps * p, steps * p * (1 - p)
        assert counts.mean() == pytest.approx(mean, abs=4 * np.sqrt(var / len(cells)))
        assert 0.6 < counts.var(ddof=1) / var < 1.5
    silent = np.bincount(i[slot == 0], minlength=N_INPUT)[32:]
    assert silent.sum() == 0  # zero-rate pixels never fire
    # spike times lie on the time grid
    np.testing.assert_allclose(t / float(M.dt / second), np.round(t / float(M.dt / second)),
                               atol=1e-6)


@pytest.mark.parametrize("target", ["numpy", "cython"])
def test_returned_state_survives_the_next_run(state, target):
    """The state a runtime run returns is the caller's own copy: continuing from it
    (the next run restores Brian2's initial state first) must neither change it nor
    start from zeros. With the Cython target Brian2 hands out views of its memory."""
    shape = NetworkShape(n_input=N_INPUT, n_neurons=N_NEURONS, n_slots=2, rule="power_law",
                         presentation_time=0.05, resting_time=0.02)
    sim = RuntimeSimulator(shape, target=target)
    X = bright_images(2, np.random.default_rng(4))
    chunk = ChunkInput(stimulus=stimulus_rows(X) * 3, seed=2, **fresh_start(1, 2))
    first = sim.run(state, chunk).state
    kept = first.copy()
    assert not np.allclose(kept.weights, state.weights)  # it learned something
    second = sim.run(first, chunk).state  # continue training from it
    for name in ("weights", "theta", "v_exc", "v_inh"):
        np.testing.assert_array_equal(getattr(first, name), getattr(kept, name), err_msg=name)
    # the continuation started from the learned weights, not from zeros
    assert abs(second.weights.sum() - kept.weights.sum()) < 0.05 * kept.weights.sum()
    assert np.all(second.theta >= kept.theta - 1e-6)
