"""How a network is run: chunks of images, two back ends, a build cache.

A *simulator* runs one :class:`~brainsim.network.NetworkShape` for one chunk:
``n_slots`` presentation slots per copy, given the stimulus rows, the
carried-over state (weights, delays, thresholds, membrane potentials, the
controller's position in its image queue) and a seed. It returns plain
arrays. Two back ends give the same results up to random numbers:

:class:`RuntimeSimulator`
    Brian2's runtime mode (numpy target by default): no compilation, slow;
    for tests, tiny runs and single-example recordings.
:class:`StandaloneSimulator`
    Brian2's C++ standalone mode, compiled once per shape in a separate
    process and cached on disk (see :func:`cache_dir`); every chunk reruns the
    same binary with new inputs passed on the command line (``run_args``), so
    a second process with the same shape starts without compiling.

:func:`train_chunks` and :func:`infer_chunks` drive a simulator over a whole
data set, carrying unfinished images (the "fewer than 5 spikes" retries) into
the next chunk.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from brainsim import __version__
from brainsim import model as M
from brainsim.cppcode import cpp_files, cpp_source, load_cpp, prune_written_arrays, time_run_once
from brainsim.errors import BrainsimError, ConfigError
from brainsim.machine import build_target, march
from brainsim.network import NetworkShape

#: Quarter of a time step, in seconds: float slack when binning spike times into slots.
_EPS = float(M.dt / M.second) / 4


@dataclass
class NetworkState:
    """State carried from one chunk to the next (SI units, plain arrays).

    Attributes
    ----------
    weights : ndarray, shape (n_input, n_neurons)
        Input -> excitatory weights (dimensionless, in [0, 1]).
    delays : ndarray, shape (n_input, n_neurons)
        Input -> excitatory synaptic delays in seconds.
    theta : ndarray, shape (n_neurons,)
        Adaptive threshold in volts.
    v_exc, v_inh : ndarray, shape (n_neurons,)
        Membrane potentials in volts.
    """

    weights: np.ndarray
    delays: np.ndarray
    theta: np.ndarray
    v_exc: np.ndarray
    v_inh: np.ndarray

    def copy(self) -> "NetworkState":
        return NetworkState(*(np.array(a, dtype=float, copy=True) for a in asdict(self).values()))


def initial_state(n_input: int, n_neurons: int, rng: np.random.Generator) -> NetworkState:
    """Random initial weights and delays as in the authors' code; thresholds at rest.

    Parameters
    ----------
    n_input, n_neurons : int
        Layer sizes.
    rng : numpy.random.Generator
        Source of randomness.
    """
    weights = (rng.random((n_input, n_neurons)) + M.w_input_init_offset) * M.w_input_init_scale
    delays = rng.random((n_input, n_neurons)) * float(M.input_delay_max)
    return NetworkState(
        weights=weights,
        delays=delays,
        theta=np.full(n_neurons, float(M.theta_init)),
        v_exc=np.full(n_neurons, float(M.v_rest_e + M.v_init_offset)),
        v_inh=np.full(n_neurons, float(M.v_rest_i + M.v_init_offset)),
    )


def normalise_weights(weights: np.ndarray, n_input: int) -> np.ndarray:
    """Rescale each column so that it sums to 78/784 per input ([DC-code])."""
    total = M.weight_sum_per_input * n_input
    sums = weights.sum(axis=0, keepdims=True)
    return weights * (total / np.where(sums > 0, sums, 1.0))


@dataclass
class ChunkInput:
    """What one run needs besides the network state.

    Attributes
    ----------
    stimulus : ndarray, shape (n_copies * n_slots, n_input)
        Input rate per unit of intensity in Hz (pixel / 8), row ``b * n_slots + k``
        is image ``k`` of copy ``b``.
    n_rows : ndarray, shape (n_copies,)
        Rows of each copy holding real images (the rest is padding).
    img, count, intensity : ndarray, shape (n_copies,)
        Initial controller state: ``img=-1, count=min_spikes`` starts with row 0
        at the normal rate; ``img=0, count=0, intensity=x`` shows row 0 again at x+1 (a retry
        continued from the previous chunk).
    seed : int
        Seed of the simulation's random numbers (Poisson input).
    eta_scale : float
        Factor on the learning rates during this run (networks of a
        ``scheduled`` shape only; see :mod:`brainsim.recipes`).
    w_inh : float
        Inhibitory -> excitatory weight during this run (``scheduled`` shapes only).
    """

    stimulus: np.ndarray
    n_rows: np.ndarray
    img: np.ndarray
    count: np.ndarray
    intensity: np.ndarray
    seed: int
    eta_scale: float = 1.0
    w_inh: float = M.w_inh_to_exc


@dataclass
class ChunkOutput:
    """Per-slot record of one run.

    ``slot_*`` arrays have shape (n_copies, n_slots): the image row shown in
    each slot, its intensity, the excitatory spikes counted for the retry rule,
    and the input / excitatory / inhibitory spikes in the slot.
    ``exc_counts`` (n_copies, n_slots, n_neurons) holds the excitatory spike
    counts during each presentation (only when learning is off).
    """

    state: NetworkState
    slot_img: np.ndarray
    slot_intensity: np.ndarray
    slot_count: np.ndarray
    slot_input_spikes: np.ndarray
    slot_exc_spikes: np.ndarray
    slot_inh_spikes: np.ndarray
    exc_counts: np.ndarray | None = None
    recordings: dict | None = None


def _chunk_output(shape: NetworkShape, mon: dict, final: dict, state: NetworkState,
                  exc_spikes: tuple[np.ndarray, np.ndarray] | None,
                  recordings: dict | None = None) -> ChunkOutput:
    """Turn monitor arrays into per-slot records.

    `mon` holds the controller monitor, shape (n_records, n_copies), recorded at
    every slot start before the decision (record k+1 describes slot k); `final`
    holds the controller state at the end of the run (describing the last slot).
    """
    S = shape.n_slots
    out = {}
    n_run = np.asarray(mon["img"]).shape[0]
    for key in ("img", "intensity", "count", "n_input_spikes", "n_exc_spikes", "n_inh_spikes"):
        if key not in mon:  # not counted in this network (input spikes while learning)
            out[key] = np.zeros((shape.n_copies, S))
            continue
        rec = np.asarray(mon[key], dtype=float)[:n_run]  # (n_run, B): one record per slot
        n_run = rec.shape[0]  # slots simulated (fewer than S when the run stopped early)
        per_slot = np.vstack([rec[1:], np.asarray(final[key], dtype=float)[None, :]])
        if key.startswith("n_"):
            per_slot = np.diff(np.vstack([rec[:1], per_slot]), axis=0)
        padded = np.zeros((S, shape.n_copies))
        if key == "img":
            padded[:] = S  # slots not simulated count as padding rows
        padded[:n_run] = per_slot
        out[key] = padded.T  # (B, S)
    exc_counts = None
    if exc_spikes is not None:
        idx, times = exc_spikes
        slot = np.floor((times + _EPS) / shape.slot_time).astype(int)
        # same rule as the simulation: steps 0 .. 699 of a slot (350 ms) are the presentation
        in_presentation = times - slot * shape.slot_time < shape.presentation_time - 2 * _EPS
        keep = in_presentation & (slot < S)
        exc_counts = np.zeros((shape.n_copies, S, shape.n_neurons), dtype=np.int32)
        np.add.at(
            exc_counts,
            (idx[keep] // shape.n_neurons, slot[keep], idx[keep] % shape.n_neurons),
            1,
        )
    return ChunkOutput(
        state=state,
        slot_img=out["img"].astype(int),
        slot_intensity=out["intensity"],
        slot_count=out["count"],
        slot_input_spikes=out["n_input_spikes"],
        slot_exc_spikes=out["n_exc_spikes"],
        slot_inh_spikes=out["n_inh_spikes"],
        exc_counts=exc_counts,
        recordings=recordings,
    )


def _check_chunk(shape: NetworkShape, state: NetworkState, chunk: ChunkInput) -> None:
    expected = (shape.n_copies * shape.n_slots, shape.n_input)
    if chunk.stimulus.shape != expected:
        raise ConfigError(f"stimulus has shape {chunk.stimulus.shape}, expected {expected}")
    if state.weights.shape != (shape.n_input, shape.n_neurons):
        raise ConfigError(
            f"weights have shape {state.weights.shape}, expected "
            f"{(shape.n_input, shape.n_neurons)}"
        )


# ---------------------------------------------------------------------------
# Runtime back end
# ---------------------------------------------------------------------------
class RuntimeSimulator:
    """Run a network shape in Brian2's runtime mode.

    Parameters
    ----------
    shape : NetworkShape
        The network to simulate.
    target : {"numpy", "cython"}
        Brian2 code-generation target (numpy needs no compiler).
    """

    def __init__(self, shape: NetworkShape, target: str = "numpy"):
        import brian2

        from brainsim.network import build_network

        if brian2.get_device().__class__.__name__ != "RuntimeDevice":
            brian2.set_device("runtime")
        brian2.prefs.codegen.target = target
        brian2.defaultclock.dt = M.dt
        self.shape = shape
        # The same object names for every instance: each simulator has its own
        # Network, and the Cython target reuses code compiled for an earlier
        # simulator of the same shape only if the generated code (names
        # included) is identical.
        self.network = build_network(shape, name_suffix="_rt")
        self.network.net.store("initial")

    def run(self, state: NetworkState, chunk: ChunkInput) -> ChunkOutput:
        """Simulate one chunk and return its per-slot record."""
        import brian2
        from brian2 import Hz, second, volt

        shape, dc = self.shape, self.network
        _check_chunk(shape, state, chunk)
        dc.net.restore("initial")
        brian2.seed(chunk.seed)
        B = shape.n_copies
        dc.stimulus.values[:] = chunk.stimulus  # values are stored in Hz (dimensionless array)
        dc.controller.img = chunk.img
        dc.controller.n_rows = chunk.n_rows
        dc.controller.count = chunk.count
        dc.controller.intensity = chunk.intensity
        dc.input_to_exc.w = np.tile(state.weights.ravel(), B)
        dc.input_to_exc.delay = np.tile(state.delays.ravel(), B) * second
        dc.exc.theta = np.tile(state.theta, B) * volt
        dc.exc.v = np.tile(state.v_exc, B) * volt
        dc.inh.v = np.tile(state.v_inh, B) * volt
        if shape.learning:
            dc.exc.wsum = state.weights.sum(axis=0)
        if shape.scheduled:
            dc.exc.w_inh = chunk.w_inh
            if shape.learning:
                dc.exc.eta_scale = chunk.eta_scale
        dc.net.run(shape.duration * second, namespace={})

        # Every array is copied: with the Cython target Brian2 hands out views of its
        # own memory, which the next run's restore() overwrites.
        mon = dc.monitors["controller"]
        mon_arrays = {k: np.array(getattr(mon, k)).T for k in _CONTROLLER_KEYS}  # (n_rec, B)
        final = {k: np.array(getattr(dc.controller, k)[:]) for k in _CONTROLLER_KEYS}
        if "tally" in dc.monitors:
            mon_arrays["n_input_spikes"] = np.array(dc.monitors["tally"].n_input_spikes).T
            final["n_input_spikes"] = np.array(dc.inputs.n_spikes[:]).reshape(B, -1).sum(axis=1)
        new_state = NetworkState(
            weights=np.array(dc.input_to_exc.w[:]).reshape(B, shape.n_input, shape.n_neurons)[0],
            delays=state.delays,
            theta=np.array(dc.exc.theta[:])[: shape.n_neurons],
            v_exc=np.array(dc.exc.v[:])[: shape.n_neurons],
            v_inh=np.array(dc.inh.v[:])[: shape.n_neurons],
        )
        exc_spikes = None
        if "exc_spikes" in dc.monitors:
            m = dc.monitors["exc_spikes"]
            exc_spikes = (np.array(m.i[:]), np.array(m.t[:] / second))
        recordings = _runtime_recordings(dc) if (shape.record_input_spikes or shape.record_traces) else None
        return _chunk_output(shape, mon_arrays, final, new_state, exc_spikes, recordings)


def _runtime_recordings(dc) -> dict:
    from brian2 import second, volt

    rec = {}
    for key in ("input_spikes", "exc_spikes", "inh_spikes"):
        if key in dc.monitors:
            m = dc.monitors[key]
            rec[key] = (np.array(m.i[:]), np.array(m.t[:] / second))
    if "traces" in dc.monitors:
        m = dc.monitors["traces"]
        rec["t"] = np.array(m.t / second)
        rec["v"] = np.array(m.v / volt)
        rec["theta"] = np.array(m.theta / volt)
    return rec


# ---------------------------------------------------------------------------
# Standalone back end
# ---------------------------------------------------------------------------
def cache_dir() -> Path:
    """Folder holding compiled standalone networks.

    ``$BRAINSIM_CACHE`` if set, else ``$XDG_CACHE_HOME/brainsim/standalone``
    (``~/.cache/brainsim/standalone``).
    """
    env = os.environ.get("BRAINSIM_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "brainsim" / "standalone"


def private_cache_dir() -> Path:
    """Fallback cache when :func:`cache_dir` cannot be written: a per-user temp folder."""
    return Path(tempfile.gettempdir()) / f"brainsim-{os.getuid()}" / "standalone"


def _check_compiler() -> None:
    """Raise a one-line error if the C++ compiler the build would use is missing."""
    compiler = os.environ.get("CXX", "g++").split()
    if not compiler or shutil.which(compiler[0]) is None:
        name = compiler[0] if compiler else "(empty $CXX)"
        raise BrainsimError(
            f"no C++ compiler found: {name!r} is not on PATH (set $CXX to pick another); "
            "install one (e.g. apt install g++) or use backend='runtime' (--backend runtime "
            "in the scripts), which needs no compiler")


def _code_fingerprint() -> str:
    """Hash of everything besides the shape that changes the generated code."""
    import brian2

    h = hashlib.sha256()
    here = Path(__file__).parent
    for name in ("model.py", "plasticity.py", "network.py", "simulation.py", "cppcode.py"):
        h.update((here / name).read_bytes())
    for name in cpp_files():  # the C++ pieces in brainsim/cpp
        h.update(name.encode() + b"\0" + cpp_source(name).encode())
    h.update(brian2.__version__.encode())
    h.update(__version__.encode())
    h.update(sys.version.encode())
    return h.hexdigest()[:16]


def build_key(shape: NetworkShape, openmp_threads: int = 0) -> str:
    """Cache key of a compiled network: shape, threads, code fingerprint and target.

    The target (:func:`brainsim.machine.build_target`: compiler version,
    ``$BRAINSIM_MARCH`` and, for ``-march=native``, the CPU's flags) keeps a
    binary built for one CPU from being reused on another that lacks its
    instructions (a shared cache folder) and keeps the AVX2 and AVX-512 builds apart.
    """
    text = json.dumps([asdict(shape), openmp_threads, _code_fingerprint(), build_target()],
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]



#: Variables set before each run: role -> (object attribute, variable name).
_RUN_ARGS = {
    "w": ("input_to_exc", "w"),
    "delay": ("input_to_exc", "delay"),
    "theta": ("exc", "theta"),
    "v_exc": ("exc", "v"),
    "v_inh": ("inh", "v"),
    "wsum": ("exc", "wsum"),
    "img": ("controller", "img"),
    "count": ("controller", "count"),
    "intensity": ("controller", "intensity"),
    "n_rows": ("controller", "n_rows"),
    "eta_scale": ("exc", "eta_scale"),  # scheduled shapes only
    "w_inh": ("exc", "w_inh"),
}
_CONTROLLER_KEYS = ("img", "intensity", "count", "n_exc_spikes", "n_inh_spikes")


def vector_math_args() -> list[str]:
    """Extra GCC arguments that let the compiler vectorise the neuron updates.

    * ``-D__FAST_MATH__``: on x86-64 Linux, glibc declares the vector versions
      of exp, log, ... (libmvec) only when ``__FAST_MATH__`` is defined, and
      Brian2's ``-ffast-math -fno-finite-math-only`` does not define it; without
      them no loop that calls ``exp`` is vectorised.
    * ``--param=vect-max-version-for-alias-checks=64``: Brian2's loops read and
      write each variable through its own pointer, and GCC vectorises a loop
      over more than a few of them only after more run-time overlap checks
      than its default allows (10): the excitatory update of a learning network
      (v, ge, gi, theta, ...) stayed scalar.

    With both, the membrane update of all neurons
    (:func:`brainsim.network.exponential_euler_when_not_refractory`) runs 8
    neurons at a time. Empty list for other platforms and compilers.
    """
    if not (sys.platform.startswith("linux") and platform.machine() == "x86_64"):
        return []
    try:  # the compiler the generated makefile uses
        version = subprocess.run([os.environ.get("CXX", "g++"), "--version"],
                                 capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    if "Free Software Foundation" not in version:  # not GCC
        return []
    return ["-D__FAST_MATH__", "--param=vect-max-version-for-alias-checks=64"]


def compile_args(brian2_args) -> list[str]:
    """Brian2's GCC arguments for this build: ``-march`` from ``$BRAINSIM_MARCH``
    (:func:`brainsim.machine.march`; Brian2's default is ``-march=native``) plus
    :func:`vector_math_args`."""
    target = f"-march={march()}"
    args = [target if a.startswith("-march=") else a for a in brian2_args]
    if target not in args:
        args.append(target)
    return args + vector_math_args()


def _build_standalone(shape: NetworkShape, directory: Path, openmp_threads: int) -> dict:
    """Generate and compile the C++ project (runs in a child process)."""
    import brian2
    from brian2 import device, second

    from brainsim.network import build_network

    brian2.set_device("cpp_standalone", build_on_run=False, directory=str(directory))
    brian2.prefs.devices.cpp_standalone.openmp_threads = openmp_threads
    # Brian2's default "make -j" starts every compiler at once: dozens of them on a
    # 2-core machine thrash; one job per core compiles as fast with bounded memory.
    brian2.prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{os.cpu_count() or 1}"]
    brian2.prefs.codegen.cpp.extra_compile_args_gcc = compile_args(
        brian2.prefs.codegen.cpp.extra_compile_args_gcc)
    brian2.defaultclock.dt = M.dt
    # hand-written C++ for finding and delivering the input spikes
    dc = build_network(shape, delay_line=True, input_calendar=True, inhibition_loop=True,
                       lanes=max(openmp_threads, 1))
    # seed the random generators from $BRAINSIM_SEED before the run (brainsim/cpp/seed.cpp)
    device.insert_code("main", load_cpp("seed.cpp", n_generators=max(openmp_threads, 1)))
    # Apply the command-line values here, before the run's set-up: by default
    # Brian2 applies them after the set-up, which has already filled the spike
    # queues with the build-time delays, so new delays would be ignored.
    device.apply_run_args()
    dc.net.run(shape.duration * second, namespace={})
    device.build(directory=str(directory), compile=False, run=False, with_output=False)

    def var_info(group, name):
        # a synaptic delay belongs to the pathway (or to the delay line's synapses)
        var = dc.delay_variable if name == "delay" else group.variables[name]
        return {
            "arg": f"{var.owner.name}.{var.name}",
            "file": device.get_array_filename(var),
            "dtype": np.dtype(var.dtype).str,
        }

    objs = {"input_to_exc": dc.input_to_exc, "exc": dc.exc, "inh": dc.inh,
            "controller": dc.controller}
    meta = {"shape": asdict(shape), "run_args": {}, "results": {}, "monitors": {}}
    for role, (obj, name) in _RUN_ARGS.items():
        if name in objs[obj].variables or name == "delay":
            meta["run_args"][role] = var_info(objs[obj], name)
    meta["stimulus_arg"] = f"{dc.stimulus.name}.values"
    # state carried to the next chunk (the controller's is read under "ctrl_*")
    for role in ("w", "theta", "v_exc", "v_inh"):
        obj, name = _RUN_ARGS[role]
        meta["results"][role] = var_info(objs[obj], name)
    for key in _CONTROLLER_KEYS:
        meta["results"]["ctrl_" + key] = var_info(dc.controller, key)
    mon = dc.monitors["controller"]
    for key in _CONTROLLER_KEYS:
        meta["monitors"]["ctrl_" + key] = var_info(mon, key)
    if "tally" in dc.monitors:
        meta["monitors"]["tally"] = var_info(dc.monitors["tally"], "n_input_spikes")
        meta["results"]["input_n_spikes"] = var_info(dc.inputs, "n_spikes")
    for name, m in dc.monitors.items():
        if name.endswith("_spikes"):
            meta["monitors"][name + "_i"] = var_info(m, "i")
            meta["monitors"][name + "_t"] = var_info(m, "t")
    if "traces" in dc.monitors:
        m = dc.monitors["traces"]
        for key in ("t", "v", "theta"):
            meta["monitors"]["traces_" + key] = var_info(m, key)
    # write only the arrays read back (brainsim.cppcode.prune_written_arrays), then compile
    objects_cpp = directory / "objects.cpp"
    kept = {info["file"] for part in ("results", "monitors") for info in meta[part].values()}
    objects_cpp.write_text(prune_written_arrays(objects_cpp.read_text(), kept))
    network_cpp = directory / "network.cpp"  # the CPU clock read once per run, not per step
    network_cpp.write_text(time_run_once(network_cpp.read_text()))
    from brian2.codegen.cpp_prefs import get_compiler_and_args

    device.compile_source(str(directory), get_compiler_and_args()[0], debug=False, clean=False)
    return meta


def remove_stale_run_folders(project_dir: Path) -> list[Path]:
    """Remove the work folders of runs killed on this machine (SIGKILL, power loss).

    Each run of a compiled network works in ``<project>/run_<host>-<pid>_*``
    and removes it when done; a killed process cannot. A folder of this host
    whose process no longer exists is removed; folders of other hosts (a shared
    cache) and of live processes are left alone.

    Returns
    -------
    list of Path
        The folders removed.
    """
    prefix = f"run_{platform.node()}-"
    removed = []
    for folder in Path(project_dir).glob(prefix + "*_*"):
        pid_text = folder.name[len(prefix):].split("_", 1)[0]
        if not pid_text.isdigit() or _process_alive(int(pid_text)):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def _build_main() -> None:  # pragma: no cover - runs in a child process
    spec = json.loads(sys.argv[1])
    shape = NetworkShape(**spec["shape"])
    meta = _build_standalone(shape, Path(spec["directory"]), spec["openmp_threads"])
    from brainsim.fileio import write_text  # atomic: a killed build leaves no half file

    write_text(Path(spec["directory"], "brainsim_meta.json"), json.dumps(meta, indent=1))


def _fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (best effort; some file systems refuse)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@dataclass
class _Run:
    """A started run of a compiled network: its process, work folder and log."""

    proc: subprocess.Popen
    work: Path
    log: Path
    rss_mb: float = 0.0  # peak resident memory of the process, once it has ended

    def cleanup(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)


class StandaloneSimulator:
    """Run a network shape as a compiled Brian2 C++ standalone binary.

    The first use of a shape generates and compiles the code (in a child
    process, typically 20-60 s) into ``cache_dir()/<key>``; later uses, in
    this or any other process, start immediately.

    Parameters
    ----------
    shape : NetworkShape
        The network to simulate.
    openmp_threads : int
        OpenMP threads of the binary; 0 (default) builds a single-threaded
        binary, which was faster than 2 threads on a 2-core machine.
    directory : path, optional
        Cache folder; default :func:`cache_dir`.

    Notes
    -----
    :meth:`run` may be called from several threads at once: every run has
    its own work folder (``mkdtemp``) and its own process of the binary,
    which only reads the project folder (``concurrent_runs``; used by
    :func:`~brainsim.presentation.infer_blocks`).
    """

    #: Runs may overlap (threads of :func:`brainsim.presentation.infer_blocks`).
    concurrent_runs = True

    def __init__(self, shape: NetworkShape, openmp_threads: int = 0,
                 directory: str | os.PathLike | None = None):
        self._running: set = set()  # processes of runs in flight (terminate_runs)
        self.shape = shape
        self.openmp_threads = int(openmp_threads)
        self.key = build_key(shape, self.openmp_threads)
        # absolute: the binary runs with the project folder as working directory
        self.project_dir = Path(directory or cache_dir()).absolute() / self.key
        self.compile_seconds = 0.0
        self.peak_rss_mb = 0.0  # largest resident memory of a run of the binary
        self._swept = False
        self.meta = self._ensure_built()

    def _ensure_built(self) -> dict:
        """Compile this shape into the cache unless it is there; return its metadata.

        Safe for many processes on many machines sharing one cache folder:

        * builders of the same key queue on an exclusive ``flock`` of
          ``<key>.lock``; the first compiles, the others then find its build;
        * a build is made in a sibling folder ``<key>.build-<host>-<pid>`` and
          published by renaming it to ``<key>`` (atomic within one folder), so
          a reader sees no folder or a complete one, never a half-written one.

        A ``<key>`` folder without its binary or metadata (left by an older
        version that built in place) is replaced. A cache that cannot be
        written falls back to :func:`private_cache_dir`. See docs/sweeps.md for NFS.
        """
        meta_path = self.project_dir / "brainsim_meta.json"

        def complete() -> bool:
            return meta_path.exists() and (self.project_dir / "main").exists()

        if complete():
            return json.loads(meta_path.read_text())
        _check_compiler()
        parent = self.project_dir.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            lock = open(parent / f"{self.key}.lock", "w")
        except OSError as err:  # a read-only cache: build in a private one instead
            private = private_cache_dir()
            if parent == private:
                raise BrainsimError(
                    f"cannot write the compile cache {private} ({err.strerror or err}); set "
                    f"BRAINSIM_CACHE to a writable folder") from None
            import warnings

            warnings.warn(
                f"compile cache {parent} cannot be written "
                f"({err.strerror or err}); building in the private cache {private} instead "
                f"(set BRAINSIM_CACHE to choose the folder)", stacklevel=3)
            self.project_dir = private / self.key
            return self._ensure_built()
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building it
            if complete():
                return json.loads(meta_path.read_text())
            # Holding the lock, nobody else builds this key: what is left of
            # interrupted builds (or an incomplete in-place build) can go.
            for stale in parent.glob(f"{self.key}.build-*"):
                shutil.rmtree(stale, ignore_errors=True)
            if self.project_dir.exists():
                shutil.rmtree(self.project_dir, ignore_errors=True)
            build_dir = parent / f"{self.key}.build-{platform.node()}-{os.getpid()}"
            start = time.perf_counter()
            spec = {"shape": asdict(self.shape), "directory": str(build_dir),
                    "openmp_threads": self.openmp_threads}
            try:
                proc = subprocess.run(
                    [sys.executable, "-c",
                     "from brainsim.simulation import _build_main; _build_main()",
                     json.dumps(spec)],
                    capture_output=True, text=True,
                )
                if proc.returncode != 0 or not (build_dir / "brainsim_meta.json").exists():
                    tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
                    raise BrainsimError(
                        "building the C++ standalone network failed (is a C++ compiler such "
                        "as g++ installed? use backend='runtime' to run without one). Last "
                        "output:\n" + tail
                    )
                try:
                    os.rename(build_dir, self.project_dir)  # publish: atomic in one folder
                except OSError:
                    if not complete():  # not a build another machine published first
                        raise
            finally:
                shutil.rmtree(build_dir, ignore_errors=True)
            _fsync_dir(parent)
            self.compile_seconds = time.perf_counter() - start
            return json.loads(meta_path.read_text())

    def run(self, state: NetworkState, chunk: ChunkInput) -> ChunkOutput:
        """Simulate one chunk with the compiled binary."""
        run = self._start(state, chunk)
        try:
            self._wait(run)
            return self._read_results(run.work, state)
        finally:
            run.cleanup()

    def _start(self, state: NetworkState, chunk: ChunkInput, env: dict | None = None) -> "_Run":
        """Write the run's inputs to a new work folder and start the binary on them."""
        shape, meta = self.shape, self.meta
        _check_chunk(shape, state, chunk)
        B = shape.n_copies
        values = {
            "w": np.tile(state.weights.ravel(), B),
            "delay": np.tile(state.delays.ravel(), B),
            "theta": np.tile(state.theta, B),
            "v_exc": np.tile(state.v_exc, B),
            "v_inh": np.tile(state.v_inh, B),
            "wsum": state.weights.sum(axis=0),
            "img": chunk.img,
            "n_rows": chunk.n_rows,
            "count": chunk.count,
            "intensity": chunk.intensity,
            "eta_scale": np.full(B * shape.n_neurons, float(chunk.eta_scale)),
            "w_inh": np.full(B * shape.n_neurons, float(chunk.w_inh)),
        }
        try:
            if not self._swept:  # once per simulator: work folders of killed runs
                remove_stale_run_folders(self.project_dir)
                self._swept = True
            work = Path(tempfile.mkdtemp(prefix=f"run_{platform.node()}-{os.getpid()}_",
                                         dir=self.project_dir))
        except OSError:  # a read-only cache holding the build: run in the temp folder
            work = Path(tempfile.mkdtemp(prefix="brainsim_run_"))
        try:
            args = []
            for role, info in meta["run_args"].items():
                fname = work / f"arg_{role}.dat"
                np.asarray(values[role], dtype=np.dtype(info["dtype"])).tofile(fname)
                args.append(f"{info['arg']}={fname}")
            stim_file = work / "arg_stimulus.dat"
            np.ascontiguousarray(chunk.stimulus, dtype=np.float64).tofile(stim_file)
            args.append(f"{meta['stimulus_arg']}={stim_file}")
            env = dict(os.environ, **(env or {}), BRAINSIM_SEED=str(int(chunk.seed) % (2**32)))
            log_path = work / "stdout.txt"
            with open(log_path, "w") as log:
                proc = subprocess.Popen(
                    [str(self.project_dir / "main"), "--results_dir", str(work) + os.sep, *args],
                    cwd=self.project_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
                )
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        self._running.add(proc)
        return _Run(proc, work, log_path)

    def _wait(self, run: "_Run", block: bool = True) -> bool:
        """Wait for a run's binary (or, with ``block=False``, check whether it has
        ended); raise if it failed. Returns whether it has ended."""
        proc = run.proc
        try:
            pid, status, usage = os.wait4(proc.pid, 0 if block else os.WNOHANG)
        except BaseException:
            proc.kill()
            proc.wait()
            self._running.discard(proc)
            raise
        if pid == 0:  # still running
            return False
        self._running.discard(proc)
        proc.returncode = os.waitstatus_to_exitcode(status)
        # peak resident memory of the binary (ru_maxrss is in KiB on Linux)
        run.rss_mb = usage.ru_maxrss / 1024
        self.peak_rss_mb = max(self.peak_rss_mb, run.rss_mb)
        if proc.returncode != 0:
            raise BrainsimError(
                f"the compiled network stopped with exit code {proc.returncode}: "
                + run.log.read_text(errors="replace").strip()[-500:]
            )
        return True

    def terminate_runs(self) -> None:
        """Kill the binaries of the runs in flight (in other threads); they raise an error."""
        for proc in list(self._running):
            if proc.returncode is None:
                proc.kill()

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_running"] = set()  # processes belong to this process only
        return state

    def _read(self, work: Path, info: dict) -> np.ndarray:
        path = work / info["file"]
        if not path.exists():
            return np.zeros(0, dtype=np.dtype(info["dtype"]))
        return np.fromfile(path, dtype=np.dtype(info["dtype"]))

    def _read_results(self, work: Path, state: NetworkState) -> ChunkOutput:
        shape, meta = self.shape, self.meta
        B, N = shape.n_copies, shape.n_neurons
        res = {role: self._read(work, info) for role, info in meta["results"].items()}
        new_state = NetworkState(
            weights=res["w"].reshape(B, shape.n_input, N)[0].astype(float),
            delays=state.delays,
            theta=res["theta"][:N].astype(float),
            v_exc=res["v_exc"][:N].astype(float),
            v_inh=res["v_inh"][:N].astype(float),
        )
        mon = {k: self._read(work, meta["monitors"]["ctrl_" + k]).reshape(-1, B)
               for k in _CONTROLLER_KEYS}
        final = {k: res["ctrl_" + k] for k in _CONTROLLER_KEYS}
        if "tally" in meta["monitors"]:
            mon["n_input_spikes"] = self._read(work, meta["monitors"]["tally"]).reshape(-1, B)
            final["n_input_spikes"] = res["input_n_spikes"].reshape(B, -1).sum(axis=1)
        exc_spikes = None
        if "exc_spikes_i" in meta["monitors"]:
            exc_spikes = (self._read(work, meta["monitors"]["exc_spikes_i"]).astype(int),
                          self._read(work, meta["monitors"]["exc_spikes_t"]))
        recordings = None
        if shape.record_input_spikes or shape.record_traces:
            recordings = {}
            for key in ("input_spikes", "exc_spikes", "inh_spikes"):
                if key + "_i" in meta["monitors"]:
                    recordings[key] = (
                        self._read(work, meta["monitors"][key + "_i"]).astype(int),
                        self._read(work, meta["monitors"][key + "_t"]),
                    )
            if "traces_t" in meta["monitors"]:
                t = self._read(work, meta["monitors"]["traces_t"])
                recordings["t"] = t
                for key in ("v", "theta"):
                    recordings[key] = self._read(work, meta["monitors"]["traces_" + key]).reshape(
                        len(t), -1).T
        return _chunk_output(shape, mon, final, new_state, exc_spikes, recordings)


def _exchange_dir() -> str:
    """Folder for the parts' exchange file: shared memory (``/dev/shm``) where there is one."""
    shm = "/dev/shm"
    if os.path.isdir(shm) and os.access(shm, os.W_OK):
        return shm
    return tempfile.gettempdir()


class PartsSimulator:
    """Run one network as several processes, each simulating a part of its layers.

    Each of the `n_parts` processes runs the same compiled binary (a
    :class:`StandaloneSimulator` of the shape with ``n_neurons / n_parts``
    excitatory and inhibitory neurons and ``n_parts`` set) on its columns of
    the input weights, its thresholds and potentials, and the same input
    spikes (the same seed and images: the Poisson input is drawn identically
    in every part). The parts exchange, through a small file in shared memory,
    the number of inhibitory spikes of every time step (an inhibitory spike
    reaches every excitatory neuron but its partner, in all parts) and the
    excitatory spike count of every slot (the retry rule counts the whole
    layer). Everything else of the network is local to a neuron. The result is
    the whole network's, number for number (``tests/test_parts.py``); the parts
    run in parallel, one core each, without threads or their per-step
    barriers (docs/performance.md, "Threads").

    Parameters
    ----------
    shape : NetworkShape
        The whole network; one copy (``n_copies=1``), ``n_neurons`` a multiple
        of `n_parts`.
    n_parts : int
        Processes (at least 2); each should have a core to itself, since every
        step waits for the slowest part.
    directory : path, optional
        Cache folder; default :func:`cache_dir`.
    """

    #: One run already occupies `n_parts` cores.
    concurrent_runs = False

    def __init__(self, shape: NetworkShape, n_parts: int = 2,
                 directory: str | os.PathLike | None = None):
        n_parts = int(n_parts)
        if n_parts < 2:
            raise ConfigError(f"a network shared by processes needs at least 2 parts, "
                              f"got {n_parts}; use StandaloneSimulator for one process")
        if shape.n_copies != 1:
            raise ConfigError(f"only a network of one copy can be split into parts (this "
                              f"shape has {shape.n_copies}); use n_jobs for parallel inference")
        if shape.n_neurons % n_parts:
            raise ConfigError(f"{shape.n_neurons} neurons cannot be split into {n_parts} "
                              f"equal parts; choose a number of parts that divides it")
        if shape.record_input_spikes or shape.record_traces:
            raise ConfigError("recordings of single examples are not available from a "
                              "network split into parts; run it as one process")
        self.shape = shape
        self.n_parts = n_parts
        self.part = StandaloneSimulator(
            replace(shape, n_neurons=shape.n_neurons // n_parts, n_parts=n_parts),
            directory=directory)
        self.key = self.part.key
        self.project_dir = self.part.project_dir  # the parts' binary
        self.compile_seconds = self.part.compile_seconds
        self.peak_rss_mb = 0.0  # largest memory of a run, all parts together

    def terminate_runs(self) -> None:
        """Kill the parts of a run in flight (in another thread); it raises an error."""
        self.part.terminate_runs()

    def _part_state(self, state: NetworkState, p: int) -> NetworkState:
        cols = slice(p * self.part.shape.n_neurons, (p + 1) * self.part.shape.n_neurons)
        return NetworkState(weights=state.weights[:, cols], delays=state.delays[:, cols],
                            theta=state.theta[cols], v_exc=state.v_exc[cols],
                            v_inh=state.v_inh[cols])

    def run(self, state: NetworkState, chunk: ChunkInput) -> ChunkOutput:
        """Simulate one chunk with all parts at once; the whole network's output."""
        _check_chunk(self.shape, state, chunk)
        states = [self._part_state(state, p) for p in range(self.n_parts)]
        fd, exchange = tempfile.mkstemp(prefix="brainsim_exchange_", dir=_exchange_dir())
        runs: list[_Run] = []
        try:
            with os.fdopen(fd, "wb") as f:  # two 64-byte slots per part, zero
                f.write(bytes(2 * 64 * self.n_parts))
            for p, part_state in enumerate(states):
                # the controller starts from the count of the whole layer: part 0 holds it
                part_chunk = replace(chunk, count=chunk.count if p == 0
                                     else np.zeros_like(np.asarray(chunk.count, dtype=float)))
                runs.append(self.part._start(part_state, part_chunk, env={
                    "BRAINSIM_EXCHANGE": exchange, "BRAINSIM_PART": str(p)}))
            pending = list(runs)
            while pending:
                pending = [run for run in pending if not self.part._wait(run, block=False)]
                if pending:
                    _sleep_until_one_ends(pending)
            self.peak_rss_mb = max(self.peak_rss_mb, sum(run.rss_mb for run in runs))
            outputs = [self.part._read_results(run.work, part_state)
                       for run, part_state in zip(runs, states)]
        finally:
            for run in runs:
                if run.proc.returncode is None:  # a part failed or we were interrupted
                    run.proc.kill()
                    run.proc.wait()
                    self.part._running.discard(run.proc)
                run.cleanup()
            os.unlink(exchange)
        return _merge_parts(outputs, state)


def _sleep_until_one_ends(runs: list[_Run], timeout: float = 1.0) -> None:
    """Block until one of the runs' processes ends (or `timeout` seconds pass).

    Waits on Linux process file descriptors (``os.pidfd_open``) without waking
    up in between, so that the parts, which wait for each other every time
    step, keep their cores; elsewhere it sleeps 5 ms.
    """
    import select

    fds = []
    try:
        for run in runs:
            fds.append(os.pidfd_open(run.proc.pid))
        select.select(fds, [], [], timeout)
    except (AttributeError, OSError):  # no pidfd_open (not Linux >= 5.3): poll
        time.sleep(0.005)
    finally:
        for fd in fds:
            os.close(fd)


def _merge_parts(outputs: list[ChunkOutput], state: NetworkState) -> ChunkOutput:
    """One network's output from its parts' (neurons in part order)."""
    first = outputs[0]
    for out in outputs[1:]:
        if not (np.array_equal(out.slot_img, first.slot_img)
                and np.array_equal(out.slot_intensity, first.slot_intensity)):
            raise BrainsimError("the parts of a shared network showed different images; "
                                "their binaries or inputs differ (clear the compile cache)")
    new_state = NetworkState(
        weights=np.hstack([o.state.weights for o in outputs]), delays=state.delays,
        theta=np.concatenate([o.state.theta for o in outputs]),
        v_exc=np.concatenate([o.state.v_exc for o in outputs]),
        v_inh=np.concatenate([o.state.v_inh for o in outputs]))
    return ChunkOutput(
        state=new_state, slot_img=first.slot_img, slot_intensity=first.slot_intensity,
        slot_count=sum(o.slot_count for o in outputs),
        slot_input_spikes=first.slot_input_spikes,  # the same input in every part
        slot_exc_spikes=sum(o.slot_exc_spikes for o in outputs),
        slot_inh_spikes=sum(o.slot_inh_spikes for o in outputs),
        exc_counts=(None if first.exc_counts is None
                    else np.concatenate([o.exc_counts for o in outputs], axis=2)),
    )


def make_simulator(shape: NetworkShape, backend: str = "standalone", *,
                   openmp_threads: int = 0, cache: str | os.PathLike | None = None,
                   parts: int = 1):
    """Return a simulator for `shape` on the requested back end.

    Parameters
    ----------
    backend : {"standalone", "runtime", "cython"}
        "standalone": compiled C++ (fast, compiles once per shape);
        "runtime": Brian2 runtime mode with the numpy target (no compiler);
        "cython": runtime mode with the Cython target.
    parts : int
        Processes that share the network (:class:`PartsSimulator`; standalone,
        single-threaded); 1: one process.
    """
    if parts > 1:
        if backend != "standalone" or openmp_threads:
            raise ConfigError("a network split into processes (parts > 1) runs the compiled "
                              "single-threaded binary: use backend='standalone' and "
                              "openmp_threads=0")
        return PartsSimulator(shape, n_parts=parts, directory=cache)
    if backend == "standalone":
        return StandaloneSimulator(shape, openmp_threads=openmp_threads, directory=cache)
    if backend == "runtime":
        return RuntimeSimulator(shape, target="numpy")
    if backend == "cython":
        return RuntimeSimulator(shape, target="cython")
    raise ConfigError(
        f"unknown backend {backend!r}; choose 'standalone', 'runtime' or 'cython'"
    )
