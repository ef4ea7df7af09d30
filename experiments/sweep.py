#!/usr/bin/env python3
"""Run a sweep of experiments (a grid over size, rule, seed, ...) on Dask.

Reads a TOML spec (default ``sweeps/default.toml``; see ``docs/sweeps.md``),
runs every unfinished run as a separate process on a Dask cluster, and writes
into the sweep folder (default ``results/sweeps/<spec name>``):

- ``runs/<hash>/``: each run's ``config.json``, ``metrics.json``, figures,
  ``log.txt`` and the completion marker ``done.json``;
- ``summary.csv`` (one row per run), ``summary.json`` (mean, sd, 95 % CI over
  seeds per config) and the figures ``accuracy_vs_neurons`` and, when the
  rule varies, ``accuracy_per_rule`` (PNG and PDF).

By default the runs go to a local cluster with one single-threaded worker per
core; ``--scheduler``, ``--scheduler-file`` or ``$DASK_SCHEDULER_ADDRESS``
send them to a running ``dask scheduler``. Run the same command again after
an interruption: finished runs are kept, the others are redone. The exit code
is 0 unless every run failed (1) or the input is bad (2).

Examples::

    python experiments/sweep.py                                  # sweeps/default.toml
    python experiments/sweep.py sweeps/rules.toml --workers 2
    python experiments/sweep.py sweeps/paper_table.toml --set data_dir=../shared/data/mnist \\
        --set 'n_neurons=[100]' --scheduler-file ~/scheduler.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from brainsim.cli import positive_int, run_script
from brainsim.errors import ConfigError

DEFAULT_SPEC = Path(__file__).resolve().parent.parent / "sweeps" / "default.toml"


def parse_assignment(text: str) -> tuple[str, object]:
    """``KEY=VALUE`` with VALUE read as a TOML value (bare words are strings)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        parsed = tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value  # a bare word such as mnist or ../data
    return key.strip(), parsed


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="See docs/sweeps.md for the spec format.")
    parser.add_argument("spec", nargs="?", default=str(DEFAULT_SPEC),
                        help="sweep spec (TOML); default sweeps/default.toml")
    parser.add_argument("--out", default=None,
                        help="sweep folder (default: the spec's out, else results/sweeps/NAME)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        type=parse_assignment, metavar="KEY=VALUE",
                        help="set a config key for every run (a TOML list replaces a grid "
                             "axis), e.g. --set n_train=500 --set 'seed=[0,1]'")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="address of a running Dask scheduler (default: "
                            "$DASK_SCHEDULER_ADDRESS, else a local cluster)")
    where.add_argument("--scheduler-file", default=None, metavar="PATH",
                       help="scheduler file written by 'dask scheduler --scheduler-file'")
    parser.add_argument("--workers", type=positive_int, default=None,
                        help="worker processes of the local cluster (default: one per core)")
    parser.add_argument("--no-dashboard", action="store_true",
                        help="do not start the local cluster's dashboard")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--dry-run", action="store_true",
                        help="list the runs and whether they are finished; run nothing")
    return parser


def main(argv: list[str] | None = None) -> int:
    from brainsim import sweep

    args = build_parser().parse_args(argv)
    spec = sweep.load_spec(args.spec, overrides=dict(args.overrides), out=args.out)
    if args.dry_run:
        runs = sweep.plan_runs(spec)
        sweep.check_runs(spec, runs)
        for run in runs:
            state = "finished" if sweep.is_finished(run.dir) else "to run"
            grid = ", ".join(f"{k}={run.config[k]}" for k in spec.grid)
            print(f"{run.id}  {state:8s}  {grid}")
        return 0
    if args.workers and (args.scheduler or args.scheduler_file):
        raise ConfigError("--workers sizes the local cluster; an existing cluster has its own")
    result = sweep.run_sweep(spec, scheduler=args.scheduler, scheduler_file=args.scheduler_file,
                             n_workers=args.workers, progress=not args.no_progress,
                             dashboard=not args.no_dashboard)
    print(f"{len(result.runs)} runs: {len(result.finished)} finished now, "
          f"{len(result.skipped)} finished before, {len(result.failed)} failed "
          f"({result.seconds:.0f} s)")
    for rid, why in result.failed.items():
        print(f"  failed {rid}: {why[:300]}")
    print(sweep.format_summary(spec.out))
    print(f"summary and figures in {spec.out}")
    return 1 if result.all_failed else 0


if __name__ == "__main__":
    run_script(main)
