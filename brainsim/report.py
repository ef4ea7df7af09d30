"""The comparison report: ``metrics.json`` of ``experiments/compare.py`` as markdown.

:func:`render_report` turns the metrics dictionary written by
``experiments/compare.py`` and the names of the figures it saved into a
``report.md`` that embeds the figures, gives the table of results and explains
each comparison in a few sentences in terms of the brain-ANN links the article
discusses: neuron vs node, synapse vs weight and bias, spike vs activation,
STDP vs gradient descent, lateral inhibition vs softmax competition.
:func:`write_report` writes it to a folder.

Every number in the text is read from the metrics, and the wording follows the
numbers (for instance the spiking network is called worse or better than an
ANN according to the measured accuracies), so the report stays honest for any
data set and size. Nothing here imports Brian2 or matplotlib.

The metrics dictionary (see ``experiments/compare.py``) has::

    {"models": {"snn": {"test_accuracy": 0.75, "per_class_accuracy": [...],
                        "train_seconds": 40.1, "n_train": 1347, "n_test": 450,
                        "activity": {...}, "cost": {...}, ...}, ...},
     "dataset": {"name": "digits", "image_shape": [8, 8], "n_classes": 10, ...},
     "config": {...}, "versions": {...}, "timings": {...},
     "cka": {"names": [...], "matrix": [[...]], "n_images": 450},
     "learning_curves": {"snn": {"n_train": [...], "test_accuracy": [...]}, ...},
     "cost_assumptions": ["...", ...]}

Only ``models`` (with ``test_accuracy``, ``n_train``, ``n_test``) is required;
sections whose data are missing are left out.

References
----------
.. [DC15] P. U. Diehl and M. Cook (2015), "Unsupervised learning of digit
   recognition using spike-timing-dependent plasticity", Front. Comput.
   Neurosci. 9:99, doi:10.3389/fncom.2015.00099.
.. [K19] S. Kornblith, M. Norouzi, H. Lee and G. Hinton (2019), "Similarity of
   neural network representations revisited", Proc. ICML, PMLR 97:3519-3529.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "MODEL_ORDER",
    "MODEL_LABELS",
    "MODEL_DESCRIPTIONS",
    "FIGURE_CAPTIONS",
    "figure_key",
    "accuracy_gaps",
    "results_table",
    "readout_sentences",
    "render_report",
    "write_report",
    "render_seed_report",
    "write_seed_report",
]

#: Order of the models in tables and figures.
MODEL_ORDER = ("snn", "article_mlp", "ann_matched", "logreg", "kmeans_assign", "kmeans_logreg")

#: Short display names.
MODEL_LABELS = {
    "snn": "spiking network",
    "article_mlp": "article MLP",
    "ann_matched": "matched MLP",
    "logreg": "logistic regression",
    "kmeans_assign": "k-means + assignment",
    "kmeans_logreg": "k-means + logreg",
}

#: One line on what each model is and how it learns.
MODEL_DESCRIPTIONS = {
    "snn": "Diehl & Cook (2015) network, {n} excitatory + {n} inhibitory neurons; "
           "unsupervised STDP, labels only to assign neurons to classes",
    "article_mlp": "the article's dense network, {arch}, ReLU + softmax, Adam (backprop)",
    "ann_matched": "dense network with as many hidden units as the SNN has neurons, "
                   "{arch}, ReLU + softmax, Adam",
    "logreg": "multinomial logistic regression on the pixels (no hidden layer)",
    "kmeans_assign": "{n} k-means prototypes (no labels), nearest prototype wins, "
                     "labelled by the SNN's assignment rule",
    "kmeans_logreg": "the same {n} prototypes, logistic regression on the distances",
}

#: Figure key -> caption. Figure files may carry a ``figN_`` prefix.
FIGURE_CAPTIONS = {
    "receptive_fields": "Input weights of every unit drawn as an image: the spiking network's "
                        "learned synapses, the matched MLP's first-layer weights and the "
                        "k-means prototypes.",
    "confusion_matrices": "Confusion matrices on the test set (rows: true class, columns: "
                          "predicted class, % of the true class).",
    "activity": "Activity: spike counts per neuron per image and ReLU outputs per unit per "
                "image; population sparsity (fraction of units active per image) and "
                "lifetime sparsity (fraction of images that activate each unit).",
    "example_response": "One test image through the spiking network (input spikes, "
                        "excitatory spikes, membrane potential and adaptive threshold of the "
                        "most active neurons) and the same image's ANN hidden activations.",
    "learning_curves": "Test accuracy against the number of training images.",
    "cka": "Representational similarity (linear CKA, Kornblith et al. 2019) between the "
           "representations of the same test images.",
    "cost": "Operations per inference: synaptic events of the spiking network vs "
            "multiply-accumulates (MACs) of the ANNs, with the assumptions listed below.",
    "receptive_fields_recipes": "Input weights of the spiking network learned with each "
                                "recipe (same images, same seed), label-vote accuracy in "
                                "the titles.",
}

_SECTION_OF_FIGURE = {
    "receptive_fields": "synapse",
    "receptive_fields_recipes": "synapse",
    "confusion_matrices": "results",
    "activity": "spike",
    "example_response": "neuron",
    "learning_curves": "stdp",
    "cka": "cka",
    "cost": "cost",
}


# --------------------------------------------------------------------------- helpers
def figure_key(name: str) -> str:
    """Key of a figure file name: ``fig3_activity.png`` -> ``activity``."""
    stem = Path(str(name)).name
    for ext in (".png", ".pdf"):
        if stem.endswith(ext):
            stem = stem[: -len(ext)]
    head, sep, tail = stem.partition("_")
    if sep and head.startswith("fig") and head[3:].isdigit():
        return tail
    return stem


def _finite(value: Any) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _pct(fraction: Any, digits: int = 1) -> str:
    return f"{100 * float(fraction):.{digits}f} %" if _finite(fraction) else "n/a"


def _num(value: Any, fmt: str = ".2f") -> str:
    return format(float(value), fmt) if _finite(value) else "n/a"


def _count(value: Any) -> str:
    """Human-readable operation count: 25408 -> '25.4 k', 1.2e6 -> '1.20 M'."""
    if not _finite(value):
        return "n/a"
    v = float(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= limit:
            return f"{v / limit:.3g} {suffix}"
    return f"{v:.3g}"


def _snn_variant(name: str) -> tuple[str | None, bool] | None:
    """``(recipe or None, linear read-out?)`` of ``snn``-family names, else None."""
    if name == "snn":
        return None, False
    if not name.startswith("snn_"):
        return None
    rest, logreg = name[4:], name.endswith("_logreg") or name == "snn_logreg"
    if name == "snn_logreg":
        return None, True
    return (rest[:-len("_logreg")] if logreg else rest), logreg


def _label(name: str) -> str:
    if name in MODEL_LABELS:
        return MODEL_LABELS[name]
    variant = _snn_variant(name)
    if variant is None:
        return name
    recipe, logreg = variant
    return ("spiking network" + (f" ({recipe})" if recipe else "")
            + (" + logreg" if logreg else ""))


def _ordered(models: Mapping[str, Any]) -> list[str]:
    """MODEL_ORDER, with the spiking network's variants (``snn_*``) right after ``snn``."""
    variants = [m for m in models if m != "snn" and _snn_variant(m) is not None
                and m not in MODEL_ORDER]
    known = [m for m in MODEL_ORDER if m in models]
    head = known[:1] + variants if known[:1] == ["snn"] else variants + known[:1]
    rest = [m for m in known[1:]]
    return head + rest + sorted(m for m in models if m not in head and m not in rest)


def _arch(entry: Mapping[str, Any]) -> str:
    arch = entry.get("architecture")
    return "-".join(str(a) for a in arch) if arch else "inputs-hidden-classes"


def _description(name: str, entry: Mapping[str, Any], n_neurons: Any) -> str:
    variant = _snn_variant(name) if name not in MODEL_DESCRIPTIONS else None
    if variant is not None:
        recipe, logreg = variant
        net = f"`snn_{recipe}`" if recipe else "`snn`"
        if logreg:
            return (f"logistic regression on the spike counts of {net}, trained on the "
                    "training images' counts only")
        return (f"the same network learning with recipe `{recipe}` (brainsim.recipes), same "
                "images and seed, label vote")
    template = MODEL_DESCRIPTIONS.get(name, "")
    return template.format(n=n_neurons if n_neurons is not None else "N", arch=_arch(entry))


def _check_metrics(metrics: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(metrics, Mapping) or not isinstance(metrics.get("models"), Mapping):
        raise ValueError("metrics must be a dict with a 'models' dict (as in compare's metrics.json)")
    if not metrics["models"]:
        raise ValueError("metrics['models'] is empty; there is nothing to report")
    for name, entry in metrics["models"].items():
        missing = [k for k in ("test_accuracy", "n_train", "n_test") if k not in entry]
        if missing:
            raise ValueError(f"model {name!r} lacks {', '.join(missing)} in the metrics")
    return metrics["models"]


# --------------------------------------------------------------------------- numbers
def accuracy_gaps(metrics: Mapping[str, Any], reference: str = "snn") -> dict[str, float]:
    """Accuracy of every other model minus the reference model's, in percentage points.

    Parameters
    ----------
    metrics : dict
        Compare's metrics (needs ``models``).
    reference : str
        Model the others are compared with (default the spiking network).

    Returns
    -------
    dict of str to float
        Positive: the other model is better than ``reference`` by that many
        percentage points. Models with a missing accuracy are left out.
    """
    models = _check_metrics(metrics)
    if reference not in models or not _finite(models[reference]["test_accuracy"]):
        return {}
    ref = float(models[reference]["test_accuracy"])
    return {
        name: 100.0 * (float(entry["test_accuracy"]) - ref)
        for name, entry in models.items()
        if name != reference and _finite(entry["test_accuracy"])
    }


def _cost_value(entry: Mapping[str, Any]) -> tuple[Any, str]:
    cost = entry.get("cost") or {}
    return cost.get("per_image"), cost.get("unit", "")


def results_table(metrics: Mapping[str, Any]) -> str:
    """Markdown table: one row per model with accuracy, sizes, time and cost."""
    models = _check_metrics(metrics)
    n_neurons = metrics.get("config", {}).get("n_neurons")
    rows = [
        "| model | what it is | test accuracy | training images | training time (s) "
        "| operations per inference |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name in _ordered(models):
        entry = models[name]
        value, unit = _cost_value(entry)
        cost = f"{_count(value)} {unit}".strip() if _finite(value) else "n/a"
        rows.append(
            f"| {_label(name)} (`{name}`) | {_description(name, entry, n_neurons)} "
            f"| {_pct(entry['test_accuracy'])} | {int(entry['n_train'])} "
            f"| {_num(entry.get('train_seconds'), '.1f')} | {cost} |"
        )
    return "\n".join(rows)


def _per_class_table(metrics: Mapping[str, Any]) -> str | None:
    models = metrics["models"]
    names = [n for n in _ordered(models) if models[n].get("per_class_accuracy") is not None]
    if not names:
        return None
    n_classes = max(len(models[n]["per_class_accuracy"]) for n in names)
    class_names = metrics.get("dataset", {}).get("class_names") or [str(c) for c in range(n_classes)]
    head = "| class | " + " | ".join(_label(n) for n in names) + " |"
    rule = "|---|" + "---:|" * len(names)
    rows = [head, rule]
    for c in range(n_classes):
        cells = []
        for n in names:
            pca = models[n]["per_class_accuracy"]
            cells.append(_pct(pca[c], 0) if c < len(pca) else "n/a")
        rows.append(f"| {class_names[c] if c < len(class_names) else c} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


# --------------------------------------------------------------------------- prose
def readout_sentences(metrics: Mapping[str, Any]) -> list[str]:
    """What the linear read-out adds and what the learning adds, in sentences.

    The read-out: ``snn_logreg`` minus ``snn`` (the same spike counts, read by
    a logistic regression instead of the label vote), likewise per recipe. The
    learning: recipes compared with the same read-out, and k-means prototypes
    with the same two read-outs (``kmeans_assign``, ``kmeans_logreg``).
    """
    models = metrics.get("models") or {}

    def acc(name: str) -> float | None:
        entry = models.get(name)
        if entry is None or not _finite(entry.get("test_accuracy")):
            return None
        return 100.0 * float(entry["test_accuracy"])

    nets = [("snn", models["snn"].get("recipe", "snn"))] if "snn" in models else []
    nets += [(n, models[n].get("recipe", n[4:])) for n in _ordered(models)
             if n != "snn" and _snn_variant(n) not in (None, (None, True))
             and not _snn_variant(n)[1]]
    out: list[str] = []
    for net, recipe in nets:
        vote, lin = acc(net), acc(f"{net}_logreg")
        if vote is not None and lin is not None:
            out.append(f"What the read-out adds ({recipe}): the same spike counts score "
                       f"{vote:.1f} % with the label vote and {lin:.1f} % with a logistic "
                       f"regression trained on the training images' counts "
                       f"({lin - vote:+.1f} points), the class information the vote leaves "
                       "unused.")
    if len(nets) >= 2:
        (a, ra), (b, rb) = nets[0], nets[1]
        for suffix, what in (("", "label vote"), ("_logreg", "linear read-out")):
            x, y = acc(a + suffix), acc(b + suffix)
            if x is not None and y is not None:
                out.append(f"What the learning adds, with the same {what}: {rb} {y:.1f} % vs "
                           f"{ra} {x:.1f} % ({y - x:+.1f} points).")
    km_vote, km_lin = acc("kmeans_assign"), acc("kmeans_logreg")
    if nets and km_vote is not None and km_lin is not None:
        parts = [f"{r} {acc(n):.1f} % / {acc(n + '_logreg'):.1f} %" for n, r in nets
                 if acc(n) is not None and acc(n + "_logreg") is not None]
        if parts:
            out.append(f"k-means prototypes learned without labels, with the same two "
                       f"read-outs (vote / logistic regression), score {km_vote:.1f} % / "
                       f"{km_lin:.1f} %, against " + "; ".join(parts) + ".")
    return out


def _gap_sentences(metrics: Mapping[str, Any]) -> list[str]:
    """The honest summary: where the spiking network is worse, and by how much."""
    models = metrics["models"]
    if "snn" not in models:
        return []
    snn = models["snn"]
    acc = snn["test_accuracy"]
    gaps = accuracy_gaps(metrics)
    out = [f"The spiking network classified {_pct(acc)} of the {int(snn['n_test'])} test images "
           "correctly."]
    if not gaps:
        return out
    worse = {n: g for n, g in gaps.items() if g > 0}
    better = {n: -g for n, g in gaps.items() if g < 0}
    if worse:
        best = max(worse, key=worse.get)
        parts = "; ".join(
            f"the {_label(n)} by {worse[n]:.1f} percentage points ({_pct(models[n]['test_accuracy'])})"
            for n in sorted(worse, key=worse.get, reverse=True)
        )
        out.append(f"It is worse than {parts}.")
        out.append(f"The largest gap, to the {_label(best)}, is {worse[best]:.1f} percentage points: "
                   f"the spiking network makes {_error_ratio(acc, models[best]['test_accuracy'])} "
                   "as many errors.")
    if better:
        parts = "; ".join(
            f"the {_label(n)} by {better[n]:.1f} percentage points ({_pct(models[n]['test_accuracy'])})"
            for n in sorted(better, key=better.get, reverse=True)
        )
        out.append(f"It is better than {parts}.")
    if not worse:
        out.append("No model in this comparison beat it.")
    ties = [n for n, g in gaps.items() if g == 0]
    if ties:
        out.append("It ties with the " + ", the ".join(_label(n) for n in ties) + ".")
    unassigned, n_units = snn.get("unassigned_neurons"), snn.get("n_neurons")
    if unassigned and n_units:
        out.append(f"{int(unassigned)} of its {int(n_units)} neurons never fired during the label "
                   "assignment, so they got no class and do not vote.")
    t_snn = snn.get("train_seconds")
    anns = [n for n in ("article_mlp", "ann_matched") if n in models
            and _finite(models[n].get("train_seconds"))]
    if _finite(t_snn) and anns:
        n = anns[-1]
        t_ann = float(models[n]["train_seconds"])
        ratio = float(t_snn) / t_ann if t_ann > 0 else float("inf")
        out.append(
            f"Training took {float(t_snn):.1f} s for the spiking network (every image simulated "
            f"for {_presentation_ms(metrics)} ms of biological time, one after another; the one-off "
            f"compilation of the C++ code not counted) against {t_ann:.1f} s for the {_label(n)}"
            + (f", {ratio:.0f} times longer." if math.isfinite(ratio) and ratio >= 1.5 else ".")
        )
    return out


def _presentation_ms(metrics: Mapping[str, Any]) -> str:
    t = (metrics.get("config") or {}).get("presentation_time", 0.35)
    return f"{1000 * float(t):.0f}" if _finite(t) else "350"


def _error_ratio(acc_a: Any, acc_b: Any) -> str:
    err_a, err_b = 1 - float(acc_a), 1 - float(acc_b)
    if err_b <= 0:
        return "infinitely many times"
    return f"{err_a / err_b:.1f} times"


def _activity(models: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    entry = models.get(name)
    return entry.get("activity") if entry else None


def _neuron_text(metrics: Mapping[str, Any]) -> list[str]:
    models = metrics["models"]
    text = [
        "A node of the ANN computes its output in one step: a weighted sum of its inputs plus a "
        "bias, passed through the ReLU. A neuron of the spiking network is a leaky "
        "integrate-and-fire unit with conductance-based synapses: its membrane potential "
        "integrates the input over time, and it emits a spike and is reset whenever the "
        "potential crosses its threshold, so it needs the whole presentation "
        f"({_presentation_ms(metrics)} ms of simulated time) to give its answer, which is a "
        "number of spikes rather than a real number.",
        "The threshold is itself adaptive: every spike raises it a little (the homeostasis of "
        "Diehl & Cook 2015, section 2.1), which stops a few neurons from winning every image.",
    ]
    snn_act = _activity(models, "snn")
    if snn_act and _finite(snn_act.get("mean_active_units_per_image")):
        text.append(
            f"Over the test set a neuron fired {_num(snn_act.get('mean_activity'))} spikes per "
            f"image on average, and {_num(snn_act['mean_active_units_per_image'], '.1f')} of "
            f"{snn_act.get('n_units', '?')} neurons fired at all for a typical image."
        )
    return text


def _spike_text(metrics: Mapping[str, Any]) -> list[str]:
    models = metrics["models"]
    snn = _activity(models, "snn")
    ann_name = "ann_matched" if _activity(models, "ann_matched") else "article_mlp"
    ann = _activity(models, ann_name)
    text = ["A spike count is a small non-negative integer and most neurons are silent for a "
            "given image; a ReLU activation is a non-negative real number."]
    if snn and ann:
        ps, pa = snn.get("mean_population_sparsity"), ann.get("mean_population_sparsity")
        if _finite(ps) and _finite(pa):
            compare = "fewer" if float(ps) < float(pa) else "more"
            text.append(
                f"On average {_pct(ps)} of the spiking neurons were active per image against "
                f"{_pct(pa)} of the {_label(ann_name)}'s hidden units: the spiking code uses "
                f"{compare} units per image."
            )
        ls, la = snn.get("mean_lifetime_sparsity"), ann.get("mean_lifetime_sparsity")
        if _finite(ls) and _finite(la):
            text.append(
                f"Each spiking neuron answered {_pct(ls)} of the test images on average "
                f"(lifetime sparsity), each hidden unit {_pct(la)}; "
                f"{int(snn.get('silent_units', 0))} spiking neurons and "
                f"{int(ann.get('silent_units', 0))} hidden units never responded."
            )
    return text


def _synapse_text(metrics: Mapping[str, Any]) -> list[str]:
    return [
        "A synapse of the spiking network is a weight between 0 and 1 from one input pixel "
        "to one excitatory neuron: it can only excite, the weights of each neuron are "
        "normalised to a fixed sum, and there is no bias; the adaptive threshold plays the "
        "bias's role, with the opposite sign. The ANN's weights can be negative, so a hidden "
        "unit can also be driven down by pixels that speak against its feature, and each unit "
        "has a learned bias.",
        "As a result the spiking neurons' receptive fields look like whole, blurred digits "
        "(prototypes, much like the k-means centres next to them), while the MLP's first "
        "layer learns signed, distributed features that mean little one by one and only make "
        "sense together with the output layer.",
    ]


def _stdp_text(metrics: Mapping[str, Any]) -> list[str]:
    models = metrics["models"]
    text = [
        "STDP changes a synapse using only what happens at that synapse: an input spike shortly "
        "before a postsynaptic spike strengthens it. No label and no error signal reach the "
        "synapses; labels are used once, after learning, to name each neuron after the class "
        "it answers most. Gradient descent (backpropagation with Adam) instead moves every "
        "weight and bias of the MLP along the gradient of the classification error, so the "
        "hidden layer is shaped by the labels."
    ]
    if all(n in models for n in ("snn", "kmeans_assign", "kmeans_logreg")):
        a_snn = models["snn"]["test_accuracy"]
        a_ka = models["kmeans_assign"]["test_accuracy"]
        a_kl = models["kmeans_logreg"]["test_accuracy"]
        if all(_finite(v) for v in (a_snn, a_ka, a_kl)):
            d_rule = 100 * (float(a_ka) - float(a_snn))
            d_read = 100 * (float(a_kl) - float(a_ka))
            rule_word = "above" if d_rule > 0 else "below"
            text.append(
                f"k-means learns prototypes without labels too and uses the same label "
                f"assignment; it reached {_pct(a_ka)}, {abs(d_rule):.1f} points {rule_word} the "
                f"spiking network, which measures what the spiking machinery adds to (or costs) "
                f"the same learning principle. Replacing the winner-take-all read-out by a "
                f"logistic regression on the distances to the same prototypes changed the "
                f"accuracy by {d_read:+.1f} points ({_pct(a_kl)}): that much depends on the "
                "read-out rather than on the learned prototypes."
            )
    curves = metrics.get("learning_curves") or {}
    if "snn" in curves and curves["snn"].get("n_train"):
        c = curves["snn"]
        pts = ", ".join(f"{_pct(a)} after {int(n)}" for n, a in zip(c["n_train"], c["test_accuracy"]))
        text.append(f"Along the learning curve the spiking network reached {pts} training images.")
    return text


def _inhibition_text(metrics: Mapping[str, Any]) -> list[str]:
    models = metrics["models"]
    text = [
        "In the spiking network every excitatory neuron excites one inhibitory neuron, which "
        "inhibits all the other excitatory neurons. The first neurons to fire therefore silence "
        "the rest: a soft winner-take-all that acts during the computation, on the hidden "
        "layer itself, and makes the neurons specialise on different inputs. The ANN's softmax "
        "also makes the classes compete, but only at the output, as a normalisation of scores "
        "into probabilities; its hidden units do not compete and may all be active at once."
    ]
    k = _activity(models, "kmeans_assign")
    s = _activity(models, "snn")
    if k and s and _finite(s.get("mean_active_units_per_image")):
        text.append(
            f"k-means is the hard limit of this competition (exactly one active unit per "
            f"image); lateral inhibition left {_num(s['mean_active_units_per_image'], '.1f')} "
            "active neurons per image on average."
        )
    return text


def _cka_text(metrics: Mapping[str, Any]) -> list[str]:
    cka = metrics.get("cka")
    if not cka or not cka.get("names"):
        return []
    names, M = list(cka["names"]), cka["matrix"]
    text = [
        "Linear centred kernel alignment (CKA; Kornblith et al. 2019) compares two "
        "representations of the same images without needing a matching between their units: "
        "1 means the two codes arrange the images identically up to rotation and scale, values "
        f"near 0 that they are unrelated. It was computed over {cka.get('n_images', 'the')} test "
        "images."
    ]
    if "snn" in names:
        i = names.index("snn")
        pairs = [(names[j], M[i][j]) for j in range(len(names)) if j != i and _finite(M[i][j])]
        if pairs:
            pairs.sort(key=lambda p: -float(p[1]))
            labels = cka.get("labels") or {}
            desc = ", ".join(f"{labels.get(n, _label(n))} {float(v):.2f}" for n, v in pairs)
            text.append(f"The spiking network's spike counts compared with the other "
                        f"representations: {desc}.")
    return text


def _cost_text(metrics: Mapping[str, Any]) -> list[str]:
    models = metrics["models"]
    text = []
    snn_cost = (models.get("snn") or {}).get("cost") or {}
    ann = next((n for n in ("ann_matched", "article_mlp") if (models.get(n) or {}).get("cost")), None)
    if _finite(snn_cost.get("per_image")) and ann:
        ac = models[ann]["cost"]
        ratio = float(snn_cost["per_image"]) / float(ac["per_image"]) if float(ac["per_image"]) else math.inf
        more = "more" if ratio >= 1 else "fewer"
        factor = ratio if ratio >= 1 else 1 / ratio
        text.append(
            f"The spiking network needed {_count(snn_cost['per_image'])} synaptic events per test "
            f"image, {factor:.1f} times {more} than the {_count(ac['per_image'])} "
            f"multiply-accumulates of the {_label(ann)}"
            + (f" ({_count(ac['active_inputs_per_image'])} if only non-zero inputs are "
               "multiplied)" if _finite(ac.get("active_inputs_per_image")) else "")
            + "."
        )
    text.append(
        "A synaptic event only adds a weight to a conductance, which is cheaper than a "
        "multiplication and happens only when a spike occurs; this is the promise of "
        "neuromorphic hardware. On a conventional computer, though, the simulation also updates "
        "every neuron at every time step whether it spikes or not, which is why training and "
        "inference are far slower here than for the ANNs."
    )
    return text


def _paragraph(sentences: Sequence[str]) -> str:
    return " ".join(s.strip() for s in sentences if s and s.strip())


# --------------------------------------------------------------------------- report
def _how_made(metrics: Mapping[str, Any], wall_label: str) -> list[str]:
    """The report's "How this was made" section: options, versions, wall time."""
    cfg = metrics.get("config") or {}
    versions = metrics.get("versions") or {}
    L = ["## How this was made", ""]
    if cfg:
        opts = ", ".join(f"`{k}={v}`" for k, v in cfg.items() if v is not None)
        L += [f"Options: {opts}.", ""]
    if versions:
        L += ["Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".", ""]
    timings = metrics.get("timings") or {}
    if _finite(timings.get("total")):
        L += [f"{wall_label}: {float(timings['total']):.0f} s.", ""]
    return L


def render_report(
    metrics: Mapping[str, Any],
    figures: Sequence[str],
    *,
    title: str | None = None,
) -> str:
    """Markdown text of the comparison report.

    Parameters
    ----------
    metrics : dict
        The metrics written by ``experiments/compare.py`` (see the module
        docstring). Needs ``models``; everything else is optional.
    figures : sequence of str
        Figure file names as saved next to the report, without extension or
        with ``.png`` (``fig1_receptive_fields``, ...). Each is embedded as
        ``name.png`` with a link to ``name.pdf``, in the section it belongs
        to (figures with unknown names go to a final section).
    title : str, optional
        Heading; default names the data set.

    Returns
    -------
    str
        The report, ending with a newline.

    Raises
    ------
    ValueError
        If ``metrics`` has no ``models`` or a model lacks ``test_accuracy``,
        ``n_train`` or ``n_test``.
    """
    models = _check_metrics(metrics)
    dataset = metrics.get("dataset", {})
    cfg = metrics.get("config", {})
    ds_name = dataset.get("name") or cfg.get("dataset") or "the data set"
    any_entry = next(iter(models.values()))
    n_train, n_test = int(any_entry["n_train"]), int(any_entry["n_test"])

    stems = [str(f)[:-4] if str(f).endswith((".png", ".pdf")) else str(f) for f in figures]
    by_section: dict[str, list[str]] = {}
    for stem in stems:
        by_section.setdefault(_SECTION_OF_FIGURE.get(figure_key(stem), "other"), []).append(stem)

    def embed(section: str) -> list[str]:
        lines = []
        for stem in by_section.get(section, []):
            key = figure_key(stem)
            caption = FIGURE_CAPTIONS.get(key, stem.replace("_", " ") + ".")
            number = stem.split("_", 1)[0][3:] if stem.startswith("fig") and key != stem else ""
            name = f"Figure {number}" if number.isdigit() else "Figure"
            lines += [f"![{name}: {key.replace('_', ' ')}]({stem}.png)", "",
                      f"*{name}. {caption}* ([PDF]({stem}.pdf))", ""]
        return lines

    L: list[str] = []
    L.append(f"# {title or f'Spiking network vs artificial neural networks on {ds_name}'}")
    L.append("")
    shape = dataset.get("image_shape")
    shape_txt = f" of {shape[0]}x{shape[1]} pixels" if shape and len(shape) == 2 else ""
    L.append(_paragraph([
        f"All models were trained on the same {n_train} training images{shape_txt} of "
        f"`{ds_name}` and tested on the same {n_test} "
        + ("validation images (the last training images, not the test set)"
           if cfg.get("split") == "validation" else "test images")
        + (f" (seed {cfg['seed']})" if "seed" in cfg else "") + ".",
        "The spiking network is the unsupervised network of Diehl & Cook (2015): Poisson input "
        "spikes, excitatory neurons that learn with spike-timing-dependent plasticity (STDP), "
        "and inhibitory neurons that make them compete.",
        "The artificial networks are trained with labels by gradient descent; k-means is "
        "included as a non-spiking model that learns like the spiking network (prototypes "
        "without labels, winner takes all, the same label assignment).",
    ]))
    L.append("")

    L += ["## Results", "", results_table(metrics), ""]
    L.append(_paragraph(_gap_sentences(metrics)))
    L.append("")
    readout = readout_sentences(metrics)
    if readout:
        L += ["### Read-out and learning", "", _paragraph(readout), ""]
    L += embed("results")
    pc = _per_class_table(metrics)
    if pc:
        L += ["Accuracy per class (fraction of each true class recognised):", "", pc, ""]

    sections = [
        ("neuron", "Neuron vs node", _neuron_text),
        ("spike", "Spike vs activation value", _spike_text),
        ("synapse", "Synapse vs weight and bias", _synapse_text),
        ("stdp", "STDP vs gradient descent", _stdp_text),
        ("inhibition", "Lateral inhibition vs softmax competition", _inhibition_text),
        ("cka", "Representational similarity", _cka_text),
        ("cost", "Cost of one inference", _cost_text),
    ]
    for key, heading, make_text in sections:
        text = make_text(metrics)
        if not text and not by_section.get(key):
            continue
        L += [f"## {heading}", ""]
        if text:
            L += [_paragraph(text), ""]
        L += embed(key)
        if key == "cost" and metrics.get("cost_assumptions"):
            L += ["Assumptions of the cost count:", ""]
            L += [f"- {a}" for a in metrics["cost_assumptions"]]
            L.append("")
    if by_section.get("other"):
        L += ["## Other figures", ""] + embed("other")

    L += ["## Caveats", ""]
    L.append(_paragraph([
        f"These numbers come from one seed and {n_train} training images"
        + (f" with {cfg['n_neurons']} excitatory neurons" if cfg.get("n_neurons") else "") + ".",
        "Diehl & Cook (2015) report 95 % on MNIST with 6400 excitatory neurons trained on "
        "the full MNIST training set, and lower accuracy for smaller networks (their accuracy "
        "grows with the number of neurons); small networks trained briefly, as here, are "
        "expected to be well below that. The ANNs are not tuned beyond the article's recipe.",
    ]))
    L.append("")
    if metrics.get("config") or metrics.get("versions"):
        L += _how_made(metrics, "Wall time of the whole run")

    L += [
        "## References",
        "",
        "- P. U. Diehl and M. Cook (2015). Unsupervised learning of digit recognition using "
        "spike-timing-dependent plasticity. *Frontiers in Computational Neuroscience* 9:99. "
        "doi:10.3389/fncom.2015.00099",
        "- S. Kornblith, M. Norouzi, H. Lee and G. Hinton (2019). Similarity of neural network "
        "representations revisited. *Proceedings of the 36th International Conference on "
        "Machine Learning (ICML)*, PMLR 97:3519-3529.",
        "",
    ]
    return "\n".join(L)


def write_report(
    metrics: Mapping[str, Any],
    figures: Sequence[str],
    out_dir: str | os.PathLike,
    *,
    filename: str = "report.md",
    title: str | None = None,
) -> Path:
    """Write :func:`render_report` to ``out_dir/filename`` (``report.md``).

    Returns
    -------
    Path
        The file written.
    """
    return _write_atomic(Path(out_dir) / filename, render_report(metrics, figures, title=title))


def _write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` atomically (temporary file, fsync, rename), creating the folder."""
    from brainsim.fileio import write_text

    path.parent.mkdir(parents=True, exist_ok=True)
    return write_text(path, text)


# --------------------------------------------------------------------------- seeds
def _pm(mean: Any, sd: Any, digits: int = 1) -> str:
    """'82.1 ± 0.4 %' from fractions."""
    if not _finite(mean):
        return "n/a"
    spread = f" ± {100 * float(sd):.{digits}f}" if _finite(sd) else ""
    return f"{100 * float(mean):.{digits}f}{spread} %"


def _gap_verdict(name: str, gap: Mapping[str, Any]) -> str:
    mean, sd = gap.get("mean_pp"), gap.get("sd_pp")
    if not _finite(mean):
        return f"The gap of the {_label(name)} could not be measured."
    side = "better" if mean > 0 else "worse" if mean < 0 else "as good"
    where = (f"{abs(float(mean)):.1f} percentage points {side} than the spiking network"
             if mean else "as accurate as the spiking network on average")
    ci = gap.get("ci95_pp") or [None, None]
    stats = (f"sd of the per-seed difference {_num(sd, '.1f')} points, 95 % CI "
             f"[{_num(ci[0], '.1f')}, {_num(ci[1], '.1f')}], p = {_num(gap.get('p_value'), '.3g')}")
    if gap.get("larger_than_spread"):
        verdict = "larger than the seed-to-seed spread"
    else:
        verdict = ("not larger than the seed-to-seed spread (with these seeds it cannot be "
                   "told apart from seed-to-seed variation)")
    return f"The {_label(name)} is {where} ({stats}): the gap is {verdict}."


def render_seed_report(metrics: Mapping[str, Any], *, title: str | None = None) -> str:
    """Markdown report of a comparison over several seeds.

    Parameters
    ----------
    metrics : dict
        From :func:`brainsim.comparison.compare_seeds`: ``models`` with
        ``test_accuracy`` (mean), ``test_accuracy_sd``, ``test_accuracy_per_seed``;
        ``gaps`` (:func:`brainsim.seeds.paired_gaps`), ``seeds``, ``runs``
        (seed -> folder), ``figures``, ``config``, ``versions``, ``timings``.

    Returns
    -------
    str
        The report, ending with a newline.
    """
    models = _check_metrics(metrics)
    cfg = metrics.get("config", {})
    dataset = metrics.get("dataset", {})
    ds_name = dataset.get("name") or cfg.get("dataset") or "the data set"
    seeds = list(metrics.get("seeds") or [])
    gaps = metrics.get("gaps") or {}
    any_entry = next(iter(models.values()))
    n_train, n_test = int(any_entry["n_train"]), int(any_entry["n_test"])
    title = title or (f"Spiking network vs artificial neural networks on {ds_name}, "
                      f"{len(seeds)} seeds")
    L = [f"# {title}", ""]
    L.append(_paragraph([
        f"Every model was trained with each of the seeds {', '.join(map(str, seeds))} on the "
        f"same {n_train} training images of `{ds_name}` and tested on the same {n_test} test "
        "images; the seed changes the models' initial weights, spike trains and batch order, "
        "not the data.",
        "Accuracies are the mean ± sample standard deviation over seeds.",
    ]))
    L += ["", "## Results", "",
          "| model | what it is | test accuracy (mean ± sd) | per seed | gap to the spiking "
          "network (points) | 95 % CI of the gap | p | gap larger than the spread? |",
          "|---|---|---:|---|---:|---|---:|---|"]
    for name in _ordered(models):
        e = models[name]
        per_seed = ", ".join(_pct(a) for a in e.get("test_accuracy_per_seed", []))
        g = gaps.get(name)
        if g:
            ci = g.get("ci95_pp") or [None, None]
            gap_cells = (f"{_num(g.get('mean_pp'), '+.1f')} ± {_num(g.get('sd_pp'), '.1f')} "
                         f"| [{_num(ci[0], '.1f')}, {_num(ci[1], '.1f')}] "
                         f"| {_num(g.get('p_value'), '.3g')} "
                         f"| {'yes' if g.get('larger_than_spread') else 'no'}")
        else:
            gap_cells = "reference | | |"
        L.append(f"| {_label(name)} (`{name}`) | {_description(name, e, cfg.get('n_neurons'))} "
                 f"| {_pm(e['test_accuracy'], e.get('test_accuracy_sd'))} | {per_seed} "
                 f"| {gap_cells} |")
    L.append("")
    readout = readout_sentences(metrics)
    if readout:
        L += ["### Read-out and learning (means over seeds)", "", _paragraph(readout), ""]
    if gaps:
        rule = next(iter(gaps.values())).get("rule", "")
        L += ["## Is each gap larger than the seed-to-seed spread?", ""]
        L.append(_paragraph([
            f"Rule: {rule}.",
            "Accuracies are paired by seed because every seed trains all models on the same "
            "images; the test looks at the spread of the differences, not of each model alone.",
        ]))
        L.append("")
        L += [f"- {_gap_verdict(n, gaps[n])}" for n in _ordered(gaps)]
        L.append("")
        if len(seeds) < 5:
            L += [f"With {len(seeds)} seeds the test has little power: only a gap many times its "
                  "spread passes. Use 5 or more seeds for a claim.", ""]
    for stem in metrics.get("figures") or []:
        L += ["## Learning curves", "",
              f"![Learning curves]({stem}.png)", "",
              f"*Test accuracy against the number of training images, mean over "
              f"{len(seeds)} seeds; error bars and band: ± 1 standard deviation.* "
              f"([PDF]({stem}.pdf))", ""]
    runs = metrics.get("runs") or {}
    if runs:
        L += ["## Each seed", "",
              "Every seed's run has its own folder with all figures and its own report:", ""]
        L += [f"- seed {s}: [{folder}/report.md]({folder}/report.md)" for s, folder in runs.items()]
        L.append("")
    L += _how_made(metrics, "Wall time of all seeds")
    return "\n".join(L)


def write_seed_report(metrics: Mapping[str, Any], out_dir: str | os.PathLike, *,
                      filename: str = "report.md", title: str | None = None) -> Path:
    """Write :func:`render_seed_report` to ``out_dir/filename`` (atomically)."""
    return _write_atomic(Path(out_dir) / filename, render_seed_report(metrics, title=title))
