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
DT = 0.5e-3

ARRAYS = dict(pre="syn_pre", post="syn_post", w="syn_w", spikespace="input_spikespace",
              ge="exc_ge", n_in=N_IN, gain=GAIN)


def test_every_piece_is_shipped_and_fills_completely():
    assert {"delay_steps.h", "delay_line.cpp", "delay_ring.cpp", "input_calendar.cpp",
            "request_stop.cpp", "seed.cpp"} <= set(cpp_files())
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


@pytest.fixture(scope="module")
def driver(tmp_path_factory) -> Path:
    """The driver compiled with every piece (one g++ call, about 2 s)."""
    cxx = shutil.which("g++")
    if cxx is None:
        pytest.skip("g++ not found")
    folder = tmp_path_factory.mktemp("cpp")
    steps = load_cpp("delay_steps.h", pre="syn_pre", delay="syn_delay")
    (folder / "delay_line.inc").write_text(steps + load_cpp("delay_line.cpp", **ARRAYS))
    (folder / "delay_ring.inc").write_text(steps + load_cpp(
        "delay_ring.cpp", **ARRAYS, n_exc=N_EXC, n_pixels=N_PIXELS, n_neurons=N_NEURONS,
        n_copies=N_COPIES))
    (folder / "input_calendar.inc").write_text(load_cpp(
        "input_calendar.cpp", next_spike="cal_next_spike", spikespace="cal_spikespace",
        n_in=CAL_N, slot_steps=SLOT_STEPS))
    (folder / "request_stop.inc").write_text(load_cpp("request_stop.cpp"))
    shutil.copy(DRIVER, folder / "driver.cpp")
    exe = folder / "driver"
    subprocess.run(
        [cxx, "-O2", "-Wall", "-Werror", "-Wno-unused-function", f"-DN_IN={N_IN}",
         f"-DN_EXC={N_EXC}", f"-DCAL_N={CAL_N}", f"-DSLOT_STEPS={SLOT_STEPS}",
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


def test_pyproject_ships_every_piece(repo_root):
    """A non-editable install carries brainsim/cpp only if package-data names it."""
    import fnmatch

    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((repo_root / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["brainsim"]
    for name in cpp_files():
        assert any(fnmatch.fnmatch(f"cpp/{name}", pat) for pat in patterns), name
