"""Sweeps on Dask (brainsim.sweep, experiments/sweep.py) and the shared compile cache.

The end-to-end tests run tiny spiking networks (10 neurons, 100 training and
50 test images of digits) as separate processes on real Dask clusters: a
LocalCluster, and a scheduler and two workers started here on 127.0.0.1.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from brainsim import sweep
from brainsim.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent

#: Every run: 10 neurons on 100 digits, 50 test images, both baselines.
TINY_FIXED = {"dataset": "digits", "n_neurons": 10, "n_train": 100, "n_test": 50,
              "baselines": ["kmeans", "ann_matched"], "figures": False, "progress": False}


def tiny_spec(out: Path, seeds=(0, 1, 2, 3), **grid) -> sweep.SweepSpec:
    return sweep.spec_from_dict({"fixed": TINY_FIXED, "grid": {**grid, "seed": list(seeds)},
                                 "out": str(out), "retries": 2})


def accuracies(out: Path) -> dict[int, float]:
    """Seed -> spiking network's test accuracy, from a sweep's run folders."""
    acc = {}
    for run_dir in sorted((out / "runs").iterdir()):
        assert sweep.is_finished(run_dir), run_dir
        metrics = json.loads((run_dir / "metrics.json").read_text())
        acc[metrics["config"]["seed"]] = metrics["models"]["snn"]["test_accuracy"]
    return acc


def attempts(run_dir: Path) -> int:
    path = run_dir / "attempts.jsonl"
    return len(path.read_text().splitlines()) if path.exists() else 0


# ---------------------------------------------------------------------------
# The spec, run ids and statistics (no simulation)
# ---------------------------------------------------------------------------
def test_spec_grid_is_every_combination_in_order(tmp_path):
    spec_file = tmp_path / "s.toml"
    spec_file.write_text(textwrap.dedent("""
        retries = 1
        [fixed]
        dataset = "digits"
        n_train = 100
        [grid]
        n_neurons = [10, 20, 40]
        rule = ["power_law", "triplet"]
        seed = [0, 1]
    """))
    spec = sweep.load_spec(spec_file, out=tmp_path / "out")
    runs = sweep.plan_runs(spec)
    assert len(runs) == 12
    assert [(r.config["n_neurons"], r.config["rule"], r.config["seed"]) for r in runs[:3]] == [
        (10, "power_law", 0), (10, "power_law", 1), (10, "triplet", 0)]
    assert all(r.config["dataset"] == "digits" and r.config["n_train"] == 100 for r in runs)
    assert len({r.id for r in runs}) == 12
    # each config's first seed is scheduled first (different shapes compile side by side)
    assert sweep._seed_ranks(runs) == [0, 1] * 6
    assert all(r.dir == tmp_path / "out" / "runs" / r.id for r in runs)
    assert spec.retries == 1 and spec.name == "s"
    # a run's id depends on its config and task only, not on key order
    assert sweep.run_id({"a": 1, "b": 2}) == sweep.run_id({"b": 2, "a": 1})
    assert sweep.run_id({"a": 1}) != sweep.run_id({"a": 2})
    assert sweep.run_id({"a": 1}, "m:f") != sweep.run_id({"a": 1}, "m:g")


def test_spec_overrides_replace_fixed_keys_and_grid_axes(tmp_path):
    raw = {"fixed": {"n_train": 100}, "grid": {"n_neurons": [10, 20], "seed": [0, 1]}}
    spec = sweep.spec_from_dict(raw, overrides={"n_train": 50, "n_neurons": 30,
                                                "seed": [5, 6, 7], "data_dir": "data"})
    assert spec.fixed["n_train"] == 50 and spec.fixed["n_neurons"] == 30
    assert spec.grid == {"seed": [5, 6, 7]}
    assert spec.fixed["data_dir"] == os.path.abspath("data")  # runs may start elsewhere


@pytest.mark.parametrize("text, message", [
    ("[grid]\nseed = 3\n", "non-empty list"),
    ("[grid]\nseed = []\n", "non-empty list"),
    ("[grid]\nseed = [1, 1]\n", "twice"),
    ("[fixed]\nseed = 1\n[grid]\nseed = [1, 2]\n", "both in [fixed] and in [grid]"),
    ("n_neurons = 10\n", "unknown key"),
    ("retries = -1\n", "retries"),
    ("task = 'nocolon'\n", "module:function"),
    ("[grid\n", "not valid TOML"),
])
def test_bad_specs_are_one_line_errors(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"bad\.toml") as err:
        sweep.load_spec(path)
    assert message in str(err.value)
    assert "\n" not in str(err.value).strip()


def test_bad_config_is_refused_before_anything_runs(tmp_path):
    spec = sweep.spec_from_dict({"fixed": {"n_neuronz": 10}, "grid": {"seed": [0]},
                                 "out": str(tmp_path / "out")})
    with pytest.raises(ConfigError, match="seed=0.*n_neuronz"):
        sweep.run_sweep(spec, progress=False)
    assert not (tmp_path / "out").exists()


def test_script_reports_a_missing_spec(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "experiments" / "sweep.py"),
                           str(tmp_path / "nope.toml")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: sweep spec") and "nope.toml" in proc.stderr


def test_example_specs_are_valid(repo_root):
    for name in ("default", "rules", "paper_table"):
        spec = sweep.load_spec(repo_root / "sweeps" / f"{name}.toml")
        runs = sweep.plan_runs(spec)
        sweep.check_runs(spec, runs)
        seeds = {r.config["seed"] for r in runs}
        assert len(seeds) >= 3, name
    default = sweep.load_spec(repo_root / "sweeps" / "default.toml")
    assert default.fixed["dataset"] == "digits" and len(default.grid["n_neurons"]) >= 2
    paper = sweep.load_spec(repo_root / "sweeps" / "paper_table.toml")
    assert paper.grid["n_neurons"] == [100, 400, 1600, 6400]
    assert paper.fixed["protocol"] == "paper"


def test_seed_statistics_use_the_t_distribution():
    from scipy import stats

    values = [0.70, 0.74, 0.69]
    s = sweep.seed_statistics(values)
    assert s["n"] == 3
    assert s["mean"] == pytest.approx(np.mean(values))
    assert s["sd"] == pytest.approx(np.std(values, ddof=1))
    lo, hi = stats.t.interval(0.95, 2, loc=np.mean(values), scale=stats.sem(values))
    assert s["ci95"] == pytest.approx([lo, hi])
    # 95 % with 3 seeds: t(2) = 4.30, far wider than +- 2 sd / sqrt(n)
    assert hi - s["mean"] > 2 * s["sd"] / math.sqrt(3)
    one = sweep.seed_statistics([0.5])
    assert one["mean"] == 0.5 and one["sd"] is None and one["ci95"] is None


def test_sweep_plots_draw_every_model_the_paper_and_each_rule():
    import matplotlib.pyplot as plt

    from brainsim import sweep_plots

    def group(n, rule, acc, sd):
        metrics = {f"{m}.test_accuracy": {"mean": a, "sd": sd, "n": 3, "ci95": None}
                   for m, a in zip(("snn", "kmeans", "ann_matched"), acc)}
        return {"config": {"n_neurons": n, "rule": rule}, "varying": {"n_neurons": n, "rule": rule},
                "n_seeds": 3, "metrics": metrics}

    groups = [group(n, r, (0.5 + n / 1000, 0.6, 0.8), 0.02)
              for n in (25, 100) for r in ("power_law", "triplet")]
    ax = sweep_plots.plot_accuracy_vs_neurons(groups)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert sum("spiking network" in t for t in labels) == 2  # one per rule
    assert sum("k-means" in t for t in labels) == 2 and sum("MLP" in t for t in labels) == 2
    assert any("Diehl & Cook" in t for t in labels)
    assert ax.get_xscale() == "log"
    paper = [ln for ln in ax.get_lines() if ln.get_label().startswith("Diehl")][0]
    assert list(paper.get_xdata()) == [100, 400, 1600, 6400]
    assert np.allclose(paper.get_ydata(), [82.9, 87.0, 91.9, 95.0])
    plt.close("all")
    ax = sweep_plots.plot_accuracy_per_rule(groups)
    heights = sorted(round(p.get_height(), 6) for p in ax.patches)
    assert heights == sorted([52.5, 52.5, 60.0, 60.0])
    plt.close("all")


# ---------------------------------------------------------------------------
# Sweeps of real runs on Dask
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def local_client():
    """A LocalCluster of 2 single-threaded worker processes, no dashboard (HTTP on a free port)."""
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": 3}):
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=":0", scheduler_kwargs={"dashboard": False},
                          silence_logs=40) as cluster, \
                Client(cluster) as client:
            yield client


@pytest.fixture(scope="module")
def local_sweep(local_client, tmp_path_factory):
    """A 4-seed sweep of tiny networks run on the local cluster."""
    out = tmp_path_factory.mktemp("local") / "sweep"
    result = sweep.run_sweep(tiny_spec(out), client=local_client, progress=False)
    return out, result


@pytest.mark.slow
@pytest.mark.standalone
def test_local_sweep_writes_run_folders_summary_and_figures(local_sweep, local_client):
    import csv

    out, result = local_sweep
    assert not result.failed and len(result.finished) == 4 and not result.skipped
    for run_dir in (out / "runs").iterdir():
        names = {p.name for p in run_dir.iterdir()}
        assert {"config.json", "metrics.json", "done.json", "log.txt"} <= names
        assert not [n for n in names if n.endswith(".tmp")]
        assert attempts(run_dir) == 1
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert len(rows) == 4 and {r["status"] for r in rows} == {"finished"}
    assert sorted(int(r["seed"]) for r in rows) == [0, 1, 2, 3]
    assert {r["n_neurons"] for r in rows} == {"10"}
    snn = np.array([float(r["snn.test_accuracy"]) for r in rows])
    ann = np.array([float(r["ann_matched.test_accuracy"]) for r in rows])
    km = np.array([float(r["kmeans.test_accuracy"]) for r in rows])
    assert np.all((snn >= 0) & (snn <= 1))
    assert np.all((ann >= 0) & (ann <= 1))  # 10 hidden units on 100 images: poor, can be at chance
    assert np.all(km > 0.3)  # 10 prototypes: about 0.6-0.7; chance is 0.1
    assert len(set(snn)) > 1  # the seeds really differ
    summary = json.loads((out / "summary.json").read_text())
    (group,) = summary["groups"]
    assert group["n_seeds"] == 4 and sorted(group["seeds"]) == [0, 1, 2, 3]
    stats = group["metrics"]["snn.test_accuracy"]
    assert stats["mean"] == pytest.approx(snn.mean())
    assert stats["sd"] == pytest.approx(snn.std(ddof=1))
    assert stats["ci95"][0] <= stats["mean"] <= stats["ci95"][1]
    for name in ("accuracy_vs_neurons.png", "accuracy_vs_neurons.pdf"):
        assert (out / name).stat().st_size > 1000
    # started again: nothing is redone
    again = sweep.run_sweep(tiny_spec(out), client=local_client, progress=False)
    assert sorted(again.skipped) == sorted(result.finished) and not again.finished
    assert all(attempts(d) == 1 for d in (out / "runs").iterdir())


def test_a_run_that_keeps_crashing_is_retried_then_reported(local_client, tmp_path):
    # os.abort takes no config: every attempt dies with a TypeError traceback
    spec = sweep.spec_from_dict({"task": "os:abort", "retries": 1, "out": str(tmp_path / "out"),
                                 "grid": {"seed": [0, 1]}})
    result = sweep.run_sweep(spec, client=local_client, progress=False, log=None)
    assert result.all_failed and not result.finished
    assert set(result.failed) == {r.id for r in result.runs}
    assert all("exit code 1" in why and "TypeError" in why for why in result.failed.values())
    assert all(attempts(r.dir) == 2 for r in result.runs)  # first try and one retry
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["n_finished"] == 0 and set(summary["failed"]) == set(result.failed)
    assert (tmp_path / "out" / "summary.csv").read_text().count(",failed,") == 2


def _start(cmd, log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)


def _stop(procs) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    deadline = time.time() + 15
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


@pytest.mark.slow
@pytest.mark.standalone
def test_separate_scheduler_and_workers_give_the_same_accuracies(local_sweep, tmp_path):
    from distributed import Client

    dask_cli = Path(sys.executable).with_name("dask")
    base = [str(dask_cli)] if dask_cli.exists() else [sys.executable, "-m", "dask"]
    sched_file = tmp_path / "scheduler.json"
    procs = [_start(base + ["scheduler", "--scheduler-file", str(sched_file),
                            "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                            "--dashboard-address", "127.0.0.1:0"],
                    tmp_path / "scheduler.log")]
    try:
        deadline = time.time() + 60
        while not sched_file.exists():
            assert procs[0].poll() is None, (tmp_path / "scheduler.log").read_text()
            assert time.time() < deadline, "the scheduler did not start"
            time.sleep(0.2)
        for i in range(2):
            procs.append(_start(base + ["worker", "--scheduler-file", str(sched_file),
                                        "--host", "127.0.0.1", "--nworkers", "1",
                                        "--nthreads", "1", "--no-dashboard"],
                                tmp_path / f"worker{i}.log"))
        with Client(scheduler_file=str(sched_file), timeout="30s") as client:
            client.wait_for_workers(2, timeout=90)
        out = tmp_path / "remote"
        result = sweep.run_sweep(tiny_spec(out), scheduler_file=sched_file,
                                 progress=False, log=None)
        assert len(result.finished) == 4 and not result.failed
        # the runs were spread over both worker processes
        pids = {json.loads((d / "attempts.jsonl").read_text())["pid"]
                for d in (out / "runs").iterdir()}
        assert len(pids) == 2
    finally:
        _stop(procs)
    assert all(p.returncode is not None for p in procs)
    local_out, _ = local_sweep
    assert accuracies(out) == accuracies(local_out)


@pytest.mark.slow
@pytest.mark.standalone
def test_a_killed_worker_does_not_lose_runs(local_client, tmp_path):
    out = tmp_path / "sweep"
    spec = tiny_spec(out, seeds=(0, 1, 2, 3))
    box = {}
    thread = threading.Thread(target=lambda: box.update(
        result=sweep.run_sweep(spec, client=local_client, progress=False, log=None)))
    thread.start()
    victim = None
    deadline = time.time() + 300
    while victim is None and time.time() < deadline:
        for path in (out / "runs").glob("*/attempts.jsonl"):
            if path.read_text().strip() and not sweep.is_finished(path.parent):
                victim = path.parent
                break
        time.sleep(0.05)
    assert victim is not None, "no run started"
    pid = json.loads((victim / "attempts.jsonl").read_text().splitlines()[0])["pid"]
    os.kill(pid, signal.SIGKILL)  # the worker process, in the middle of its run
    thread.join(timeout=600)
    result = box["result"]
    assert not result.failed and len(result.finished) == 4
    assert attempts(victim) == 2  # redone once, on a restarted worker
    assert all(sweep.is_finished(d) for d in (out / "runs").iterdir())


@pytest.mark.slow
@pytest.mark.standalone
def test_a_sweep_killed_with_sigkill_keeps_its_finished_runs(tmp_path):
    spec = tmp_path / "tiny.toml"
    fixed = "\n".join(f"{k} = {json.dumps(v)}" for k, v in TINY_FIXED.items())
    spec.write_text(f"[fixed]\n{fixed}\n[grid]\nseed = [0, 1, 2, 3, 4, 5]\n")
    out = tmp_path / "out"
    cmd = [sys.executable, str(REPO / "experiments" / "sweep.py"), str(spec), "--out", str(out),
           "--workers", "2", "--no-dashboard", "--no-progress"]
    proc = _start(cmd, tmp_path / "first.log")
    try:
        deadline = time.time() + 300
        while not list(out.glob("runs/*/done.json")):
            assert proc.poll() is None, (tmp_path / "first.log").read_text()
            assert time.time() < deadline, "no run finished"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)  # the sweep's own process
        proc.wait()
        time.sleep(3)  # its workers notice and stop, and with them their runs
    finally:
        if _group_alive(proc.pid):  # whatever is left of it
            os.killpg(proc.pid, signal.SIGKILL)
    done_before = {d.name: (d / "done.json").read_text()
                   for d in (out / "runs").iterdir() if sweep.is_finished(d)}
    assert 1 <= len(done_before) < 6
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"{len(done_before)} of 6 runs already finished" in proc.stdout
    for d in (out / "runs").iterdir():
        assert sweep.is_finished(d)
        if d.name in done_before:  # not redone
            assert (d / "done.json").read_text() == done_before[d.name]
            assert attempts(d) == 1
    rows = (out / "summary.csv").read_text().splitlines()
    assert len(rows) == 7 and all(",finished," in r for r in rows[1:])


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


# ---------------------------------------------------------------------------
# The compile cache shared by many processes
# ---------------------------------------------------------------------------
_BUILDER = """
import json, subprocess, sys
import brainsim.simulation as simulation
from brainsim.classifier import DiehlCookSNN
from brainsim.datasets import load_dataset

builds = []
real_run = subprocess.run
def counting_run(cmd, *args, **kwargs):
    if any("_build_main" in str(c) for c in cmd):
        builds.append(cmd)
    return real_run(cmd, *args, **kwargs)
simulation.subprocess.run = counting_run

data = load_dataset("digits", n_train=20, n_test=10)
snn = DiehlCookSNN(n_neurons=7, random_state=3, progress=False)
snn.partial_fit(data.X_train)
print(json.dumps({"builds": len(builds), "weights": float(snn.weights_.sum()),
                  "compile_seconds": snn._training_sim.compile_seconds}))
"""


@pytest.mark.slow
@pytest.mark.standalone
def test_two_processes_build_one_shape_once(tmp_path):
    cache = tmp_path / "cache"
    env = dict(os.environ, BRAINSIM_CACHE=str(cache))
    procs = [subprocess.Popen([sys.executable, "-c", _BUILDER], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=900) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    results = [json.loads(o[0].strip().splitlines()[-1]) for o in outs]
    assert sorted(r["builds"] for r in results) == [0, 1]  # one compile in all
    assert sorted(r["compile_seconds"] > 0 for r in results) == [False, True]
    assert results[0]["weights"] == results[1]["weights"]  # same seed, same network
    entries = sorted(p.name for p in cache.iterdir())
    (key,) = [e for e in entries if not e.endswith(".lock")]
    assert entries == [key, f"{key}.lock"]  # published; no build folder left over
    assert (cache / key / "main").exists() and (cache / key / "brainsim_meta.json").exists()
