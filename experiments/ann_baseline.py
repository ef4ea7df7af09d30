#!/usr/bin/env python3
"""Train the article's network, a size-matched dense network and a linear baseline.

Models (names as in every metrics.json):

- ``article_mlp``: the article's Keras network, 784 -> 32 ReLU -> 10 softmax,
  Adam, batch 32, 10 epochs (see ``ann.models``);
- ``ann_matched``: the same recipe with ``--n-hidden`` hidden units (the number
  of excitatory neurons of the spiking network it stands beside);
- ``logreg``: multinomial logistic regression on pixels.

Accuracy is argmax of the predicted class probabilities against the integer
labels (the article's ``argmax(y_test, axis=1)`` on integer labels is a bug;
see ``ann/models.py``). Writes ``metrics.json`` and ``confusion_matrices.png``
/ ``.pdf`` into ``--out``.

Example::

    python experiments/ann_baseline.py --dataset mnist --data-dir ../shared/data/mnist --out /tmp/x
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from ann.models import (
    article_mlp,
    images_to_features,
    logistic_regression,
    matched_mlp,
)
from brainsim.cli import (
    check_config,
    load_dataset_from_args,
    make_parser,
    positive_int,
    run_script,
    save_figure,
    write_metrics,
)

MODEL_TITLES = {
    "article_mlp": "article MLP",
    "ann_matched": "matched MLP",
    "logreg": "logistic regression",
}


def build_parser():
    """The script's options: the shared ones plus sizes and epochs."""
    parser = make_parser(__doc__.splitlines()[0], default_out="ann_baseline")
    parser.add_argument("--n-train", type=positive_int, default=None,
                        help="training examples (default: all)")
    parser.add_argument("--n-test", type=positive_int, default=None,
                        help="test examples (default: all)")
    parser.add_argument("--n-hidden", type=positive_int, default=100,
                        help="hidden units of ann_matched (N excitatory neurons of the SNN)")
    parser.add_argument("--epochs", type=positive_int, default=10,
                        help="training epochs of the two MLPs (the article: 10)")
    return parser


def n_parameters(model) -> int:
    """Number of trainable weights and biases of a fitted model."""
    if hasattr(model, "coefs_"):
        return int(sum(w.size for w in model.coefs_) + sum(b.size for b in model.intercepts_))
    return int(model.coef_.size + model.intercept_.size)


def plot_confusion_matrices(y_true, predictions: dict, results: dict, class_names):
    """One confusion-matrix panel per model; returns the Figure."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, axes = plt.subplots(1, len(predictions), figsize=(5.2 * len(predictions), 5.0))
    axes = np.atleast_1d(axes)
    labels = np.arange(len(class_names))
    for ax, (name, y_pred) in zip(axes, predictions.items()):
        ConfusionMatrixDisplay.from_predictions(
            y_true, y_pred, labels=labels, display_labels=list(class_names),
            ax=ax, colorbar=False, values_format="d", cmap="Blues",
        )
        title = MODEL_TITLES.get(name, name)
        if "architecture" in results[name]:
            title += " (" + "-".join(str(n) for n in results[name]["architecture"]) + ")"
        ax.set_title(f"{title}\ntest accuracy {100 * results[name]['test_accuracy']:.2f} %",
                     fontsize=10)
        ax.tick_params(axis="x", labelrotation=45 if len(class_names[0]) > 2 else 0)
    fig.suptitle(f"Confusion matrices on {len(y_true)} test images (rows: true, columns: predicted)")
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> int:
    """Train, score and write results; returns the exit status."""
    args = build_parser().parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)  # fail early on an unusable --out
    timings: dict[str, float] = {}
    t_start = time.perf_counter()

    t0 = time.perf_counter()
    data = load_dataset_from_args(args, n_train=args.n_train, n_test=args.n_test)
    timings["load_data"] = time.perf_counter() - t0
    check_config(len(np.unique(data.y_train)) >= 2,
                 f"--n-train {args.n_train} leaves fewer than 2 classes to learn; use more examples")
    X_train, X_test = images_to_features(data.X_train), images_to_features(data.X_test)
    print(f"{data.name}: {len(X_train)} training and {len(X_test)} test images of "
          f"{data.image_shape[0]}x{data.image_shape[1]} pixels"
          + (f" (from {data.source})" if data.source else ""), flush=True)

    models = {
        "article_mlp": article_mlp(random_state=args.seed, max_iter=args.epochs),
        "ann_matched": matched_mlp(args.n_hidden, random_state=args.seed, max_iter=args.epochs),
        "logreg": logistic_regression(random_state=args.seed),
    }
    results: dict[str, dict] = {}
    predictions: dict[str, np.ndarray] = {}
    for name, model in models.items():
        t0 = time.perf_counter()
        model.fit(X_train, data.y_train)
        fit_seconds = time.perf_counter() - t0
        # Fixed evaluation: predicted class (argmax of probabilities) vs integer label.
        y_pred = model.predict(X_test)
        predictions[name] = y_pred
        results[name] = {
            "test_accuracy": float(np.mean(y_pred == data.y_test)),
            "train_accuracy": float(np.mean(model.predict(X_train) == data.y_train)),
            "n_train": int(len(X_train)),
            "n_test": int(len(X_test)),
            "fit_seconds": fit_seconds,
            "n_parameters": n_parameters(model),
        }
        if hasattr(model, "hidden_layer_sizes"):
            results[name]["architecture"] = [X_train.shape[1], *model.hidden_layer_sizes,
                                             int(model.n_outputs_)]
            results[name]["epochs"] = int(model.n_iter_)
        timings[f"fit_{name}"] = fit_seconds
        print(f"{name:12s} test accuracy {100 * results[name]['test_accuracy']:6.2f} %  "
              f"(train {100 * results[name]['train_accuracy']:6.2f} %, fit {fit_seconds:.1f} s)",
              flush=True)

    fig = plot_confusion_matrices(data.y_test, predictions, results, data.class_names)
    figures = save_figure(fig, out, "confusion_matrices")
    timings["total"] = time.perf_counter() - t_start
    config = {k: v for k, v in vars(args).items()}
    config["dataset_source"] = data.source
    path = write_metrics(
        out, models=results, config=config, timings=timings,
        evaluation="argmax of predicted class probabilities compared with integer labels",
        figures=[p.name for p in figures],
    )
    print(f"wrote {path} and {', '.join(p.name for p in figures)}")
    return 0


if __name__ == "__main__":
    run_script(main, sys.argv[1:])
