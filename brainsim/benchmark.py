"""Speed of the spiking network, measured: compile, training, inference, memory.

:func:`run_benchmark` measures, for each network size and each instruction
set (``-march``, see :mod:`brainsim.machine`), on the same machine in the same
run:

- ``compile_s``: generating and compiling the C++ standalone code of the
  training and the inference network (in a fresh cache folder unless one is
  given, so that it is really compiled; both at once, as ``DiehlCookSNN.compile``
  does); ``compile_learning_s`` and ``compile_inference_s`` are the two wall
  times, ``compile_s`` their sum, ``reuse_s`` is starting the same networks in
  a second process from the cache;
- ``train_images_per_s``: training (STDP on, retries included) on ``n_train``
  images, chunked and compiled;
- ``inference_images_per_s``: learning off, ``n_copies`` copies simulated side
  by side, on ``n_infer`` images;
- ``train_images_per_cpu_s``, ``inference_images_per_cpu_s``: the same images
  per CPU second used by the compiled binaries (user + system time of the child
  processes): on a shared, loaded machine the wall-clock rates fall with the
  load, these do not (much);
- ``peak_memory_mb``: largest resident memory of the Python process plus the
  largest of the compiled binary's runs (they run at the same time), with the
  whole training set loaded;
- ``baseline_train_images_per_s``: the same network run the common way
  (Brian2 runtime mode, one ``run()`` per presentation,
  :mod:`brainsim.baseline`) on ``n_baseline`` images (the first is a warm-up),
  and ``speedup_vs_baseline``, the ratio of the two measured in this run;
- ``paper_protocol_hours``: the time one run of the paper's protocol for this
  size would take at the measured speeds (:data:`PAPER_TRAINING_IMAGES`, plus
  labelling 60,000 and testing 10,000 images at inference speed);
- with ``jobs`` set, ``inference_jobs_images_per_s``: inference of the same
  ``n_infer`` images in blocks (``DiehlCookSNN(n_jobs=...)``) with 1 job and
  with ``jobs`` jobs, ``inference_jobs_speedup`` the ratio of the two and
  ``inference_blocks`` the number of blocks (at most that many run at once).

Every record carries the machine (CPU model, vector extensions, compiler,
``-march``, load average before and after), since every speed figure is only
meaningful with the CPU it came from and, on a shared machine, its load.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from brainsim.machine import machine_info

#: Training images of the paper's protocol by network size: 100 neurons as this
#: project's reference run (40,000 images, README); the larger networks see the
#: 60,000 training images 3, 7 and 15 times, as issue 12 states them for [DC15]
#: (not re-checked against the paper's text).
PAPER_TRAINING_IMAGES = {100: 40_000, 400: 3 * 60_000, 1600: 7 * 60_000, 6400: 15 * 60_000}
#: Images labelled (assignment, on the training set) and tested, at inference speed.
PAPER_LABEL_IMAGES, PAPER_TEST_IMAGES = 60_000, 10_000


def copies_for_size(n_neurons: int) -> int:
    """Inference copies simulated side by side for a network size: 8 up to 400
    neurons, fewer above, so that all copies together have at most 3,200
    excitatory neurons. Copies share the per-step overhead, which matters for
    small networks; at 1,600 neurons 2 copies inferred faster than 8 (77 vs 70
    img/s on one idle Zen 4 core: the larger working set of 8 copies costs more
    than the shared overhead saves), see docs/performance.md."""
    return max(1, min(8, 3200 // n_neurons))


@dataclass
class BenchmarkOptions:
    """What to measure.

    Attributes
    ----------
    sizes : list of int
        Numbers of excitatory neurons.
    marches : list of str
        ``-march`` values to build for (``native``, ``x86-64-v3`` = AVX2, ...).
    n_train, n_infer : int
        Images timed for training and for inference, per size.
    n_baseline : int
        Images of the one-``run()``-per-image baseline (the first is a warm-up);
        0 skips it.
    baseline_sizes : list of int or None
        Sizes with a baseline (None: all).
    n_copies : int or None
        Copies of the inference network (None: :func:`copies_for_size`).
    threads : int
        OpenMP threads (0: single-threaded binary).
    learning_processes : int
        Processes sharing the learning network (``DiehlCookSNN(learning_processes=...)``).
    jobs : int or None
        Also measure inference with ``n_jobs=1`` and ``n_jobs=jobs`` (parallel
        blocks); None: not measured.
    cache : str or None
        Compiled-network cache (None: a fresh folder per size and march).
    baseline_target : {"numpy", "cython"}
        Brian2 runtime target of the baseline.
    seed : int
        Random seed.
    """

    sizes: list
    marches: list
    n_train: int = 2000
    n_infer: int = 2000
    n_baseline: int = 6
    baseline_sizes: list | None = None
    n_copies: int | None = None
    threads: int = 0
    learning_processes: int = 1
    jobs: int | None = None
    cache: str | None = None
    baseline_target: str = "numpy"
    seed: int = 0


@contextlib.contextmanager
def _march(value: str):
    """Set $BRAINSIM_MARCH for the builds started inside (child processes inherit it)."""
    old = os.environ.get("BRAINSIM_MARCH")
    os.environ["BRAINSIM_MARCH"] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("BRAINSIM_MARCH", None)
        else:
            os.environ["BRAINSIM_MARCH"] = old


_REUSE_SNIPPET = """
import json, sys, time
start = time.perf_counter()
from brainsim.network import NetworkShape
from brainsim.simulation import make_simulator
for shape, parts in json.loads(sys.argv[1]):
    make_simulator(NetworkShape(**shape), openmp_threads=int(sys.argv[3]), cache=sys.argv[2],
                   parts=parts)
print(time.perf_counter() - start)
"""


def _children_cpu_s() -> float:
    """User + system CPU seconds of this process's finished child processes."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def protocol_hours(n_neurons: int, train_rate: float, infer_rate: float) -> float | None:
    """Hours one run of the paper's protocol takes at these speeds (images/s).

    None for a size the paper does not report.
    """
    n_learn = PAPER_TRAINING_IMAGES.get(n_neurons)
    if n_learn is None:
        return None
    seconds = n_learn / train_rate + (PAPER_LABEL_IMAGES + PAPER_TEST_IMAGES) / infer_rate
    return seconds / 3600


def vector_exp_variants(binary: str | os.PathLike) -> dict[str, int]:
    """glibc vector ``exp`` variants a binary calls, by name, with call counts.

    ``_ZGVeN8v_exp`` is the AVX-512 one (8 doubles), ``_ZGVdN4v_exp`` AVX2 (4),
    ``_ZGVbN2v_exp`` SSE (2); an empty dict means scalar ``exp`` only (or no
    objdump). Read from ``objdump -d``.
    """
    try:
        text = subprocess.run(["objdump", "-d", str(binary)], capture_output=True, text=True,
                              timeout=120).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    calls: dict[str, int] = {}
    for line in text.splitlines():
        if "call" in line and "<_ZGV" in line:
            name = line[line.index("<_ZGV") + 1:].split("@")[0].rstrip(">")
            calls[name] = calls.get(name, 0) + 1
    return calls


def measure_size(n_neurons: int, X_train: np.ndarray, X_test: np.ndarray,
                 opts: BenchmarkOptions, cache: Path, *, baseline: bool) -> dict:
    """All figures for one network size (under the current $BRAINSIM_MARCH)."""
    from brainsim.baseline import train_one_run_per_image
    from brainsim.classifier import DiehlCookSNN
    from brainsim.simulation import initial_state

    load_before = os.getloadavg()
    n_copies = opts.n_copies or copies_for_size(n_neurons)
    snn = DiehlCookSNN(n_neurons=n_neurons, cache_dir=str(cache), progress=False,
                       n_copies=n_copies, openmp_threads=opts.threads,
                       learning_processes=opts.learning_processes, random_state=opts.seed)
    compile_seconds = snn.compile(X_train.shape[1])  # both networks, side by side
    cpu0 = _children_cpu_s()
    snn.partial_fit(X_train[: opts.n_train])
    cpu1 = _children_cpu_s()
    train_s = snn.timings_["train"]
    start = time.perf_counter()
    result = snn.respond(X_test[: opts.n_infer])
    infer_s = time.perf_counter() - start
    cpu2 = _children_cpu_s()
    compile_train, compile_infer = compile_seconds["learning"], compile_seconds["inference"]
    compile_s = compile_train + compile_infer

    shapes = [asdict(snn._shape(learning=True)), asdict(snn._shape(learning=False))]
    parts = [opts.learning_processes, 1]
    proc = subprocess.run([sys.executable, "-c", _REUSE_SNIPPET, json.dumps(list(zip(shapes, parts))),
                           str(cache),
                           str(opts.threads)], capture_output=True, text=True, check=True)
    reuse_s = float(proc.stdout.strip().splitlines()[-1])

    sims = [s for s in (getattr(snn, "_training_sim", None), getattr(snn, "_inference_sim", None))
            if s is not None]
    peak_binary = max(getattr(sim, "peak_rss_mb", 0.0) for sim in sims)
    peak_python = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    train_rate = opts.n_train / train_s
    infer_rate = opts.n_infer / infer_s
    fig = {
        "n_neurons": n_neurons,
        # CPU seconds of the compiled binaries: on a shared machine the img/s per
        # CPU second is what this machine's core does, whatever the load
        "train_images_per_cpu_s": opts.n_train / max(cpu1 - cpu0, 1e-9),
        "inference_images_per_cpu_s": opts.n_infer / max(cpu2 - cpu1, 1e-9),
        "march": os.environ.get("BRAINSIM_MARCH", "native"),
        "n_copies": shapes[1]["n_copies"],
        "learning_processes": opts.learning_processes,
        "compile_s": compile_s,
        "compile_learning_s": compile_train,
        "compile_inference_s": compile_infer,
        "reuse_s": reuse_s,
        "train_images_per_s": train_rate,
        "train_presentations": snn.training_presentations_,
        "inference_images_per_s": infer_rate,
        "inference_spikes_per_image": float(result.counts.sum(axis=1).mean()),
        "peak_memory_mb": peak_python + peak_binary,
        "peak_memory_python_mb": peak_python,
        "peak_memory_binary_mb": peak_binary,
        "paper_protocol_hours": protocol_hours(n_neurons, train_rate, infer_rate),
        "paper_training_images": PAPER_TRAINING_IMAGES.get(n_neurons),
        "vector_exp": {"learning": vector_exp_variants(sims[0].project_dir / "main"),
                       "inference": vector_exp_variants(sims[-1].project_dir / "main")}
        if hasattr(sims[0], "project_dir") else {},
        "n_train": opts.n_train, "n_infer": opts.n_infer,
    }
    if baseline and opts.n_baseline > 1:
        state = initial_state(X_train.shape[1], n_neurons, np.random.default_rng(opts.seed))
        _, baseline_spi = train_one_run_per_image(
            X_train[: opts.n_baseline], state, target=opts.baseline_target,
            random_state=opts.seed, warmup=1)
        fig.update(baseline_train_images_per_s=1.0 / baseline_spi,
                   speedup_vs_baseline=train_rate * baseline_spi,
                   n_baseline_timed=opts.n_baseline - 1)
    if opts.jobs:
        fig.update(_measure_jobs(snn, X_test[: opts.n_infer], opts.jobs))
    fig["load_average_before"] = list(load_before)
    fig["load_average_after"] = list(os.getloadavg())
    return fig


def _measure_jobs(snn, X: np.ndarray, jobs: int) -> dict:
    """Inference rates in parallel blocks with 1 job and with ``jobs`` jobs (same images)."""
    rates = {}
    for n_jobs in dict.fromkeys([1, jobs]):
        snn.set_params(n_jobs=n_jobs)
        start = time.perf_counter()
        snn.respond(X)
        rates[str(n_jobs)] = len(X) / (time.perf_counter() - start)
    snn.set_params(n_jobs=None)
    return {"inference_jobs_images_per_s": rates,
            "inference_jobs_speedup": rates[str(jobs)] / rates["1"],
            "inference_blocks": -(-len(X) // snn.inference_block_size),
            "inference_block_size": snn.inference_block_size}


def describe(fig: dict) -> str:
    """One line of a measured size, for the console."""
    text = (f"N={fig['n_neurons']} (-march={fig['march']}): compile {fig['compile_s']:.1f} s "
            f"(learning {fig['compile_learning_s']:.1f} s, inference "
            f"{fig['compile_inference_s']:.1f} s; reuse {fig['reuse_s']:.2f} s); training "
            f"{fig['train_images_per_s']:.1f} img/s; inference "
            f"{fig['inference_images_per_s']:.1f} img/s ({fig['n_copies']} copies); per CPU "
            f"second of the binaries: training {fig['train_images_per_cpu_s']:.1f}, inference "
            f"{fig['inference_images_per_cpu_s']:.1f} img; peak memory "
            f"{fig['peak_memory_mb']:.0f} MB")
    if "speedup_vs_baseline" in fig:
        text += (f"; one-run-per-image baseline {fig['baseline_train_images_per_s']:.2f} img/s"
                 f" -> speedup {fig['speedup_vs_baseline']:.0f}x")
    if "inference_jobs_images_per_s" in fig:
        rates = fig["inference_jobs_images_per_s"]
        jobs = max(rates, key=int)
        text += (f"; inference in {fig['inference_blocks']} blocks of "
                 f"{fig['inference_block_size']} images: 1 job {rates['1']:.1f} img/s, "
                 f"{jobs} jobs {rates[jobs]:.1f} img/s ({fig['inference_jobs_speedup']:.2f}x)")
    if fig.get("paper_protocol_hours") is not None:
        text += (f"; paper protocol ({fig['paper_training_images']:,} training images + "
                 f"labelling/testing 70,000) {fig['paper_protocol_hours']:.1f} h")
    exp = fig.get("vector_exp", {})
    if exp:
        text += "; vector exp " + ", ".join(
            f"{k}: {'/'.join(sorted(v)) or 'scalar'}" for k, v in exp.items())
    la = fig["load_average_before"]
    text += f"; load average {la[0]:.1f} before, {fig['load_average_after'][0]:.1f} after"
    return text


def run_benchmark(X_train: np.ndarray, X_test: np.ndarray, opts: BenchmarkOptions,
                  workdir: str | os.PathLike, *, report=print) -> dict:
    """Measure every size under every -march value.

    Parameters
    ----------
    X_train, X_test : ndarray, shape (n, n_pixels)
        Images, pixel values 0..255.
    opts : BenchmarkOptions
    workdir : path
        Folder for the fresh compile caches (when ``opts.cache`` is None).
    report : callable
        Called with one line per measured size.

    Returns
    -------
    dict
        ``{"machine": machine_info(), "sizes": {key: figures}}``; the key is the
        size (``"400"``) for the first -march value, ``"400@x86-64-v3"`` for the others.
    """
    X_train = X_train.reshape(len(X_train), -1)
    X_test = X_test.reshape(len(X_test), -1)
    machine = machine_info()
    report(f"machine: {machine['cpu_model']}, {machine['cpus']} CPUs "
           f"({', '.join(machine['vector_extensions']) or 'no vector extensions found'}); "
           f"{machine['compiler'] or 'no compiler found'}")
    figures = {}
    for n in opts.sizes:
        for k, value in enumerate(opts.marches):
            key = str(n) if k == 0 else f"{n}@{value}"
            cache = Path(opts.cache) if opts.cache else Path(workdir) / f"cache{n}-{value}"
            baseline = k == 0 and (opts.baseline_sizes is None or n in opts.baseline_sizes)
            report(f"measuring {n} neurons, -march={value} ...")
            with _march(value):
                figures[key] = measure_size(n, X_train, X_test, opts, cache, baseline=baseline)
            report("  " + describe(figures[key]))
        if len(opts.marches) > 1:
            base = figures[str(n)]
            for value in opts.marches[1:]:
                other = figures[f"{n}@{value}"]
                report(f"  N={n}: -march={value} / -march={opts.marches[0]}: training "
                       f"{other['train_images_per_s'] / base['train_images_per_s']:.2f}x, "
                       f"inference "
                       f"{other['inference_images_per_s'] / base['inference_images_per_s']:.2f}x")
    return {"machine": machine, "sizes": figures}
