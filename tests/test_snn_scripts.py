"""experiments/train_snn.py, rules.py and benchmark.py run as a user runs them.

They use the small 10-neuron network on the bundled digits, with the default
chunk sizes, so they share the compiled networks of tests/test_classifier.py
(cache in $BRAINSIM_CACHE, see conftest.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from brainsim.classifier import DiehlCookSNN

REPO = Path(__file__).resolve().parent.parent


def script(name: str, *args, timeout: float = 900, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "experiments" / name), *map(str, args)],
                          cwd=REPO, capture_output=True, text=True, timeout=timeout, **kw)


@pytest.mark.parametrize("name", ["train_snn.py", "rules.py", "benchmark.py"])
def test_help(name):
    proc = script(name, "--help")
    assert proc.returncode == 0
    for option in ("--dataset", "--data-dir", "--seed", "--out"):
        assert option in proc.stdout


def test_help_lists_the_recipes():
    proc = script("train_snn.py", "--help")
    assert "--recipe {diehl_cook_2015,local_plus}" in proc.stdout
    assert "--validation N" in proc.stdout


@pytest.mark.standalone
@pytest.mark.slow
def test_train_snn_with_a_recipe_on_the_validation_split(tmp_path, standalone_cache):
    out = tmp_path / "run"
    proc = script("train_snn.py", "--n-neurons", 10, "--n-train", 120, "--n-test", 50,
                  "--recipe", "local_plus", "--validation", 300, "--out", out, "--no-progress")
    assert proc.returncode == 0, proc.stderr[-2000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["recipe"] == "local_plus"
    assert metrics["config"]["split"] == "validation"
    snn = metrics["models"]["snn"]  # the network is "snn" whatever the recipe
    assert snn["recipe"] == "local_plus" and snn["split"] == "validation"
    assert snn["n_train"] == 120 and snn["n_test"] == 50
    readout = metrics["models"]["snn_logreg"]
    assert readout["readout_train_counts_shape"] == [120, 10] and readout["split"] == "validation"
    assert "validation accuracy" in proc.stdout
    assert DiehlCookSNN.load(out / "snn.npz").recipe == "local_plus"
    proc = script("train_snn.py", "--recipe", "hebb", "--out", tmp_path)
    assert proc.returncode == 2 and "invalid choice: 'hebb'" in proc.stderr


def test_bad_options_give_one_line_errors(tmp_path):
    proc = script("train_snn.py", "--n-neurons", "0", "--out", tmp_path)
    assert proc.returncode == 2 and "--n-neurons" in proc.stderr
    proc = script("train_snn.py", "--dataset", "mnist", "--data-dir", tmp_path / "nowhere",
                  "--out", tmp_path, env=dict(os.environ, BRAINSIM_DATA=str(tmp_path / "none"),
                                              XDG_CACHE_HOME=str(tmp_path / "xdg")))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    # the paper's protocol: sizes of the paper only, and not together with its own options
    for args, fragment in [(["--protocol", "paper", "--n-neurons", 200], "100, 400, 1600, 6400"),
                           (["--protocol", "paper", "--n-train", 500], "drop n_train (--n-train)")]:
        proc = script("train_snn.py", *args, "--out", tmp_path)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and fragment in lines[0], proc.stderr


@pytest.mark.standalone
@pytest.mark.slow
def test_train_snn_end_to_end(tmp_path, standalone_cache):
    out = tmp_path / "run"
    proc = script("train_snn.py", "--n-neurons", 10, "--n-train", 300, "--n-test", 100,
                  "--out", out, "--no-progress")
    assert proc.returncode == 0, proc.stderr[-2000:]
    metrics = json.loads((out / "metrics.json").read_text())
    snn = metrics["models"]["snn"]
    assert 0.2 < snn["test_accuracy"] <= 1.0  # well above chance (0.1) even when tiny
    assert snn["n_train"] == 300 and snn["n_test"] == 100 and snn["n_assign"] == 300
    assert len(snn["per_class_accuracy"]) == 10
    assert {"python", "numpy", "brian2"} <= set(metrics["versions"])
    for name in ("receptive_fields", "confusion_matrix", "example_response"):
        assert (out / f"{name}.png").stat().st_size > 0
        assert (out / f"{name}.pdf").stat().st_size > 0
    loaded = DiehlCookSNN.load(out / "snn.npz")
    assert loaded.weights_.shape == (64, 10)


@pytest.mark.standalone
@pytest.mark.slow
def test_killed_training_resumes_to_the_same_weights(tmp_path, standalone_cache):
    """Kill -9 a training run after its first checkpoint, run the same command
    again, and get the weights of an uninterrupted run."""
    common = ["--n-neurons", 10, "--n-test", 20, "--no-progress", "--checkpoint-every", 1]
    ref = tmp_path / "reference"
    proc = script("train_snn.py", *common, "--out", ref)
    assert proc.returncode == 0, proc.stderr[-2000:]

    out = tmp_path / "killed"
    cmd = [sys.executable, str(REPO / "experiments" / "train_snn.py"), *map(str, common),
           "--out", str(out)]
    victim = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoint = out / "checkpoint" / "checkpoint.npz"
    deadline = time.time() + 600
    while not checkpoint.exists() and victim.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert victim.returncode == -signal.SIGKILL  # it was killed, not finished
    assert checkpoint.exists() and not (out / "snn.npz").exists()

    proc = script("train_snn.py", *common, "--out", out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    a = DiehlCookSNN.load(ref / "snn.npz")
    b = DiehlCookSNN.load(out / "snn.npz")
    np.testing.assert_array_equal(a.weights_, b.weights_)
    np.testing.assert_array_equal(a.theta_, b.theta_)
    np.testing.assert_array_equal(a.assignments_, b.assignments_)


@pytest.mark.standalone
@pytest.mark.slow
def test_benchmark_writes_its_figures(tmp_path, standalone_cache):
    out = tmp_path / "bench"
    proc = script("benchmark.py", "--dataset", "digits", "--sizes", 10, "--n-train", 100,
                  "--n-infer", 100, "--n-baseline", 2, "--cache", standalone_cache,
                  "--jobs", 2, "--out", out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    bench = json.loads((out / "metrics.json").read_text())["benchmark"]["10"]
    for key in ("compile_s", "train_images_per_s", "inference_images_per_s", "peak_memory_mb",
                "baseline_train_images_per_s", "speedup_vs_baseline"):
        assert bench[key] > 0, key
    assert bench["compile_learning_s"] + bench["compile_inference_s"] == pytest.approx(
        bench["compile_s"])
    # the compiled, chunked path is faster than one Brian2 run() per image
    assert bench["speedup_vs_baseline"] > 1
    assert "speedup" in proc.stdout
    # --jobs 2: inference in blocks with 1 and 2 jobs, and the machine it ran on
    assert set(bench["inference_jobs_images_per_s"]) == {"1", "2"}
    assert bench["inference_jobs_speedup"] > 0 and bench["inference_blocks"] == 1
    assert "2 jobs" in proc.stdout and proc.stdout.startswith("machine: ")


@pytest.mark.standalone
@pytest.mark.slow
def test_every_rule_learns(tmp_path, standalone_cache):
    out = tmp_path / "rules"
    proc = script("rules.py", "--dataset", "digits", "--n-neurons", 10, "--n-train", 300,
                  "--n-test", 150, "--out", out, "--no-progress")
    assert proc.returncode == 0, proc.stderr[-2000:]
    models = json.loads((out / "metrics.json").read_text())["models"]
    assert set(models) == {"snn_power_law", "snn_exponential", "snn_pre_post", "snn_triplet"}
    for name, m in models.items():
        assert m["test_accuracy"] > 0.25, name  # chance is 0.1
    assert (out / "receptive_fields_rules.png").exists()
