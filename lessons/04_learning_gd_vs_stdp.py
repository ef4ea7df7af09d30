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
# # Lesson 4 — Learning: gradient descent vs STDP
#
# **The article's formulas.** An artificial network learns by lowering a **loss**,
# for example the mean squared error between its outputs $y_n$ and the targets $t_n$,
#
# $$L = \frac{1}{N}\sum_n (y_n - t_n)^2,$$
#
# with **gradient descent**: every parameter moves a small step against the
# gradient, $w \leftarrow w - \eta\,\partial L/\partial w$. **Backpropagation** is
# the chain rule that computes these gradients layer by layer in a deep network
# (scikit-learn does it for the article's network in lesson 8).
#
# The brain has no global loss. The article sets against it **spike-timing-dependent
# plasticity (STDP)**: a synapse changes according to the times of the spikes on its
# two sides only. This lesson puts the two side by side: first one node in plain
# numpy, then the four STDP rules of the project (`brainsim/plasticity.py`).

# %%
import matplotlib.pyplot as plt
import numpy as np

from brainsim import model as M
from brainsim import teaching as T
from brainsim.plasticity import RULES

rng = T.setup_lesson(seed=0)

# data for one linear node y = w . x + b: a noisy linear "teacher"
X = rng.normal(size=(50, 3))
w_true, b_true = np.array([1.5, -2.0, 0.5]), 0.3
t = X @ w_true + b_true + 0.1 * rng.normal(size=50)


def mse(w, b):
    """The article's loss for the node y = X w + b."""
    return np.mean((X @ w + b - t) ** 2)


# %% [markdown]
# ## Exercise — the gradient of the MSE
#
# Write `mse_gradient(w, b)`, returning $(\partial L/\partial w, \partial L/\partial b)$
# for the loss above. Hint: $\partial L/\partial w = \frac{2}{N} X^\top (y - t)$.

# %%
def mse_gradient(w, b):
    """Gradient of mse(w, b): (dL/dw as a vector of 3, dL/db as a number)."""
    # BEGIN SOLUTION
    err = X @ w + b - t
    return 2 * X.T @ err / len(t), 2 * err.mean()
    # END SOLUTION


# %% [markdown]
# **Check against finite differences.** Any gradient can be tested without knowing
# the answer: nudge each parameter by ±ε and look at the change of the loss
# (`T.numerical_gradient`). Central differences are exact for a quadratic loss up to
# rounding, so the two must agree to about 1e-8.

# %%
w0, b0 = rng.normal(size=3), 0.0
params = np.append(w0, b0)
numeric = T.numerical_gradient(lambda p: mse(p[:3], p[3]), params, eps=1e-5)
gw, gb = mse_gradient(w0, b0)
analytic = np.append(gw, gb)
print("analytic:", np.round(analytic, 6))
print("numeric: ", np.round(numeric, 6))
assert np.allclose(analytic, numeric, rtol=1e-6, atol=1e-8), "gradient is wrong"

# %% [markdown]
# ## Gradient descent
#
# With a correct gradient, small steps lower the loss every time and end at the
# least-squares solution (which, for a linear node, numpy can compute directly).

# %%
eta, w, b, losses = 0.1, w0.copy(), b0, []
for step in range(200):
    losses.append(mse(w, b))
    gw, gb = mse_gradient(w, b)
    w, b = w - eta * gw, b - eta * gb
exact = np.linalg.lstsq(np.c_[X, np.ones(50)], t, rcond=None)[0]
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.semilogy(losses)
ax.axhline(mse(exact[:3], exact[3]), color="k", ls=":", label="least-squares minimum")
ax.set(xlabel="gradient-descent step", ylabel="MSE loss", title=f"one node, eta = {eta}")
ax.legend()
plt.show()
assert np.all(np.diff(losses) <= 1e-12), "the loss went up"
assert np.allclose(np.append(w, b), exact, atol=1e-6)
print("learned w, b:", np.round(w, 3), round(b, 3), "   true:", w_true, b_true)

# %% [markdown]
# ## STDP: the weight change of one spike pair
#
# Each rule of the project changes a weight only at spikes, using **traces** — a
# memory of recent spikes that jumps at a spike and decays with 20 ms
# ($x_\text{pre}$, $x_\text{post}$). With the rules' formulas (see
# `brainsim/plasticity.py`; $\Delta t = t_\text{post} - t_\text{pre}$):
#
# | rule | at a postsynaptic spike | at a presynaptic spike |
# |---|---|---|
# | `power_law` (default) | $\eta\,(x_\text{pre} - x_\text{tar})(w_\max - w)^\mu$ | — |
# | `exponential` | $\eta\,(x_\text{pre} e^{-\beta w} - x_\text{tar} e^{-\beta (w_\max - w)})$ | — |
# | `pre_post` | as `power_law` | $-\eta_\text{pre}\,x_\text{post}\,w^\mu$ |
# | `triplet` | $\nu_\text{post}\,x_\text{pre}\,x_\text{post2}$ | $-\nu_\text{pre}\,x_\text{post1}$ |
#
# `T.stdp_window` runs the rules' own Brian2 code on one synapse per $\Delta t$ (a
# presynaptic spike at 60 ms, a postsynaptic one $\Delta t$ later); `T.stdp_formula`
# evaluates the table. Note what a *single* pair gives: the power law depresses
# whenever $x_\text{pre} < x_\text{tar} = 0.4$, i.e. for pairs more than
# $\tau_\text{pre}\ln(1/x_\text{tar}) = 18.3$ ms apart and for every post-before-pre
# pair; the triplet rule needs an earlier postsynaptic spike ($x_\text{post2}$)
# to potentiate at all.

# %%
delta = np.concatenate([np.arange(-50, 0, 2.5), np.arange(0.5, 50.1, 2.5)])
fig, axes = plt.subplots(1, 4, figsize=(14, 3.4))
windows = {}
for ax, name in zip(axes, RULES):
    simulated = T.stdp_window(name, delta, w0=0.5)
    formula = T.stdp_formula(name, delta, w0=0.5)
    windows[name] = (simulated, formula)
    ax.plot(delta, formula * 1e3, "-", color="k", lw=1, label="formula")
    ax.plot(delta, simulated * 1e3, "o", ms=3, color="C1", label="Brian2 (the rule's code)")
    ax.axhline(0, color="grey", lw=0.6)
    ax.axvline(0, color="grey", lw=0.6)
    ax.set(title=name, xlabel=r"$\Delta t = t_{post} - t_{pre}$ (ms)")
axes[0].set_ylabel(r"weight change $\Delta w$ ($\times 10^{-3}$), w = 0.5")
axes[0].legend(fontsize=8, loc="upper left")
fig.suptitle("STDP windows: weight change after one presynaptic and one postsynaptic spike")
plt.tight_layout()
plt.show()

# %% [markdown]
# **Checks** (theory fixes them): every simulated change equals the rule's formula
# to rounding error, and the power law's window changes sign at $\tau_\text{pre}\ln(1/x_\text{tar})$.

# %%
for name, (simulated, formula) in windows.items():
    assert np.allclose(simulated, formula, rtol=1e-9, atol=1e-15), f"{name} differs from its formula"
crossing = float(M.tau_pre / M.ms) * np.log(1 / M.x_tar)
before, after = T.stdp_window("power_law", [crossing - 0.5, crossing + 0.5])
assert before > 0 > after
print(f"power law: potentiation for 0 < dt < {crossing:.1f} ms, depression otherwise")

# %% [markdown]
# **Gradient descent vs STDP, in one sentence each.** Gradient descent moves every
# weight in the direction that lowers one global error, computed with the labels.
# STDP moves each weight by what its two neurons did in the last tens of
# milliseconds, without any label. Lesson 5 shows what such a local rule still learns.
