#!/usr/bin/env python3
"""Train the Diehl & Cook (2015) spiking network and score it on the test set.

The network learns from ``--n-train`` training images without labels (STDP),
``--epochs`` times over, then each neuron is labelled with the class it answers
most over the first ``--n-assign`` training images, and the test images are
classified by the labelled neurons' votes. ``--protocol paper`` takes the
training length, assignment and test sets of the paper for ``--n-neurons``
(100, 400, 1600 or 6400; see brainsim/protocols.py). Writes into ``--out``:

- ``metrics.json`` (model ``snn``: accuracies, sizes, rule, recipe, epochs,
  presentations, timings, versions; ``snn_logreg``, a logistic regression on
  the spike counts of the training images that labelled the neurons, scored
  on the same test counts; one entry per ``--baselines`` model; ``config.split``
  and each model's ``split`` say whether it was scored on the test set or on
  the ``--validation`` split);
- ``snn.npz``, the trained network (``DiehlCookSNN.load``);
- figures: ``receptive_fields``, ``confusion_matrix``, ``example_response``.

Training is checkpointed into ``--checkpoint-dir`` (default ``OUT/checkpoint``);
run the same command again after an interruption to resume.
The work is done by :func:`brainsim.experiment.snn_experiment`.

Example (the paper's smallest network, 10,000 images)::

    python experiments/train_snn.py --dataset mnist --data-dir ../shared/data/mnist \\
        --n-neurons 100 --n-train 10000 --n-test 10000
"""

from __future__ import annotations

from brainsim.cli import (add_jobs_option, add_learning_processes_option, add_threads_option,
                          make_parser, positive_int, run_script)
from brainsim.experiment import (BACKENDS, DEFAULT_SNN_CONFIG, SNN_BASELINES,
                                 parse_validation, snn_experiment)
from brainsim.plasticity import RULES
from brainsim.protocols import PROTOCOLS
from brainsim.recipes import RECIPES

D = DEFAULT_SNN_CONFIG


def build_parser():
    """Shared options plus the network's; defaults from DEFAULT_SNN_CONFIG."""
    parser = make_parser(__doc__.splitlines()[0], default_out="train_snn")
    parser.add_argument("--n-neurons", type=positive_int, default=D["n_neurons"],
                        help="excitatory neurons (the paper: 100, 400, 1600, 6400)")
    parser.add_argument("--rule", choices=sorted(RULES), default=D["rule"],
                        help="STDP rule (see brainsim/plasticity.py; default: the recipe's rule)")
    parser.add_argument("--recipe", choices=sorted(RECIPES), default=D["recipe"],
                        help="learning mechanisms (see brainsim/recipes.py and "
                             "docs/recipes.md); the trained network is 'snn' whatever "
                             "the recipe (default: %(default)s)")
    parser.add_argument("--validation", type=parse_validation, default=D["validation"],
                        metavar="N",
                        help="score on the last N training images (or a fraction < 1 of "
                             "them) instead of the test set, for choosing hyperparameters")
    parser.add_argument("--n-train", type=positive_int, default=D["n_train"],
                        help="training images learned without labels, per epoch "
                             "(default: all)")
    parser.add_argument("--epochs", type=positive_int, default=D["epochs"],
                        help="passes over the training images, same order each pass")
    parser.add_argument("--n-assign", type=positive_int, default=D["n_assign"],
                        help="training images used to label the neurons (default: the "
                             "--n-train images)")
    parser.add_argument("--n-test", type=positive_int, default=D["n_test"],
                        help="test images (default: all)")
    parser.add_argument("--protocol", choices=PROTOCOLS, default=D["protocol"],
                        help="'paper': n-train, epochs, n-assign and n-test of Diehl & Cook "
                             "(2015) for --n-neurons (100: 40,000 images; 400, 1600, 6400: "
                             "3, 7, 15 epochs of 60,000; label on 60,000, test on 10,000)")
    parser.add_argument("--n-repeats", type=positive_int, default=D["n_repeats"],
                        help="presentations per image for assignment and test, counts summed "
                             "(default: the recipe's, 1 for diehl_cook_2015)")
    parser.add_argument("--backend", choices=BACKENDS, default=D["backend"],
                        help="compiled C++ (fast) or Brian2 runtime mode (no compiler)")
    add_threads_option(parser, D["threads"])
    add_learning_processes_option(parser, D["learning_processes"])
    add_jobs_option(parser, D["jobs"])
    parser.add_argument("--baselines", nargs="*", choices=SNN_BASELINES,
                        default=list(D["baselines"]),
                        help="models of the same size trained on the same images beside it")
    parser.add_argument("--checkpoint-dir", default=D["checkpoint_dir"],
                        help="checkpoint folder (default OUT/checkpoint); resumed if present")
    parser.add_argument("--checkpoint-every", type=positive_int, default=D["checkpoint_every"],
                        help="training images between checkpoints")
    parser.add_argument("--fresh", action="store_true",
                        help="delete an existing checkpoint and train from the start")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = vars(build_parser().parse_args(argv))
    out = args.pop("out")
    args["progress"] = not args.pop("no_progress")
    result = snn_experiment(args, out_dir=out)
    snn = result["models"]["snn"]
    epochs = f" x {snn['epochs']} epochs" if snn["epochs"] > 1 else ""
    split = result["config"]["split"]
    print(f"snn ({snn['n_neurons']} neurons, {snn['rule']}, recipe {snn['recipe']}): {split} "
          f"accuracy {snn['test_accuracy']:.4f} on {snn['n_test']} images; trained on "
          f"{snn['n_train']} images{epochs} in {snn['train_seconds']:.0f} s; results in {out}")
    for name in ["snn_logreg", *result["config"]["baselines"]]:
        print(f"{name}: {split} accuracy {result['models'][name]['test_accuracy']:.4f}")
    return 0


if __name__ == "__main__":
    run_script(main)
