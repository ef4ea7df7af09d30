"""Teacher and student versions of the lessons in ``lessons/``.

Each lesson is a jupytext percent script (``lessons/NN_name.py``, the teacher
version, reviewed as code) paired with a notebook without outputs
(``lessons/NN_name.ipynb``, for Jupyter or Colab). An exercise's solution sits
between two marker lines in a code cell::

    def node(x, w, b):
        # BEGIN SOLUTION
        return relu(w @ x + b)
        # END SOLUTION

The student version replaces everything from ``# BEGIN SOLUTION`` to
``# END SOLUTION`` by one line, indented like the marker,
``raise NotImplementedError("exercise: ...")``.

Command line (from the repository's root)::

    python -m brainsim.lessons student OUTDIR   # student notebooks (and .py) in OUTDIR
    python -m brainsim.lessons sync             # rewrite each .ipynb from its .py
    python -m brainsim.lessons check            # exit 1 if a pair has drifted apart
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

from brainsim.errors import ConfigError

#: The lessons folder of a source checkout.
DEFAULT_LESSONS_DIR = Path(__file__).resolve().parent.parent / "lessons"

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
STUB = 'raise NotImplementedError("exercise: replace this line with your solution")'
_LESSON_NAME = re.compile(r"^\d\d_[a-z0-9_]+\.py$")


def lesson_scripts(lessons_dir: str | os.PathLike = DEFAULT_LESSONS_DIR) -> list[Path]:
    """The lesson scripts ``NN_name.py`` of a folder, in order.

    Raises
    ------
    ConfigError
        If the folder does not exist or holds no lesson.
    """
    folder = Path(lessons_dir)
    if not folder.is_dir():
        raise ConfigError(f"lessons folder {folder} not found; pass --lessons DIR")
    scripts = sorted(p for p in folder.iterdir() if _LESSON_NAME.match(p.name))
    if not scripts:
        raise ConfigError(f"no lesson scripts (NN_name.py) in {folder}")
    return scripts


def strip_solutions(source: str) -> str:
    """Replace every solution block of a cell's (or a script's) source by a stub.

    Parameters
    ----------
    source : str
        Python source with ``# BEGIN SOLUTION`` / ``# END SOLUTION`` lines.

    Returns
    -------
    str
        The source with each block, markers included, replaced by a
        ``raise NotImplementedError(...)`` line at the marker's indentation.

    Raises
    ------
    ConfigError
        For an unterminated, unopened or nested block.
    """
    out: list[str] = []
    inside = False
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise ConfigError(f"line {number}: {BEGIN} inside another solution block")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}{STUB}\n")
        elif stripped == END:
            if not inside:
                raise ConfigError(f"line {number}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ConfigError(f"a {BEGIN} block is not closed by {END}")
    text = "".join(out)
    return text if source.endswith("\n") else text.rstrip("\n")


def solution_lines(source: str) -> list[str]:
    """The non-blank lines inside the solution blocks of `source` (stripped)."""
    lines, inside = [], False
    for line in source.splitlines():
        s = line.strip()
        if s == BEGIN:
            inside = True
        elif s == END:
            inside = False
        elif inside and s:
            lines.append(s)
    return lines


def read_lesson(path: str | os.PathLike):
    """The notebook (nbformat node) of a lesson script or notebook."""
    import jupytext

    return jupytext.read(str(path))


def student_notebook(script: str | os.PathLike):
    """The student version of a lesson: its notebook with every solution stubbed."""
    nb = read_lesson(script)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source)
    return nb


def _write_atomic(text: str, dest: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _notebook_text(nb) -> str:
    """The notebook as .ipynb text, with cell ids numbered (no random ids in diffs)."""
    import jupytext

    for k, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{k + 1:02d}"
    return jupytext.writes(nb, fmt="ipynb")


def write_student_versions(out_dir: str | os.PathLike,
                           lessons_dir: str | os.PathLike = DEFAULT_LESSONS_DIR) -> list[Path]:
    """Write the student version of every lesson, as ``.ipynb`` and percent ``.py``.

    Returns
    -------
    list of Path
        The notebooks written.
    """
    import jupytext

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for script in lesson_scripts(lessons_dir):
        nb = student_notebook(script)
        nb.metadata.get("jupytext", {}).pop("formats", None)  # not paired
        ipynb = out / (script.stem + ".ipynb")
        _write_atomic(_notebook_text(nb), ipynb)
        _write_atomic(jupytext.writes(nb, fmt="py:percent"), out / script.name)
        written.append(ipynb)
    return written


def _cells(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def drift(script: str | os.PathLike) -> list[str]:
    """Differences between a lesson script and its paired notebook ([] when in step).

    Cells are compared by type and source; the notebook must also carry no
    outputs and no execution counts.
    """
    script = Path(script)
    ipynb = script.with_suffix(".ipynb")
    if not ipynb.is_file():
        return [f"{ipynb.name} is missing"]
    py_cells, nb = _cells(read_lesson(script)), read_lesson(ipynb)
    problems = []
    nb_cells = _cells(nb)
    if len(py_cells) != len(nb_cells):
        problems.append(f"{script.name} has {len(py_cells)} cells, {ipynb.name} {len(nb_cells)}")
    for k, (a, b) in enumerate(zip(py_cells, nb_cells)):
        if a != b:
            problems.append(f"cell {k + 1} differs ({a[0]}: {a[1][:60]!r} vs {b[0]}: {b[1][:60]!r})")
    for k, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            problems.append(f"{ipynb.name} cell {k + 1} has outputs; strip them "
                            "(python -m brainsim.lessons sync)")
    return problems


def sync(lessons_dir: str | os.PathLike = DEFAULT_LESSONS_DIR) -> list[Path]:
    """Rewrite every lesson's ``.ipynb`` from its ``.py`` (no outputs)."""
    written = []
    for script in lesson_scripts(lessons_dir):
        dest = script.with_suffix(".ipynb")
        _write_atomic(_notebook_text(read_lesson(script)), dest)
        written.append(dest)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line: ``student OUTDIR``, ``sync`` or ``check``."""
    parser = argparse.ArgumentParser(
        prog="python -m brainsim.lessons",
        description="Student versions of the lessons, and the pairing of scripts and notebooks.")
    parser.add_argument("--lessons", default=str(DEFAULT_LESSONS_DIR), metavar="DIR",
                        help="folder of the teacher versions (default: %(default)s)")
    sub = parser.add_subparsers(dest="command", required=True)
    student = sub.add_parser("student", help="write the student versions into OUTDIR")
    student.add_argument("outdir")
    sub.add_parser("sync", help="rewrite each .ipynb from its .py (outputs stripped)")
    sub.add_parser("check", help="exit 1 if a .py and its .ipynb have drifted apart")
    args = parser.parse_args(argv)
    if args.command == "student":
        for path in write_student_versions(args.outdir, args.lessons):
            print(path)
        return 0
    if args.command == "sync":
        for path in sync(args.lessons):
            print(path)
        return 0
    bad = 0
    for script in lesson_scripts(args.lessons):
        for problem in drift(script):
            print(f"{script.name}: {problem}")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":  # pragma: no cover
    from brainsim.cli import run_script

    run_script(main)
