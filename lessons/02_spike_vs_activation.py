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
# # Lesson 2 — Spike vs activation value
#
# **The article's contrast.** In the artificial network a node passes on an
# *activation value*, a real number — in the article's network the input is the pixel
# intensity scaled to [0, 1], and each hidden node outputs $\mathrm{ReLU}(\sum w x + b)$.
# A neuron passes on *spikes*: all-or-none events in time. The information is in how
# many spikes arrive, and when.
#
# The spiking network codes each pixel as a **Poisson spike train** whose rate is
# proportional to the intensity: pixel / 4 Hz, at most 63.75 Hz
# (`brainsim.encoding.input_rates`, Diehl & Cook 2015, section 2.3). In each 0.5 ms
# step an input neuron of rate $\lambda$ fires with probability $p = \lambda\,\Delta t$.
#
# What theory says for such a train of duration $T$:
#
# * the spike count $N$ has mean $\lambda T$ — the activation value is only
#   *estimated* by $N / T$;
# * its variance is $\lambda T (1 - p)$: the **Fano factor** $\mathrm{Var}\,N / \mathrm{E}\,N = 1 - p$,
#   about 1 (a Poisson count);
# * the intervals between spikes are geometric, with **coefficient of variation**
#   $\mathrm{CV} = \sqrt{1 - p}$, about 1 (irregular firing).

# %%
import matplotlib.pyplot as plt
import numpy as np

from brainsim import teaching as T
from brainsim.datasets import load_dataset
from brainsim.encoding import input_rates

rng = T.setup_lesson(seed=0)
data = load_dataset("digits")           # bundled with scikit-learn: no download
image = data.X_train[0]
activation = image.reshape(-1) / 255.0  # what the article's network receives
rates = input_rates(image[None])[0]     # what the spiking network receives, Hz
print(f"digit {data.y_train[0]}, {image.shape} pixels, rates up to {rates.max():.2f} Hz")

# %% [markdown]
# ## The same digit, as values and as spikes
#
# We draw 200 independent trials of the 64 input trains for several presentation
# lengths (the network shows each image for 350 ms).

# %%
durations = [0.05, 0.1, 0.35, 1.0]  # seconds
n_trials = 200
trains = {T_: T.poisson_spike_trains(rates, T_, n_trials, rng) for T_ in durations}

fig, axes = plt.subplots(1, 1 + len(durations), figsize=(11, 3.2), layout="constrained")
axes[0].imshow(activation.reshape(image.shape), cmap="gray_r", vmin=0, vmax=1)
axes[0].set_title("activation value\n(pixel / 255)")
for ax, T_ in zip(axes[1:], durations):
    estimate = trains[T_][0].sum(axis=0) / T_   # one trial: count / T, Hz
    ax.imshow(estimate.reshape(image.shape), cmap="gray_r", vmin=0, vmax=rates.max())
    ax.set_title(f"spike count / T\none trial, T = {T_ * 1e3:g} ms")
for ax in axes:
    ax.set_xticks([]), ax.set_yticks([])
fig.suptitle("What each network receives: a number, or spikes counted over a time window")
plt.show()

# %% [markdown]
# The longer the window, the closer the spike count comes to the value the ANN gets
# in one step. At 50 ms a bright pixel has sent about three spikes.

# %%
fig, axes = plt.subplots(1, 3, figsize=(12, 3.5))
for T_ in durations:
    stats = T.spike_statistics(trains[T_])
    axes[0].plot(rates * T_, stats["mean_count"], "o", ms=3, label=f"T = {T_ * 1e3:g} ms")
lim = rates.max() * max(durations)
axes[0].plot([0, lim], [0, lim], "k-", lw=0.8, label=r"$\lambda T$")
axes[0].set(xlabel=r"$\lambda T$ (expected count)", ylabel="mean spike count (200 trials)",
            title="count vs rate x duration")
axes[0].legend(fontsize=8)

stats = T.spike_statistics(trains[1.0])
bright = rates > 20  # pixels firing above 20 Hz: enough spikes for stable statistics
p = rates[bright] * T.DT
axes[1].hist(stats["fano"][bright], bins=15, color="C0")
axes[1].axvline(np.mean(1 - p), color="k", label=r"theory $1 - \lambda\Delta t$")
axes[1].set(xlabel="Fano factor of the count", ylabel="pixels", title="Fano factor (T = 1 s)")
axes[1].legend(fontsize=8, loc="upper left")
axes[2].hist(stats["isi_cv"][bright], bins=15, color="C2")
axes[2].axvline(np.mean(np.sqrt(1 - p)), color="k", label=r"theory $\sqrt{1 - \lambda\Delta t}$")
axes[2].set(xlabel="CV of the inter-spike intervals", ylabel="pixels",
            title="ISI CV (T = 1 s)")
axes[2].legend(fontsize=8, loc="upper left")
plt.tight_layout()
plt.show()

# %% [markdown]
# **Checks.** The mean count equals $\lambda T$ and the Fano factor and the CV are
# near 1 only up to sampling noise, so the tolerances below come from measurement:
# over seeds 0-4 (200 trials, 1 s, the bright pixels of this digit) the mean Fano
# factor lay within 0.041 of $1 - p$, the mean ISI CV within 0.005 of $\sqrt{1-p}$,
# and the largest relative error of a single pixel's mean count was below 0.04.
# The tolerances are about twice those.

# %%
assert abs(np.nanmean(stats["fano"][bright]) - np.mean(1 - p)) < 0.08
assert abs(np.nanmean(stats["isi_cv"][bright]) - np.mean(np.sqrt(1 - p))) < 0.01
rel = np.abs(stats["mean_count"][bright] / (rates[bright] * 1.0) - 1)
assert rel.max() < 0.08, f"a mean count is {rel.max():.1%} away from lambda T"
assert np.all(stats["mean_count"][rates == 0] == 0)  # black pixels never fire
print(f"Fano {np.nanmean(stats['fano'][bright]):.3f} (theory {np.mean(1 - p):.3f}), "
      f"CV {np.nanmean(stats['isi_cv'][bright]):.3f} (theory {np.mean(np.sqrt(1 - p)):.3f})")

# %% [markdown]
# ## Exercise — how precise is a spike count?
#
# A downstream neuron that counts the spikes of one input for $T$ seconds estimates
# its rate as $N/T$. Write `relative_error(rate, T)`: the standard deviation of
# $N/T$ divided by the rate, for a Poisson count ($\mathrm{Var}\,N = \lambda T$; ignore
# the small $1-p$). How long must a 63.75 Hz pixel be shown for a 10 % error?

# %%
def relative_error(rate, T_):
    """Standard deviation of count / T, relative to the rate, for a Poisson count."""
    # BEGIN SOLUTION
    return 1.0 / np.sqrt(rate * T_)
    # END SOLUTION


# %%
# check the exercise against the 200 simulated trials
brightest = np.argmax(rates)
for T_ in durations:
    measured = trains[T_][:, :, brightest].sum(axis=1).std() / T_ / rates[brightest]
    predicted = relative_error(rates[brightest], T_)
    print(f"T = {T_ * 1e3:6.0f} ms: measured {measured:.3f}, predicted {predicted:.3f}")
    assert abs(measured - predicted) < 0.25 * predicted  # 200 trials: std known to ~5 %
print(f"10 % error needs T = {1 / (rates.max() * 0.1**2):.2f} s at {rates.max():.2f} Hz")
