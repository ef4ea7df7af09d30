#!/usr/bin/env python3
"""Train the spiking network with each of the four STDP rules of Diehl & Cook (2015).

For every rule in ``--rules`` (default: all four), a network of ``--n-neurons``
excitatory neurons learns from the first ``--n-train`` training images, its
neurons are labelled on the same images, and it is scored on ``--n-test``
test images. Writes ``metrics.json`` (one model ``snn_<rule>`` per rule) and
``receptive_fields_rules`` (the learned weights of every rule side by side).

Example (the check of the rules on MNIST)::

    python experiments/rules.py --dataset mnist --data-dir ../shared/data/mnist \\
        --n-neurons 100 --n-train 2000 --n-test 1000
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from brainsim.classifier import DiehlCookSNN
from brainsim.cli import (
    load_dataset_from_args,
    make_parser,
    positive_int,
    run_script,
    save_figure,
    write_metrics,
)
from brainsim.plasticity import RULES


def build_parser():
    """Shared options plus network size, rules and sizes."""
    parser = make_parser(__doc__.splitlines()[0], default_out="rules")
    parser.add_argument("--rules", nargs="+", choices=sorted(RULES), default=list(RULES),
                        help="learning rules to train")
    parser.add_argument("--n-neurons", type=positive_int, default=100,
                        help="excitatory neurons")
    parser.add_argument("--n-train", type=positive_int, default=2000,
                        help="training images (also used for the label assignment)")
    parser.add_argument("--n-test", type=positive_int, default=1000, help="test images")
    parser.add_argument("--backend", choices=("standalone", "runtime", "cython"),
                        default="standalone", help="simulation back end")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    data = load_dataset_from_args(args, n_train=args.n_train, n_test=args.n_test)
    models, timings, weights = {}, {}, {}
    for rule in args.rules:
        start = time.perf_counter()
        snn = DiehlCookSNN(n_neurons=args.n_neurons, learning_rule=rule, backend=args.backend,
                           progress=not args.no_progress, random_state=args.seed)
        snn.fit(data.X_train, data.y_train)
        acc = snn.score(data.X_test, data.y_test)
        timings[rule] = time.perf_counter() - start
        weights[rule] = snn.weights_
        models[f"snn_{rule}"] = {
            "test_accuracy": acc, "n_train": len(data.y_train), "n_test": len(data.y_test),
            "rule": rule, "n_neurons": args.n_neurons,
            "training_presentations": snn.training_presentations_,
            "unassigned_neurons": int(np.sum(snn.assignments_ < 0)),
            "train_seconds": snn.timings_.get("train"),
        }
        print(f"{rule:12s} test accuracy {acc:.3f} ({len(data.y_test)} images, "
              f"{timings[rule]:.0f} s)", flush=True)

    import matplotlib.pyplot as plt

    from brainsim import plotting

    plotting.apply_style()
    fig, axes = plt.subplots(1, len(weights), figsize=(4.2 * len(weights), 4.4), squeeze=False)
    for ax, (rule, w) in zip(axes[0], weights.items()):
        acc = models[f"snn_{rule}"]["test_accuracy"]
        plotting.plot_receptive_fields(w, data.image_shape, ax=ax, colorbar=False,
                                       title=f"{rule} ({100 * acc:.1f} %)")
    figures = [str(p) for p in save_figure(fig, out, "receptive_fields_rules")]
    write_metrics(out, models=models, config=vars(args),
                  timings=dict(timings, total=time.perf_counter() - t_start), figures=figures)
    return 0


if __name__ == "__main__":
    run_script(main)
