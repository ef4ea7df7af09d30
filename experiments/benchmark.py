#!/usr/bin/env python3
"""Speed of the spiking network: compile, training, inference, memory, baseline.

For each network size (``--sizes``, default 100 and 400 excitatory neurons),
on MNIST by default:

- ``compile_s``: generating and compiling the C++ standalone code of the
  training and the inference network (a fresh cache folder, so it is really
  compiled), one after the other; ``compile_learning_s`` and
  ``compile_inference_s`` are the two parts (each network shape is compiled
  once), and ``reuse_s`` is starting the same networks in a second process
  from the cache;
- ``train_images_per_s``: training (STDP on, retries included) on
  ``--n-train`` images, chunked and compiled;
- ``inference_images_per_s``: learning off, ``--n-copies`` copies simulated
  side by side, on ``--n-infer`` images;
- ``peak_memory_mb``: largest resident memory of this Python process plus the
  largest of the compiled binary's runs (they run at the same time), with the
  whole training set loaded;
- ``baseline_train_images_per_s``: the same network run the common way
  (Brian2 runtime mode, one ``run()`` per presentation, see
  ``brainsim/baseline.py``) on ``--n-baseline`` images, and
  ``speedup_vs_baseline``.

Results are printed and written to ``metrics.json`` (object ``benchmark``).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from brainsim.baseline import train_one_run_per_image
from brainsim.classifier import DiehlCookSNN
from brainsim.cli import (
    load_dataset_from_args,
    make_parser,
    positive_int,
    run_script,
    write_metrics,
)
from brainsim.simulation import initial_state


def build_parser():
    """Shared options (data set MNIST by default) plus sizes and counts."""
    parser = make_parser(__doc__.splitlines()[0], default_out="benchmark")
    parser.set_defaults(dataset="mnist")
    parser.add_argument("--sizes", type=positive_int, nargs="+", default=[100, 400],
                        help="numbers of excitatory neurons to measure")
    parser.add_argument("--n-train", type=positive_int, default=2000,
                        help="training images timed per size")
    parser.add_argument("--n-infer", type=positive_int, default=2000,
                        help="test images timed per size (learning off)")
    parser.add_argument("--n-baseline", type=positive_int, default=6,
                        help="images for the one-run-per-image baseline (the first is a warm-up)")
    parser.add_argument("--n-copies", type=positive_int, default=8,
                        help="network copies simulated side by side for inference")
    parser.add_argument("--threads", type=int, default=0,
                        help="OpenMP threads of the compiled network (0: single-threaded)")
    parser.add_argument("--cache", default=None,
                        help="compiled-network cache to use (default: a fresh temporary "
                             "folder, so that compile_s measures a real compilation)")
    parser.add_argument("--baseline-target", choices=("numpy", "cython"), default="numpy",
                        help="Brian2 runtime target of the baseline (numpy was the faster "
                             "here and needs no compilation)")
    return parser


_REUSE_SNIPPET = """
import json, sys, time
start = time.perf_counter()
from brainsim.network import NetworkShape
from brainsim.simulation import StandaloneSimulator
for shape in json.loads(sys.argv[1]):
    StandaloneSimulator(NetworkShape(**shape), openmp_threads=int(sys.argv[3]), directory=sys.argv[2])
print(time.perf_counter() - start)
"""


def measure_size(n_neurons: int, data, args, cache: Path) -> dict:
    """All figures for one network size."""
    from dataclasses import asdict

    X_train = data.X_train.reshape(len(data.X_train), -1)
    X_test = data.X_test.reshape(len(data.X_test), -1)
    snn = DiehlCookSNN(n_neurons=n_neurons, cache_dir=str(cache), progress=False,
                       n_copies=args.n_copies, openmp_threads=args.threads,
                       random_state=args.seed)
    snn.partial_fit(X_train[: args.n_train])
    compile_train = snn.timings_["build"]
    train_s = snn.timings_["train"]
    start = time.perf_counter()
    result = snn.respond(X_test[: args.n_infer])
    infer_s = time.perf_counter() - start - (snn.timings_["build"] - compile_train)
    compile_s = snn.timings_["build"]

    shapes = [asdict(snn._shape(learning=True)), asdict(snn._shape(learning=False))]
    proc = subprocess.run([sys.executable, "-c", _REUSE_SNIPPET, json.dumps(shapes), str(cache),
                           str(args.threads)], capture_output=True, text=True, check=True)
    reuse_s = float(proc.stdout.strip().splitlines()[-1])

    peak_binary = max(getattr(sim, "peak_rss_mb", 0.0) for sim in _simulators(snn))
    peak_python = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    state = initial_state(X_train.shape[1], n_neurons, np.random.default_rng(args.seed))
    _, baseline_spi = train_one_run_per_image(
        X_train[: args.n_baseline], state, target=args.baseline_target,
        random_state=args.seed, warmup=1)
    train_rate = args.n_train / train_s
    return {
        "compile_s": compile_s,
        "compile_learning_s": compile_train,
        "compile_inference_s": compile_s - compile_train,
        "reuse_s": reuse_s,
        "train_images_per_s": train_rate,
        "train_presentations": snn.training_presentations_,
        "inference_images_per_s": args.n_infer / infer_s,
        "inference_spikes_per_image": float(result.counts.sum(axis=1).mean()),
        "peak_memory_mb": peak_python + peak_binary,
        "peak_memory_python_mb": peak_python,
        "peak_memory_binary_mb": peak_binary,
        "baseline_train_images_per_s": 1.0 / baseline_spi,
        "speedup_vs_baseline": train_rate * baseline_spi,
        "n_train": args.n_train, "n_infer": args.n_infer, "n_baseline_timed": args.n_baseline - 1,
    }


def _simulators(snn: DiehlCookSNN):
    sims = [getattr(snn, "_inference_sim", None), getattr(snn, "_training_sim", None)]
    return [s for s in sims if s is not None]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    data = load_dataset_from_args(args)  # the whole training set, as for a full run
    bench = {}
    with tempfile.TemporaryDirectory(prefix="brainsim-bench-") as tmp:
        for n in args.sizes:
            print(f"measuring {n} neurons ...", flush=True)
            cache = Path(args.cache) if args.cache else Path(tmp) / f"cache{n}"
            fig = measure_size(n, data, args, cache)
            bench[str(n)] = fig
            print(f"  N={n}: compile {fig['compile_s']:.1f} s (learning network "
                  f"{fig['compile_learning_s']:.1f} s, inference network "
                  f"{fig['compile_inference_s']:.1f} s; reuse in a new process "
                  f"{fig['reuse_s']:.2f} s); training {fig['train_images_per_s']:.1f} img/s; "
                  f"inference {fig['inference_images_per_s']:.1f} img/s; peak memory "
                  f"{fig['peak_memory_mb']:.0f} MB; one-run-per-image baseline "
                  f"{fig['baseline_train_images_per_s']:.2f} img/s -> speedup "
                  f"{fig['speedup_vs_baseline']:.0f}x", flush=True)
    write_metrics(out, models={}, config=vars(args),
                  timings={"total": time.perf_counter() - t_start}, benchmark=bench,
                  machine={"cpus": os.cpu_count()})
    print(f"wrote {out / 'metrics.json'} in {time.perf_counter() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    run_script(main)
