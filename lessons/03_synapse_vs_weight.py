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
# # Lesson 3 — Synapse vs weight and bias
#
# **The article's contrast.** In $y = f(\sum_i w_i x_i + b)$ the **weight** $w_i$
# scales how much input $i$ counts, its sign says whether it excites or inhibits,
# and the **bias** $b$ shifts the point at which the node switches on. The article
# sets the weight against the biological **synapse** and the bias against the
# neuron's own excitability.
#
# In the spiking network a synapse of weight $w$ raises a *conductance* of the
# target neuron by $w$ at each presynaptic spike (`ge += w` for an excitatory,
# `gi += w` for an inhibitory synapse); the conductance decays in 1 ms (excitatory)
# or 2 ms (inhibitory) and pulls $v$ towards the reversal potential, 0 mV or
# −100 mV. The response of $v$ is the **postsynaptic potential** (EPSP, IPSP).

# %%
import matplotlib.pyplot as plt
import numpy as np

from brainsim import model as M
from brainsim import teaching as T

rng = T.setup_lesson(seed=0)
weights = np.array([0.5, 1.0, 2.0, 4.0, 8.0])

# %% [markdown]
# ## EPSPs and IPSPs for several weights
#
# One neuron at rest (−65 mV) per weight receives one spike at 5 ms
# (`T.simulate_psps`, the project's neuron equations in Brian2).

# %%
t, v_exc = T.simulate_psps(weights, kind="exc")
_, v_inh = T.simulate_psps(weights, kind="inh")
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
for ax, v, kind in [(axes[0], v_exc, "excitatory synapse: EPSP"),
                    (axes[1], v_inh, "inhibitory synapse: IPSP")]:
    for k, w in enumerate(weights):
        ax.plot(t * 1e3, v[k] * 1e3, color=plt.cm.viridis(k / len(weights)), label=f"w = {w:g}")
    ax.axhline(float(M.v_rest_e / M.mV), color="grey", lw=0.8, ls=":")
    ax.set(xlabel="time (ms)", title=kind)
axes[0].set_ylabel("membrane potential v (mV)")
axes[0].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Linear in the weight — for small weights
#
# While the potential stays near rest the driving force $E - v$ is nearly constant,
# and the equation is linear in $w$. Its solution peaks at
#
# $$\Delta v_\text{max} = w\,(E - v_\text{rest})\,\frac{\tau_g}{\tau_e - \tau_g}
# \left(e^{-t^*/\tau_e} - e^{-t^*/\tau_g}\right), \qquad
# t^* = \frac{\tau_e \tau_g}{\tau_e - \tau_g}\ln\frac{\tau_e}{\tau_g}$$
#
# (`T.psp_peak_linear`). One detail of the simulation: in each 0.5 ms step the
# exponential Euler method holds the conductance at its value at the step's start,
# so the membrane sees $\Delta t / (\tau_g (1 - e^{-\Delta t/\tau_g}))$ times more
# conductance than the continuous model — 27 % more for the 1 ms excitatory
# conductance. `T.psp_peak_linear` includes this factor (`dt=0` leaves it out).

# %%
w_many = np.array([0.05, 0.1, 0.2, 0.5, 1, 2, 4, 8, 12])
peaks = {}
for kind in ("exc", "inh"):
    t, v = T.simulate_psps(w_many, kind=kind)
    dv = v - v[:, :1]
    peaks[kind] = dv.max(axis=1) if kind == "exc" else dv.min(axis=1)

fig, ax = plt.subplots(figsize=(6, 4))
for kind, color in (("exc", "C3"), ("inh", "C0")):
    ax.plot(w_many, peaks[kind] * 1e3, "o", color=color, label=f"{kind}: simulation")
    ax.plot(w_many, T.psp_peak_linear(w_many, kind) * 1e3, "-", color=color,
            label=f"{kind}: linear formula")
ax.plot(w_many, T.psp_peak_linear(w_many, "exc", dt=0) * 1e3, ":", color="C3",
        label="exc: formula in continuous time")
ax.axhline(0, color="grey", lw=0.8)
ax.set(xlabel="synaptic weight w", ylabel="peak change of v (mV)",
       title="PSP size against weight: the weight's sign is the synapse's type")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# **Checks** (theory fixes them): for small weights (up to 0.5) the peak is the
# linear formula (within 1 %); excitatory synapses depolarise and inhibitory ones hyperpolarise at
# rest; and for large weights the response grows *less* than linearly, because $v$
# approaches the reversal potential and the driving force shrinks — unlike
# $w \cdot x$ in a node, which is linear for every $w$.

# %%
small = w_many <= 0.5
for kind in ("exc", "inh"):
    ratio = peaks[kind][small] / T.psp_peak_linear(w_many[small], kind)
    assert np.all(np.abs(ratio - 1) < 0.01), f"{kind}: not linear in w ({ratio})"
    big = peaks[kind][-1] / T.psp_peak_linear(w_many[-1], kind)
    assert big < 0.97, f"{kind}: no saturation at w = {w_many[-1]} (ratio {big:.3f})"
assert np.all(peaks["exc"] > 0) and np.all(peaks["inh"] < 0)
print("peak per unit weight at rest: EPSP "
      f"{peaks['exc'][0] / w_many[0] * 1e3:.3f} mV, IPSP {peaks['inh'][0] / w_many[0] * 1e3:.3f} mV")

# %% [markdown]
# ## The bias: an adaptive threshold
#
# A node's bias $b$ moves the input at which ReLU switches on: $\mathrm{ReLU}(z + b)$
# starts at $z = -b$. The spiking neuron has no bias term, but its threshold is
# $v_\text{th} + \theta - 20$ mV, where $\theta$ grows by 0.05 mV at every spike while
# the network learns (lesson 7). Raising $\theta$ moves the neuron's rheobase to the
# right, like a negative bias:
#
# $$g^*(\theta) = \frac{v_\text{th} + \theta - 20\,\text{mV} - v_\text{rest}}{E_\text{exc} - (v_\text{th} + \theta - 20\,\text{mV})}$$

# %%
thetas_mV = [20.0, 25.0, 30.0]
g = np.linspace(0, 1.5, 61)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for k, th in enumerate(thetas_mV):
    theta = th * 1e-3  # volts
    axes[0].plot(g, T.simulate_lif_rates(g, theta=theta, duration=1.0), "o", ms=3,
                 color=f"C{k}", label=rf"$\theta$ = {th:g} mV (threshold {th - 72:g} mV)")
    axes[0].plot(g, T.lif_rate(g, theta=theta), "-", color=f"C{k}")
    axes[0].axvline(T.lif_rheobase(theta), color=f"C{k}", lw=0.8, ls=":")
    b = T.lif_rheobase() - T.lif_rheobase(theta) + 0.0  # + 0.0: no "-0.00"
    axes[1].plot(g, T.relu(g - T.lif_rheobase() + b), color=f"C{k}", label=f"b = {b:+.2f}")
axes[0].set(xlabel="conductance g", ylabel="rate (Hz)",
            title="neuron: a higher threshold shifts the curve")
axes[1].set(xlabel="input z", ylabel="ReLU(z - 0.25 + b)", title="node: a negative bias does the same")
for ax in axes:
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Exercise — the bias that matches a threshold
#
# Write `equivalent_bias(theta_mV)`: the bias $b$ for which a ReLU node that starts
# at $z = 0.25 - b$ switches on at the same input as the neuron with adaptive
# threshold $\theta$ (use `T.lif_rheobase(theta)`, θ in volts).

# %%
def equivalent_bias(theta_mV):
    """Bias of a ReLU node whose switch-on point is the neuron's rheobase at theta."""
    # BEGIN SOLUTION
    return T.lif_rheobase() - T.lif_rheobase(theta_mV * 1e-3)
    # END SOLUTION


# %%
# check: the neuron is silent just below the node's switch-on point and fires just above
for th in thetas_mV:
    z_on = T.lif_rheobase() - equivalent_bias(th)
    below, above = T.simulate_lif_rates([0.98 * z_on, 1.05 * z_on], theta=th * 1e-3, duration=3.0)
    assert below == 0 and above > 0, (th, below, above)
    print(f"theta = {th:g} mV: bias {equivalent_bias(th):+.3f}, rheobase {z_on:.3f}")
