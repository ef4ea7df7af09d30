#!/usr/bin/env python3
"""Train the spiking network with each of the four STDP rules of Diehl & Cook (2015).

For every rule in ``--rules`` (default: all four), a network of ``--n-neurons``
excitatory neurons learns from the first ``--n-train`` training images, its
neurons are labelled on the same images, and it is scored on ``--n-test``
test images. Writes ``metrics.json`` (one model ``snn_<rule>`` per rule) and
``receptive_fields_rules`` (the learned weights of every rule side by side).
The work is done by :func:`brainsim.experiment.rules_experiment`.

Example (the check of the rules on MNIST)::

    python experiments/rules.py --dataset mnist --data-dir ../shared/data/mnist \\
        --n-neurons 100 --n-train 2000 --n-test 1000
"""

from __future__ import annotations

from brainsim.cli import make_parser, positive_int, run_script
from brainsim.experiment import BACKENDS, DEFAULT_RULES_CONFIG, rules_experiment
from brainsim.plasticity import RULES
from brainsim.recipes import RECIPES

D = DEFAULT_RULES_CONFIG


def build_parser():
    """Shared options plus network size, rules and sizes (defaults from the library)."""
    parser = make_parser(__doc__.splitlines()[0], default_out="rules")
    parser.add_argument("--rules", nargs="+", choices=sorted(RULES), default=list(D["rules"]),
                        help="learning rules to train")
    parser.add_argument("--n-neurons", type=positive_int, default=D["n_neurons"],
                        help="excitatory neurons")
    parser.add_argument("--recipe", choices=sorted(RECIPES), default=D["recipe"],
                        help="learning mechanisms of every network (see brainsim/recipes.py; "
                             "default: %(default)s)")
    parser.add_argument("--n-train", type=positive_int, default=D["n_train"],
                        help="training images (also used for the label assignment)")
    parser.add_argument("--n-test", type=positive_int, default=D["n_test"], help="test images")
    parser.add_argument("--backend", choices=BACKENDS, default=D["backend"],
                        help="simulation back end")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return parser


def main(argv: list[str] | None = None) -> int:
    config = vars(build_parser().parse_args(argv))
    out = config.pop("out")
    config["progress"] = not config.pop("no_progress")
    rules_experiment(config, out, log=lambda line: print(line, flush=True))
    return 0


if __name__ == "__main__":
    run_script(main)
