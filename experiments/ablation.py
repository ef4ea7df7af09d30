#!/usr/bin/env python3
"""Ablation: switch each mechanism of an improved recipe off in turn, on a validation split.

Every variant (the full recipe, the recipe without one mechanism, the faithful
network) learns from the training images left after carving out the validation
split, over every seed; accuracies are measured on the validation images, never
on the test set. Writes ``metrics.json``, ``ablation.md`` and ``ablation.png/pdf``.

Example (MNIST: learn on 10,000 images, validate on the last 10,000 training images)::

    python experiments/ablation.py --dataset mnist --data-dir ../shared/data/mnist \\
        --n-train 10000 --validation 10000 --seeds 0 1 2
"""

from __future__ import annotations

import time

from brainsim.ablation import run_ablation, write_ablation
from brainsim.cli import load_dataset_from_args, make_parser, positive_int, run_script
from brainsim.datasets import validation_split
from brainsim.experiment import BACKENDS
from brainsim.recipes import RECIPES


def validation_size(text: str) -> int | float:
    """``--validation``: a number of images, or a fraction below 1."""
    value = float(text)
    return value if 0 < value < 1 else int(value)


def build_parser():
    """Shared options plus recipe, size, seeds and the validation split."""
    parser = make_parser(__doc__.splitlines()[0], default_out="ablation")
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="local_plus",
                        help="recipe whose mechanisms are switched off in turn")
    parser.add_argument("--n-neurons", type=positive_int, default=100, help="excitatory neurons")
    parser.add_argument("--n-train", type=positive_int, default=None,
                        help="training images (default: all left after the validation split)")
    parser.add_argument("--validation", type=validation_size, default=None,
                        help="validation images carved from the end of the training set: a "
                             "number, or a fraction below 1 (default: 10000 for MNIST-like "
                             "sets, 0.25 for digits)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="random states (every variant runs on each)")
    parser.add_argument("--backend", choices=BACKENDS,
                        default="standalone", help="simulation back end")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    start = time.perf_counter()
    validation = args.validation
    if validation is None:
        validation = 0.25 if args.dataset == "digits" else 10000
    data = validation_split(load_dataset_from_args(args), validation, n_train=args.n_train)
    result = run_ablation(data, recipe=args.recipe, n_neurons=args.n_neurons,
                          seeds=tuple(args.seeds),
                          estimator_params=dict(backend=args.backend,
                                                progress=not args.no_progress))
    config = dict(vars(args), validation=validation, split=data.source)
    write_ablation(result, args.out, config=config,
                   timings={"total": time.perf_counter() - start})
    print(open(f"{args.out}/ablation.md").read())
    return 0


if __name__ == "__main__":
    run_script(main)
