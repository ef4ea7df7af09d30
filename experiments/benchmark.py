#!/usr/bin/env python3
"""Speed of the spiking network: compile, training, inference, memory, baseline.

For each network size (``--sizes``) and instruction set (``--march``), on MNIST
by default: compile time, training and inference images per second, peak
memory, the time of one run of the paper's protocol at that speed, and the
speed-up over the same network run the common way (Brian2 runtime mode, one
``run()`` per image), measured side by side in this run. The machine (CPU
model, vector extensions, compiler, load average) is recorded with the figures.
See :mod:`brainsim.benchmark` for each figure's definition.

Example (the AVX-512 and the AVX2 build of every paper size, short runs)::

    experiments/benchmark.py --data-dir ../shared/data/mnist --sizes 100 400 1600 6400 \\
        --march native x86-64-v3 --n-train 300 --n-infer 300

``--jobs N`` also measures inference in parallel blocks (``DiehlCookSNN(n_jobs=...)``)
with 1 and with N jobs on the same images, e.g. at 1,600 neurons (blocks of 250)::

    experiments/benchmark.py --data-dir ../shared/data/mnist --sizes 1600 --jobs 2 \
        --n-infer 2000

Results are printed (the machine first) and written to ``metrics.json``
(objects ``benchmark`` and ``machine``).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from brainsim.benchmark import BenchmarkOptions, run_benchmark
from brainsim.cli import (add_learning_processes_option, add_threads_option, jobs_int, load_dataset_from_args, make_parser,
                          positive_int, run_script, write_metrics)


def build_parser():
    """Shared options (data set MNIST by default) plus sizes, counts and targets."""
    parser = make_parser(__doc__.splitlines()[0], default_out="benchmark")
    parser.set_defaults(dataset="mnist")
    parser.add_argument("--sizes", type=positive_int, nargs="+", default=[100, 400],
                        help="numbers of excitatory neurons to measure (the paper: "
                             "100 400 1600 6400)")
    parser.add_argument("--march", nargs="+", default=["native"],
                        help="GCC -march values to build and measure, e.g. native x86-64-v3 "
                             "(AVX2 only); ratios to the first are printed")
    parser.add_argument("--n-train", type=positive_int, default=2000,
                        help="training images timed per size")
    parser.add_argument("--n-infer", type=positive_int, default=2000,
                        help="test images timed per size (learning off)")
    parser.add_argument("--n-baseline", type=int, default=6,
                        help="images for the one-run-per-image baseline (the first is a "
                             "warm-up; 0: no baseline)")
    parser.add_argument("--baseline-sizes", type=positive_int, nargs="+", default=None,
                        help="sizes with a baseline (default: all)")
    parser.add_argument("--n-copies", type=positive_int, default=None,
                        help="network copies simulated side by side for inference "
                             "(default: 8 up to 400 neurons, then at most 3,200 neurons in all)")
    add_threads_option(parser, 0)
    add_learning_processes_option(parser, 1)
    parser.add_argument("--jobs", type=jobs_int, default=None, metavar="N",
                        help="also measure inference in parallel blocks (DiehlCookSNN n_jobs) "
                             "with 1 and with N jobs on the same --n-infer images (-1: every "
                             "core); blocks hold n_copies x 125 images, so give --n-infer of "
                             "at least N blocks")
    parser.add_argument("--cache", default=None,
                        help="compiled-network cache to use (default: a fresh temporary "
                             "folder, so that compile_s measures a real compilation)")
    parser.add_argument("--baseline-target", choices=("numpy", "cython"), default="numpy",
                        help="Brian2 runtime target of the baseline (numpy was the faster "
                             "here and needs no compilation)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    data = load_dataset_from_args(args)  # the whole training set, as for a full run
    opts = BenchmarkOptions(
        sizes=args.sizes, marches=args.march, n_train=args.n_train, n_infer=args.n_infer,
        n_baseline=args.n_baseline, baseline_sizes=args.baseline_sizes, n_copies=args.n_copies,
        threads=args.threads, learning_processes=args.learning_processes, jobs=args.jobs,
        cache=args.cache,
        baseline_target=args.baseline_target,
        seed=args.seed)
    with tempfile.TemporaryDirectory(prefix="brainsim-bench-") as tmp:
        result = run_benchmark(data.X_train, data.X_test, opts, tmp,
                               report=lambda line: print(line, flush=True))
    write_metrics(out, models={}, config=vars(args),
                  timings={"total": time.perf_counter() - t_start},
                  benchmark=result["sizes"], machine=result["machine"])
    print(f"wrote {out / 'metrics.json'} in {time.perf_counter() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    run_script(main)
