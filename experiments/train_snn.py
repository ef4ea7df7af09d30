#!/usr/bin/env python3
"""Train the Diehl & Cook (2015) spiking network and score it on the test set.

The network learns from ``--n-train`` training images without labels (STDP),
then each neuron is labelled with the class it answers most over the first
``--n-assign`` training images, and the test images are classified by the
labelled neurons' votes. Writes into ``--out``:

- ``metrics.json`` (model ``snn``: accuracies, sizes, rule, timings, versions);
- ``snn.npz``, the trained network (``DiehlCookSNN.load``);
- figures: ``receptive_fields``, ``confusion_matrix``, ``example_response``.

Training is checkpointed into ``--checkpoint-dir`` (default ``OUT/checkpoint``);
run the same command again after an interruption to resume.

Example (the paper's smallest network, 10,000 images)::

    python experiments/train_snn.py --dataset mnist --data-dir ../shared/data/mnist \\
        --n-neurons 100 --n-train 10000 --n-test 10000
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import numpy as np

from brainsim.analysis import per_class_accuracy
from brainsim.classifier import DiehlCookSNN
from brainsim.cli import (
    load_dataset_from_args,
    make_parser,
    positive_int,
    run_script,
    save_figure,
    write_metrics,
)
from brainsim.plasticity import DEFAULT_RULE, RULES


def build_parser():
    """Shared options plus the network's."""
    parser = make_parser(__doc__.splitlines()[0], default_out="train_snn")
    parser.add_argument("--n-neurons", type=positive_int, default=100,
                        help="excitatory neurons (the paper: 100, 400, 1600, 6400)")
    parser.add_argument("--rule", choices=sorted(RULES), default=DEFAULT_RULE,
                        help="STDP rule (see brainsim/plasticity.py)")
    parser.add_argument("--n-train", type=positive_int, default=None,
                        help="training images learned without labels (default: all)")
    parser.add_argument("--n-assign", type=positive_int, default=None,
                        help="training images used to label the neurons (default: all "
                             "training images)")
    parser.add_argument("--n-test", type=positive_int, default=None,
                        help="test images (default: all)")
    parser.add_argument("--n-repeats", type=positive_int, default=1,
                        help="presentations per image for assignment and test, counts summed")
    parser.add_argument("--backend", choices=("standalone", "runtime", "cython"),
                        default="standalone",
                        help="compiled C++ (fast) or Brian2 runtime mode (no compiler)")
    parser.add_argument("--threads", type=int, default=0,
                        help="OpenMP threads of the compiled network (0: single-threaded)")
    parser.add_argument("--checkpoint-dir", default=None,
                        help="checkpoint folder (default OUT/checkpoint); resumed if present")
    parser.add_argument("--checkpoint-every", type=positive_int, default=1000,
                        help="training images between checkpoints")
    parser.add_argument("--fresh", action="store_true",
                        help="delete an existing checkpoint and train from the start")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return parser


def make_figures(snn: DiehlCookSNN, data, y_pred: np.ndarray, out: Path) -> list[str]:
    """Receptive fields, confusion matrix and one example's response."""
    import matplotlib.pyplot as plt

    from brainsim import plotting

    plotting.apply_style()
    written = []
    fig, ax = plt.subplots(figsize=(6.5, 6))
    plotting.plot_receptive_fields(
        snn.weights_, data.image_shape, ax=ax,
        title=f"Learned input weights, {snn.n_neurons} excitatory neurons ({snn.learning_rule})",
    )
    written += save_figure(fig, out, "receptive_fields")

    fig, ax = plt.subplots(figsize=(5.5, 4.8))
    plotting.plot_confusion_matrix(data.y_test, y_pred, n_classes=snn.n_classes_, ax=ax,
                                   title="Spiking network, test set")
    written += save_figure(fig, out, "confusion_matrix")

    rec = snn.record_example(data.X_test[0])
    fig, axes = plt.subplots(3, 1, figsize=(7, 7.5), sharex=True,
                             gridspec_kw={"height_ratios": [2, 1.2, 1.5]})
    plotting.plot_raster(rec["input_spikes"][1], rec["input_spikes"][0], ax=axes[0],
                         ylabel="Input neuron", title=f"Test image 0 (label {data.y_test[0]})")
    plotting.plot_raster(rec["exc_spikes"][1], rec["exc_spikes"][0], ax=axes[1],
                         ylabel="Excitatory neuron", n_neurons=snn.n_neurons)
    winners = np.argsort(rec["counts"])[::-1][:3]
    plotting.plot_traces(rec["t"], rec["v"][winners] * 1e3, ax=axes[2],
                         labels=[f"neuron {k} ({int(rec['counts'][k])} spikes)" for k in winners],
                         threshold=np.repeat(rec["threshold"][winners, None] * 1e3,
                                             len(rec["t"]), axis=1))
    written += save_figure(fig, out, "example_response")
    return [str(p) for p in written]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    # the assignment may use more training images than the learning (the paper:
    # 40,000 to learn, a pass over all 60,000 to label the neurons)
    n_load = None if args.n_train is None else max(args.n_train, args.n_assign or 0)
    data = load_dataset_from_args(args, n_train=n_load, n_test=args.n_test)
    n_train = len(data.y_train) if args.n_train is None else args.n_train
    n_assign = n_train if args.n_assign is None else min(args.n_assign, len(data.y_train))
    checkpoint_dir = Path(args.checkpoint_dir) if args.checkpoint_dir else out / "checkpoint"
    if args.fresh and checkpoint_dir.exists():
        shutil.rmtree(checkpoint_dir)
    snn = DiehlCookSNN(
        n_neurons=args.n_neurons, learning_rule=args.rule, n_assign=args.n_assign,
        n_repeats=args.n_repeats, backend=args.backend, openmp_threads=args.threads,
        checkpoint_dir=str(checkpoint_dir), checkpoint_every=args.checkpoint_every,
        progress=not args.no_progress, random_state=args.seed,
    )
    snn.partial_fit(data.X_train[:n_train])  # STDP, no labels
    snn.assign(data.X_train[:n_assign], data.y_train[:n_assign])
    snn.save(out / "snn.npz")

    t0 = time.perf_counter()
    test = snn.respond(data.X_test, desc="test")
    y_pred = snn.predict_from_counts(test.counts)
    test_seconds = time.perf_counter() - t0
    acc = float(np.mean(y_pred == data.y_test))
    assign_acc = float(np.mean(snn.predict_from_counts(snn.assignment_counts_)
                               == data.y_train[:n_assign]))
    figures = make_figures(snn, data, y_pred, out)

    train_s = snn.timings_.get("train", 0.0)
    timings = dict(snn.timings_, test=test_seconds, total=time.perf_counter() - t_start)
    models = {"snn": {
        "test_accuracy": acc,
        "assignment_accuracy": assign_acc,
        "per_class_accuracy": per_class_accuracy(data.y_test, y_pred, snn.n_classes_),
        "n_train": int(n_train), "n_test": int(len(data.y_test)),
        "n_assign": int(n_assign), "n_neurons": args.n_neurons, "rule": args.rule,
        "training_presentations": int(snn.training_presentations_),
        "train_images_per_s": n_train / train_s if train_s else None,
        "test_images_per_s": len(data.y_test) / test_seconds if test_seconds else None,
        "unassigned_neurons": int(np.sum(snn.assignments_ < 0)),
        "mean_test_spikes_per_image": float(test.counts.sum(axis=1).mean()),
    }}
    write_metrics(out, models=models, config=vars(args), timings=timings, figures=figures)
    print(f"snn ({args.n_neurons} neurons, {args.rule}): test accuracy {acc:.4f} on "
          f"{len(data.y_test)} images; trained on {n_train} images in {train_s:.0f} s; "
          f"results in {out}")
    return 0


if __name__ == "__main__":
    run_script(main)
