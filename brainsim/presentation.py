"""Drive a simulator over a whole set of images, chunk by chunk.

Each run of a simulator shows up to ``n_slots`` presentations per network
copy. Images that needed a retry near the end of a chunk are continued in the
next chunk with the intensity they had reached, so the schedule is the same as
one long run. Training chunks are numbered and seeded deterministically, so an
interrupted training resumed from a checkpoint ends with the same weights as
an uninterrupted one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from brainsim import model as M
from brainsim.encoding import RATE_PER_PIXEL_VALUE
from brainsim.simulation import ChunkInput, ChunkOutput, NetworkState

INTENSITY_MAX = M.intensity_start + M.max_retries


def chunk_seed(random_state: int, phase: str, index: int) -> int:
    """Seed of chunk `index` of `phase` ("train", "infer") for a given random state."""
    digest = hashlib.sha256(f"{random_state}/{phase}/{index}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def _final_presentations(out: ChunkOutput) -> np.ndarray:
    """(n_copies, n_slots) bool: the slot's presentation was the image's last."""
    return (out.slot_count >= M.min_spikes) | (out.slot_intensity >= INTENSITY_MAX - 1e-9)


def _controller_start(carry: float | None) -> tuple[float, float, float]:
    """Initial (img, count, intensity) of a controller: fresh start or continued retry."""
    if carry is None:
        return -1.0, float(M.min_spikes), M.intensity_start
    return 0.0, 0.0, float(carry)


@dataclass
class TrainingProgress:
    """Where a training run stands; saved in checkpoints.

    Attributes
    ----------
    next_image : int
        Index of the first image not yet learned.
    carry_intensity : float or None
        Intensity of the last presentation of ``next_image`` if it is in the
        middle of retries (the next chunk shows it one step brighter).
    chunk_index : int
        Number of chunks run so far (seeds the next chunk).
    presentations : int
        Presentations so far, retries included.
    """

    next_image: int = 0
    carry_intensity: float | None = None
    chunk_index: int = 0
    presentations: int = 0


def _default_encode(rows: np.ndarray) -> np.ndarray:
    return rows * RATE_PER_PIXEL_VALUE


def train_chunks(simulator, stimulus: np.ndarray, state: NetworkState, *, random_state: int,
                 progress: TrainingProgress | None = None,
                 on_chunk: Callable[[NetworkState, TrainingProgress, int], None] | None = None,
                 encode: Callable[[np.ndarray], np.ndarray] | None = None,
                 schedule: Callable[[float], dict] | None = None,
                 ) -> tuple[NetworkState, TrainingProgress]:
    """Learn from every row of `stimulus` (one copy, learning on).

    Parameters
    ----------
    simulator
        A :class:`~brainsim.simulation.RuntimeSimulator` or
        :class:`~brainsim.simulation.StandaloneSimulator` of a learning shape.
    stimulus : ndarray, shape (n_images, n_input)
        Pixel values 0..255 (any dtype; rows are converted to rates per chunk,
        so uint8 data sets are never held in memory as floats).
    state : NetworkState
        Starting state (weights are normalised by the simulation).
    random_state : int
        Seeds the chunks.
    progress : TrainingProgress, optional
        Resume from here (from a checkpoint); default: the beginning.
    on_chunk : callable, optional
        Called after every chunk as ``on_chunk(state, progress, n_finished)``.
    encode : callable, optional
        Pixel rows -> rates per unit of intensity in Hz; default pixel / 8
        (:func:`brainsim.encoding.normalised_rows` for normalised input).
    schedule : callable, optional
        ``schedule(fraction)`` -> ``{"eta_scale": ..., "w_inh": ...}``, values
        of a scheduled network for a chunk whose middle image is at `fraction`
        (0..1) of the images (:mod:`brainsim.recipes`).

    Returns
    -------
    state, progress
    """
    shape = simulator.shape
    S = shape.n_slots
    progress = progress or TrainingProgress()
    n = stimulus.shape[0]
    encode = encode or _default_encode
    while progress.next_image < n:
        rows = encode(stimulus[progress.next_image: progress.next_image + S])
        n_real = rows.shape[0]
        if n_real < S:
            rows = np.vstack([rows, np.zeros((S - n_real, rows.shape[1]))])
        img, count, intensity = _controller_start(progress.carry_intensity)
        out = simulator.run(state, ChunkInput(
            stimulus=rows, n_rows=np.array([float(n_real)]), img=np.array([img]), count=np.array([count]),
            intensity=np.array([intensity]),
            seed=chunk_seed(random_state, "train", progress.chunk_index),
            **(schedule(min(progress.next_image + n_real / 2, n) / n) if schedule else {}),
        ))
        state = out.state
        real = out.slot_img[0] < n_real
        final = _final_presentations(out)[0] & real
        n_finished = int(final.sum())
        last_real = np.nonzero(real)[0]
        carry = None
        if last_real.size and last_real[-1] == S - 1 and not final[-1]:
            carry = float(out.slot_intensity[0, -1])  # the controller raises it
        progress = TrainingProgress(
            next_image=progress.next_image + n_finished,
            carry_intensity=carry if progress.next_image + n_finished < n else None,
            chunk_index=progress.chunk_index + 1,
            presentations=progress.presentations + int(real.sum()),
        )
        if on_chunk is not None:
            on_chunk(state, progress, n_finished)
    return state, progress


@dataclass
class InferenceResult:
    """Responses of a frozen network to a set of images.

    Attributes
    ----------
    counts : ndarray, shape (n_images, n_neurons)
        Excitatory spike counts during each image's last presentation (summed
        over repeats).
    presentations : ndarray, shape (n_images,)
        Presentations needed (1 = no retry), summed over repeats.
    input_spikes, exc_spikes, inh_spikes : ndarray, shape (n_images,)
        Spikes of each layer over all presentations of the image, retries and
        resting periods included (for the cost of inference), summed over repeats.
    """

    counts: np.ndarray
    presentations: np.ndarray
    input_spikes: np.ndarray
    exc_spikes: np.ndarray
    inh_spikes: np.ndarray
    extra: dict = field(default_factory=dict)


def infer_chunks(simulator, stimulus: np.ndarray, state: NetworkState, *, random_state: int,
                 n_repeats: int = 1, on_chunk: Callable[[int], None] | None = None,
                 encode: Callable[[np.ndarray], np.ndarray] | None = None,
                 controls: dict | None = None) -> InferenceResult:
    """Present every row of `stimulus` to a frozen network, many copies at once.

    Images are dealt round-robin to the simulator's copies; each copy works
    through its own queue, retries included.

    Parameters
    ----------
    simulator
        A simulator of a non-learning shape (any ``n_copies``).
    stimulus : ndarray, shape (n_images, n_input)
        Pixel values 0..255 (any dtype).
    state : NetworkState
        Trained weights, delays and thresholds.
    random_state : int
        Seeds the chunks.
    n_repeats : int
        Presentations of each image whose counts are summed ([DC15] averaged
        test responses over repeated presentations).
    on_chunk : callable, optional
        Called with the number of images finished in each chunk.
    encode : callable, optional
        Pixel rows -> rates per unit of intensity in Hz (as in :func:`train_chunks`).
    controls : dict, optional
        ``{"w_inh": ...}`` for a scheduled network (:mod:`brainsim.recipes`).
    """
    shape = simulator.shape
    B, S, N = shape.n_copies, shape.n_slots, shape.n_neurons
    n = stimulus.shape[0]
    items = np.repeat(np.arange(n), n_repeats)
    queues = [items[b::B] for b in range(B)]
    pos = [0] * B
    carry: list[float | None] = [None] * B
    result = InferenceResult(
        counts=np.zeros((n, N), dtype=np.int64), presentations=np.zeros(n, dtype=np.int64),
        input_spikes=np.zeros(n), exc_spikes=np.zeros(n), inh_spikes=np.zeros(n),
    )
    encode = encode or _default_encode
    chunk_index = 0
    while any(pos[b] < len(queues[b]) for b in range(B)):
        rows = np.zeros((B * S, stimulus.shape[1]))
        chunk_items, starts = [], []
        for b in range(B):
            todo = queues[b][pos[b]: pos[b] + S]
            chunk_items.append(todo)
            rows[b * S: b * S + len(todo)] = encode(stimulus[todo])
            starts.append(_controller_start(carry[b] if len(todo) else None))
        starts = np.array(starts)
        out = simulator.run(state, ChunkInput(
            stimulus=rows, n_rows=np.array([float(len(t)) for t in chunk_items]), img=starts[:, 0], count=starts[:, 1], intensity=starts[:, 2],
            seed=chunk_seed(random_state, "infer", chunk_index),
            **(controls or {}),
        ))
        chunk_index += 1
        final = _final_presentations(out)
        finished_total = 0
        for b in range(B):
            todo = chunk_items[b]
            real = out.slot_img[b] < len(todo)
            slots = np.nonzero(real)[0]
            image = todo[out.slot_img[b, slots]]
            np.add.at(result.input_spikes, image, out.slot_input_spikes[b, slots])
            np.add.at(result.exc_spikes, image, out.slot_exc_spikes[b, slots])
            np.add.at(result.inh_spikes, image, out.slot_inh_spikes[b, slots])
            np.add.at(result.presentations, image, 1)
            done = slots[final[b, slots]]
            np.add.at(result.counts, todo[out.slot_img[b, done]], out.exc_counts[b, done])
            finished_total += len(done)
            pos[b] += len(done)
            carry[b] = None
            if slots.size and slots[-1] == S - 1 and not final[b, -1]:
                carry[b] = float(out.slot_intensity[b, -1])  # the controller raises it
        if on_chunk is not None:
            on_chunk(finished_total)
    return result
