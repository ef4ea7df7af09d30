"""Cost of one inference: synaptic events of the spiking network, MACs of the ANNs.

The counting rules are stated, in words, by :func:`cost_assumptions`; they are
written into every comparison's metrics.json and report.
"""

from __future__ import annotations

import numpy as np

from brainsim.analysis import ann_macs, synaptic_events

__all__ = ["snn_cost", "ann_cost", "cost_assumptions", "sim_dt"]


def sim_dt() -> float:
    """Time step of the simulation in seconds (``brainsim.model.dt``)."""
    from brainsim import model as M

    return float(M.dt / M.second)


def snn_cost(result, n_neurons: int, presentation_time: float) -> dict:
    """Synaptic events per test image of the spiking network.

    ``events = input spikes x N + excitatory spikes x 1 + inhibitory spikes x (N - 1)``
    (see :func:`brainsim.analysis.synaptic_events`), from the spikes counted
    over all presentations of each image, retries included.

    Parameters
    ----------
    result : InferenceResult
        From ``DiehlCookSNN.respond`` (fields input_spikes, exc_spikes,
        inh_spikes, presentations: one value per image).
    n_neurons : int
        Excitatory neurons N.
    presentation_time : float
        Seconds per presentation (for the count of neuron updates).

    Returns
    -------
    dict
        ``per_image`` (mean events), ``per_image_std``, ``unit``, the mean
        spikes of each layer, ``presentations_per_image`` and
        ``neuron_updates_per_image`` (2N neurons x time steps of the
        presentations; clock-driven work not counted as events).
    """
    events = np.atleast_1d(synaptic_events(result.input_spikes, result.exc_spikes,
                                           result.inh_spikes, n_neurons))
    presentations = np.asarray(result.presentations, dtype=np.float64)
    steps = presentation_time / sim_dt()
    return {
        "per_image": float(events.mean()),
        "per_image_std": float(events.std()),
        "unit": "synaptic events",
        "input_spikes_per_image": float(np.mean(result.input_spikes)),
        "exc_spikes_per_image": float(np.mean(result.exc_spikes)),
        "inh_spikes_per_image": float(np.mean(result.inh_spikes)),
        "presentations_per_image": float(presentations.mean()),
        "neuron_updates_per_image": float(2 * n_neurons * steps * presentations.mean()),
        "per_image_values": events,
    }


def ann_cost(layer_sizes: list[int], active_inputs: list[np.ndarray] | None = None) -> dict:
    """MACs per inference of a dense network, all inputs and non-zero inputs only."""
    dense = ann_macs(layer_sizes)
    cost = {"per_image": float(dense), "unit": "MACs", "layer_sizes": list(layer_sizes)}
    if active_inputs is not None:
        active = np.atleast_1d(ann_macs(layer_sizes, n_active=active_inputs))
        cost["active_inputs_per_image"] = float(active.mean())
        cost["active_values"] = active
    return cost


def cost_assumptions(n_neurons: int, n_inputs: int, presentation_time: float) -> list[str]:
    """The assumptions behind the cost counts, in words."""
    steps = int(round(presentation_time / sim_dt()))
    return [
        f"SNN: one synaptic event is one spike arriving at one synapse (one weight added to a "
        f"conductance). Input -> excitatory is all-to-all, so every input spike costs "
        f"N = {n_neurons} events; excitatory -> inhibitory is one-to-one (1 event per "
        f"excitatory spike); inhibitory -> excitatory reaches all other excitatory neurons "
        f"(N - 1 = {n_neurons - 1} events per inhibitory spike) (Diehl & Cook 2015, section 2.2).",
        "SNN: spikes are counted over every presentation of a test image, including the "
        "repeats at higher input rate when fewer than 5 excitatory spikes occurred, and the "
        "simulated part of the resting period.",
        f"SNN: the clock-driven update of the 2N = {2 * n_neurons} neuron states at every "
        f"{1000 * sim_dt():g} ms time step ({steps} steps per presentation) is not counted as "
        "events; it is reported separately as neuron_updates_per_image in metrics.json.",
        f"ANN: a dense layer from a to b units costs a x b multiply-accumulates (MACs); biases, "
        f"ReLU and softmax are not counted. Input size {n_inputs} pixels.",
        "ANN 'non-zero inputs only': only non-zero pixels and non-zero ReLU outputs are "
        "multiplied, the event-driven counterpart of counting only spikes that happen.",
        "k-means: the distance of an image to each prototype costs one MAC per pixel and "
        "prototype (n_inputs x N); the argmin is not counted; kmeans_logreg adds the logistic "
        "read-out's N x classes MACs.",
        "A synaptic event (an addition) is cheaper in hardware than a MAC (a multiplication "
        "and an addition); the counts are compared as numbers of operations, not energy.",
    ]
