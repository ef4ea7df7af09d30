#!/usr/bin/env python3
"""Check that the compiled and the runtime back ends give the same accuracy.

Trains the same small spiking network with each back end (``--backends``,
default the compiled C++ standalone mode and Brian2's runtime mode with the
Cython target) for several seeds, and reports each back end's test accuracy as
mean and standard deviation over the seeds. The back ends draw different random
numbers, so single runs differ; their accuracies should agree within the
seed-to-seed spread. Writes ``metrics.json`` (models ``snn_<backend>``).

Example::

    python experiments/backends.py --n-neurons 20 --n-train 300 --n-test 200 --seeds 0 1 2
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from brainsim.classifier import DiehlCookSNN
from brainsim.cli import load_dataset_from_args, make_parser, positive_int, run_script, write_metrics


def build_parser():
    """Shared options plus back ends, seeds and sizes."""
    parser = make_parser(__doc__.splitlines()[0], default_out="backends")
    parser.add_argument("--backends", nargs="+", choices=("standalone", "runtime", "cython"),
                        default=["standalone", "cython"], help="back ends to compare")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="random states of the networks")
    parser.add_argument("--n-neurons", type=positive_int, default=20, help="excitatory neurons")
    parser.add_argument("--n-train", type=positive_int, default=300, help="training images")
    parser.add_argument("--n-test", type=positive_int, default=200, help="test images")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    data = load_dataset_from_args(args, n_train=args.n_train, n_test=args.n_test)
    models, timings = {}, {}
    for backend in args.backends:
        accs, seconds = [], []
        for seed in args.seeds:
            start = time.perf_counter()
            snn = DiehlCookSNN(n_neurons=args.n_neurons, backend=backend, progress=False,
                               random_state=seed)
            snn.fit(data.X_train, data.y_train)
            accs.append(snn.score(data.X_test, data.y_test))
            seconds.append(time.perf_counter() - start)
            print(f"{backend:10s} seed {seed}: test accuracy {accs[-1]:.3f} "
                  f"({seconds[-1]:.0f} s)", flush=True)
        models[f"snn_{backend}"] = {
            "test_accuracy": float(np.mean(accs)), "test_accuracy_sd": float(np.std(accs, ddof=1))
            if len(accs) > 1 else 0.0, "accuracies": accs, "seeds": args.seeds,
            "n_train": len(data.y_train), "n_test": len(data.y_test),
        }
        timings[backend] = float(np.sum(seconds))
    for name, m in models.items():
        print(f"{name}: {m['test_accuracy']:.3f} +- {m['test_accuracy_sd']:.3f} "
              f"over seeds {args.seeds}")
    write_metrics(out, models=models, config=vars(args),
                  timings=dict(timings, total=time.perf_counter() - t_start))
    return 0


if __name__ == "__main__":
    run_script(main)
