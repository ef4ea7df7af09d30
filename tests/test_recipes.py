"""Recipes: what each mechanism of the improved learner does, and that the faithful one is unchanged.

Most tests drive the estimator with a recording stand-in for the simulator (no
Brian2 run) or a tiny network in Brian2's runtime mode; one end-to-end run of
the compiled network is marked slow.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from brainsim import model as M
from brainsim import recipes as R
from brainsim.errors import ConfigError
from brainsim.network import NetworkShape
from brainsim.simulation import ChunkOutput, NetworkState

#: Every mechanism on (local_plus itself keeps only what helped on validation).
ALL_ON = {"eta_start": 5.0, "eta_final": 0.1, "w_inh": 25.0, "theta_decay": False,
          "input_normalisation": True, "n_passes": 2, "rule": "instar",
          "min_images": 0, "w_inh_inference": None, "eta_half_images": 50,
          "homeostasis_speed": 4.0, "homeostasis_strength": 0.5,
          "homeostasis_scaling": True, "theta_average": 0.2, "inference_repeats": 3}

# ----------------------------------------------------------------------------- recipes


def test_faithful_recipe_is_the_paper_network():
    faithful = R.get_recipe("diehl_cook_2015")
    assert faithful == R.Recipe("diehl_cook_2015")
    assert not faithful.scheduled and faithful.mechanisms() == []
    assert faithful.eta_scale(0.0) == faithful.eta_scale(1.0) == 1.0
    assert faithful.inhibition(0.3) == M.w_inh_to_exc
    assert R.DEFAULT_RECIPE == "diehl_cook_2015"


def test_learning_rate_schedule_falls_geometrically():
    r = R.resolve_recipe("local_plus", {"eta_start": 4.0, "eta_final": 0.25})
    assert r.eta_scale(0.0) == pytest.approx(4.0)
    assert r.eta_scale(0.5) == pytest.approx(2.0)  # 4 * 0.25 ** 0.5
    assert r.eta_scale(1.0) == pytest.approx(1.0)
    assert r.eta_scale(2.0) == pytest.approx(1.0)  # clipped to the pass
    values = [r.eta_scale(f) for f in np.linspace(0, 1, 11)]
    assert all(a > b for a, b in zip(values, values[1:]))


def test_robbins_monro_decay_depends_on_the_images_shown():
    r = R.resolve_recipe("diehl_cook_2015", {"eta_half_images": 10000})
    # eta / (1 + n / 10,000) after n of the fit's images
    assert r.eta_scale(0.0, 60000) == 1.0
    assert r.eta_scale(1 / 6, 60000) == pytest.approx(0.5)
    assert r.eta_scale(1.0, 60000) == pytest.approx(1 / 7)
    assert r.eta_scale(1.0, 4041) == pytest.approx(1 / 1.4041)  # a small set keeps its rate
    assert r.scheduled and "eta_decay" in r.mechanisms()
    assert r.without("eta_decay").eta_scale(1.0, 60000) == 1.0


def test_small_training_sets_are_repeated_up_to_min_images():
    r = R.resolve_recipe("diehl_cook_2015", {"min_images": 3000})
    assert [r.passes(n) for n in (1010, 1000, 2999, 3000, 60000)] == [3, 3, 2, 1, 1]
    assert R.resolve_recipe("diehl_cook_2015", {"n_passes": 2, "min_images": 3000}).passes(
        60000) == 2  # n_passes is the least number of passes
    assert R.get_recipe("diehl_cook_2015").passes(10) == 1
    assert "more_passes" in r.mechanisms() and r.without("more_passes").passes(1010) == 1
    with pytest.raises(ConfigError, match="min_images must be an integer >= 0"):
        R.resolve_recipe("diehl_cook_2015", {"min_images": -1})


def test_inhibition_grows_linearly_when_asked():
    r = R.resolve_recipe("local_plus", {"w_inh": 10.0, "w_inh_final": 30.0})
    assert [r.inhibition(f) for f in (0, 0.5, 1)] == [10.0, 20.0, 30.0]
    assert R.resolve_recipe("local_plus", {"w_inh": 25.0}).inhibition(0.7) == 25.0
    assert r.scheduled and "inhibition" in r.mechanisms()


@pytest.mark.parametrize("mechanism", list(R.MECHANISMS))
def test_each_switch_turns_its_mechanism_off_alone(mechanism):
    full = R.resolve_recipe("local_plus", ALL_ON)
    assert mechanism in full.mechanisms()
    off = full.without(mechanism)
    assert off.mechanisms() == [m for m in full.mechanisms() if m != mechanism]
    faithful = R.Recipe("x")
    for key in R.MECHANISMS[mechanism]:
        assert getattr(off, key) == getattr(faithful, key)


def test_bad_recipes_are_refused_clearly():
    with pytest.raises(ConfigError, match="unknown recipe 'nope'.*local_plus"):
        R.get_recipe("nope")
    with pytest.raises(ConfigError, match="unknown recipe option"):
        R.resolve_recipe("local_plus", {"eta_decay": 0.1})
    with pytest.raises(ConfigError, match="eta_final must be > 0"):
        R.resolve_recipe("local_plus", {"eta_final": 0})
    with pytest.raises(ConfigError, match="n_passes"):
        R.resolve_recipe("local_plus", {"n_passes": 0})
    with pytest.raises(ConfigError, match="true or false"):
        R.resolve_recipe("local_plus", {"theta_decay": "no"})
    with pytest.raises(ConfigError, match="unknown mechanism"):
        R.get_recipe("local_plus").without("dropout")


# ----------------------------------------------------------------------------- encoding


def test_input_rate_per_image_is_normalised():
    from brainsim.encoding import RATE_PER_PIXEL_VALUE, mean_pixel_value, normalised_rows

    rng = np.random.default_rng(0)
    X = (rng.random((5, 64)) * rng.random((5, 1)) * 255).astype(np.uint8)
    X[3] = 0  # a blank image stays blank
    rates = normalised_rows(X, 40.0)
    totals = rates.sum(axis=1)
    np.testing.assert_allclose(totals[[0, 1, 2, 4]], 40.0 * 64 * RATE_PER_PIXEL_VALUE)
    assert totals[3] == 0
    # the pattern of each image is kept: rates proportional to its pixels
    np.testing.assert_allclose(rates[0] / rates[0].max(), X[0] / X[0].max())
    assert mean_pixel_value(X) == pytest.approx(X.mean())


# ----------------------------------------------------------------------------- estimator
class RecordingSimulator:
    """Stand-in for a simulator: every image draws five spikes at once; records the chunks."""

    def __init__(self, shape: NetworkShape):
        self.shape = shape
        self.chunks = []

    def run(self, state: NetworkState, chunk) -> ChunkOutput:
        self.chunks.append(chunk)
        B, S, N = self.shape.n_copies, self.shape.n_slots, self.shape.n_neurons
        slots = np.tile(np.arange(S), (B, 1))
        rows = chunk.stimulus.reshape(B, S, -1)
        counts = np.zeros((B, S, N), dtype=np.int32)
        counts[:, :, 0] = 5  # neuron 0 wins everything: easy to check
        return ChunkOutput(
            state=state.copy(), slot_img=slots, slot_intensity=np.full((B, S), 2.0),
            slot_count=np.full((B, S), 5.0), slot_input_spikes=rows.sum(axis=2),
            slot_exc_spikes=np.full((B, S), 5.0), slot_inh_spikes=np.zeros((B, S)),
            exc_counts=None if self.shape.learning else counts,
        )


@pytest.fixture
def recorded(monkeypatch):
    """Patch the estimator's simulators; returns the list of simulators made."""
    import brainsim.classifier as C

    made = []

    def make(shape, backend="standalone", **kw):
        made.append(RecordingSimulator(shape))
        return made[-1]

    monkeypatch.setattr(C, "make_simulator", make)
    return made


def _images(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((n, 8, 8)) * rng.uniform(0.2, 1.0, (n, 1, 1)) * 255).astype(np.uint8)


def test_learning_rate_follows_its_schedule_chunk_by_chunk(recorded):
    from brainsim.classifier import DiehlCookSNN

    X = _images(100)
    snn = DiehlCookSNN(n_neurons=4, recipe="local_plus",
                       recipe_options=dict(ALL_ON, n_passes=1, w_inh_final=30.0),
                       chunk_size=20, progress=False)
    snn.partial_fit(X)
    train = [s for s in recorded if s.shape.learning][0]
    assert train.shape.scheduled and not train.shape.theta_decay
    recipe = snn._recipe()
    assert len(train.chunks) == 5
    for k, chunk in enumerate(train.chunks):  # middle image of chunk k is at (20k + 10) / 100
        assert chunk.eta_scale == pytest.approx(recipe.eta_scale((20 * k + 10) / 100, 100))
        assert chunk.w_inh == recipe.inhibition((20 * k + 10) / 100)
    assert train.chunks[0].eta_scale > 2 * train.chunks[-1].eta_scale


class ThresholdStepSimulator(RecordingSimulator):
    """Stand-in whose run raises every threshold by 1 mV; can fail at a given run."""

    fail_at = None

    def run(self, state: NetworkState, chunk) -> ChunkOutput:
        if len(self.chunks) == self.fail_at:
            raise KeyboardInterrupt  # an interruption between two chunks
        out = super().run(state, chunk)
        out.state.theta = out.state.theta + 0.001
        return out


def test_frozen_thresholds_are_the_mean_over_the_end_of_training(monkeypatch, tmp_path):
    import brainsim.classifier as C

    made = []

    def make(shape, backend="standalone", **kw):
        made.append(ThresholdStepSimulator(shape))
        return made[-1]

    monkeypatch.setattr(C, "make_simulator", make)
    X = _images(100)

    def snn(**kw):
        return C.DiehlCookSNN(n_neurons=4, recipe="local_plus", chunk_size=20, progress=False,
                              recipe_options={"theta_average": 0.4, "min_images": 0}, **kw)

    # 5 chunks of 20 images; the last 40 % of the images end in chunks 4 and 5, whose
    # thresholds are 4 and 5 mV above the start: the frozen network gets 4.5 mV
    start = C.initial_state(64, 4, np.random.default_rng(0)).theta
    averaged = snn().partial_fit(X)
    np.testing.assert_allclose(averaged.theta_, start + 0.0045)
    last = C.DiehlCookSNN(n_neurons=4, recipe="local_plus", chunk_size=20, progress=False,
                          recipe_options={"min_images": 0}).partial_fit(X)
    np.testing.assert_allclose(last.theta_, start + 0.005)  # off: the last thresholds ([DC15])
    # interrupted inside the window (after chunk 4) and resumed: the same mean
    ThresholdStepSimulator.fail_at = 4
    try:
        with pytest.raises(KeyboardInterrupt):
            snn(checkpoint_dir=str(tmp_path), checkpoint_every=1).partial_fit(X)
    finally:
        ThresholdStepSimulator.fail_at = None
    resumed = snn(checkpoint_dir=str(tmp_path), checkpoint_every=1).partial_fit(X)
    np.testing.assert_allclose(resumed.theta_, start + 0.0045)
    with pytest.raises(ConfigError, match="theta_average must be a fraction from 0 to 1"):
        R.resolve_recipe("local_plus", {"theta_average": 1.5})


def test_rates_reaching_the_network_are_normalised_in_training_and_inference(recorded):
    from brainsim.classifier import DiehlCookSNN
    from brainsim.encoding import RATE_PER_PIXEL_VALUE

    X = _images(30)
    y = np.arange(30) % 3
    snn = DiehlCookSNN(n_neurons=4, recipe="local_plus", recipe_options=dict(ALL_ON, n_passes=1),
                       chunk_size=10, n_copies=2, inference_chunk_size=5, progress=False).fit(X, y)
    assert snn.input_mean_ == pytest.approx(X.mean())
    target = X.reshape(30, -1).mean() * 64 * RATE_PER_PIXEL_VALUE
    for sim in recorded:
        for chunk in sim.chunks:
            totals = chunk.stimulus.sum(axis=1)
            real = totals > 0  # padding rows are empty
            np.testing.assert_allclose(totals[real], target)
    # the faithful recipe presents pixel / 8 Hz per unit of intensity, unchanged
    recorded.clear()
    DiehlCookSNN(n_neurons=4, chunk_size=10, progress=False).partial_fit(X)
    first = recorded[0].chunks[0].stimulus
    np.testing.assert_array_equal(first, X.reshape(30, -1)[:10] * RATE_PER_PIXEL_VALUE)


def test_more_passes_show_every_image_again_in_new_orders(recorded):
    from brainsim.classifier import DiehlCookSNN

    X = _images(12)
    snn = DiehlCookSNN(n_neurons=4, recipe="local_plus",
                       recipe_options=dict(ALL_ON, n_passes=3, input_normalisation=False),
                       chunk_size=6, progress=False).partial_fit(X)
    train = recorded[0]
    shown = np.vstack([c.stimulus for c in train.chunks])
    assert shown.shape[0] == 36 and snn.n_training_images_ == 12
    flat = X.reshape(12, -1) * (1 / 8)
    np.testing.assert_array_equal(shown[:12], flat)  # first pass in the given order
    for p in (1, 2):  # later passes: the same images, in another order
        block = shown[12 * p: 12 * (p + 1)]
        assert sorted(map(bytes, block)) == sorted(map(bytes, flat))
    # the schedule spans all passes: the last chunk has the smallest rate
    assert train.chunks[-1].eta_scale == min(c.eta_scale for c in train.chunks)


def _learned_rows(recorded) -> int:
    """Training presentations recorded (padding rows are empty)."""
    return sum(int((c.stimulus.sum(axis=1) > 0).sum())
               for s in recorded if s.shape.learning for c in s.chunks)


@pytest.mark.filterwarnings("ignore::brainsim.classifier.LabelWarning")  # neuron 0 wins all
def test_min_images_repeats_a_small_training_set_in_fit_not_each_partial_fit(recorded, tmp_path):
    from brainsim.classifier import DiehlCookSNN
    from brainsim.errors import ModelFileError

    X, y = _images(10), np.arange(10) % 2

    def snn(**kw):
        return DiehlCookSNN(n_neurons=4, recipe="local_plus", recipe_options={"min_images": 30},
                            chunk_size=5, progress=False, **kw)

    assert snn().training_passes(10) == 3 and snn().training_passes(1000) == 1
    snn().fit(X, y)
    assert _learned_rows(recorded) == 30  # fit: 3 passes make the 30 images asked for
    recorded.clear()
    streamed = snn().partial_fit(X)
    assert _learned_rows(recorded) == 10  # a batch is shown once, however small
    streamed.partial_fit(X[:4])
    assert _learned_rows(recorded) == 14 and streamed.n_training_images_ == 14
    recorded.clear()
    snn().partial_fit(X, passes=2)
    assert _learned_rows(recorded) == 20
    with pytest.raises(ConfigError, match="passes must be a whole number >= 1, got 0"):
        snn().partial_fit(X, passes=0)
    # fit's passes resume fit's checkpoint; other passes are another training run
    ckpt = str(tmp_path / "ckpt")
    snn(checkpoint_dir=ckpt).partial_fit(X, passes=3)
    recorded.clear()
    snn(checkpoint_dir=ckpt).fit(X, y)
    assert _learned_rows(recorded) == 0  # finished: read back, not learned again
    with pytest.raises(ModelFileError, match="different training run"):
        snn(checkpoint_dir=ckpt).partial_fit(X)


@pytest.mark.filterwarnings("ignore::brainsim.classifier.LabelWarning")  # neuron 0 wins all
def test_learning_curve_stages_show_each_part_as_often_as_one_fit_would(recorded):
    from types import SimpleNamespace

    from brainsim.classifier import DiehlCookSNN
    from brainsim.comparison import train_snn_stages

    X, y = _images(12), np.arange(12) % 3
    data = SimpleNamespace(X_train=X, y_train=y, X_test=X[:3], y_test=y[:3])
    snn = DiehlCookSNN(n_neurons=4, recipe="local_plus", recipe_options={"min_images": 36},
                       chunk_size=6, progress=False)
    _, _, curve, _, _ = train_snn_stages(snn, data, [3, 6, 12], None)
    assert curve["n_train"] == [3, 6, 12]
    # 3 passes over every new part (36 images in all), not 12 over the first 3 images
    assert _learned_rows(recorded) == 36 and snn.n_training_images_ == 12


def test_frozen_network_sees_each_image_the_recipes_number_of_times(recorded):
    from brainsim.classifier import DiehlCookSNN

    X = _images(5)
    options = {"inference_repeats": 3, "min_images": 0}
    snn = DiehlCookSNN(n_neurons=4, recipe="local_plus", recipe_options=options,
                       chunk_size=5, n_copies=1, inference_chunk_size=4, progress=False)
    snn.partial_fit(X)
    counts = snn.transform(X)
    shown = np.vstack([c.stimulus for s in recorded if not s.shape.learning for c in s.chunks])
    assert (shown.sum(axis=1) > 0).sum() == 15  # every image three times
    np.testing.assert_array_equal(counts[:, 0], 15)  # five spikes per presentation, summed
    assert snn.effective_n_repeats() == 3
    # an explicit n_repeats overrides the recipe; the faithful recipe shows each image once
    assert snn.set_params(n_repeats=1).transform(X)[:, 0].tolist() == [5] * 5
    assert DiehlCookSNN().effective_n_repeats() == 1
    with pytest.raises(ConfigError, match="inference_repeats must be an integer >= 1"):
        R.resolve_recipe("local_plus", {"inference_repeats": 0})


def test_a_finished_training_run_can_be_read_out_with_more_repeats(recorded, tmp_path):
    from brainsim.classifier import DiehlCookSNN
    from brainsim.errors import ModelFileError

    X = _images(10)

    def snn(**options):
        return DiehlCookSNN(n_neurons=4, recipe="local_plus", chunk_size=5, progress=False,
                            checkpoint_dir=str(tmp_path),
                            recipe_options={"min_images": 0, **options})

    first = snn(inference_repeats=1).partial_fit(X)
    n_learning_chunks = sum(len(s.chunks) for s in recorded if s.shape.learning)
    again = snn(inference_repeats=3).partial_fit(X)  # the checkpoint is of the same run
    assert sum(len(s.chunks) for s in recorded if s.shape.learning) == n_learning_chunks
    np.testing.assert_array_equal(again.weights_, first.weights_)
    with pytest.raises(ModelFileError, match="different training run.*recipe"):
        snn(w_inh=30.0).partial_fit(X)  # a learning mechanism is part of the run


def test_inference_uses_the_final_inhibition(recorded):
    from brainsim.classifier import DiehlCookSNN

    X = _images(10)
    snn = DiehlCookSNN(n_neurons=4, recipe="local_plus",
                       recipe_options={"w_inh": 10.0, "w_inh_final": 40.0, "w_inh_inference": None,
                                       "min_images": 0},
                       chunk_size=10, n_copies=2, inference_chunk_size=5, progress=False)
    snn.fit(X, np.arange(10) % 2)
    infer = [s for s in recorded if not s.shape.learning]
    assert infer and all(c.w_inh == 40.0 for s in infer for c in s.chunks)
    assert recorded[0].chunks[0].w_inh == pytest.approx(10.0 + 30.0 * 0.5)


def test_inference_inhibition_can_differ_from_training(recorded):
    from brainsim.classifier import DiehlCookSNN

    X = _images(10)
    snn = DiehlCookSNN(n_neurons=4, recipe="local_plus",
                       recipe_options={"w_inh": 60.0, "w_inh_inference": 17.0, "min_images": 0},
                       chunk_size=10, n_copies=2, inference_chunk_size=5, progress=False)
    snn.fit(X, np.arange(10) % 2)
    train = [s for s in recorded if s.shape.learning]
    infer = [s for s in recorded if not s.shape.learning]
    assert all(c.w_inh == 60.0 for s in train for c in s.chunks)
    assert infer and all(c.w_inh == 17.0 for s in infer for c in s.chunks)
    assert R.Recipe("x", w_inh_inference=17.0).scheduled  # a variable, not the constant


def test_switches_reach_the_network_shape():
    from brainsim.classifier import DiehlCookSNN

    def shape(**options):
        snn = DiehlCookSNN(n_neurons=4, recipe="local_plus", recipe_options=dict(ALL_ON, **options))
        snn.n_features_in_ = 64
        return snn._shape(learning=True)

    assert not shape().theta_decay and shape().scheduled
    assert shape(theta_decay=True).theta_decay
    # without a learning-rate schedule or inhibition change the faithful code is used
    assert not shape(eta_start=1.0, eta_final=1.0, eta_half_images=0, w_inh=M.w_inh_to_exc,
                     w_inh_inference=None).scheduled
    assert R.get_recipe("local_plus").scheduled  # its inhibition is set per run
    faithful = DiehlCookSNN(n_neurons=4)
    faithful.n_features_in_ = 64
    assert faithful._shape(learning=True) == NetworkShape(
        n_input=64, n_neurons=4, n_slots=250, rule="power_law")
    assert faithful._shape(learning=False) == NetworkShape(
        n_input=64, n_neurons=4, n_slots=125, rule=None, n_copies=8)


def test_recipe_survives_params_save_and_load(recorded, tmp_path):
    from brainsim.classifier import DiehlCookSNN

    X = _images(10)
    opts = {"eta_final": 0.2, "w_inh": 20.0, "input_normalisation": True}
    snn = DiehlCookSNN(n_neurons=4, recipe="local_plus", recipe_options=opts, chunk_size=10,
                       progress=False).fit(X, np.arange(10) % 2)
    assert snn.get_params()["recipe"] == "local_plus"
    assert snn.get_params()["recipe_options"] == opts
    assert snn.set_params(recipe_options={"eta_final": 0.5}).recipe_options == {"eta_final": 0.5}
    snn.set_params(recipe_options=opts)
    back = DiehlCookSNN.load(snn.save(tmp_path / "net"))
    assert back.recipe == "local_plus" and back.recipe_options == opts
    assert back.input_mean_ == pytest.approx(snn.input_mean_)
    with pytest.raises(ConfigError, match="unknown recipe"):
        DiehlCookSNN(recipe="nope").fit(X, np.arange(10) % 2)


# ----------------------------------------------------------------------------- network
def _tiny_state(n_input=16, n_neurons=3):
    from brainsim.simulation import initial_state, normalise_weights

    st = initial_state(n_input, n_neurons, np.random.default_rng(0))
    st.weights = normalise_weights(st.weights, n_input)
    return st


def _chunk(X, **kw):
    from brainsim.encoding import stimulus_rows
    from brainsim.simulation import ChunkInput

    n = len(X)
    return ChunkInput(stimulus=stimulus_rows(X), n_rows=np.array([float(n)]),
                      img=np.array([-1.0]), count=np.array([float(M.min_spikes)]),
                      intensity=np.array([M.intensity_start]), seed=1, **kw)


def test_threshold_without_decay_stays_constant_over_a_rest():
    """A dark slot (no spikes): theta keeps its value without decay, decays with it."""
    from brainsim.simulation import RuntimeSimulator

    st = _tiny_state()
    st.theta = np.full(3, 0.03)  # 30 mV
    X = np.zeros((1, 16))
    kept = {}
    for decay in (False, True):
        shape = NetworkShape(n_input=16, n_neurons=3, n_slots=1, rule="power_law",
                             theta_decay=decay, presentation_time=0.01, resting_time=0.2)
        kept[decay] = RuntimeSimulator(shape).run(st, _chunk(X)).state.theta
    np.testing.assert_array_equal(kept[False], st.theta)
    assert np.all(kept[True] < st.theta)  # tau_theta = 10^4 s: a tiny but real decay
    np.testing.assert_allclose(kept[True], st.theta * np.exp(-0.21 / float(M.tau_theta / M.second)),
                               rtol=1e-6)


def test_faster_homeostasis_scales_theta_plus_up_and_tau_theta_down():
    """homeostasis_speed k: k x theta_plus per spike, decay k x faster (same equilibrium)."""
    from brainsim.network import _namespace
    from brainsim.simulation import RuntimeSimulator

    st = _tiny_state()
    st.theta = np.full(3, 0.03)
    shape = NetworkShape(n_input=16, n_neurons=3, n_slots=1, rule="power_law",
                         homeostasis_speed=4.0, presentation_time=0.01, resting_time=0.2)
    ns = _namespace(shape, None)
    assert float(ns["theta_plus"] / M.mV) == pytest.approx(4 * float(M.theta_plus / M.mV))
    assert float(ns["tau_theta"] / M.second) == pytest.approx(float(M.tau_theta / M.second) / 4)
    kept = RuntimeSimulator(shape).run(st, _chunk(np.zeros((1, 16)))).state.theta
    np.testing.assert_allclose(kept, st.theta * np.exp(-0.21 * 4 / float(M.tau_theta / M.second)),
                               rtol=1e-6)
    from brainsim.classifier import DiehlCookSNN

    snn = DiehlCookSNN(n_neurons=4, recipe="local_plus", recipe_options={"homeostasis_speed": 4.0})
    snn.n_features_in_ = 64
    assert snn._shape(learning=True).homeostasis_speed == 4.0
    assert snn._shape(learning=False).homeostasis_speed == 1.0  # frozen: one binary for all
    with pytest.raises(ConfigError, match="homeostasis_speed must be a number > 0"):
        R.resolve_recipe("local_plus", {"homeostasis_speed": 0})


def test_homeostasis_strength_scales_the_threshold_gained_per_spike():
    """homeostasis_strength s: every spike raises theta by s x theta_plus; tau_theta kept."""
    from brainsim.network import _namespace
    from brainsim.simulation import RuntimeSimulator

    shape = NetworkShape(n_input=16, n_neurons=3, n_slots=1, rule="power_law", theta_decay=False,
                         homeostasis_strength=0.5, presentation_time=0.35, resting_time=0.01)
    ns = _namespace(shape, None)
    assert float(ns["theta_plus"] / M.mV) == pytest.approx(0.5 * float(M.theta_plus / M.mV))
    assert float(ns["tau_theta"] / M.second) == pytest.approx(float(M.tau_theta / M.second))
    st = _tiny_state()
    before = st.theta.copy()
    out = RuntimeSimulator(shape).run(st, _chunk(np.full((1, 16), 255.0)))
    n_spikes = int(out.slot_exc_spikes.sum())
    assert n_spikes > 0
    gained = float((out.state.theta - before).sum() / 1e-3)  # mV
    assert gained == pytest.approx(n_spikes * 0.5 * float(M.theta_plus / M.mV), rel=1e-6)
    from brainsim.classifier import DiehlCookSNN

    snn = DiehlCookSNN(n_neurons=4, recipe="local_plus",
                       recipe_options={"homeostasis_strength": 0.5, "homeostasis_scaling": False})
    snn.n_features_in_ = 64
    assert snn._shape(learning=True).homeostasis_strength == 0.5
    assert snn._shape(learning=False).homeostasis_strength == 1.0  # frozen: one binary for all
    with pytest.raises(ConfigError, match="homeostasis_strength must be a number > 0"):
        R.resolve_recipe("local_plus", {"homeostasis_strength": -1})


def test_scaled_homeostasis_grows_with_the_network_and_shrinking_fits():
    """homeostasis_scaling: factor x n_neurons / 100, / (1 - exp(-T / tau_theta)) for a fit of T s."""
    r = R.resolve_recipe("local_plus", {"homeostasis_strength": 0.5, "homeostasis_scaling": True})
    tau = float(M.tau_theta / M.second)
    assert r.homeostasis_factor(100) == 0.5  # an open-ended stream reaches equilibrium
    assert r.homeostasis_factor(400) == 2.0
    assert r.homeostasis_factor(100, 25000.0) == pytest.approx(0.5 / (1 - np.exp(-25000 / tau)), rel=0.02)
    assert r.homeostasis_factor(100, 25000.0) == 0.54  # two significant digits
    assert r.homeostasis_factor(100, 1515.0) == 3.6  # digits: 3 passes over 1,010 images
    assert R.resolve_recipe("local_plus", {"homeostasis_scaling": False}).homeostasis_factor(
        400, 1515.0) == 0.5  # without scaling: the factor itself
    with pytest.raises(ConfigError, match="homeostasis_scaling must be true or false"):
        R.resolve_recipe("local_plus", {"homeostasis_scaling": 1})
    from brainsim.classifier import DiehlCookSNN

    snn = DiehlCookSNN(n_neurons=400, recipe="local_plus",
                       recipe_options={"homeostasis_strength": 0.5, "homeostasis_scaling": True})
    snn.n_features_in_ = 784
    # fit on 50,000 images: 50,000 presentations of 0.5 s
    assert snn._shape(learning=True, fit_images=snn._fit_presentations(50000)).homeostasis_strength == 2.2
    assert snn._shape(learning=True).homeostasis_strength == 2.0


def test_fit_and_streamed_parts_learn_with_the_length_of_the_whole_run():
    """fit passes its length; partial_fit(total_images=n) the whole run's; alone: a stream."""
    from brainsim.classifier import DiehlCookSNN
    from brainsim.datasets import load_dataset

    d = load_dataset("digits")
    X, y = d.X_train[:40], d.y_train[:40]
    kw = dict(n_neurons=5, recipe="local_plus", backend="runtime", progress=False, chunk_size=40,
              recipe_options={"homeostasis_strength": 0.5, "homeostasis_scaling": True,
                              "min_images": 0})
    r = R.resolve_recipe("local_plus", kw["recipe_options"])
    slot = float((M.presentation_time + M.resting_time) / M.second)
    fitted = DiehlCookSNN(**kw).fit(X, y)
    assert fitted.homeostasis_strength_ == r.homeostasis_factor(5, 40 * slot)
    streamed = DiehlCookSNN(**kw).partial_fit(X[:20], total_images=40)
    assert streamed.homeostasis_strength_ == fitted.homeostasis_strength_
    assert DiehlCookSNN(**kw).partial_fit(X[:20]).homeostasis_strength_ == r.homeostasis_factor(5)
    with pytest.raises(ConfigError, match="total_images must be a whole number"):
        DiehlCookSNN(**kw).partial_fit(X[:20], total_images=0)


def test_inhibition_strength_is_as_set():
    """One inhibitory spike raises every other excitatory neuron's gi by w_inh."""
    import brian2
    from brian2 import mV

    from brainsim.network import build_network

    brian2.set_device("runtime")
    brian2.prefs.codegen.target = "numpy"
    brian2.defaultclock.dt = M.dt
    for scheduled, w in ((True, 31.5), (False, M.w_inh_to_exc)):
        shape = NetworkShape(n_input=4, n_neurons=3, n_slots=1, rule=None, scheduled=scheduled,
                             resting_time=0.0)  # no skipped rest: v is not relaxed first
        dc = build_network(shape, name_suffix=f"_inh{int(scheduled)}")
        if scheduled:
            dc.exc.w_inh = w
        dc.inh.v = [0.0, -60.0, -60.0] * mV  # only inhibitory neuron 0 above threshold
        dc.net.run(M.dt, namespace={})
        np.testing.assert_allclose(np.asarray(dc.exc.gi[:]), [0.0, w, w])


def test_learning_rate_factor_scales_the_weight_change():
    """eta_scale = 0 freezes the weights; eta_scale = 2 doubles the first change."""
    from brainsim.simulation import RuntimeSimulator

    st = _tiny_state()
    X = np.zeros((1, 16))
    X[0, :8] = 255
    st.weights[:8, 0] = 0.9  # neuron 0 answers the image
    from brainsim.simulation import normalise_weights

    st.weights = normalise_weights(st.weights, 16)
    shape = NetworkShape(n_input=16, n_neurons=3, n_slots=1, rule="power_law", scheduled=True,
                         presentation_time=0.05, resting_time=0.0)
    sim = RuntimeSimulator(shape)
    frozen = sim.run(st, _chunk(X * 0.999, eta_scale=0.0))
    np.testing.assert_allclose(frozen.state.weights, st.weights, rtol=0, atol=1e-12)  # renormalised
    assert frozen.slot_count[0, 0] > 0  # there were postsynaptic spikes to learn from
    one = sim.run(st, _chunk(X * 0.999, eta_scale=1.0)).state.weights - st.weights
    assert np.abs(one).max() > 1e-6
    # the faithful network (compiled constant) learns exactly as eta_scale = 1
    plain = RuntimeSimulator(NetworkShape(n_input=16, n_neurons=3, n_slots=1, rule="power_law",
                                          presentation_time=0.05, resting_time=0.0))
    np.testing.assert_allclose(plain.run(st, _chunk(X * 0.999)).state.weights - st.weights, one,
                               rtol=1e-12, atol=1e-15)


# ----------------------------------------------------------------------------- read-out, analysis
def test_logreg_readout_learns_from_training_counts_only():
    from brainsim.readout import fit_logreg_readout

    rng = np.random.default_rng(0)
    y = np.arange(200) % 4
    counts = rng.poisson(1.0, (200, 12)).astype(float)
    counts[np.arange(200), y * 3] += 6  # class c drives neurons 3c
    model = fit_logreg_readout(counts[:150], y[:150])
    assert model.score(counts[150:], y[150:]) > 0.9
    with pytest.raises(ConfigError, match="two classes"):
        fit_logreg_readout(counts[:10], np.zeros(10, int))
    with pytest.raises(ConfigError, match="must match"):
        fit_logreg_readout(counts, y[:5])


def test_dead_and_greedy_neurons_are_counted():
    from brainsim.analysis import dead_and_greedy, win_counts

    counts = np.zeros((100, 10))
    counts[:80, 0] = 5  # neuron 0 wins 80 images: greedy (fair share 10)
    counts[80:95, 1] = 3
    counts[95:, 2] = 1
    counts[95:, 3] = 1  # a tie goes to the lower index
    wins = win_counts(counts)
    assert wins.tolist() == [80, 15, 5, 0, 0, 0, 0, 0, 0, 0]
    info = dead_and_greedy(counts)
    assert info["dead"] == 7 and info["greedy"] == 1
    assert info["top10_share"] == pytest.approx(0.8)
    assert win_counts(np.zeros((3, 4))).sum() == 0  # silent images are won by nobody


def test_plots_of_wins_and_ablation_return_axes():
    import matplotlib.pyplot as plt

    from brainsim.plotting import plot_ablation, plot_win_shares

    ax = plot_win_shares({"a": [5, 0, 3], "b": [2, 2, 4]})
    assert "a: 1 dead" in ax.get_legend().get_texts()[0].get_text()
    ax2 = plot_ablation({"full": [0.8, 0.82], "- x": [0.7, 0.71]}, reference="full")
    assert len(ax2.patches) == 2
    with pytest.raises(ConfigError):
        plot_ablation({})
    plt.close("all")


# ----------------------------------------------------------------------------- ablation, split
def test_validation_split_is_carved_from_the_end_of_training():
    from brainsim.datasets import Dataset, validation_split

    X = np.arange(20 * 4, dtype=np.uint8).reshape(20, 2, 2)
    data = Dataset("digits", X, np.arange(20) % 10, X[:3], np.zeros(3, int))
    split = validation_split(data, 5, n_train=10)
    np.testing.assert_array_equal(split.X_test, X[15:])
    np.testing.assert_array_equal(split.X_train, X[:10])
    assert "validation" in split.source
    assert len(validation_split(data, 0.25).y_test) == 5
    with pytest.raises(ConfigError, match="validation"):
        validation_split(data, 20)
    with pytest.raises(ConfigError, match="n_train"):
        validation_split(data, 5, n_train=16)


def test_ablation_switches_each_mechanism_off_and_writes_its_table(recorded, tmp_path):
    from brainsim.ablation import ablation_variants, run_ablation, write_ablation
    from brainsim.datasets import Dataset

    variants = ablation_variants("local_plus", ALL_ON)
    full = R.resolve_recipe("local_plus", ALL_ON)
    assert list(variants) == ["local_plus", *[f"- {m}" for m in full.mechanisms()],
                              "diehl_cook_2015"]
    for m in full.mechanisms():
        name, options = variants[f"- {m}"]
        assert m not in R.resolve_recipe(name, options).mechanisms()
    # one mechanism: switching it off is the faithful network, named so, not run twice
    one = ablation_variants("local_plus", {"rule": "power_law", "min_images": 0,
                                           "w_inh_inference": None, "theta_average": 0.0,
                                           "inference_repeats": 1, "homeostasis_strength": 1.0,
                                           "homeostasis_scaling": False})
    assert list(one) == ["local_plus", "- inhibition (= diehl_cook_2015)"]
    assert R.resolve_recipe(*one["- inhibition (= diehl_cook_2015)"]).mechanisms() == []
    with pytest.raises(ConfigError, match="no mechanism"):
        ablation_variants("diehl_cook_2015")
    X = _images(20)
    data = Dataset("digits", X[:14], np.arange(14) % 2, X[14:], np.arange(6) % 2)
    result = run_ablation(data, n_neurons=4, seeds=(0, 1), log=None, recipe_options=ALL_ON,
                          estimator_params=dict(chunk_size=7, progress=False))
    assert set(result["variants"]) == set(ablation_variants("local_plus", ALL_ON))
    assert len(result["variants"]) == 2 + len(R.MECHANISMS)
    assert all(len(e["accuracy"]) == 2 for e in result["variants"].values())
    files = write_ablation(result, tmp_path, config={"seeds": [0, 1]}, timings={})
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["models"]["local_plus"]["split"] == "validation"
    assert "| - eta_decay |" in (tmp_path / "ablation.md").read_text()
    assert all(p.exists() for p in files)


def test_ablation_spread_is_the_sample_standard_deviation_over_seeds(tmp_path):
    from brainsim.ablation import ablation_table, write_ablation
    from brainsim.seeds import seed_sd

    entry = dict(accuracy=[0.80, 0.90, 1.00], logreg_accuracy=[0.9, 0.9, 0.9], dead=[0, 1, 2],
                 greedy=[0, 0, 0])
    result = dict(variants={"local_plus": entry}, reference="local_plus", n_validation=10,
                  n_train=20, n_neurons=4, seeds=[0, 1, 2])
    # ddof 1: sqrt(((-10)^2 + 0 + 10^2) / 2) = 10 points (ddof 0 would give 8.2)
    assert "| local_plus | 90.0 +- 10.0 | +0.0 | 90.0 +- 0.0 | 1.0 | 0.0 |" in ablation_table(result)
    write_ablation(result, tmp_path, config={}, timings={})
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["models"]["local_plus"]["accuracy_std"] == pytest.approx(0.1)
    assert np.isnan(seed_sd([0.9]))  # one seed has no spread


@pytest.mark.slow
def test_local_plus_learns_digits_end_to_end(standalone_cache):
    """The compiled local_plus network (inhibition set per run) learns digits, well above chance."""
    from brainsim.classifier import DiehlCookSNN
    from brainsim.datasets import load_dataset, validation_split

    data = validation_split(load_dataset("digits"), 0.25, n_train=400)
    snn = DiehlCookSNN(n_neurons=20, recipe="local_plus", progress=False, random_state=0,
                       cache_dir=standalone_cache).fit(data.X_train, data.y_train)
    assert snn.score(data.X_test, data.y_test) > 0.3  # 3x chance (first local_plus: 49.6 %)


# ----------------------------------------------------------------------------- scripts
def _script(repo_root, name):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, repo_root / "experiments" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_recipes_script_scores_on_the_validation_split_when_asked(recorded, repo_root, tmp_path,
                                                                  capsys):
    script = _script(repo_root, "recipes")
    assert "local_plus" in script.build_parser().format_help()
    out = tmp_path / "r"
    assert script.main(["--n-train", "30", "--validation", "20", "--n-neurons", "4",
                        "--no-progress", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["models"]) == {"snn_diehl_cook_2015", "snn_diehl_cook_2015_logreg",
                                      "snn_local_plus", "snn_local_plus_logreg"}
    entry = metrics["models"]["snn_local_plus"]
    assert entry["split"] == "validation" and entry["n_test"] == 20 and entry["n_train"] == 30
    assert "last 20 of 1347" in metrics["config"]["split"]
    assert (out / "receptive_fields_recipes.png").exists() and (out / "win_shares.png").exists()


def test_ablation_script_writes_table_and_figure(recorded, repo_root, tmp_path):
    script = _script(repo_root, "ablation")
    out = tmp_path / "a"
    assert script.main(["--n-train", "20", "--validation", "10", "--n-neurons", "4",
                        "--seeds", "0", "1", "--no-progress", "--out", str(out)]) == 0
    assert (out / "ablation.png").exists()
    table = (out / "ablation.md").read_text()
    assert "10 images held out" in table and "diehl_cook_2015" in table
