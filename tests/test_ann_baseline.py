"""experiments/ann_baseline.py run as a user runs it: in a subprocess."""

from __future__ import annotations

import gzip
import json
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

SCRIPT = os.path.join("experiments", "ann_baseline.py")
MODELS = ("article_mlp", "ann_matched", "logreg")


def run(args, env, cwd, timeout=600):
    return subprocess.run(
        [sys.executable, SCRIPT, *map(str, args)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
    )


def assert_one_line_error(proc, *fragments):
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_help(repo_root, no_data_env):
    proc = run(["--help"], no_data_env, repo_root)
    assert proc.returncode == 0
    for option in ("--dataset", "--data-dir", "--seed", "--out", "--n-train", "--n-test", "--n-hidden"):
        assert option in proc.stdout


def test_digits_run_writes_metrics_and_figures(repo_root, no_data_env, tmp_path):
    out = tmp_path / "out"
    proc = run(["--out", out, "--n-hidden", 50, "--seed", 1], no_data_env, repo_root)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"models", "config", "versions", "timings"} <= set(metrics)
    assert set(metrics["models"]) == set(MODELS)
    for name in MODELS:
        entry = metrics["models"][name]
        assert 0.0 <= entry["test_accuracy"] <= 1.0
        assert 0.0 <= entry["train_accuracy"] <= 1.0
        assert entry["n_train"] == 1347 and entry["n_test"] == 450
        assert entry["fit_seconds"] > 0
        assert f"{100 * entry['test_accuracy']:6.2f} %" in proc.stdout
    assert metrics["models"]["article_mlp"]["architecture"] == [64, 32, 10]
    assert metrics["models"]["ann_matched"]["architecture"] == [64, 50, 10]
    assert metrics["models"]["article_mlp"]["test_accuracy"] > 0.8
    assert metrics["models"]["logreg"]["test_accuracy"] > 0.9
    config = metrics["config"]
    assert config["dataset"] == "digits" and config["seed"] == 1 and config["n_hidden"] == 50
    assert metrics["versions"]["sklearn"] and metrics["timings"]["total"] > 0
    for suffix, magic in ((".png", b"\x89PNG"), (".pdf", b"%PDF")):
        assert (out / f"confusion_matrices{suffix}").read_bytes()[:4] == magic


def test_subset_options(repo_root, no_data_env, tmp_path):
    proc = run(["--out", tmp_path, "--n-train", 200, "--n-test", 50, "--epochs", 2],
               no_data_env, repo_root)
    assert proc.returncode == 0, proc.stderr
    article = json.loads((tmp_path / "metrics.json").read_text())["models"]["article_mlp"]
    assert (article["n_train"], article["n_test"], article["epochs"]) == (200, 50, 2)


def test_bad_options_exit_non_zero(repo_root, no_data_env, tmp_path):
    for args in (["--dataset", "cifar10"], ["--n-train", "0"], ["--seed", "x"]):
        proc = run([*args, "--out", tmp_path], no_data_env, repo_root)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
    proc = run(["--n-train", 5000, "--out", tmp_path], no_data_env, repo_root)
    assert_one_line_error(proc, "n_train", "1347")


def test_corrupted_mnist_file(repo_root, no_data_env, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    header = bytes([0, 0, 8, 3]) + struct.pack(">3I", 60000, 28, 28)
    bad = data / "train-images-idx3-ubyte.gz"
    bad.write_bytes(gzip.compress(header + bytes(1000)))  # truncated image data
    proc = run(["--dataset", "mnist", "--data-dir", data, "--out", tmp_path / "o"], no_data_env, repo_root)
    assert_one_line_error(proc, "truncated", str(bad))


def test_wrong_checksum(repo_root, no_data_env, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    header = bytes([0, 0, 8, 3]) + struct.pack(">3I", 60000, 28, 28)
    bad = data / "train-images-idx3-ubyte.gz"
    bad.write_bytes(gzip.compress(header + bytes(60000 * 28 * 28), compresslevel=1))
    proc = run(["--dataset", "mnist", "--data-dir", data, "--out", tmp_path / "o"], no_data_env, repo_root)
    assert_one_line_error(
        proc, "checksum mismatch", str(bad),
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    )
    assert not (tmp_path / "o" / "metrics.json").exists()


def test_missing_files(repo_root, no_data_env, tmp_path):
    # conftest sends downloads to a closed port on 127.0.0.1: "no network".
    proc = run(["--dataset", "mnist", "--data-dir", tmp_path, "--out", tmp_path / "o"],
               no_data_env, repo_root)
    assert_one_line_error(proc, "not found", "BRAINSIM_DATA", "--data-dir", "download failed")


@pytest.mark.slow
def test_mnist_subset_run(repo_root, no_data_env, mnist_dir, tmp_path):
    proc = run(["--dataset", "mnist", "--data-dir", mnist_dir, "--n-train", 3000, "--n-test", 1000,
                "--out", tmp_path], no_data_env, repo_root)
    assert proc.returncode == 0, proc.stderr
    models = json.loads((tmp_path / "metrics.json").read_text())["models"]
    assert models["article_mlp"]["architecture"] == [784, 32, 10]
    assert models["article_mlp"]["test_accuracy"] > 0.85
    assert np.isclose(models["logreg"]["n_test"], 1000)
