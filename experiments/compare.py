#!/usr/bin/env python3
"""Train the spiking network and the ANNs on the same images and compare them.

Models (names as in every metrics.json), all trained on the same split with
the same seed:

- ``snn``: the Diehl & Cook (2015) spiking network, ``--n-neurons`` excitatory
  neurons, unsupervised STDP (``--rule``, ``--recipe``, default the faithful
  ``diehl_cook_2015``), neurons labelled afterwards; ``snn_logreg``: a logistic
  regression on its spike counts (trained on the training images' counts);
- ``snn_local_plus`` and ``snn_local_plus_logreg``: the same network learning
  with the improved recipe (``--recipes``; brainsim/recipes.py), trained on the
  same images with the same seed, with both read-outs;
- ``article_mlp``: the article's dense network (784-32-10 on MNIST, 64-32-10
  on ``digits``), backpropagation with Adam;
- ``ann_matched``: the same recipe with ``--n-neurons`` hidden units;
- ``logreg``: logistic regression on the pixels;
- ``kmeans_assign``: ``--n-neurons`` k-means prototypes learned without labels,
  winner-take-all and the spiking network's label assignment;
- ``kmeans_logreg``: the same prototypes with a logistic-regression read-out.

Writes into ``--out``: ``metrics.json`` (accuracy, per-class accuracy,
training time and size of every model; activity measures, representational
similarity and cost per inference), seven figures as PNG and PDF
(``fig1_receptive_fields`` ... ``fig7_cost``; with ``--recipes`` also
``fig8_receptive_fields_recipes``) and ``report.md``, which embeds them and
explains each comparison, including what the linear read-out and the learning
recipe add. ``--validation N`` scores every model on the last N training
images instead of the test set (``config.split`` in metrics.json).

The learning curve (figure 5) costs one training of the spiking network: it
learns in stages up to each of ``--learning-curve-points`` and is labelled and
tested after each stage; the ANNs are trained afresh at each size.

With the C++ standalone back end the two compiled networks (learning and
inference) are built in the background while the ANNs train; they are cached
(``~/.cache/brainsim/standalone``, or ``$BRAINSIM_CACHE``), so later runs
start at once.

With ``--seeds S1 S2 ...`` the comparison runs once per seed (each into
``OUT/seed_<s>/``, with all of the above) and ``OUT`` gets metrics.json with the
mean and standard deviation over seeds of every model, ``fig5_learning_curves``
with error bars, and report.md, which says whether each model's gap to the
spiking network is larger than the seed-to-seed spread (paired t-test over
seeds, see brainsim/seeds.py).

The work is done by :func:`brainsim.experiment.compare_experiment`.

Examples::

    python experiments/compare.py                      # digits, about 3 minutes
    python experiments/compare.py --dataset mnist --data-dir ../shared/data/mnist \\
        --n-neurons 100 --n-train 10000 --n-test 10000
    python experiments/compare.py --seeds 0 1 2 3 4    # mean +- sd over 5 seeds
"""

from __future__ import annotations

import sys

from brainsim.cli import add_jobs_option, make_parser, positive_int, run_script
from brainsim.experiment import (BACKENDS, DEFAULT_COMPARE_CONFIG, compare_experiment,
                                 parse_validation)
from brainsim.plasticity import RULES
from brainsim.recipes import RECIPES

D = DEFAULT_COMPARE_CONFIG


def build_parser():
    """The shared options plus the network's and the comparison's (defaults from the library)."""
    parser = make_parser(__doc__.splitlines()[0], default_out="compare")
    parser.add_argument("--n-neurons", type=positive_int, default=D["n_neurons"],
                        help="excitatory neurons of the SNN = hidden units of ann_matched = "
                             "k-means prototypes")
    parser.add_argument("--rule", choices=sorted(RULES), default=D["rule"],
                        help="STDP rule of the SNN (see brainsim/plasticity.py; default: the recipe's rule)")
    parser.add_argument("--recipe", choices=sorted(RECIPES), default=D["recipe"],
                        help="learning mechanisms of the SNN 'snn' (see brainsim/recipes.py; "
                             "default: %(default)s)")
    parser.add_argument("--recipes", nargs="*", choices=sorted(RECIPES),
                        default=list(D["recipes"]), metavar="RECIPE",
                        help="further recipes trained beside it on the same images, as "
                             "snn_<recipe> with its linear read-out (choices: "
                             f"{', '.join(sorted(RECIPES))}; default: %(default)s; "
                             "give --recipes alone for none)")
    parser.add_argument("--validation", type=parse_validation, default=D["validation"],
                        metavar="N",
                        help="score every model on the last N training images (or a "
                             "fraction < 1 of them) instead of the test set")
    parser.add_argument("--n-train", type=positive_int, default=D["n_train"],
                        help="training images (default: all)")
    parser.add_argument("--n-test", type=positive_int, default=D["n_test"],
                        help="test images (default: all)")
    parser.add_argument("--n-assign", type=positive_int, default=D["n_assign"],
                        help="training images used to label the SNN's neurons (default: all "
                             "images learned so far)")
    parser.add_argument("--backend", choices=BACKENDS, default=D["backend"],
                        help="SNN simulation: compiled C++ (fast) or Brian2 runtime mode "
                             "(no compiler, slow)")
    add_jobs_option(parser, D["jobs"])
    parser.add_argument("--learning-curve-points", type=positive_int, nargs="+",
                        default=D["learning_curve_points"], metavar="N",
                        help="training sizes of the learning curves (figure 5); default: "
                             "10 %%, 30 %% and 100 %% of the training images")
    parser.add_argument("--seeds", type=int, nargs="+", default=D["seeds"], metavar="S",
                        help="run once per seed (overrides --seed) and report mean +- sd "
                             "and whether each gap to the SNN exceeds the seed-to-seed spread")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the options and run :func:`brainsim.experiment.compare_experiment`."""
    config = vars(build_parser().parse_args(argv))
    out = config.pop("out")
    config["progress"] = not config.pop("no_progress")
    result = compare_experiment(config, out, log=lambda line: print(line, flush=True))
    if config["seeds"]:
        for name, entry in result["models"].items():
            gap = result["gaps"].get(name)
            verdict = "" if gap is None else (
                f"; gap {gap['mean_pp']:+.1f} points, "
                + ("larger" if gap["larger_than_spread"] else "not larger")
                + " than the seed-to-seed spread")
            print(f"{name:22s} test accuracy {100 * entry['test_accuracy']:6.2f} "
                  f"+- {100 * (entry['test_accuracy_sd'] or 0):.2f} % over "
                  f"{entry['n_seeds']} seeds{verdict}", flush=True)
    return 0


if __name__ == "__main__":
    run_script(main, sys.argv[1:])
