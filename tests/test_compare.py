"""The comparison: its measures on hand-made cases, and tiny runs as a user runs them.

The measures live in the library (brainsim.activity, brainsim.cost,
brainsim.figures, brainsim.comparison, brainsim.seeds); experiments/compare.py
only parses options and calls brainsim.experiment.compare_experiment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from brainsim.activity import activity_summary
from brainsim.comparison import curve_points
from brainsim.cost import ann_cost, snn_cost
from brainsim.errors import ConfigError
from brainsim.experiment import compare_experiment, to_json
from brainsim.figures import most_active
from brainsim.seeds import curve_statistics, paired_gaps, seed_statistics

SCRIPT = os.path.join("experiments", "compare.py")
ANNS = ("article_mlp", "ann_matched", "logreg", "kmeans_assign", "kmeans_logreg")
#: One recipe (``recipes: []``): the network and its linear read-out, then the ANNs.
MODELS_ONE_RECIPE = ("snn", "snn_logreg", *ANNS)
#: The default: the faithful network and local_plus, each with both read-outs.
MODELS = ("snn", "snn_logreg", "snn_local_plus", "snn_local_plus_logreg", *ANNS)
FIGURES = ("fig1_receptive_fields", "fig2_confusion_matrices", "fig3_activity",
           "fig4_example_response", "fig5_learning_curves", "fig6_cka", "fig7_cost",
           "fig8_receptive_fields_recipes")


def run(args, env, cwd, timeout=600):
    return subprocess.run(
        [sys.executable, SCRIPT, *map(str, args)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
    )


# --------------------------------------------------------------------------- measures
def test_activity_of_a_one_hot_code():
    # 4 images, 5 units, one winner each; unit 4 never wins.
    A = np.zeros((4, 5))
    A[[0, 1, 2, 3], [0, 1, 1, 3]] = [3, 1, 2, 5]
    s = activity_summary(A, "spikes")
    assert s["mean_population_sparsity"] == pytest.approx(1 / 5)
    # lifetime: unit0 1/4, unit1 2/4, unit2 0, unit3 1/4, unit4 0 -> mean 1/5
    assert s["mean_lifetime_sparsity"] == pytest.approx(0.2)
    assert s["mean_active_units_per_image"] == 1.0
    assert s["mean_activity"] == pytest.approx(11 / 20)
    assert s["max_activity"] == 5.0
    assert s["mean_treves_rolls_sparseness"] == pytest.approx(1.0)  # one-hot: maximally sparse
    assert s["silent_units"] == 2 and s["n_units"] == 5 and s["activity_unit"] == "spikes"


def test_activity_of_a_dense_uniform_code():
    s = activity_summary(np.full((3, 4), 0.5), "ReLU")
    assert s["mean_population_sparsity"] == 1.0
    assert s["mean_lifetime_sparsity"] == 1.0
    assert s["mean_treves_rolls_sparseness"] == pytest.approx(0.0)
    assert s["silent_units"] == 0


def test_snn_cost_for_a_known_spike_train():
    # Two images: 100 input, 7 excitatory, 7 inhibitory spikes; then 50, 5, 5 over 2
    # presentations. N = 10: events = in*10 + exc*1 + inh*9.
    result = SimpleNamespace(input_spikes=np.array([100.0, 50.0]), exc_spikes=np.array([7.0, 5.0]),
                             inh_spikes=np.array([7.0, 5.0]), presentations=np.array([1, 2]))
    cost = snn_cost(result, n_neurons=10, presentation_time=0.35)
    e1, e2 = 100 * 10 + 7 + 7 * 9, 50 * 10 + 5 + 5 * 9
    assert cost["per_image"] == pytest.approx((e1 + e2) / 2)
    assert cost["per_image_std"] == pytest.approx(abs(e1 - e2) / 2)
    assert cost["unit"] == "synaptic events"
    assert cost["input_spikes_per_image"] == 75.0
    assert cost["presentations_per_image"] == 1.5
    # 20 neurons x 700 steps of 0.5 ms per presentation x 1.5 presentations
    assert cost["neuron_updates_per_image"] == pytest.approx(20 * 700 * 1.5)


def test_ann_cost_dense_and_active_inputs():
    cost = ann_cost([64, 32, 10])
    assert cost["per_image"] == 64 * 32 + 32 * 10 and cost["unit"] == "MACs"
    assert "active_inputs_per_image" not in cost
    cost = ann_cost([64, 32, 10], [np.array([20, 40]), np.array([8, 16])])
    assert cost["active_inputs_per_image"] == pytest.approx(((20 * 32 + 8 * 10) + (40 * 32 + 16 * 10)) / 2)


def test_most_active_neurons_for_the_example_figure():
    counts = np.array([0, 2, 0, 2, 0])
    # max(v) - threshold: 1, 0, 6, 0, 3 -> among the silent ones neuron 2 came closest.
    v = np.array([[0, 1], [0, 0], [5, 6], [0, 0], [3, 3]], dtype=float)
    assert list(most_active(counts, v, np.zeros(5))) == [1, 3, 2]
    assert list(most_active(counts, v, np.zeros(5), k=5)) == [1, 3, 2, 4, 0]


def test_curve_points():
    assert curve_points(None, 1347) == [135, 404, 1347]
    assert curve_points([500, 100, 100], 1347) == [100, 500, 1347]
    assert curve_points([1347], 1347) == [1347]
    with pytest.raises(ConfigError, match="2000 exceed the 1347 training images"):
        curve_points([100, 2000], 1347)


def test_progress_lines_name_the_validation_split():
    from brainsim.comparison import _naming_split

    lines = []
    log = _naming_split(lines.append, "validation")
    log("kmeans_assign  test accuracy  90.00 %")
    log("snn after    100 training images: test accuracy  50.00 %")
    assert lines == ["kmeans_assign  validation accuracy  90.00 %",
                     "snn after    100 training images: validation accuracy  50.00 %"]


def test_to_json_makes_strict_json():
    out = to_json({"a": np.array([1.0, np.nan]), "b": np.int64(3), "c": (np.inf, 2.5)})
    assert out == {"a": [1.0, None], "b": 3, "c": [None, 2.5]}
    json.dumps(out, allow_nan=False)


# --------------------------------------------------------------------------- the script
def test_help(repo_root, no_data_env):
    proc = run(["--help"], no_data_env, repo_root)
    assert proc.returncode == 0
    for option in ("--dataset", "--data-dir", "--seed", "--out", "--n-neurons", "--rule",
                   "--n-train", "--n-test", "--n-assign", "--backend",
                   "--learning-curve-points", "--seeds", "--no-progress", "--recipe",
                   "--recipes", "--validation"):
        assert option in proc.stdout
    assert "--recipe {diehl_cook_2015,local_plus}" in proc.stdout  # the choices are listed


@pytest.mark.parametrize("args, fragment", [
    (["--learning-curve-points", 100, 5000], "exceed the 1347 training images"),
    (["--n-train", 20, "--n-neurons", 50], "smaller than n_neurons 50"),
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
    assert metrics["config"]["recipe"] == "diehl_cook_2015"
    assert metrics["config"]["recipes"] == ["local_plus"]
    assert metrics["config"]["split"] == "test"
    assert metrics["models"]["snn"]["recipe"] == "diehl_cook_2015"
    assert metrics["models"]["snn_local_plus"]["recipe"] == "local_plus"
    # the read-outs learn from the counts of the 200 training images that labelled the neurons
    for name in ("snn_logreg", "snn_local_plus_logreg"):
        assert metrics["models"][name]["readout_train_counts_shape"] == [200, 10]
    for name, entry in metrics["models"].items():
        assert entry["split"] == "test", name
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
    assert "| spiking network (local_plus) + logreg (`snn_local_plus_logreg`)" in report
    assert "test images correctly." in report
    assert "### Read-out and learning" in report
    vote, lin = (100 * metrics["models"][n]["test_accuracy"] for n in ("snn", "snn_logreg"))
    assert f"score {vote:.1f} % with the label vote and {lin:.1f} %" in report
    assert "What the learning adds, with the same linear read-out: local_plus" in report


# --------------------------------------------------------------------------- seeds
def _models(snn, mlp, close):
    return {"snn": {"test_accuracy": snn, "n_train": 100, "n_test": 50, "train_seconds": 2.0},
            "ann_matched": {"test_accuracy": mlp, "n_train": 100, "n_test": 50,
                            "train_seconds": 1.0},
            "logreg": {"test_accuracy": close, "n_train": 100, "n_test": 50}}


def test_seed_statistics_and_paired_gaps():
    by_seed = {0: _models(0.70, 0.90, 0.71), 1: _models(0.72, 0.91, 0.71),
               2: _models(0.71, 0.93, 0.72)}
    stats = seed_statistics(by_seed)
    assert stats["snn"]["test_accuracy"] == pytest.approx(0.71)
    assert stats["snn"]["test_accuracy_sd"] == pytest.approx(0.01)  # sample sd, ddof = 1
    assert stats["snn"]["test_accuracy_per_seed"] == [0.70, 0.72, 0.71]
    assert stats["ann_matched"]["n_seeds"] == 3 and stats["ann_matched"]["train_seconds"] == 1.0
    assert "train_seconds" not in stats["logreg"]

    gaps = paired_gaps(by_seed)
    assert set(gaps) == {"ann_matched", "logreg"}
    big, small = gaps["ann_matched"], gaps["logreg"]
    # differences 20, 19, 22 points: mean 20.33, sd 1.53, t = 23.1 with 2 degrees of freedom
    assert big["diff_per_seed_pp"] == pytest.approx([20, 19, 22])
    assert big["mean_pp"] == pytest.approx(61 / 3)
    assert big["sd_pp"] == pytest.approx(np.std([20, 19, 22], ddof=1))
    assert big["t"] == pytest.approx(big["mean_pp"] / (big["sd_pp"] / np.sqrt(3)))
    assert big["p_value"] < 0.01 and big["larger_than_spread"]
    assert big["ci95_pp"][0] > 0
    # differences 1, -1, 1 points: within the spread
    assert small["mean_pp"] == pytest.approx(1 / 3)
    assert small["p_value"] > 0.5 and not small["larger_than_spread"]
    assert small["ci95_pp"][0] < 0 < small["ci95_pp"][1]
    assert "paired two-sided t-test" in small["rule"]


def test_paired_gap_with_identical_differences():
    by_seed = {0: _models(0.70, 0.80, 0.70), 1: _models(0.75, 0.85, 0.75)}
    gaps = paired_gaps(by_seed)
    assert gaps["ann_matched"]["mean_pp"] == pytest.approx(10)
    assert gaps["ann_matched"]["larger_than_spread"]  # the same 10 points on every seed
    assert gaps["logreg"]["mean_pp"] == 0 and not gaps["logreg"]["larger_than_spread"]


def test_curve_statistics_keeps_sizes_common_to_all_seeds():
    curves = {0: {"snn": {"n_train": [50, 100], "test_accuracy": [0.4, 0.6]}},
              1: {"snn": {"n_train": [50, 100], "test_accuracy": [0.5, 0.7]}}}
    out = curve_statistics(curves)["snn"]
    assert out["n_train"] == [50, 100]
    assert out["test_accuracy"] == pytest.approx([0.45, 0.65])
    assert out["test_accuracy_sd"] == pytest.approx([np.std([0.4, 0.5], ddof=1)] * 2)


@pytest.mark.parametrize("config, message", [
    ({"seeds": [3]}, "at least 2 different seeds"),
    ({"seeds": [1, 1]}, "at least 2 different seeds"),
    ({"seeds": "01"}, "seeds must be a list of whole numbers"),
    ({"epochs": 2}, "unknown compare experiment config key 'epochs'"),
    ({"snn_params": {"learning_rule": "triplet"}}, "set 'rule' instead"),
    ({"recipe": "bindsnet"}, "unknown recipe 'bindsnet'; choose one of diehl_cook_2015"),
    ({"recipes": "local_plus"}, "recipes must be a list of names"),
    ({"validation": 1.5}, "validation must be a number of training images"),
    ({"snn_params": {"recipe": "local_plus"}}, "set 'recipe' instead"),
])
def test_bad_compare_configs(config, message):
    with pytest.raises(ConfigError, match=message):
        compare_experiment(config)


@pytest.mark.slow
@pytest.mark.standalone
def test_two_seeds_report_mean_spread_and_gaps(tmp_path, standalone_cache):
    out = tmp_path / "seeds"
    result = compare_experiment({"n_neurons": 10, "n_train": 100, "n_test": 50,
                                 "learning_curve_points": [50], "seeds": [0, 1],
                                 "recipes": [], "progress": False, "figures": False}, out)
    assert json.loads((out / "metrics.json").read_text()) == json.loads(json.dumps(result))
    assert result["seeds"] == [0, 1] and result["runs"] == {"0": "seed_0", "1": "seed_1"}
    per_seed = [json.loads((out / f"seed_{s}" / "metrics.json").read_text()) for s in (0, 1)]
    assert [m["config"]["seed"] for m in per_seed] == [0, 1]
    assert list(result["models"]) == list(MODELS_ONE_RECIPE)
    for name, entry in result["models"].items():
        accs = [m["models"][name]["test_accuracy"] for m in per_seed]
        assert entry["test_accuracy_per_seed"] == accs
        assert entry["test_accuracy"] == pytest.approx(np.mean(accs))
        assert entry["test_accuracy_sd"] == pytest.approx(np.std(accs, ddof=1))
        assert entry["n_seeds"] == 2 and entry["n_train"] == 100
    # the spiking network's seeds differ (initial weights and spike trains)
    assert per_seed[0]["models"]["snn"] != per_seed[1]["models"]["snn"]
    assert set(result["gaps"]) == set(MODELS_ONE_RECIPE) - {"snn"}
    for name, gap in result["gaps"].items():
        diffs = [100 * (m["models"][name]["test_accuracy"] - m["models"]["snn"]["test_accuracy"])
                 for m in per_seed]
        assert gap["diff_per_seed_pp"] == pytest.approx(diffs)
    curve = result["learning_curves"]["snn"]
    assert curve["n_train"] == [50, 100] and len(curve["test_accuracy_sd"]) == 2
    assert result["figures"] == [] and not list(out.glob("**/*.png"))  # figures: False
    report = (out / "report.md").read_text()
    assert "paired two-sided t-test" in report and "(seed_1/report.md)" in report
    snn = result["models"]["snn"]
    assert (f"{100 * snn['test_accuracy']:.1f} ± {100 * snn['test_accuracy_sd']:.1f} %"
            in report)
    assert (out / "seed_1" / "report.md").exists()


def test_seed_report_and_error_bar_figure(tmp_path):
    """The report's verdicts follow the numbers; figure 5 gets error bars."""
    from brainsim.figures import learning_curves_figure
    from brainsim.report import render_seed_report

    by_seed = {0: _models(0.70, 0.90, 0.71), 1: _models(0.72, 0.91, 0.71),
               2: _models(0.71, 0.93, 0.72)}
    metrics = {"models": seed_statistics(by_seed), "gaps": paired_gaps(by_seed),
               "seeds": [0, 1, 2], "runs": {"0": "seed_0", "1": "seed_1", "2": "seed_2"},
               "config": {"n_neurons": 10, "dataset": "digits"},
               "figures": ["fig5_learning_curves"]}
    text = render_seed_report(metrics)
    assert "| 71.0 ± 1.0 % | 70.0 %, 72.0 %, 71.0 % |" in text
    assert "20.3 percentage points better than the spiking network" in text
    assert text.count("the gap is larger than the seed-to-seed spread.") == 1
    assert text.count("not larger than the seed-to-seed spread") == 1
    assert "Use 5 or more seeds" in text and "](fig5_learning_curves.png)" in text

    curves = curve_statistics({s: {"snn": {"n_train": [50, 100], "test_accuracy": [a, a + 0.1]}}
                               for s, a in ((0, 0.4), (1, 0.5))})
    name = learning_curves_figure(curves, 10, tmp_path, title="t")
    assert (tmp_path / f"{name}.png").stat().st_size > 1000
    assert (tmp_path / f"{name}.pdf").exists()
