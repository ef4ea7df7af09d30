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
# # Lesson 5 — What STDP learns
#
# **The article's claim.** Instead of gradient descent on a loss, the brain's
# synapses learn by STDP: inputs whose spikes come just before the neuron's own
# spikes are strengthened. The consequence is Hebb's "fire together, wire together":
# a neuron picks out the inputs that are **correlated** with each other, because a
# burst of coincident spikes is what makes it fire.
#
# Experiment: one excitatory neuron of the project (its equations, adaptive
# threshold and the default `power_law` rule) receives 64 Poisson inputs, all at
# 20 Hz. The first 16 share part of their spikes (each copies a spike of a common
# train with probability $c = 0.4$, so two of them share a
# spike with probability $c^2 = 0.16$); the other 48 are independent. All weights start
# equal. No labels, no loss: which weights grow?
#
# To finish in seconds instead of minutes, the learning rate is 10 times the
# network's (`eta_scale=10`); the rule and everything else are the project's.

# %%
import matplotlib.pyplot as plt
import numpy as np

from brainsim import model as M
from brainsim import teaching as T

rng = T.setup_lesson(seed=0)
n_inputs, n_group, rate, c = 64, 16, 20.0, 0.4
spikes = T.correlated_spike_trains(n_inputs, n_group, rate, c, duration=10.0, rng=rng)
run = T.stdp_correlation_run(spikes, eta_scale=10, w0=0.3)
group, rest = run["w"][:, :n_group], run["w"][:, n_group:]
print(f"the neuron fired {len(run['post_spikes'])} times in 10 s")

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
t_ms = np.arange(0, 200) * T.DT * 1e3
ii, tt = np.nonzero(spikes[:400].T)
axes[0].plot(tt * T.DT * 1e3, ii, "|", ms=3, color="k")
axes[0].axhspan(-0.5, n_group - 0.5, color="C3", alpha=0.15, label="correlated group")
axes[0].set(xlabel="time (ms)", ylabel="input", title="input spikes (first 200 ms)", ylim=(-1, n_inputs))
axes[0].legend(loc="upper right", fontsize=8)
for w, color, label in ((group, "C3", "correlated group"), (rest, "C0", "independent inputs")):
    m, s = w.mean(axis=1), w.std(axis=1)
    axes[1].plot(run["t"], m, color=color, label=label)
    axes[1].fill_between(run["t"], m - s, m + s, color=color, alpha=0.2)
axes[1].set(xlabel="time (s)", ylabel="weight (mean ± s.d.)", title="weights while learning")
axes[1].legend(fontsize=8)
axes[2].bar(np.arange(n_inputs), run["w_final"],
            color=["C3"] * n_group + ["C0"] * (n_inputs - n_group))
axes[2].axhline(0.3, color="k", ls=":", lw=0.8, label="initial weight")
axes[2].legend(fontsize=8)
axes[2].set(xlabel="input (red: correlated group)", ylabel="final weight", title="after 10 s")
plt.tight_layout()
plt.show()

# %% [markdown]
# **Why.** With the power law a weight grows at a postsynaptic spike when the
# presynaptic trace exceeds $x_\text{tar} = 0.4$. An independent input at rate $r$
# has a mean trace of $r\,\tau_\text{pre}$ — exactly 0.4 at 20 Hz — so on average it
# neither grows nor shrinks. Inputs of the correlated group tend to have just fired
# when the neuron fires (their joint spikes made it fire), so their traces are
# above the target at the postsynaptic spikes, and they grow.
#
# **Checks.** Both numbers are statistical. Over seeds 0-4 (10 s, c = 0.4,
# eta x 10) the mean final weight of the group exceeded that of the independent
# inputs by 0.165 to 0.330, and the independent inputs' mean weight ended between
# 0.314 and 0.338, close to where it started (0.3), as the balance of their traces
# predicts. The checks ask for a gap above 0.08 and for the independent mean to stay
# within 0.08 of its start.

# %%
group_mean, rest_mean = run["w_final"][:n_group].mean(), run["w_final"][n_group:].mean()
assert group_mean - rest_mean > 0.08, f"the correlated group did not win ({group_mean:.3f} vs {rest_mean:.3f})"
assert abs(rest_mean - 0.3) < 0.08, f"independent inputs drifted to {rest_mean:.3f}"
print(f"mean weight: group {group_mean:.3f}, independent {rest_mean:.3f} (start 0.3)")

# %% [markdown]
# ## Exercise — the rate at which the power law is balanced
#
# Write `balanced_rate()`: the rate (Hz) at which an independent Poisson input's
# mean trace $r\,\tau_\text{pre}$ equals $x_\text{tar}$, from `M.x_tar` and
# `M.tau_pre`. Then predict: if all inputs fired at 30 Hz, which way would an
# independent input's weight drift?

# %%
def balanced_rate():
    """Rate in Hz at which the mean presynaptic trace equals x_tar."""
    # BEGIN SOLUTION
    return M.x_tar / float(M.tau_pre / M.second)
    # END SOLUTION


# %%
# check: the mean of a simulated trace at that rate is x_tar
r = balanced_rate()
train = T.poisson_spike_trains([r], 50.0, 1, rng)[0, :, 0]
trace = np.zeros(train.size)
decay = np.exp(-T.DT / float(M.tau_pre / M.second))
for k in range(1, train.size):
    trace[k] = trace[k - 1] * decay + train[k]
print(f"balanced rate {r:.1f} Hz; mean trace {trace.mean():.3f} (x_tar = {M.x_tar})")
assert np.isclose(r, 20.0)
assert abs(trace.mean() - M.x_tar) < 0.03  # 50 s: sampling error of the mean about 0.005
