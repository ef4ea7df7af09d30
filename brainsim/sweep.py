"""Sweeps: a grid of experiment configs run on Dask, one process per run.

A sweep is described by a TOML spec (see ``docs/sweeps.md`` and ``sweeps/``)::

    task = "brainsim.experiment:snn_experiment"   # function(config, out_dir=None) -> dict
    retries = 2                                    # extra attempts after a crash

    [fixed]                                        # keys shared by every run
    dataset = "digits"
    n_train = 300

    [grid]                                         # every combination is one run
    n_neurons = [25, 100]
    seed = [0, 1, 2]

Each run gets a folder ``OUT/runs/<hash of task and config>/`` holding
``config.json``, whatever the task writes (``metrics.json``, figures,
checkpoints), ``log.txt`` and, written last and atomically, the completion
marker ``done.json``. A run is one Dask task that starts a fresh Python
process (``python -m brainsim.sweep run-one RUN_DIR``): Brian2's standalone
device changes the working directory and keeps global state, so two
simulations never share a process. Rerunning a sweep skips the runs that have
a marker and redoes the others; a run that crashes (or whose worker dies) is
retried; a run that still fails is listed in the summary and the sweep goes on.

After the runs, :func:`summarize` writes ``summary.csv`` (one row per run),
``summary.json`` (mean, sd, 95 % confidence interval over seeds for each
config) and the figures.

Where the runs go: :func:`open_client` starts a ``LocalCluster`` with one
single-threaded worker process per core, or connects to an existing scheduler
(address, scheduler file, or ``$DASK_SCHEDULER_ADDRESS``).

This module parses no command line and holds no Brian2 object;
``experiments/sweep.py`` is its script.
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import hashlib
import importlib
import importlib.util
import inspect
import io
import itertools
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

from brainsim.errors import BrainsimError, ConfigError
from brainsim.fileio import json_value, write_json, write_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "DEFAULT_TASK",
    "SEED_KEY",
    "Run",
    "SweepSpec",
    "SweepResult",
    "load_spec",
    "spec_from_dict",
    "plan_runs",
    "run_id",
    "is_finished",
    "check_runs",
    "open_client",
    "run_sweep",
    "summarize",
    "seed_statistics",
    "format_summary",
    "run_one",
]

#: Task of a spec that names none.
DEFAULT_TASK = "brainsim.experiment:snn_experiment"
#: Config checkers of known tasks (``check`` of a spec that names none).
DEFAULT_CHECKS = {DEFAULT_TASK: "brainsim.experiment:resolve_snn_config"}
#: Config key whose values are pooled in the statistics (mean, sd, CI over seeds).
SEED_KEY = "seed"
#: Completion marker of a run folder, written last.
MARKER = "done.json"
#: Exit code of ``run-one`` for a bad config: retrying cannot help.
EXIT_BAD_CONFIG = 2

_SPEC_KEYS = {"task", "check", "name", "out", "retries", "timeout", "fixed", "grid"}


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------
def _write_json(path: Path, payload: Any) -> None:
    """Atomic (temp file, fsync, rename, fsync folder): see :mod:`brainsim.fileio`."""
    write_json(path, payload, default=json_value)


def _read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text())


# ---------------------------------------------------------------------------
# The spec
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepSpec:
    """A sweep: a task, fixed config keys and a grid of values.

    Attributes
    ----------
    task : str
        Import path ``"module:function"`` of ``function(config, out_dir=None) -> dict``;
        the dict has the shape of ``metrics.json``.
    fixed : dict
        Config keys shared by every run.
    grid : dict of str to list
        Every combination of these values is one run (grid order: the first
        key varies slowest).
    out : Path
        Sweep folder (run folders under ``out/runs``, summary files in ``out``).
    retries : int
        Extra attempts of a run that crashed or whose worker died.
    timeout : float or None
        Seconds after which a run is stopped and counts as crashed.
    name : str
        Shown in the progress bar and the summary.
    check : str or None
        Import path of ``function(config)`` that raises ConfigError for a bad
        config; every run's config is checked before any run starts.
    """

    task: str = DEFAULT_TASK
    fixed: dict = field(default_factory=dict)
    grid: dict = field(default_factory=dict)
    out: Path = Path("results/sweeps/sweep")
    retries: int = 2
    timeout: float | None = None
    name: str = "sweep"
    check: str | None = None


def _resolve_paths(config: dict) -> dict:
    """Relative ``*_dir`` values become absolute (runs may start elsewhere)."""
    out = dict(config)
    for key, value in out.items():
        if key.endswith("_dir") and isinstance(value, str) and value and not os.path.isabs(value):
            out[key] = os.path.abspath(os.path.expanduser(value))
    return out


def spec_from_dict(raw: Mapping[str, Any], *, name: str = "sweep",
                   overrides: Mapping[str, Any] | None = None) -> SweepSpec:
    """Check a parsed spec and build a :class:`SweepSpec`.

    Parameters
    ----------
    raw : mapping
        The spec's tables and keys (``task``, ``fixed``, ``grid``, ...).
    name : str
        Name used when the spec has none (the file's stem).
    overrides : mapping, optional
        Keys that replace fixed keys or whole grid axes (``--set KEY=VALUE``).

    Raises
    ------
    ConfigError
        Unknown top-level key, a grid value that is not a non-empty list, a
        key both fixed and in the grid, or a bad ``retries``/``timeout``.
    """
    unknown = sorted(set(raw) - _SPEC_KEYS)
    if unknown:
        raise ConfigError(
            f"unknown key(s) {', '.join(unknown)} at the top of the sweep spec; allowed: "
            f"{', '.join(sorted(_SPEC_KEYS))} (config keys go into [fixed] or [grid])")
    fixed = dict(raw.get("fixed", {}))
    grid = dict(raw.get("grid", {}))
    if not isinstance(raw.get("fixed", {}), Mapping) or not isinstance(raw.get("grid", {}), Mapping):
        raise ConfigError("[fixed] and [grid] of a sweep spec must be tables")
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"grid key {key!r} must be a non-empty list of values, "
                              f"got {values!r}; put single values into [fixed]")
        if len({json.dumps(v, sort_keys=True) for v in values}) != len(values):
            raise ConfigError(f"grid key {key!r} lists a value twice: {values!r}")
    both = sorted(set(fixed) & set(grid))
    if both:
        raise ConfigError(f"key(s) {', '.join(both)} are both in [fixed] and in [grid]; "
                          "keep each in one place")
    for key, value in (overrides or {}).items():
        if key in grid and not isinstance(value, list):
            del grid[key]
            fixed[key] = value
        elif isinstance(value, list) and key in grid:
            grid[key] = value
        else:
            fixed[key] = value
    retries = raw.get("retries", 2)
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise ConfigError(f"retries must be a whole number >= 0, got {retries!r}")
    timeout = raw.get("timeout")
    if timeout is not None and (not isinstance(timeout, (int, float)) or timeout <= 0):
        raise ConfigError(f"timeout must be a number of seconds > 0, got {timeout!r}")
    task = raw.get("task", DEFAULT_TASK)
    if not isinstance(task, str) or ":" not in task:
        raise ConfigError(f"task must be 'module:function', got {task!r}")
    check = raw.get("check", DEFAULT_CHECKS.get(task))
    if check is not None and (not isinstance(check, str) or ":" not in check):
        raise ConfigError(f"check must be 'module:function', got {check!r}")
    name = str(raw.get("name", name))
    out = Path(raw.get("out", f"results/sweeps/{name}")).expanduser()
    return SweepSpec(task=task, fixed=_resolve_paths(fixed),
                     grid={k: list(v) for k, v in grid.items()}, out=out,
                     retries=retries, timeout=None if timeout is None else float(timeout),
                     name=name, check=check)


def load_spec(path: str | os.PathLike, *, overrides: Mapping[str, Any] | None = None,
              out: str | os.PathLike | None = None) -> SweepSpec:
    """Read a TOML sweep spec.

    Parameters
    ----------
    path : path
        The ``.toml`` file.
    overrides : mapping, optional
        Config keys that replace the spec's (see :func:`spec_from_dict`).
    out : path, optional
        Sweep folder instead of the spec's ``out`` (default ``results/sweeps/<stem>``).

    Raises
    ------
    ConfigError
        Missing file, TOML syntax error or a bad spec; the message names the file.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"sweep spec {path} does not exist; see sweeps/ for examples") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"sweep spec {path} is not valid TOML: {err}") from None
    try:
        spec = spec_from_dict(raw, name=path.stem, overrides=overrides)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None
    if out is not None:
        spec = SweepSpec(**{**spec.__dict__, "out": Path(out)})
    return spec


# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Run:
    """One point of the grid.

    Attributes
    ----------
    id : str
        Hash of the task and the config (the folder's name).
    config : dict
        The full config passed to the task.
    dir : Path
        The run folder.
    """

    id: str
    config: dict
    dir: Path


def run_id(config: Mapping[str, Any], task: str = DEFAULT_TASK) -> str:
    """Hash (16 hex digits) of a run's task and config; key order does not matter."""
    text = json.dumps({"task": task, "config": config}, sort_keys=True, default=json_value)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def plan_runs(spec: SweepSpec) -> list[Run]:
    """All runs of a spec, in grid order (the first grid key varies slowest)."""
    keys = list(spec.grid)
    runs = []
    for values in itertools.product(*(spec.grid[k] for k in keys)):
        config = {**spec.fixed, **dict(zip(keys, values))}
        rid = run_id(config, spec.task)
        runs.append(Run(rid, config, spec.out / "runs" / rid))
    return runs


def check_runs(spec: SweepSpec, runs: Sequence[Run]) -> None:
    """Check every run's config with the spec's ``check`` function before anything runs.

    Raises
    ------
    ConfigError
        The first bad config, naming its grid values.
    """
    if spec.check is None:
        return
    check = _load_task(spec.check)
    for run in runs:
        try:
            check(dict(run.config))
        except ConfigError as err:
            where = ", ".join(f"{k}={run.config[k]!r}" for k in spec.grid) or "every run"
            raise ConfigError(f"run {where}: {err}") from None


def is_finished(run_dir: str | os.PathLike) -> bool:
    """True when the run folder holds its completion marker (and its metrics)."""
    run_dir = Path(run_dir)
    return (run_dir / MARKER).is_file() and (run_dir / "metrics.json").is_file()


def _load_task(path: str) -> Callable[..., dict]:
    module_name, _, func_name = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ConfigError(f"cannot import the sweep task's module {module_name!r}: {err}") from None
    func = getattr(module, func_name, None)
    if not callable(func):
        raise ConfigError(f"module {module_name!r} has no function {func_name!r} (task {path!r})")
    return func


def run_one(run_dir: str | os.PathLike) -> dict:
    """Run the task of one run folder in this process and mark it finished.

    Reads ``run_dir/config.json`` (``task`` and ``config``), calls the task with
    the config (and ``out_dir=run_dir`` when it takes ``out_dir``), writes its
    result to ``metrics.json`` and then the marker ``done.json``. Holds an
    exclusive lock on ``run_dir/.lock`` so that two processes never run the
    same folder at once; a folder already finished is left alone.

    This is what ``python -m brainsim.sweep run-one RUN_DIR`` calls, in a fresh
    process per run.

    Returns
    -------
    dict
        The task's result (``metrics.json``'s content).
    """
    import fcntl

    run_dir = Path(run_dir)
    with open(run_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_finished(run_dir):
            return _read_json(run_dir / "metrics.json")
        spec = _read_json(run_dir / "config.json")
        task = _load_task(spec["task"])
        start = time.time()
        kwargs = {}
        if "out_dir" in inspect.signature(task).parameters:
            kwargs["out_dir"] = str(run_dir)
        result = task(dict(spec["config"]), **kwargs)
        if not isinstance(result, Mapping) or "models" not in result:
            raise ConfigError(f"task {spec['task']} returned {type(result).__name__}, "
                              "not a metrics dict with 'models'")
        result = dict(result)
        _write_json(run_dir / "metrics.json", result)
        marker = {"run": spec["id"], "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                  "seconds": time.time() - start, "host": socket.gethostname(),
                  "pid": os.getpid()}
        _write_json(run_dir / MARKER, marker)
        return result


def _die_with_parent() -> None:  # pragma: no cover - runs in the run's process
    """Ask Linux to kill this process when the worker that started it dies.

    Called by ``run-one`` itself (not in a ``preexec_fn``, which is unsafe in
    the threaded worker); the worker's pid comes in ``$BRAINSIM_SWEEP_PARENT``.
    """
    parent = os.environ.get("BRAINSIM_SWEEP_PARENT")
    if not parent or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != int(parent):  # the worker died before the request
        os._exit(1)


class RunCrashed(RuntimeError):
    """A run's process failed in a way a retry may fix (crash, kill, timeout)."""


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    # one core per run: the worker is single-threaded, the numerical libraries too
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    env.setdefault("MPLBACKEND", "Agg")
    return env


def _tail(path: Path, n: int = 12) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-n:])


def execute_run(run_dir: str, payload: dict, timeout: float | None = None) -> dict:
    """The Dask task: run one folder in a child process and return its result.

    Parameters
    ----------
    run_dir : str
        The run folder (created here if this machine does not see the driver's).
    payload : dict
        ``config.json``'s content: ``id``, ``task``, ``config``.
    timeout : float, optional
        Seconds before the child is killed (then it counts as a crash).

    Returns
    -------
    dict
        ``status`` ("finished" or "failed" for a bad config), ``metrics``,
        ``marker``, ``error``, ``worker`` (host and pid).

    Raises
    ------
    RunCrashed
        The child crashed, was killed or timed out; Dask retries the task.
    """
    run_dir_p = Path(run_dir)
    run_dir_p.mkdir(parents=True, exist_ok=True)
    worker = {"host": socket.gethostname(), "pid": os.getpid()}
    if not (run_dir_p / "config.json").exists():
        _write_json(run_dir_p / "config.json", payload)
    if not is_finished(run_dir_p):
        with open(run_dir_p / "attempts.jsonl", "a") as fh:
            fh.write(json.dumps({**worker, "start": time.time()}) + "\n")
        log_path = run_dir_p / "log.txt"
        with open(log_path, "a") as log:
            log.write(f"--- attempt on {worker['host']} (worker pid {worker['pid']}) "
                      f"at {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
            log.flush()
            try:
                proc = subprocess.run(
                    [sys.executable, "-m", "brainsim.sweep", "run-one", str(run_dir_p)],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    env=dict(_child_env(), BRAINSIM_SWEEP_PARENT=str(os.getpid())),
                    timeout=timeout,
                )
            except subprocess.TimeoutExpired:
                raise RunCrashed(f"run {payload['id']} took longer than {timeout:g} s "
                                 f"(log: {log_path})") from None
        if proc.returncode == EXIT_BAD_CONFIG:
            lines = _tail(log_path, 1)
            return {"status": "failed", "error": lines.removeprefix("error: "),
                    "worker": worker}
        if proc.returncode != 0 or not is_finished(run_dir_p):
            raise RunCrashed(f"run {payload['id']} stopped with exit code {proc.returncode}: "
                             + _tail(log_path, 6))
    return {"status": "finished", "metrics": _read_json(run_dir_p / "metrics.json"),
            "marker": _read_json(run_dir_p / MARKER), "worker": worker}


def _child_main(argv: Sequence[str]) -> int:  # pragma: no cover - runs in a child process
    if len(argv) != 2 or argv[0] != "run-one":
        print("usage: python -m brainsim.sweep run-one RUN_DIR", file=sys.stderr)
        return EXIT_BAD_CONFIG
    _die_with_parent()
    try:
        run_one(argv[1])
    except BrainsimError as err:
        traceback.print_exc()
        print("error: " + " ".join(str(err).split()), file=sys.stderr)
        return EXIT_BAD_CONFIG
    return 0


# ---------------------------------------------------------------------------
# Where the runs go
# ---------------------------------------------------------------------------
@contextlib.contextmanager
def open_client(scheduler: str | None = None, scheduler_file: str | os.PathLike | None = None,
                *, n_workers: int | None = None, dashboard: bool = True,
                allowed_failures: int = 3) -> Iterator[Any]:
    """A ``dask.distributed.Client``: an existing cluster's, or a new local one.

    Parameters
    ----------
    scheduler : str, optional
        Scheduler address (``tcp://host:8786``). Default ``$DASK_SCHEDULER_ADDRESS``.
    scheduler_file : path, optional
        Scheduler file written by ``dask scheduler --scheduler-file``.
    n_workers : int, optional
        Worker processes of the local cluster (default: one per core); each
        runs one task at a time.
    dashboard : bool
        Serve the local cluster's dashboard on port 8787 (another port if it is
        taken); needs bokeh (``pip install "brainsim[cluster]"``), else there is none.
    allowed_failures : int
        How often a task may lose its worker before it fails (local cluster only;
        an existing scheduler uses its own ``distributed.scheduler.allowed-failures``).
    """
    import dask
    from distributed import Client, LocalCluster

    scheduler = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    if scheduler and scheduler_file:
        raise ConfigError("give either a scheduler address or a scheduler file, not both")
    if scheduler_file is not None:
        if not Path(scheduler_file).is_file():
            raise ConfigError(f"scheduler file {scheduler_file} does not exist; start "
                              f"'dask scheduler --scheduler-file {scheduler_file}' first")
        with Client(scheduler_file=str(scheduler_file), timeout="30s") as client:
            yield client
        return
    if scheduler:
        try:
            client = Client(scheduler, timeout="30s")
        except OSError as err:
            raise ConfigError(f"cannot reach the Dask scheduler at {scheduler}: {err}") from None
        with client:
            yield client
        return
    n = n_workers or os.cpu_count() or 1
    # The scheduler always serves HTTP (health checks); the dashboard on it
    # needs bokeh. Without a dashboard, serve on a free port, not on 8787.
    dashboard = dashboard and importlib.util.find_spec("bokeh") is not None
    with dask.config.set({"distributed.scheduler.allowed-failures": allowed_failures}):
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                          dashboard_address=":8787" if dashboard else ":0",
                          scheduler_kwargs={"dashboard": dashboard},
                          silence_logs=40) as cluster, Client(cluster) as client:
            client.brainsim_dashboard = dashboard
            yield client


def _dashboard_link(client) -> str | None:
    if getattr(client, "brainsim_dashboard", True) is False:
        return None  # a local cluster without bokeh: no dashboard on the HTTP port
    try:
        info = client.scheduler_info()
        if info.get("services", {}).get("dashboard") is None:
            return None
        return client.dashboard_link
    except Exception:  # noqa: BLE001 - the address is a courtesy
        return None


# ---------------------------------------------------------------------------
# The sweep
# ---------------------------------------------------------------------------
@dataclass
class SweepResult:
    """What :func:`run_sweep` did.

    Attributes
    ----------
    runs : list of Run
        Every run of the spec.
    finished : list of str
        Ids of the runs finished in this call.
    skipped : list of str
        Ids of the runs already finished before (not redone).
    failed : dict of str to str
        Run id -> one-line reason, for runs that failed after their retries.
    files : list of Path
        Summary files and figures written.
    seconds : float
        Wall time of the call.
    """

    runs: list
    finished: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: dict = field(default_factory=dict)
    files: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def all_failed(self) -> bool:
        """True when no run of the sweep has finished (now or before)."""
        return len(self.failed) == len(self.runs) and bool(self.runs)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def run_sweep(spec: SweepSpec, *, client=None, scheduler: str | None = None,
              scheduler_file: str | os.PathLike | None = None, n_workers: int | None = None,
              progress: bool = True, dashboard: bool = True, figures: bool = True,
              log: Callable[[str], None] | None = print) -> SweepResult:
    """Run every unfinished run of ``spec`` on Dask, then write the summary.

    Parameters
    ----------
    spec : SweepSpec
    client : distributed.Client, optional
        Use this client; else :func:`open_client` (``scheduler``,
        ``scheduler_file``, ``n_workers``, ``dashboard``) makes one.
    progress : bool
        tqdm bar of finished runs with an ETA.
    figures : bool
        Draw the summary figures.
    log : callable or None
        Receives one-line messages (dashboard address, failures).

    Returns
    -------
    SweepResult
    """
    from distributed import as_completed
    from tqdm.auto import tqdm

    say = log or (lambda _msg: None)
    start = time.perf_counter()
    runs = plan_runs(spec)
    check_runs(spec, runs)
    spec.out.mkdir(parents=True, exist_ok=True)
    _write_json(spec.out / "spec.json", {"name": spec.name, "task": spec.task,
                                         "fixed": spec.fixed, "grid": spec.grid,
                                         "check": spec.check, "retries": spec.retries,
                                         "timeout": spec.timeout})
    result = SweepResult(runs=runs)
    payloads = {}
    for run in runs:
        payloads[run.id] = {"id": run.id, "task": spec.task, "config": run.config}
        run.dir.mkdir(parents=True, exist_ok=True)
        if not (run.dir / "config.json").exists():
            _write_json(run.dir / "config.json", payloads[run.id])
    pending = [r for r in runs if not is_finished(r.dir)]
    result.skipped = [r.id for r in runs if is_finished(r.dir)]
    if result.skipped:
        say(f"{len(result.skipped)} of {len(runs)} runs already finished in {spec.out}; "
            f"running the other {len(pending)}")

    if pending:
        ctx = contextlib.nullcontext(client) if client is not None else open_client(
            scheduler, scheduler_file, n_workers=n_workers, dashboard=dashboard,
            allowed_failures=max(3, spec.retries + 1))
        with ctx as cl:
            link = _dashboard_link(cl)
            if link:
                say(f"Dask dashboard: {link}")
            token = uuid.uuid4().hex[:8]
            futures = {}
            # the first seed of every config first: different configs (network shapes)
            # compile side by side instead of queueing on one compile; submitted in
            # that order too, as idle workers take the first tasks as they come
            ranked = sorted(zip(_seed_ranks(pending), range(len(pending)), pending))
            for rank, _, run in ranked:
                fut = cl.submit(execute_run, str(run.dir.resolve()), payloads[run.id],
                                spec.timeout, key=f"brainsim-run-{run.id}-{token}",
                                retries=spec.retries, pure=False, priority=-rank)
                futures[fut] = run
            bar = tqdm(total=len(runs), initial=len(result.skipped), unit="run",
                       desc=spec.name, disable=not progress, dynamic_ncols=True)
            try:
                for fut in as_completed(futures):
                    run = futures[fut]
                    try:
                        res = fut.result()
                    except Exception as err:  # noqa: BLE001 - a run's failure is reported
                        res = {"status": "failed",
                               "error": f"{type(err).__name__}: {_one_line(err)}"}
                    if res["status"] == "finished":
                        _store_locally(run, payloads[run.id], res)
                        result.finished.append(run.id)
                    else:
                        result.failed[run.id] = _one_line(res["error"])[:500]
                        say(f"run {run.id} failed: {result.failed[run.id][:200]}")
                    bar.update(1)
                    bar.set_postfix(failed=len(result.failed), refresh=False)
            except BaseException:
                for fut in futures:
                    fut.cancel()
                raise
            finally:
                bar.close()
    result.files = summarize(spec.out, runs, failed=result.failed, figures=figures)
    result.seconds = time.perf_counter() - start
    return result


def _seed_ranks(runs: Sequence[Run]) -> list[int]:
    """Position of each run among the runs of its config that differ only in the seed."""
    seen: dict[str, int] = {}
    ranks = []
    for run in runs:
        key = _group_key(run.config)
        ranks.append(seen.get(key, 0))
        seen[key] = ranks[-1] + 1
    return ranks


def _store_locally(run: Run, payload: dict, res: dict) -> None:
    """Write a run's metrics and marker here when the worker's disk is not ours."""
    if is_finished(run.dir):
        return
    run.dir.mkdir(parents=True, exist_ok=True)
    if not (run.dir / "config.json").exists():
        _write_json(run.dir / "config.json", payload)
    _write_json(run.dir / "metrics.json", res["metrics"])
    _write_json(run.dir / MARKER, res["marker"])


# ---------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------
def _flat_figures(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """``model.figure`` -> value for every scalar figure of every model, plus timings."""
    flat = {}
    for model, figures in (metrics.get("models") or {}).items():
        for key, value in (figures or {}).items():
            if isinstance(value, (bool, int, float, str)) or value is None:
                flat[f"{model}.{key}"] = value
    for key, value in (metrics.get("timings") or {}).items():
        if isinstance(value, (int, float)):
            flat[f"timings.{key}"] = value
    return flat


def _cell(value: Any) -> Any:
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value, sort_keys=True, default=json_value)
    return "" if value is None else value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def seed_statistics(values: Sequence[float], confidence: float = 0.95) -> dict:
    """Mean, sample sd and t-distribution confidence interval of per-seed values.

    Parameters
    ----------
    values : sequence of float
        One value per seed.
    confidence : float
        Level of the interval (0.95: 95 %).

    Returns
    -------
    dict
        ``n``, ``mean``, ``sd`` (ddof 1), ``ci95`` ([low, high]: mean +- t(n-1) sd/sqrt(n));
        ``sd`` and ``ci95`` are None for a single value.
    """
    from scipy import stats

    x = np.asarray([v for v in values if v is not None], dtype=float)
    n = len(x)
    if n == 0:
        return {"n": 0, "mean": None, "sd": None, "ci95": None}
    mean = float(x.mean())
    if n == 1:
        return {"n": 1, "mean": mean, "sd": None, "ci95": None}
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n))
    return {"n": n, "mean": mean, "sd": sd, "ci95": [mean - half, mean + half]}


def _group_key(config: Mapping[str, Any]) -> str:
    return json.dumps({k: v for k, v in config.items() if k != SEED_KEY}, sort_keys=True,
                      default=json_value)


def summarize(out: str | os.PathLike, runs: Sequence[Run], *, failed: Mapping[str, str] | None = None,
              figures: bool = True) -> list[Path]:
    """Write ``summary.csv``, ``summary.json`` and the figures of a sweep.

    ``summary.csv`` has one row per run: ``run``, ``status``, every config key
    and every scalar figure of every model (``snn.test_accuracy``, ...).
    ``summary.json`` groups the finished runs by their config without the
    seed and gives, for every numeric figure, ``n``, ``mean``, ``sd`` and
    ``ci95`` (:func:`seed_statistics`).

    Returns
    -------
    list of Path
        Files written.
    """
    out = Path(out)
    failed = dict(failed or {})
    config_keys: list[str] = []
    for run in runs:
        config_keys += [k for k in run.config if k not in config_keys]
    rows, figure_keys = [], []
    for run in runs:
        row = {"run": run.id}
        if is_finished(run.dir):
            metrics = _read_json(run.dir / "metrics.json")
            figs = _flat_figures(metrics)
            figure_keys += [k for k in figs if k not in figure_keys]
            row.update(status="finished", error="", **figs)
        else:
            row.update(status="failed" if run.id in failed else "unfinished",
                       error=failed.get(run.id, ""))
        row.update(run.config)
        rows.append(row)
    figure_keys.sort(key=lambda k: (not k.startswith("snn."), k.startswith("timings."), k))
    columns = ["run", "status", *config_keys, *figure_keys, "error"]
    written = []
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in columns})
    write_text(out / "summary.csv", buffer.getvalue())
    written.append(out / "summary.csv")

    # statistics over seeds, one group per config without the seed
    varying = [k for k in config_keys
               if k != SEED_KEY and len({json.dumps(r.config.get(k), sort_keys=True,
                                                    default=json_value) for r in runs}) > 1]
    groups: dict[str, dict] = {}
    for run, row in zip(runs, rows):
        if row["status"] != "finished":
            continue
        key = _group_key(run.config)
        g = groups.setdefault(key, {
            "config": {k: v for k, v in run.config.items() if k != SEED_KEY},
            "varying": {k: run.config.get(k) for k in varying},
            "seeds": [], "runs": [], "values": {}})
        g["seeds"].append(run.config.get(SEED_KEY))
        g["runs"].append(run.id)
        for k in figure_keys:
            if _is_number(row.get(k)):
                g["values"].setdefault(k, []).append(float(row[k]))
    group_list = []
    for g in groups.values():
        values = g.pop("values")
        g["n_seeds"] = len(g["seeds"])
        g["metrics"] = {k: seed_statistics(values[k]) for k in figure_keys if k in values}
        group_list.append(g)
    summary = {
        "n_runs": len(runs),
        "n_finished": sum(r["status"] == "finished" for r in rows),
        "failed": failed,
        "unfinished": [r["run"] for r in rows if r["status"] == "unfinished"],
        "seed_key": SEED_KEY,
        "varying": varying,
        "statistics": "mean, sd (ddof 1) and 95 % CI (t distribution) over seeds",
        "groups": group_list,
    }
    _write_json(out / "summary.json", summary)
    written.append(out / "summary.json")
    if figures and group_list:
        written += _summary_figures(out, group_list, varying)
    return written


def format_summary(out: str | os.PathLike, figure: str = "test_accuracy") -> str:
    """Lines of text: each config's ``figure`` per model, mean +- sd over seeds (%).

    Read from ``out/summary.json``.
    """
    summary = _read_json(Path(out) / "summary.json")
    lines = []
    for g in summary["groups"]:
        head = ", ".join(f"{k}={v}" for k, v in g["varying"].items()) or "all runs"
        parts = []
        for key, m in g["metrics"].items():
            model, _, name = key.partition(".")
            if name != figure or m["mean"] is None:
                continue
            sd = f" ± {100 * m['sd']:.1f}" if m["sd"] is not None else ""
            parts.append(f"{model} {100 * m['mean']:.1f}{sd} %")
        lines.append(f"{head} ({g['n_seeds']} seeds): " + "; ".join(parts))
    return "\n".join(lines)


def _summary_figures(out: Path, groups: list[dict], varying: list[str]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from brainsim import plotting, sweep_plots
    from brainsim.cli import save_figure

    plotting.apply_style()
    written = []
    if any("n_neurons" in g["config"] for g in groups) and any(
            "snn.test_accuracy" in g["metrics"] for g in groups):
        fig, ax = plt.subplots(figsize=(5.5, 4))
        sweep_plots.plot_accuracy_vs_neurons(groups, ax=ax)
        written += save_figure(fig, out, "accuracy_vs_neurons")
    if "rule" in varying:
        fig, ax = plt.subplots(figsize=(5.5, 4))
        sweep_plots.plot_accuracy_per_rule(groups, ax=ax)
        written += save_figure(fig, out, "accuracy_per_rule")
    return written


if __name__ == "__main__":  # pragma: no cover - python -m brainsim.sweep run-one RUN_DIR
    sys.exit(_child_main(sys.argv[1:]))
