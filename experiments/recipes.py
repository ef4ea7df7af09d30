#!/usr/bin/env python3
"""The faithful and the improved spiking learner side by side: accuracy, read-outs, figures.

Each recipe in ``--recipes`` learns from the training images over every seed
and is scored with the paper's label vote (``snn_<recipe>``) and with a linear
read-out of the spike counts trained on the training images only
(``snn_<recipe>_logreg``). With ``--validation N`` the last N training images
are held out and used for scoring instead of the test set (for choosing
hyperparameters); without it the test set is used. Writes ``metrics.json``,
``receptive_fields_recipes`` (first seed) and ``win_shares`` (dead and greedy
neurons).

Example (digits, the main job's data, 3 seeds)::

    python experiments/recipes.py --seeds 0 1 2
"""

from __future__ import annotations

import time

import numpy as np

from brainsim.ablation import compare_recipes
from brainsim.cli import (
    load_dataset_from_args,
    make_parser,
    positive_int,
    run_script,
    save_figure,
    write_metrics,
)
from brainsim.datasets import validation_split
from brainsim.experiment import BACKENDS
from brainsim.recipes import RECIPES
from brainsim.seeds import seed_sd


def validation_size(text: str) -> int | float:
    """``--validation``: a number of images, or a fraction below 1."""
    value = float(text)
    return value if 0 < value < 1 else int(value)


def build_parser():
    """Shared options plus recipes, size, seeds and the validation split."""
    parser = make_parser(__doc__.splitlines()[0], default_out="recipes")
    parser.add_argument("--recipes", nargs="+", choices=sorted(RECIPES),
                        default=["diehl_cook_2015", "local_plus"], help="recipes to train")
    parser.add_argument("--n-neurons", type=positive_int, default=100, help="excitatory neurons")
    parser.add_argument("--n-train", type=positive_int, default=None,
                        help="training images (default: all)")
    parser.add_argument("--n-test", type=positive_int, default=None,
                        help="test images (default: all; ignored with --validation)")
    parser.add_argument("--validation", type=validation_size, default=None,
                        help="score on this many images (or this fraction) held out from the "
                             "end of the training set instead of the test set")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="random states")
    parser.add_argument("--backend", choices=BACKENDS,
                        default="standalone", help="simulation back end")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    start = time.perf_counter()
    if args.validation is not None:
        data = validation_split(load_dataset_from_args(args), args.validation,
                                n_train=args.n_train)
    else:
        data = load_dataset_from_args(args, n_train=args.n_train, n_test=args.n_test)
    split = "validation" if args.validation is not None else "test"
    result = compare_recipes(data, recipes=tuple(args.recipes), n_neurons=args.n_neurons,
                             seeds=tuple(args.seeds),
                             estimator_params=dict(backend=args.backend,
                                                   progress=not args.no_progress))
    models = {}
    for name, res in result.items():
        for suffix, key in (("", "accuracy"), ("_logreg", "logreg_accuracy")):
            acc = np.asarray(res[key])
            models[f"snn_{name}{suffix}"] = {
                "test_accuracy": float(acc.mean()), "accuracy_std": seed_sd(acc),
                "per_seed": acc.tolist(), "seeds": args.seeds, "split": split,
                "n_train": len(data.y_train), "n_test": len(data.y_test), "recipe": name,
                "readout": "logistic regression on spike counts" if suffix else "label vote",
                "dead": [r["dead"] for r in res["runs"]],
                "greedy": [r["greedy"] for r in res["runs"]],
                "seconds": [r["seconds"] for r in res["runs"]],
            }
            print(f"snn_{name}{suffix}: {100 * acc.mean():.1f} +- {100 * seed_sd(acc):.1f} % "
                  f"({split}, {len(data.y_test)} images, seeds {args.seeds})")

    import matplotlib.pyplot as plt

    from brainsim import plotting

    plotting.apply_style()
    fig, axes = plt.subplots(1, len(result), figsize=(4.4 * len(result), 4.4), squeeze=False)
    for ax, (name, res) in zip(axes[0], result.items()):
        plotting.plot_receptive_fields(
            res["runs"][0]["weights"], data.image_shape, ax=ax, colorbar=False,
            title=f"{name} ({100 * res['accuracy'][0]:.1f} %, seed {args.seeds[0]})")
    figures = save_figure(fig, args.out, "receptive_fields_recipes")
    fig, ax = plt.subplots(figsize=(5.0, 3.6))
    plotting.plot_win_shares({name: res["runs"][0]["wins"] for name, res in result.items()},
                             ax=ax, title="Training images won per neuron")
    figures += save_figure(fig, args.out, "win_shares")
    write_metrics(args.out, models=models, config=dict(vars(args), split=data.source or split),
                  timings={"total": time.perf_counter() - start},
                  figures=[str(p) for p in figures])
    return 0


if __name__ == "__main__":
    run_script(main)
