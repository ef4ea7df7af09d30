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
# # Lesson 1 — Node vs neuron
#
# **The article's formula.** A node of an artificial network computes a weighted
# sum of its inputs plus a bias, passed through an activation function:
#
# $$y = f\Big(\sum_i w_i x_i + b\Big), \qquad f(z) = \mathrm{ReLU}(z) = \max(z, 0)$$
#
# (its network uses ReLU in the hidden layer of 32 nodes). The article sets this
# node against a biological **neuron**. Here the neuron is the excitatory neuron of
# the project's spiking network (Diehl & Cook 2015): a conductance-based *leaky
# integrate-and-fire* neuron whose constants live in `brainsim/model.py`:
#
# $$\tau_e \frac{dv}{dt} = (v_\text{rest} - v) + g_e\,(E_\text{exc} - v) + g_i\,(E_\text{inh} - v)$$
#
# When `v` crosses the threshold (−52 mV) the neuron emits a spike, is reset to
# −65 mV and stays silent for a refractory period of 5 ms.
#
# The node's output is a number; the neuron's output is a *rate* of spikes. We drive
# the neuron with a constant excitatory conductance $g$ (the counterpart of the
# node's input $z = \sum w x + b$) and compare its **f-I curve** (firing rate
# against input) with ReLU.

# %%
import matplotlib.pyplot as plt
import numpy as np

from brainsim import model as M
from brainsim import teaching as T

rng = T.setup_lesson(seed=0)
print(f"tau_e = {M.tau_e}, v_rest = {M.v_rest_e}, threshold = {M.v_thresh_e}, "
      f"E_exc = {M.E_exc_e}, refractory = {M.refrac_e}")

# %% [markdown]
# ## Exercise 1 — a node
#
# Write the article's node: `x` and `w` are vectors, `b` a number; return
# $\mathrm{ReLU}(\sum_i w_i x_i + b)$. (`T.relu` is there to use.)

# %%
def node(x, w, b):
    """Output of one ReLU node: max(w . x + b, 0)."""
    # BEGIN SOLUTION
    return T.relu(np.dot(w, x) + b)
    # END SOLUTION


# %%
# check exercise 1
x = np.array([1.0, 0.5, 0.0])
w = np.array([0.2, -0.4, 3.0])
assert np.isclose(node(x, w, 0.1), 0.1)     # 0.2 - 0.2 + 0 + 0.1
assert node(x, w, -0.5) == 0.0              # negative sum: ReLU gives 0
print("exercise 1: correct")

# %% [markdown]
# ## The neuron's f-I curve
#
# With a constant conductance $g$ the membrane equation is linear: $v$ relaxes to
# $v_\infty = (v_\text{rest} + g E_\text{exc}) / (1 + g)$ with the time constant
# $\tau_e / (1 + g)$. The neuron fires only if $v_\infty$ lies above threshold —
# that is for $g$ above the **rheobase**
#
# $$g^* = \frac{v_\text{th} - v_\text{rest}}{E_\text{exc} - v_\text{th}} = \frac{13\ \text{mV}}{52\ \text{mV}} = 0.25 .$$
#
# Above it, the time from reset to threshold is
# $T = \frac{\tau_e}{1+g}\ln\frac{v_\infty - v_\text{reset}}{v_\infty - v_\text{th}}$, and the
# rate is $1/(t_\text{ref} + T)$ (`T.lif_rate`). `T.simulate_lif_rates` simulates the
# project's neuron equations in Brian2 and measures the rate from the spikes.

# %%
g = np.concatenate([np.linspace(0.0, 0.5, 26), np.linspace(0.6, 2.0, 8), np.linspace(3, 10, 8)])
rate_sim = T.simulate_lif_rates(g, duration=2.0)
rate_theory = T.lif_rate(g)
g_star = T.lif_rheobase()

# a ReLU through the rheobase, with the neuron's mean slope between g* and g = 1
slope = T.lif_rate(1.0) / (1.0 - g_star)
g_fine = np.linspace(0, 10, 401)
fig, ax = plt.subplots(figsize=(7, 4.2))
ax.plot(g_fine, T.lif_rate(g_fine), "-", color="C0", label="neuron: formula")
ax.plot(g, rate_sim, "o", color="C0", ms=4, label="neuron: Brian2 simulation")
ax.plot(g_fine, slope * T.relu(g_fine - g_star), "--", color="C1",
        label=r"node: ReLU$(g - g^*)$, scaled to match at g = 1")
ax.annotate(f"rheobase g* = {g_star:.2f}:\nno spikes below", xy=(g_star, 0), xytext=(0.4, 115),
            arrowprops=dict(arrowstyle="->", color="grey"), color="grey")
ax.axhline(1 / float(M.refrac_e / M.second), color="grey", ls=":", lw=0.8)
ax.text(9.9, 196, "ceiling: 1 / refractory period = 200 Hz", color="grey",
        va="top", ha="right")
ax.set(xlabel="input: excitatory conductance g (in units of the leak conductance)",
       ylabel="output: firing rate (Hz)", ylim=(0, 210), xlim=(0, 10),
       title="f-I curve of the spiking neuron vs ReLU")
ax.legend(loc="lower right")
plt.show()

# %% [markdown]
# Both are zero below a threshold and grow above it. The neuron's curve is not a
# straight line: it rises steeply just above the rheobase and bends over, because it
# can never fire faster than once per refractory period.
#
# **Checks.** The formula fixes these numbers, so the lesson asserts them. The
# simulation steps in 0.5 ms and records a spike at the start of the step in which
# `v` crossed the threshold, so each simulated interval between spikes is a whole
# number of steps, up to one step *shorter* than the formula's.

# %%
assert np.isclose(g_star, 0.25)
assert np.all(rate_sim[g < 0.99 * g_star] == 0), "the neuron fires below the rheobase"
assert np.all(rate_sim[g > 1.05 * g_star] > 0), "the neuron is silent above the rheobase"
fires = rate_theory > 0
isi_error = 1 / rate_sim[fires] - 1 / rate_theory[fires]  # seconds
assert np.all((isi_error >= -T.DT - 1e-9) & (isi_error <= 1e-9)), \
    f"intervals off by {isi_error.min() * 1e3:.2f} to {isi_error.max() * 1e3:.2f} ms"
assert np.all(rate_sim < 200.0)
print(f"interval errors: {isi_error.min() * 1e3:.2f} to {isi_error.max() * 1e3:.2f} ms "
      f"(one step = {T.DT * 1e3} ms)")

# %% [markdown]
# ## Exercise 2 — the rheobase by hand
#
# Compute the rheobase from the constants in `brainsim.model` (`M.v_thresh_e`,
# `M.v_rest_e`, `M.E_exc_e`; divide by `M.mV` to get plain numbers). What happens
# to it if the threshold is raised by 5 mV? (Lesson 3 comes back to this.)

# %%
def rheobase(threshold_mV):
    """Smallest constant conductance that makes the neuron fire, for a threshold in mV."""
    # BEGIN SOLUTION
    v_rest, e_exc = float(M.v_rest_e / M.mV), float(M.E_exc_e / M.mV)
    return (threshold_mV - v_rest) / (e_exc - threshold_mV)
    # END SOLUTION


# %%
# check exercise 2
assert np.isclose(rheobase(float(M.v_thresh_e / M.mV)), T.lif_rheobase())
print(f"rheobase at -52 mV: {rheobase(-52.0):.3f}; at -47 mV: {rheobase(-47.0):.3f}")

# %% [markdown]
# **Try it.** Change `M.refrac_e` in the formula (`T.lif_rate` reads the model) or
# pass `theta=` to `T.lif_rate` and `T.simulate_lif_rates`: which part of the curve
# moves?
