# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 7 — Homeostasis: the adaptive threshold
#
# **The article's point.** A node's bias is learned by gradient descent like any
# weight. A neuron's excitability is regulated instead by **homeostasis**: a neuron
# that fires a lot becomes harder to excite. In Diehl & Cook's network every spike
# raises the neuron's threshold by $\theta_+ = 0.05$ mV, and the increase decays only
# over hours ($\tau_\theta = 10^4$ s). Lesson 3 showed that $\theta$ acts like a
# negative bias; here we see what it is for.
#
# Experiment: a small network of the project (10 excitatory neurons with lateral
# inhibition, the `power_law` rule) learns from 60 digits without labels, once as
# in the paper and once with $\theta_+ = 0$ (the threshold stays at −52 mV). Then,
# with learning off, it is shown the same 60 digits, and we count for each neuron on
# how many of them it fired most — how evenly the neurons **share** the images.
#
# Presentations are 100 ms instead of 350 ms so that both runs take about 20 s
# together (Brian2's numpy back end: no compiler needed).

# %%
import matplotlib.pyplot as plt
import numpy as np

from brainsim import teaching as T
from brainsim.datasets import load_dataset
from brainsim.plotting import plot_receptive_fields

rng = T.setup_lesson(seed=0)
data = load_dataset("digits")
X = data.X_train[:60]
runs = {adaptive: T.homeostasis_run(X, adaptive=adaptive, random_state=0)
        for adaptive in (True, False)}
for adaptive, run in runs.items():
    print(f"adaptive threshold {'on ' if adaptive else 'off'}: neurons winning at least one image: "
          f"{np.sum(run['share'] > 0)} of {len(run['share'])}")

# %%
fig, axes = plt.subplots(2, 2, figsize=(11, 6),
                         gridspec_kw=dict(width_ratios=[1, 1.6]))
for row, adaptive in enumerate((True, False)):
    run = runs[adaptive]
    label = "adaptive threshold ON (the paper)" if adaptive else "adaptive threshold OFF"
    axes[row, 0].bar(np.arange(10), run["share"], color="C2" if adaptive else "C3")
    axes[row, 0].axhline(0.1, color="k", ls=":", lw=0.8, label="perfectly even: 1/10")
    axes[row, 0].set(ylim=(0, 1), xticks=range(10), xlabel="excitatory neuron",
                     ylabel="share of images won", title=label)
    axes[row, 0].legend(fontsize=8)
    for k, th in enumerate(run["theta"]):
        raised = max(th - 0.02, 0.0) * 1e3  # mV above the initial threshold
        axes[row, 0].text(k, run["share"][k] + 0.02, f"{raised:.1f}", ha="center",
                          fontsize=7, color="grey")
    plot_receptive_fields(run["weights"], data.image_shape, ax=axes[row, 1], n_cols=5,
                          title="input weights after learning (neurons 0-4 top, 5-9 bottom)")
fig.text(0.01, 0.005, "grey numbers above the bars: how far each neuron's threshold rose "
         "while learning (mV)", fontsize=8, color="grey")
plt.tight_layout()
plt.show()

# %% [markdown]
# Without homeostasis, the neurons that happen to win the first images learn them,
# fire more easily for every later image, and keep winning: one or two neurons take
# almost everything, and the others never fire and learn nothing (their weights stay
# random). With the adaptive threshold, each win makes the winner a little harder to
# excite (grey numbers: a few mV after 60 images), so other neurons get their turn.
# After only 60 short presentations the weights show just the beginnings of digit
# shapes, and only in the neurons that won; lesson 8 trains longer.
#
# ## Exercise — measure evenness
#
# Write `evenness(share)`: the entropy of the shares, $-\sum_k s_k \ln s_k$ (terms
# with $s_k = 0$ count as 0), divided by $\ln n$ for $n$ neurons: 1 when all neurons
# win equally often, 0 when one neuron wins everything.

# %%
def evenness(share):
    """Normalised entropy of a distribution of wins over neurons (0..1)."""
    # BEGIN SOLUTION
    s = np.asarray(share, dtype=float)
    s = s[s > 0]
    return float(-(s * np.log(s)).sum() / np.log(len(share)))
    # END SOLUTION


# %%
# check the exercise
assert np.isclose(evenness(np.full(10, 0.1)), 1.0)
assert np.isclose(evenness(np.eye(10)[3]), 0.0)
assert np.isclose(evenness([0.5, 0.5, 0, 0]), 0.5)
for adaptive, run in runs.items():
    print(f"adaptive threshold {'on ' if adaptive else 'off'}: evenness {evenness(run['share']):.2f}")

# %% [markdown]
# **Checks.** How many neurons win depends on the seed, so the margins come from
# measurement. Over seeds 0-2 (60 digits, 100 ms): with the adaptive threshold 6, 9
# and 9 neurons won at least one image (evenness 0.62-0.75), without it 2 every time
# (evenness 0.12-0.30). The checks ask for at least 5 winning neurons with
# homeostasis, at most 3 without, and for the thresholds to have risen only with
# homeostasis.

# %%
on, off = runs[True], runs[False]
assert np.sum(on["share"] > 0) >= 5, on["share"]
assert np.sum(off["share"] > 0) <= 3, off["share"]
assert np.all(off["theta"] <= 0.0201) and on["theta"].max() > 0.021
print("homeostasis spreads the images over the neurons")
