"""Drive a simulator over a whole set of images, chunk by chunk.

Each run of a simulator shows up to ``n_slots`` presentations per network
copy. Images that needed a retry near the end of a chunk are continued in the
next chunk with the intensity they had reached, so the schedule is the same as
one long run. Training chunks are numbered and seeded deterministically, so an
interrupted training resumed from a checkpoint ends with the same weights as
an uninterrupted one.

:func:`infer_blocks` splits a frozen network's images into fixed blocks, each
seeded from its index, and runs several blocks at once (compiled networks:
one binary per block in flight); its result does not depend on how many run
at once.
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
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


class _Cancelled(Exception):
    """A block stopped because another block failed or the caller was interrupted."""


class _Cancellable:
    """A simulator that refuses to start another run once ``stop`` is set."""

    def __init__(self, simulator, stop: threading.Event):
        self.simulator, self.stop, self.shape = simulator, stop, simulator.shape

    def run(self, state: NetworkState, chunk: ChunkInput) -> ChunkOutput:
        if self.stop.is_set():
            raise _Cancelled("inference stopped")
        return self.simulator.run(state, chunk)


def parallel_blocks(n_jobs, name: str = "n_jobs") -> int | None:
    """Blocks of :func:`infer_blocks` run at once for an ``n_jobs`` value, checked.

    Parameters
    ----------
    n_jobs : int or None
        None (one stream of chunks, no blocks), -1 (every core this process may
        use) or a whole number >= 1.
    name : str
        The option's name in the error message (``n_jobs``, or ``jobs`` in a config).

    Raises
    ------
    ConfigError
        Any other value, in one line.
    """
    from brainsim.errors import ConfigError

    if n_jobs is None:
        return None
    if (isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer))
            or not (n_jobs >= 1 or n_jobs == -1)):
        raise ConfigError(f"{name} must be None, -1 (all cores) or an integer >= 1, "
                          f"got {n_jobs!r}")
    if n_jobs == -1:
        from joblib import cpu_count  # the cores this process may use

        return max(1, int(cpu_count()))
    return int(n_jobs)


def block_bounds(n_images: int, block_size: int) -> list[tuple[int, int]]:
    """(start, stop) of each block of ``block_size`` images (the last may be shorter)."""
    if block_size < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size}")
    return [(start, min(start + block_size, n_images))
            for start in range(0, n_images, block_size)]


def infer_blocks(simulator, stimulus: np.ndarray, state: NetworkState, *, random_state: int,
                 block_size: int, n_jobs: int = 1, n_repeats: int = 1,
                 on_chunk: Callable[[int], None] | None = None,
                 encode: Callable[[np.ndarray], np.ndarray] | None = None,
                 controls: dict | None = None) -> InferenceResult:
    """Present the rows of `stimulus` in fixed blocks, up to `n_jobs` blocks at a time.

    Block ``i`` holds images ``i * block_size`` to ``(i + 1) * block_size - 1``
    and is run by :func:`infer_chunks` with its own random state,
    ``chunk_seed(random_state, "infer_block", i)``. Neither the blocks nor their
    seeds depend on `n_jobs`, so the result is the same for every `n_jobs`
    (it differs, within the statistics of the spike trains, from one
    :func:`infer_chunks` over all images).

    Blocks run at the same time when the simulator says it can run chunks
    concurrently (``simulator.concurrent_runs``, true for the compiled
    :class:`~brainsim.simulation.StandaloneSimulator`: each run is its own
    process): one thread per block in flight drives its own binary. Other
    simulators (Brian2 runtime mode, one network object in this process) run
    the blocks one after the other, with the same result.

    Parameters
    ----------
    simulator
        A simulator of a non-learning shape.
    stimulus : ndarray, shape (n_images, n_input)
        Pixel values 0..255 (any dtype).
    state : NetworkState
        Trained weights, delays and thresholds.
    random_state : int
        Seeds the blocks.
    block_size : int
        Images per block (e.g. ``n_copies * n_slots``: one chunk per copy).
    n_jobs : int
        Blocks run at the same time (>= 1).
    n_repeats, on_chunk, encode, controls
        As in :func:`infer_chunks`; `on_chunk` is called from the worker
        threads, one call at a time.

    Returns
    -------
    InferenceResult
        In the order of `stimulus`.

    Raises
    ------
    Exception
        The first error of a block; the other blocks are stopped (their
        running binaries killed) before it is raised. An interruption
        (KeyboardInterrupt) stops them the same way.
    """
    n = stimulus.shape[0]
    bounds = block_bounds(n, block_size)
    stop = threading.Event()
    report_lock = threading.Lock()

    def report(n_finished: int) -> None:
        if on_chunk is not None:
            with report_lock:
                on_chunk(n_finished)

    def run_block(index: int) -> InferenceResult:
        start, end = bounds[index]
        return infer_chunks(
            _Cancellable(simulator, stop), stimulus[start:end], state,
            random_state=chunk_seed(random_state, "infer_block", index), n_repeats=n_repeats,
            on_chunk=report, encode=encode, controls=controls)

    workers = min(int(n_jobs), len(bounds))
    if workers <= 1 or not getattr(simulator, "concurrent_runs", False):
        parts = [run_block(i) for i in range(len(bounds))]
    else:
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="brainsim-infer")
        futures = [pool.submit(run_block, i) for i in range(len(bounds))]
        try:
            wait_for(futures, return_when=FIRST_EXCEPTION)
            errors = [f.exception() for f in futures if f.done() and f.exception() is not None]
            if errors:
                raise errors[0]
            parts = [f.result() for f in futures]
        except BaseException:
            _stop_blocks(simulator, stop, futures)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    return _concatenate(parts, n, simulator.shape.n_neurons)


def _stop_blocks(simulator, stop: threading.Event, futures: list) -> None:
    """Let no block start another run; kill the runs in flight until all blocks ended."""
    stop.set()
    for future in futures:
        future.cancel()
    terminate = getattr(simulator, "terminate_runs", None)
    while not all(f.done() for f in futures):
        if terminate is not None:
            terminate()  # again and again: a block may have started a run just now
        wait_for(futures, timeout=0.1)


def _concatenate(parts: list[InferenceResult], n: int, n_neurons: int) -> InferenceResult:
    if not parts:
        return InferenceResult(
            counts=np.zeros((n, n_neurons), dtype=np.int64),
            presentations=np.zeros(n, dtype=np.int64), input_spikes=np.zeros(n),
            exc_spikes=np.zeros(n), inh_spikes=np.zeros(n))
    return InferenceResult(**{
        key: np.concatenate([getattr(p, key) for p in parts])
        for key in ("counts", "presentations", "input_spikes", "exc_spikes", "inh_spikes")})
