"""brainsim.report: the markdown report of the comparison, from hand-made metrics."""

from __future__ import annotations

import math

import pytest

from brainsim.report import (
    FIGURE_CAPTIONS,
    accuracy_gaps,
    figure_key,
    render_report,
    results_table,
    write_report,
)

FIGURES = [
    "fig1_receptive_fields",
    "fig2_confusion_matrices",
    "fig3_activity",
    "fig4_example_response",
    "fig5_learning_curves",
    "fig6_cka",
    "fig7_cost",
]


def _entry(acc, seconds, **extra):
    return {"test_accuracy": acc, "per_class_accuracy": [acc] * 10, "train_seconds": seconds,
            "n_train": 1347, "n_test": 450, **extra}


@pytest.fixture
def metrics():
    act = dict(mean_population_sparsity=0.05, mean_lifetime_sparsity=0.06,
               mean_active_units_per_image=5.0, mean_activity=0.3, silent_units=2, n_units=100)
    ann_act = dict(mean_population_sparsity=0.45, mean_lifetime_sparsity=0.40,
                   mean_active_units_per_image=45.0, mean_activity=1.1, silent_units=0,
                   n_units=100)
    return {
        "models": {
            "snn": _entry(0.75, 40.0, activity=act,
                          cost={"per_image": 250000.0, "unit": "synaptic events"}),
            "article_mlp": _entry(0.93, 1.0, architecture=[64, 32, 10],
                                  cost={"per_image": 2368.0, "unit": "MACs"}),
            "ann_matched": _entry(0.95, 2.0, architecture=[64, 100, 10], activity=ann_act,
                                  cost={"per_image": 7400.0, "unit": "MACs",
                                        "active_inputs_per_image": 3000.0}),
            "logreg": _entry(0.96, 0.5, cost={"per_image": 640.0, "unit": "MACs"}),
            "kmeans_assign": _entry(0.70, 3.0, activity=dict(act, mean_active_units_per_image=1.0)),
            "kmeans_logreg": _entry(0.90, 5.0),
        },
        "dataset": {"name": "digits", "image_shape": [8, 8], "n_classes": 10},
        "config": {"dataset": "digits", "n_neurons": 100, "seed": 0, "rule": "power_law"},
        "versions": {"python": "3.11", "brian2": "2.9.0"},
        "timings": {"total": 170.0},
        "cka": {"names": ["pixels", "snn", "ann_matched"],
                "matrix": [[1.0, 0.6, 0.7], [0.6, 1.0, 0.5], [0.7, 0.5, 1.0]], "n_images": 450},
        "learning_curves": {"snn": {"n_train": [135, 404, 1347],
                                    "test_accuracy": [0.5, 0.65, 0.75]}},
        "cost_assumptions": ["one synaptic event is one spike arriving at one synapse"],
    }


def test_accuracy_gaps_in_percentage_points(metrics):
    gaps = accuracy_gaps(metrics)
    assert set(gaps) == {"article_mlp", "ann_matched", "logreg", "kmeans_assign", "kmeans_logreg"}
    assert gaps["ann_matched"] == pytest.approx(20.0)
    assert gaps["kmeans_assign"] == pytest.approx(-5.0)


def test_table_has_one_row_per_model_with_its_numbers(metrics):
    table = results_table(metrics).splitlines()
    assert table[0].startswith("| model |")
    rows = table[2:]
    assert len(rows) == 6
    # Fixed order: the spiking network first.
    assert rows[0].startswith("| spiking network (`snn`)")
    row = {r.split("`")[1]: r for r in rows}
    assert "| 75.0 % | 1347 | 40.0 | 250 k synaptic events |" in row["snn"]
    assert "| 95.0 % | 1347 | 2.0 | 7.4 k MACs |" in row["ann_matched"]
    assert "64-32-10" in row["article_mlp"]
    assert "| n/a |" in row["kmeans_logreg"]  # no cost given -> n/a, not a crash


def test_report_states_the_gap_honestly(metrics):
    text = render_report(metrics, FIGURES)
    assert "The spiking network classified 75.0 % of the 450 test images correctly." in text
    # Worse than the four better models, largest gap first, with the size of the gap.
    assert ("It is worse than the logistic regression by 21.0 percentage points (96.0 %); "
            "the matched MLP by 20.0 percentage points (95.0 %); the article MLP by 18.0 "
            "percentage points (93.0 %); the k-means + logreg by 15.0 percentage points "
            "(90.0 %).") in text
    assert "The largest gap, to the logistic regression, is 21.0 percentage points" in text
    # 25 % errors vs 4 % errors.
    assert "makes 6.2 times as many errors" in text
    assert ("It is better than the k-means + assignment by 5.0 percentage points "
            "(70.0 %).") in text
    assert "20 times longer" in text  # 40 s vs 2 s of the matched MLP
    assert "never fired during the label" not in text
    metrics["models"]["snn"].update(unassigned_neurons=12, n_neurons=100)
    assert "12 of its 100 neurons never fired during the label assignment" in render_report(
        metrics, FIGURES)


def test_report_when_the_snn_wins(metrics):
    for name, entry in metrics["models"].items():
        if name != "snn":
            entry["test_accuracy"] = 0.5
    text = render_report(metrics, FIGURES)
    assert "It is worse than" not in text
    assert "No model in this comparison beat it." in text


def test_every_figure_embedded_once_with_pdf_link(metrics):
    text = render_report(metrics, FIGURES)
    for name in FIGURES:
        assert text.count(f"]({name}.png)") == 1, name
        assert f"({name}.pdf)" in text
        number = name[3]
        assert f"*Figure {number}. {FIGURE_CAPTIONS[figure_key(name)]}*" in text
    # Figures appear in the sections they illustrate.
    assert text.index("fig1_receptive_fields.png") > text.index("## Synapse vs weight and bias")
    assert text.index("fig7_cost.png") > text.index("## Cost of one inference")
    # Unknown figures are still embedded.
    extra = render_report(metrics, FIGURES + ["fig8_extra"])
    assert "](fig8_extra.png)" in extra and "## Other figures" in extra


def test_report_covers_the_article_concepts_and_cites(metrics):
    text = render_report(metrics, FIGURES)
    for heading in ("Neuron vs node", "Spike vs activation value", "Synapse vs weight and bias",
                    "STDP vs gradient descent", "Lateral inhibition vs softmax competition",
                    "Representational similarity", "Cost of one inference"):
        assert f"## {heading}" in text
    assert "Front" in text and "9:99" in text and "Diehl" in text
    assert "Kornblith" in text and "2019" in text
    # Numbers of the hand-made metrics reach the prose.
    assert "5.0 % of the spiking neurons were active per image against 45.0 %" in text
    assert "spiking network's spike counts compared with the other representations: " \
           "pixels 0.60, matched MLP 0.50" in text
    assert "250 k synaptic events per test image, 33.8 times more than the 7.4 k" in text
    assert "- one synaptic event is one spike arriving at one synapse" in text
    assert "50.0 % after 135, 65.0 % after 404, 75.0 % after 1347 training images" in text
    assert "it reached 70.0 %, 5.0 points below the spiking network" in text


def test_missing_optional_parts_and_nan_do_not_break(metrics):
    minimal = {"models": {"snn": {"test_accuracy": 0.5, "n_train": 10, "n_test": 5},
                          "logreg": {"test_accuracy": float("nan"), "n_train": 10, "n_test": 5}}}
    text = render_report(minimal, [])
    assert "| spiking network (`snn`)" in text and "| n/a |" in text
    assert "![" not in text
    metrics["cka"]["matrix"][1][2] = math.nan
    assert "matched MLP" in render_report(metrics, FIGURES)


def test_bad_metrics_are_rejected():
    with pytest.raises(ValueError, match="models"):
        render_report({}, FIGURES)
    with pytest.raises(ValueError, match="lacks n_test"):
        render_report({"models": {"snn": {"test_accuracy": 0.5, "n_train": 3}}}, FIGURES)


def test_write_report(tmp_path, metrics):
    path = write_report(metrics, [f + ".png" for f in FIGURES], tmp_path / "new")
    assert path == tmp_path / "new" / "report.md"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Spiking network vs artificial neural networks on digits")
    assert "](fig3_activity.png)" in text  # '.png' given or not, embedded once
    assert text.endswith("\n")


def test_figure_key():
    assert figure_key("fig3_activity.png") == "activity"
    assert figure_key("out/fig10_cost.pdf") == "cost"
    assert figure_key("confusion_matrices") == "confusion_matrices"
    assert figure_key("figure_one") == "figure_one"
