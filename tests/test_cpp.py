"""The C++ pieces in brainsim/cpp, on their own: loading, placeholders, and each
piece compiled into a small driver (tests/cpp/driver.cpp) and checked against a
reference computed here or by a plain threshold scan."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from brainsim.cppcode import PLACEHOLDER, cpp_files, cpp_source, load_cpp, placeholders

DRIVER = Path(__file__).parent / "cpp" / "driver.cpp"
N_PIXELS, N_NEURONS, N_COPIES = 5, 3, 2
N_IN, N_EXC = N_PIXELS * N_COPIES, N_NEURONS * N_COPIES
CAL_N, SLOT_STEPS = 40, 740
GAIN = 1.25
W_INH = 17.0
DT = 0.5e-3
EXCHANGE_PARTS, EXCHANGE_TIMEOUT_S = 3, 1.0

ARRAYS = dict(pre="syn_pre", post="syn_post", w="syn_w", spikespace="input_spikespace",
              ge="exc_ge", n_in=N_IN, gain=GAIN, n_neurons=N_NEURONS, n_lanes=1)


def test_every_piece_is_shipped_and_fills_completely():
    assert {"delay_steps.h", "delay_line.cpp", "delay_ring.cpp", "input_calendar.cpp",
            "lateral_inhibition.cpp", "part_exchange.cpp", "request_stop.cpp",
            "seed.cpp"} <= set(cpp_files())
    for name in cpp_files():
        values = {key: 1 for key in placeholders(name)}
        text = load_cpp(name, **values)
        assert not PLACEHOLDER.search(text), name
        assert text.count("\n") > 3


def test_placeholder_errors_name_the_problem():
    with pytest.raises(KeyError, match="no value for placeholder.*n_generators"):
        load_cpp("seed.cpp")
    with pytest.raises(KeyError, match="no placeholder for value.*typo"):
        load_cpp("seed.cpp", n_generators=2, typo=1)
    with pytest.raises(FileNotFoundError, match="no C.. piece 'nothing.cpp'"):
        cpp_source("nothing.cpp")
    with pytest.raises(TypeError):
        load_cpp("seed.cpp", n_generators=True)


def test_values_are_inserted_exactly():
    text = load_cpp("seed.cpp", n_generators=7)
    assert "_i < 7;" in text
    gain = 0.1 + 0.2  # not a short decimal: repr keeps every digit
    code = load_cpp("delay_line.cpp", **dict(ARRAYS, gain=gain))
    assert f"* {gain!r};" in code and float(repr(gain)) == gain


@pytest.fixture(scope="module", params=[1, 2], ids=["1 lane", "2 lanes"])
def driver(tmp_path_factory, request) -> Path:
    """The driver compiled with every piece (one g++ call, about 2 s); the delay line
    and ring split into 1 or 2 lanes (2: neurons [0, 1) and [1, 3) of each copy),
    called one after the other each step, as OpenMP threads would call them."""
    cxx = shutil.which("g++")
    if cxx is None:
        pytest.skip("g++ not found")
    lanes = request.param
    folder = tmp_path_factory.mktemp("cpp")
    steps = load_cpp("delay_steps.h", pre="syn_pre", delay="syn_delay")
    arrays = dict(ARRAYS, n_lanes=lanes)
    (folder / "delay_line.inc").write_text(steps + load_cpp("delay_line.cpp", **arrays))
    (folder / "delay_ring.inc").write_text(steps + load_cpp(
        "delay_ring.cpp", **arrays, n_pixels=N_PIXELS, n_copies=N_COPIES))
    (folder / "input_calendar.inc").write_text(load_cpp(
        "input_calendar.cpp", next_spike="cal_next_spike", spikespace="cal_spikespace",
        n_in=CAL_N, slot_steps=SLOT_STEPS))
    (folder / "request_stop.inc").write_text(load_cpp("request_stop.cpp"))
    inhibition = dict(spikespace="inh_spikespace", gi="exc_gi", n_total=N_EXC,
                      n_neurons=N_NEURONS)
    (folder / "inhibition_fixed.inc").write_text(load_cpp(
        "lateral_inhibition.cpp", **inhibition, weight=repr(W_INH), n_parts=1))
    (folder / "inhibition_scheduled.inc").write_text(load_cpp(
        "lateral_inhibition.cpp", **inhibition, weight="exc_w_inh[j]", n_parts=1))
    (folder / "inhibition_parts.inc").write_text(load_cpp(  # the exchange: driver stand-ins
        "lateral_inhibition.cpp", **inhibition, weight="exc_w_inh[j]", n_parts=2))
    (folder / "part_exchange.inc").write_text(load_cpp(
        "part_exchange.cpp", n_parts=EXCHANGE_PARTS, channel=1, timeout_s=EXCHANGE_TIMEOUT_S))
    shutil.copy(DRIVER, folder / "driver.cpp")
    exe = folder / "driver"
    subprocess.run(
        [cxx, "-O2", "-Wall", "-Werror", "-Wno-unused-function", f"-DN_IN={N_IN}",
         f"-DN_EXC={N_EXC}", f"-DCAL_N={CAL_N}", f"-DSLOT_STEPS={SLOT_STEPS}",
         f"-DN_LANES={lanes}", f"-DEXCHANGE_PARTS={EXCHANGE_PARTS}",
         "driver.cpp", "-o", str(exe)],
        cwd=folder, check=True, capture_output=True, text=True, timeout=120)
    return exe


def _synapses(rng, shared: bool):
    """All-to-all input -> excitatory synapses within each copy, in Brian2's order."""
    # whole steps plus a little: each delay is rounded to steps as Brian2 rounds it
    offset = rng.uniform(-0.3, 0.3, (N_PIXELS, N_NEURONS))
    delay0 = np.clip(rng.integers(0, 6, (N_PIXELS, N_NEURONS)) + offset, 0, None) * DT
    w0 = rng.random((N_PIXELS, N_NEURONS))
    rows = []
    for c in range(N_COPIES):
        d = delay0 if shared else (rng.integers(0, 6, delay0.shape) + 0.1) * DT
        for p in range(N_PIXELS):
            for j in range(N_NEURONS):
                rows.append((c * N_PIXELS + p, c * N_NEURONS + j, float(d[p, j]),
                             float(w0[p, j])))
    return rows


def _run(driver, tmp_path, mode, synapses, spikes, scale_step=-1, scale=1.0):
    data = [str(len(synapses))]
    data += [f"{pre} {post} {delay!r} {w!r}" for pre, post, delay, w in synapses]
    data.append(f"{DT!r} {len(spikes)} {scale_step} {scale!r}")
    data += [" ".join(map(str, [len(s), *s])) for s in spikes]
    path = tmp_path / f"{mode}.txt"
    path.write_text("\n".join(data) + "\n")
    proc = subprocess.run([str(driver), mode, str(path)], capture_output=True, text=True,
                          timeout=60)
    return proc, (np.loadtxt(proc.stdout.splitlines(), ndmin=2) if proc.returncode == 0
                  else None)


def _expected(synapses, spikes, scale_step=-1, scale=1.0):
    """ge increments per step: each spike adds w * gain, d steps later, with the
    weight at arrival (Brian2's on_pre at the delayed step)."""
    ge = np.zeros((len(spikes), N_EXC))
    for step, fired in enumerate(spikes):
        for pre, post, delay, w in synapses:
            if pre in fired:
                arrival = step + int(delay / DT + 0.5)
                if arrival < len(spikes):
                    factor = scale if 0 <= scale_step <= arrival else 1.0
                    ge[arrival, post] += w * factor * GAIN
    return ge


def _random_spikes(rng, n_steps, p=0.2):
    return [sorted(np.flatnonzero(rng.random(N_IN) < p).tolist()) for _ in range(n_steps)]


@pytest.mark.parametrize("seed", [0, 1])
def test_delay_line_delivers_each_spike_with_the_weight_at_arrival(driver, tmp_path, seed):
    rng = np.random.default_rng(seed)
    synapses = _synapses(rng, shared=False)
    spikes = _random_spikes(rng, 40)
    proc, ge = _run(driver, tmp_path, "line", synapses, spikes, scale_step=17, scale=0.5)
    assert proc.returncode == 0, proc.stderr
    expected = _expected(synapses, spikes, scale_step=17, scale=0.5)
    assert expected.sum() > 10
    np.testing.assert_allclose(ge, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_delay_ring_delivers_each_spike_once_at_its_delay(driver, tmp_path, seed):
    rng = np.random.default_rng(seed)
    synapses = _synapses(rng, shared=True)
    spikes = _random_spikes(rng, 40)
    proc, ge = _run(driver, tmp_path, "ring", synapses, spikes)
    assert proc.returncode == 0, proc.stderr
    expected = _expected(synapses, spikes)
    assert expected.sum() > 10
    np.testing.assert_allclose(ge, expected, rtol=1e-12, atol=1e-12)


def test_delay_ring_refuses_copies_with_different_delays(driver, tmp_path):
    rng = np.random.default_rng(2)
    proc, _ = _run(driver, tmp_path, "ring", _synapses(rng, shared=False), [[]] * 3)
    assert proc.returncode == 3
    assert "must share their input weights and delays" in proc.stderr


@pytest.mark.parametrize("p", [0.002, 0.05])
def test_input_calendar_finds_the_same_spikes_as_the_threshold_scan(driver, p):
    out = subprocess.run([str(driver), "calendar", "5", "3", repr(p)], capture_output=True,
                         text=True, timeout=60, check=True).stdout.split()
    n_spikes, mismatches = int(out[0]), int(out[1])
    assert mismatches == 0
    expected = CAL_N * 3 * (SLOT_STEPS - 40) * p  # Poisson spikes during 3 presentations
    assert 0.7 * expected < n_spikes < 1.3 * expected


def test_request_stop_sets_the_stop_flag_only_for_one(driver):
    out = subprocess.run([str(driver), "stop"], capture_output=True, text=True, timeout=60,
                         check=True).stdout.split()
    assert out == ["0", "0", "1", "1"]


def test_lateral_inhibition_adds_to_every_other_neuron_of_the_copy(driver):
    """Same sums as [DC15]'s all-to-all synapses i != j within each copy."""
    steps = [[0], [], [1, 4], [0, 1, 2, 3, 4, 5], [5]]
    out = subprocess.run([str(driver), "inhibit", *(",".join(map(str, s)) for s in steps)],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    gi = np.loadtxt(out.splitlines(), ndmin=2)
    copy = np.arange(N_EXC) // N_NEURONS
    variants = ((0, np.full(N_EXC, W_INH), 0), (1, np.arange(N_EXC) + 1.0, 0),
                (2, np.arange(N_EXC) + 1.0, 1))  # 2: step % 3 spikes of other parts too
    for variant, weight, parts in variants:
        expected, total = [], np.zeros(N_EXC)
        for step, fired in enumerate(steps):
            for i in fired:  # synapses from i to every j != i of i's copy
                targets = (copy == copy[i]) & (np.arange(N_EXC) != i)
                total[targets] += weight[targets]
            for _ in range(parts * (step % 3)):  # another part's neuron: every j
                total += weight
            expected.append(total.copy())
        np.testing.assert_array_equal(gi[variant * len(steps):(variant + 1) * len(steps)],
                                      expected)
    assert gi[0].tolist() == [0, W_INH, W_INH, 0, 0, 0]  # neuron 0 inhibits 1 and 2 only
    assert len(gi) == 3 * len(steps) + 1
    # the parts variant published each step's own number of spikes (the last: 1)
    assert gi[-1].tolist() == [len(steps[-1])] * N_EXC


def _exchange_file(tmp_path) -> Path:
    path = tmp_path / "exchange"
    path.write_bytes(bytes(2 * 64 * EXCHANGE_PARTS))
    return path


def _start_part(driver, path, part, n_calls):
    import os

    env = dict(os.environ, BRAINSIM_EXCHANGE=str(path), BRAINSIM_PART=str(part))
    return subprocess.Popen([str(driver), "exchange", str(n_calls)], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_part_exchange_sums_the_other_parts_values_at_every_call(driver, tmp_path):
    """Three processes, 20,000 calls: every call returns the sum of the others'
    values of that call (the two alternating cells are never overwritten early)."""
    path = _exchange_file(tmp_path)
    parts = [_start_part(driver, path, p, 20000) for p in range(EXCHANGE_PARTS)]
    outs = [p.communicate(timeout=120) for p in parts]
    assert [p.returncode for p in parts] == [0] * EXCHANGE_PARTS, outs
    assert [out.strip() for out, _ in outs] == ["ok 20000"] * EXCHANGE_PARTS


def test_part_exchange_gives_up_on_a_part_that_never_comes(driver, tmp_path):
    """A part whose partners never start stops with an error after the timeout
    (1 s in the driver, 600 s in the networks) instead of waiting for ever."""
    import time

    start = time.perf_counter()
    alone = _start_part(driver, _exchange_file(tmp_path), 0, 5)
    _, err = alone.communicate(timeout=60)
    assert alone.returncode == 3
    assert "another part made no progress for 1.0 s" in err
    assert time.perf_counter() - start < 30


def test_pyproject_ships_every_piece(repo_root):
    """A non-editable install carries brainsim/cpp only if package-data names it."""
    import fnmatch

    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((repo_root / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["brainsim"]
    for name in cpp_files():
        assert any(fnmatch.fnmatch(f"cpp/{name}", pat) for pat in patterns), name


GENERATED = '''#include "objects.h"
void _write_arrays()
{
    using namespace brian;

    ofstream outfile__array_a;
    outfile__array_a.open(results_dir + "_array_a_1", ios::binary | ios::out);
    if(outfile__array_a.is_open())
    {
        outfile__array_a.write(reinterpret_cast<char*>(_array_a), 8*sizeof(_array_a[0]));
        outfile__array_a.close();
    } else
    {
        std::cout << "Error writing output file for _array_a." << endl;
    }
    ofstream outfile__dynamic_array_b;
    outfile__dynamic_array_b.open(results_dir + "_dynamic_array_b_2", ios::binary | ios::out);
    if(outfile__dynamic_array_b.is_open())
    {
        if (! _dynamic_array_b.empty() )
        {
            outfile__dynamic_array_b.write(reinterpret_cast<char*>(&_dynamic_array_b[0]), 1);
            outfile__dynamic_array_b.close();
        }
    } else
    {
        std::cout << "Error writing output file for _dynamic_array_b." << endl;
    }
    // Write last run info to disk
    ofstream outfile_last_run_info;
    outfile_last_run_info.open(results_dir + "last_run_info.txt", ios::out);
    outfile_last_run_info.close();
}

void _dealloc_arrays()
{
}
'''


NETWORK_LOOP_2_9 = '''    while(clock && clock->running() && !Network::_globally_stopped)
    {
        t = clock->t[0];
        for(size_t i=0; i<objects.size(); i++)
        {
            if (report_func)
            {
                current = std::clock();
            }
            objects[i].second();
        }
        clock = next_clocks();

        current = std::clock();
        elapsed_realtime = (double)(current - start)/(1 * CLOCKS_PER_SEC);


    }
    Network::_globally_running = false;

    _last_run_time = elapsed_realtime;
'''


def test_time_run_once_moves_the_per_step_clock_after_the_loop():
    from brainsim.cppcode import time_run_once

    text = time_run_once(NETWORK_LOOP_2_9)
    body, after_loop = text.split("clock = next_clocks();")[1].split("\n    }\n", 1)
    assert "std::clock" not in body and "elapsed_realtime" not in body
    moved, rest = after_loop.split("Network::_globally_running = false;")
    assert "current = std::clock(); elapsed_realtime = " in moved
    assert moved.rstrip().endswith("(cppcode.time_run_once)")
    assert "_last_run_time = elapsed_realtime;" in rest
    # without the per-step reading (Brian2 >= 2.10, OpenMP builds): unchanged
    once = NETWORK_LOOP_2_9.replace(
        "        current = std::clock();\n        elapsed_realtime = (double)(current - start)"
        "/(1 * CLOCKS_PER_SEC);\n", "")
    assert once != NETWORK_LOOP_2_9 and time_run_once(once) == once
    assert time_run_once(text) == text


def test_prune_written_arrays_keeps_only_the_files_read_back():
    from brainsim.cppcode import prune_written_arrays

    kept = prune_written_arrays(GENERATED, {"_dynamic_array_b_2"})
    assert '"_dynamic_array_b_2"' in kept and '"_array_a_1"' not in kept
    assert "last_run_info" not in kept and "outfile__array_a" not in kept
    assert kept.startswith('#include "objects.h"\nvoid _write_arrays()\n{\n    using namespace brian;')
    assert kept.endswith("}\n\nvoid _dealloc_arrays()\n{\n}\n")
    assert kept.count("{") == kept.count("}")  # whole blocks removed
    assert prune_written_arrays(GENERATED, {"_array_a_1", "_dynamic_array_b_2",
                                            "last_run_info.txt"}) == GENERATED
    with pytest.raises(ValueError, match="does not write.*_array_c"):
        prune_written_arrays(GENERATED, {"_array_c"})
    with pytest.raises(ValueError, match="no _write_arrays"):
        prune_written_arrays("int main() {}\n", set())
