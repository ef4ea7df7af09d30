"""Tests for brainsim.plotting (Agg backend, no display)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from brainsim import plotting  # noqa: E402
from brainsim.errors import ConfigError  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ----------------------------------------------------------------------- receptive fields
@pytest.mark.parametrize("image_shape, n_units", [((8, 8), 10), ((28, 28), 100), ((28, 28), 1)])
def test_tile_places_unit_j_in_its_tile(image_shape, n_units):
    h, w = image_shape
    rng = np.random.default_rng(0)
    W = rng.random((h * w, n_units))
    n_cols = int(np.ceil(np.sqrt(n_units)))
    grid = plotting.tile_receptive_fields(W, image_shape, spacing=1)
    n_rows = int(np.ceil(n_units / n_cols))
    assert grid.shape == (n_rows * (h + 1) - 1, n_cols * (w + 1) - 1)
    for j in range(n_units):
        r, c = divmod(j, n_cols)
        tile = grid[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w]
        np.testing.assert_array_equal(tile, W[:, j].reshape(h, w))
    # gaps and empty tiles are nan; every weight appears exactly once
    assert np.count_nonzero(np.isfinite(grid)) == W.size


def test_tile_pads_last_row_and_respects_n_cols():
    W = np.arange(4 * 5, dtype=float).reshape(4, 5)  # 2x2 images, 5 units
    grid = plotting.tile_receptive_fields(W, (2, 2), n_cols=3, spacing=0)
    assert grid.shape == (4, 6)
    np.testing.assert_array_equal(grid[0:2, 2:4], W[:, 1].reshape(2, 2))
    np.testing.assert_array_equal(grid[2:4, 2:4], W[:, 4].reshape(2, 2))
    assert np.all(np.isnan(grid[2:4, 4:6]))  # 6th tile is padding


def test_plot_receptive_fields_returns_axes_with_one_image():
    W = np.random.default_rng(1).random((64, 7))
    ax = plotting.plot_receptive_fields(W, (8, 8), title="RF")
    assert isinstance(ax, Axes)
    assert len(ax.images) == 1
    assert ax.images[0].get_array().shape == (3 * 9 - 1, 3 * 9 - 1)
    assert ax.get_title() == "RF"
    assert len(ax.figure.axes) == 2  # image + colour bar
    fig, ax2 = plt.subplots()
    out = plotting.plot_receptive_fields(W, (8, 8), ax=ax2, colorbar=False, n_cols=7)
    assert out is ax2 and len(fig.axes) == 1
    assert out.images[0].get_array().shape == (8, 7 * 9 - 1)


def test_plot_receptive_fields_rejects_wrong_shape():
    with pytest.raises(ConfigError, match="784 pixels"):
        plotting.plot_receptive_fields(np.ones((64, 3)), (28, 28))
    with pytest.raises(ConfigError, match="2-D"):
        plotting.plot_receptive_fields(np.ones(64), (8, 8))


# ----------------------------------------------------------------------- raster / traces
def test_plot_raster_points_in_ms():
    t = np.array([0.010, 0.020, 0.1])
    idx = np.array([0, 5, 2])
    ax = plotting.plot_raster(t, idx, t_max=0.35, n_neurons=10, title="Raster")
    offsets = ax.collections[0].get_offsets()
    np.testing.assert_allclose(offsets, [[10.0, 0], [20.0, 5], [100.0, 2]])
    assert ax.get_xlim() == (0.0, 350.0)
    assert ax.get_xlabel() == "Time (ms)"
    with pytest.raises(ConfigError, match="same length"):
        plotting.plot_raster(t, idx[:2])
    # empty raster still works
    assert isinstance(plotting.plot_raster([], []), Axes)


def test_plot_traces_with_thresholds():
    t = np.linspace(0, 0.35, 50)
    V = np.vstack([np.full(50, -65.0), np.linspace(-65, -55, 50)])
    th = np.vstack([np.full(50, -52.0), np.full(50, -50.0)])
    ax = plotting.plot_traces(t, V, labels=["n0", "n1"], threshold=th)
    assert len(ax.lines) == 4
    np.testing.assert_allclose(ax.lines[1].get_ydata(), V[1])
    np.testing.assert_allclose(ax.lines[0].get_xdata(), t * 1e3)
    assert ax.lines[2].get_color() == ax.lines[0].get_color()
    assert "mV" in ax.get_ylabel()
    ax2 = plotting.plot_traces(t, V[0], threshold=-52.0)
    assert len(ax2.lines) == 2
    with pytest.raises(ConfigError, match="n_times"):
        plotting.plot_traces(t[:10], V)
    with pytest.raises(ConfigError, match="threshold"):
        plotting.plot_traces(t, V, threshold=np.ones((3, 50)))


# ----------------------------------------------------------------------- confusion / CKA
def test_plot_confusion_matrix_normalized():
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 0])
    ax = plotting.plot_confusion_matrix(y_true, y_pred, n_classes=3)
    data = ax.images[0].get_array()
    np.testing.assert_allclose(data, [[50, 50, 0], [0, 100, 0], [50, 0, 50]])
    assert len(ax.texts) == 9
    assert "66.7 %" in ax.get_title()
    ax2 = plotting.plot_confusion_matrix(y_true, y_pred, 3, normalize=False, annotate=False,
                                        colorbar=False)
    np.testing.assert_array_equal(ax2.images[0].get_array(), [[1, 1, 0], [0, 2, 0], [1, 0, 1]])
    assert len(ax2.texts) == 0


def test_plot_cka_matrix_annotations():
    M = np.array([[1.0, 0.25], [0.25, 1.0]])
    ax = plotting.plot_cka_matrix(["snn", "mlp"], M)
    assert [t.get_text() for t in ax.texts] == ["1.00", "0.25", "0.25", "1.00"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["snn", "mlp"]
    with pytest.raises(ConfigError, match="shape"):
        plotting.plot_cka_matrix(["a"], M)


# ----------------------------------------------------------------------- activity
def test_plot_activity_histogram_single_and_dict():
    rng = np.random.default_rng(2)
    ax = plotting.plot_activity_histogram(rng.poisson(2, 500), label="SNN", log=True)
    assert len(ax.patches) == 1  # one step histogram
    assert ax.get_yscale() == "log"
    ax2 = plotting.plot_activity_histogram(
        {"spikes": rng.poisson(2, 500), "relu": np.maximum(rng.normal(size=500), 0)},
        normalize=True,
    )
    assert len(ax2.patches) == 2
    assert [t.get_text() for t in ax2.get_legend().get_texts()] == ["spikes", "relu"]


@pytest.mark.parametrize("kind", ["box", "violin"])
def test_plot_sparsity(kind):
    rng = np.random.default_rng(3)
    data = {"SNN": rng.random(20), "MLP": np.append(rng.random(20), np.nan)}
    ax = plotting.plot_sparsity(data, kind=kind)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["SNN", "MLP"]
    assert "Fraction" in ax.get_ylabel()
    with pytest.raises(ConfigError, match="kind"):
        plotting.plot_sparsity(data, kind="bar")


def test_plot_activations_bar():
    v = np.array([0.0, 2.0, 0.0, 1.5])
    ax = plotting.plot_activations_bar(v)
    assert len(ax.patches) == 4
    assert [p.get_height() for p in ax.patches] == [0.0, 2.0, 0.0, 1.5]
    assert ax.get_title() == "2 of 4 units active"
    with pytest.raises(ConfigError, match="1-D"):
        plotting.plot_activations_bar(np.ones((2, 3)))


# ----------------------------------------------------------------------- comparisons
def test_plot_learning_curves():
    curves = {
        "snn": ([100, 1000, 400], [0.5, 0.8, 0.7]),
        "mlp": ([100, 1000], [0.6, 0.9], [0.01, 0.02]),
    }
    ax = plotting.plot_learning_curves(curves, chance=0.1)
    snn_line = ax.lines[0]
    np.testing.assert_allclose(snn_line.get_xdata(), [100, 400, 1000])  # sorted
    np.testing.assert_allclose(snn_line.get_ydata(), [50, 70, 80])  # percent
    assert len(ax.collections) == 1  # std band of mlp only
    assert ax.get_xscale() == "log"
    assert ax.get_ylabel() == "Test accuracy (%)"
    with pytest.raises(ConfigError, match="accuracies"):
        plotting.plot_learning_curves({"x": ([1, 2], [0.5])})


def test_plot_cost_bars_and_log_scale():
    costs = {"mlp": 25408, "snn": np.array([1e5, 3e5])}
    ax = plotting.plot_cost(costs, ylabel="MACs or synaptic events per image")
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(heights, [25408, 2e5])
    assert ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.texts] == ["25.4k", "200k"]
    with pytest.raises(ConfigError, match="log"):
        plotting.plot_cost({"a": 0.0})
    assert plotting.plot_cost({"a": 0.0}, log=False).get_yscale() == "linear"
    with pytest.raises(ConfigError, match="negative"):
        plotting.plot_cost({"a": -1.0}, log=False)


def test_apply_style_sets_rcparams():
    with matplotlib.rc_context():
        plotting.apply_style()
        assert matplotlib.rcParams["savefig.dpi"] == 150
        assert matplotlib.rcParams["axes.spines.top"] is False


def test_no_function_calls_show(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("show() must not be called")

    monkeypatch.setattr(plt, "show", boom)
    plotting.plot_receptive_fields(np.ones((4, 2)), (2, 2))
    plotting.plot_cost({"a": 1.0})
