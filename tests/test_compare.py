"""experiments/compare.py: its measures on hand-made cases, and a tiny run as a user runs it."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from brainsim.errors import ConfigError

SCRIPT = os.path.join("experiments", "compare.py")
MODELS = ("snn", "article_mlp", "ann_matched", "logreg", "kmeans_assign", "kmeans_logreg")
FIGURES = ("fig1_receptive_fields", "fig2_confusion_matrices", "fig3_activity",
           "fig4_example_response", "fig5_learning_curves", "fig6_cka", "fig7_cost")


@pytest.fixture(scope="module")
def compare(repo_root):
    """The script imported as a module (it has no side effects on import)."""
    spec = importlib.util.spec_from_file_location("compare_script", repo_root / SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(args, env, cwd, timeout=600):
    return subprocess.run(
        [sys.executable, SCRIPT, *map(str, args)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
    )


# --------------------------------------------------------------------------- measures
def test_activity_of_a_one_hot_code(compare):
    # 4 images, 5 units, one winner each; unit 4 never wins.
    A = np.zeros((4, 5))
    A[[0, 1, 2, 3], [0, 1, 1, 3]] = [3, 1, 2, 5]
    s = compare.activity_summary(A, "spikes")
    assert s["mean_population_sparsity"] == pytest.approx(1 / 5)
    # lifetime: unit0 1/4, unit1 2/4, unit2 0, unit3 1/4, unit4 0 -> mean 1/5
    assert s["mean_lifetime_sparsity"] == pytest.approx(0.2)
    assert s["mean_active_units_per_image"] == 1.0
    assert s["mean_activity"] == pytest.approx(11 / 20)
    assert s["max_activity"] == 5.0
    assert s["mean_treves_rolls_sparseness"] == pytest.approx(1.0)  # one-hot: maximally sparse
    assert s["silent_units"] == 2 and s["n_units"] == 5 and s["activity_unit"] == "spikes"


def test_activity_of_a_dense_uniform_code(compare):
    s = compare.activity_summary(np.full((3, 4), 0.5), "ReLU")
    assert s["mean_population_sparsity"] == 1.0
    assert s["mean_lifetime_sparsity"] == 1.0
    assert s["mean_treves_rolls_sparseness"] == pytest.approx(0.0)
    assert s["silent_units"] == 0


def test_snn_cost_for_a_known_spike_train(compare):
    # Two images: 100 input, 7 excitatory, 7 inhibitory spikes; then 50, 5, 5 over 2
    # presentations. N = 10: events = in*10 + exc*1 + inh*9.
    result = SimpleNamespace(input_spikes=np.array([100.0, 50.0]), exc_spikes=np.array([7.0, 5.0]),
                             inh_spikes=np.array([7.0, 5.0]), presentations=np.array([1, 2]))
    cost = compare.snn_cost(result, n_neurons=10, presentation_time=0.35)
    e1, e2 = 100 * 10 + 7 + 7 * 9, 50 * 10 + 5 + 5 * 9
    assert cost["per_image"] == pytest.approx((e1 + e2) / 2)
    assert cost["per_image_std"] == pytest.approx(abs(e1 - e2) / 2)
    assert cost["unit"] == "synaptic events"
    assert cost["input_spikes_per_image"] == 75.0
    assert cost["presentations_per_image"] == 1.5
    # 20 neurons x 700 steps of 0.5 ms per presentation x 1.5 presentations
    assert cost["neuron_updates_per_image"] == pytest.approx(20 * 700 * 1.5)


def test_ann_cost_dense_and_active_inputs(compare):
    cost = compare.ann_cost([64, 32, 10])
    assert cost["per_image"] == 64 * 32 + 32 * 10 and cost["unit"] == "MACs"
    assert "active_inputs_per_image" not in cost
    cost = compare.ann_cost([64, 32, 10], [np.array([20, 40]), np.array([8, 16])])
    assert cost["active_inputs_per_image"] == pytest.approx(((20 * 32 + 8 * 10) + (40 * 32 + 16 * 10)) / 2)


def test_most_active_neurons_for_the_example_figure(compare):
    counts = np.array([0, 2, 0, 2, 0])
    # max(v) - threshold: 1, 0, 6, 0, 3 -> among the silent ones neuron 2 came closest.
    v = np.array([[0, 1], [0, 0], [5, 6], [0, 0], [3, 3]], dtype=float)
    assert list(compare.most_active(counts, v, np.zeros(5))) == [1, 3, 2]
    assert list(compare.most_active(counts, v, np.zeros(5), k=5)) == [1, 3, 2, 4, 0]


def test_curve_points(compare):
    assert compare.curve_points(None, 1347) == [135, 404, 1347]
    assert compare.curve_points([500, 100, 100], 1347) == [100, 500, 1347]
    assert compare.curve_points([1347], 1347) == [1347]
    with pytest.raises(ConfigError, match="2000 exceed the 1347 training images"):
        compare.curve_points([100, 2000], 1347)


def test_clean_makes_strict_json(compare):
    out = compare._clean({"a": np.array([1.0, np.nan]), "b": np.int64(3), "c": (np.inf, 2.5)})
    assert out == {"a": [1.0, None], "b": 3, "c": [None, 2.5]}
    json.dumps(out, allow_nan=False)


# --------------------------------------------------------------------------- the script
def test_help(repo_root, no_data_env):
    proc = run(["--help"], no_data_env, repo_root)
    assert proc.returncode == 0
    for option in ("--dataset", "--data-dir", "--seed", "--out", "--n-neurons", "--rule",
                   "--n-train", "--n-test", "--n-assign", "--backend",
                   "--learning-curve-points", "--no-progress"):
        assert option in proc.stdout


@pytest.mark.parametrize("args, fragment", [
    (["--learning-curve-points", 100, 5000], "exceed the 1347 training images"),
    (["--n-train", 20, "--n-neurons", 50], "smaller than --n-neurons 50"),
])
def test_bad_options_give_one_line_errors(repo_root, no_data_env, tmp_path, args, fragment):
    proc = run([*args, "--out", tmp_path / "out"], no_data_env, repo_root)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], proc.stderr


@pytest.mark.slow
@pytest.mark.standalone
def test_tiny_digits_run_writes_everything(repo_root, no_data_env, standalone_cache, tmp_path):
    out = tmp_path / "out"
    env = dict(no_data_env, BRAINSIM_CACHE=standalone_cache)
    proc = run(["--n-neurons", 10, "--n-train", 200, "--n-test", 100, "--seed", 1,
                "--learning-curve-points", 50, 200, "--no-progress", "--out", out],
               env, repo_root, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]

    for name in FIGURES:
        for ext in ("png", "pdf"):
            assert (out / f"{name}.{ext}").stat().st_size > 1000, (name, ext)
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"models", "config", "versions", "timings", "dataset", "cka", "learning_curves",
            "cost_assumptions", "figures"} <= set(metrics)
    assert list(metrics["models"]) == list(MODELS)
    for name, entry in metrics["models"].items():
        assert 0.0 <= entry["test_accuracy"] <= 1.0, name
        assert entry["n_train"] == 200 and entry["n_test"] == 100
        assert entry["train_seconds"] > 0
        assert len(entry["per_class_accuracy"]) == 10
        assert f"{100 * entry['test_accuracy']:6.2f} %" in proc.stdout
    # Better than chance for the supervised baselines on 8x8 digits.
    assert metrics["models"]["logreg"]["test_accuracy"] > 0.7
    # Activity measures for the spiking network and the ANNs.
    for name in ("snn", "article_mlp", "ann_matched", "kmeans_assign"):
        act = metrics["models"][name]["activity"]
        assert 0.0 <= act["mean_population_sparsity"] <= 1.0
        assert 0.0 <= act["mean_lifetime_sparsity"] <= 1.0
        assert act["mean_active_units_per_image"] >= 0 and act["mean_activity"] >= 0
    assert metrics["models"]["snn"]["activity"]["n_units"] == 10
    assert metrics["models"]["article_mlp"]["activity"]["n_units"] == 32
    assert metrics["models"]["kmeans_assign"]["activity"]["mean_active_units_per_image"] == 1.0
    # Cost: synaptic events vs MACs.
    snn_cost = metrics["models"]["snn"]["cost"]
    assert snn_cost["unit"] == "synaptic events"
    expected = (snn_cost["input_spikes_per_image"] * 10 + snn_cost["exc_spikes_per_image"]
                + snn_cost["inh_spikes_per_image"] * 9)
    assert snn_cost["per_image"] == pytest.approx(expected)
    assert metrics["models"]["article_mlp"]["cost"]["per_image"] == 64 * 32 + 32 * 10
    assert metrics["models"]["ann_matched"]["cost"]["per_image"] == 64 * 10 + 10 * 10
    assert len(metrics["cost_assumptions"]) >= 3
    # CKA matrix: symmetric, ones on the diagonal.
    cka = metrics["cka"]
    assert cka["names"] == ["pixels", "snn", "article_mlp", "ann_matched", "kmeans_assign"]
    M = np.array(cka["matrix"], dtype=float)
    assert M.shape == (5, 5) and np.allclose(M, M.T, equal_nan=True)
    assert np.allclose(np.diag(M)[[0, 2, 3, 4]], 1.0)
    assert cka["n_images"] == 100
    # Learning curves at the requested sizes; the SNN's last point is its result.
    curves = metrics["learning_curves"]
    assert curves["snn"]["n_train"] == [50, 200]
    assert curves["snn"]["test_accuracy"][-1] == metrics["models"]["snn"]["test_accuracy"]
    assert curves["logreg"]["n_train"] == [50, 200]
    assert metrics["config"]["learning_curve_points"] == [50, 200]
    assert metrics["figures"] == list(FIGURES)
    # The report embeds every figure and gives the table.
    report = (out / "report.md").read_text()
    for name in FIGURES:
        assert f"]({name}.png)" in report
    assert "| spiking network (`snn`)" in report
    assert "test images correctly." in report
