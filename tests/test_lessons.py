"""The lessons: scripts and notebooks in step, student versions without solutions,
and every teacher and student version executed top to bottom (nbclient, the venv's
ipykernel).

The teacher versions must run without any error (their asserts are the lessons'
checks); in the student versions the only error allowed is the exercise stubs'
NotImplementedError.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")

from brainsim import lessons  # noqa: E402
from brainsim.errors import ConfigError  # noqa: E402

LESSONS_DIR = Path(__file__).resolve().parent.parent / "lessons"
SCRIPTS = lessons.lesson_scripts(LESSONS_DIR)
CELL_TIMEOUT = 600  # seconds; a lesson takes at most 2 minutes (README)


def _id(path: Path) -> str:
    return path.stem


# ---------------------------------------------------------------- structure
def test_eight_lessons_in_the_articles_order():
    assert [p.stem[:2] for p in SCRIPTS] == [f"{k:02d}" for k in range(1, 9)]


@pytest.mark.parametrize("script", SCRIPTS, ids=_id)
def test_script_and_notebook_are_in_step(script):
    assert lessons.drift(script) == []


def test_drift_is_detected(tmp_path):
    for name in ("01_a.py", "01_a.ipynb"):
        (tmp_path / name).write_bytes((LESSONS_DIR / SCRIPTS[0].with_suffix(Path(name).suffix).name)
                                      .read_bytes())
    assert lessons.drift(tmp_path / "01_a.py") == []
    text = (tmp_path / "01_a.py").read_text()
    (tmp_path / "01_a.py").write_text(text.replace("rng = T.setup_lesson(seed=0)",
                                                   "rng = T.setup_lesson(seed=1)"))
    problems = lessons.drift(tmp_path / "01_a.py")
    assert len(problems) == 1 and "differs" in problems[0]
    assert subprocess.run([sys.executable, "-m", "brainsim.lessons", "--lessons", str(tmp_path),
                           "check"], capture_output=True).returncode == 1


def test_notebook_with_outputs_counts_as_drift(tmp_path):
    nb = jupytext.read(str(SCRIPTS[0]))
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi")]
    code.execution_count = 1
    (tmp_path / "01_a.py").write_text(SCRIPTS[0].read_text())
    jupytext.write(nb, str(tmp_path / "01_a.ipynb"), fmt="ipynb")
    assert any("outputs" in p for p in lessons.drift(tmp_path / "01_a.py"))


def test_every_lesson_has_an_exercise_and_seeds_first():
    for script in SCRIPTS:
        text = script.read_text()
        assert lessons.solution_lines(text), f"{script.name} has no exercise"
        nb = jupytext.read(str(script))
        first_code = next(c for c in nb.cells if c.cell_type == "code")
        assert "setup_lesson(seed=" in first_code.source, script.name


def test_strip_solutions_keeps_indentation_and_rejects_broken_blocks():
    src = "def f(x):\n    # BEGIN SOLUTION\n    return 2 * x\n    # END SOLUTION\n\nprint(1)\n"
    assert lessons.strip_solutions(src) == (
        f"def f(x):\n    {lessons.STUB}\n\nprint(1)\n")
    with pytest.raises(ConfigError, match="not closed"):
        lessons.strip_solutions("# BEGIN SOLUTION\nx = 1\n")
    with pytest.raises(ConfigError, match="without"):
        lessons.strip_solutions("x = 1\n# END SOLUTION\n")


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory) -> Path:
    """Student versions written by the command teachers use."""
    out = tmp_path_factory.mktemp("student")
    proc = subprocess.run([sys.executable, "-m", "brainsim.lessons", "student", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return out


def test_student_command_reports_a_missing_folder(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "brainsim.lessons", "--lessons",
                           str(tmp_path / "nowhere"), "student", str(tmp_path / "out")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: lessons folder") and proc.stderr.count("\n") == 1


@pytest.mark.parametrize("script", SCRIPTS, ids=_id)
def test_solutions_do_not_leak_into_student_versions(script, student_dir):
    teacher = script.read_text()
    outside = lessons.strip_solutions(teacher)  # teacher text without the solutions
    for suffix in (".py", ".ipynb"):
        student = (student_dir / script.name).with_suffix(suffix)
        nb = jupytext.read(str(student))
        source = "\n".join(c.source for c in nb.cells)
        assert lessons.BEGIN not in source and lessons.END not in source
        assert source.count(lessons.STUB) == teacher.count(lessons.BEGIN) >= 1
        for line in lessons.solution_lines(teacher):
            # a solution line may appear in the student version only where the
            # teacher version has it outside the solution blocks too
            assert source.count(line) <= outside.count(line), f"{student.name} leaks {line!r}"


# ---------------------------------------------------------------- execution
@pytest.fixture(scope="session")
def kernel_name(tmp_path_factory) -> str:
    """A Jupyter kernel that runs this interpreter (the venv), registered if needed.

    jupyter_client starts a spec whose command is plain ``python`` with the
    interpreter that runs the tests; any other ``python3`` spec (a global
    Jupyter set-up) is bypassed by a spec registered in a temporary prefix.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    plain = {"python", f"python{sys.version_info[0]}",
             f"python{sys.version_info[0]}.{sys.version_info[1]}"}
    try:
        argv0 = KernelSpecManager().get_kernel_spec("python3").argv[0]
        if argv0 in plain or Path(argv0).resolve() == Path(sys.executable).resolve():
            return "python3"
    except NoSuchKernel:
        pass
    prefix = tmp_path_factory.mktemp("jupyter")
    subprocess.run([sys.executable, "-m", "ipykernel", "install", "--prefix", str(prefix),
                    "--name", "brainsim-lessons"], check=True, capture_output=True)
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        [str(prefix / "share" / "jupyter")] + ([os.environ["JUPYTER_PATH"]]
                                               if os.environ.get("JUPYTER_PATH") else []))
    return "brainsim-lessons"


def _execute(nb, kernel_name: str, *, allow_errors: bool) -> float:
    client = nbclient.NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name=kernel_name, allow_errors=allow_errors,
        resources={"metadata": {"path": str(LESSONS_DIR)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def _errors(nb) -> list[tuple[int, str, str]]:
    return [(k, out.get("ename", ""), out.get("evalue", ""))
            for k, cell in enumerate(nb.cells) if cell.cell_type == "code"
            for out in cell.get("outputs", []) if out.get("output_type") == "error"]


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS, ids=_id)
def test_teacher_version_passes_its_checks(script, kernel_name):
    nb = jupytext.read(str(script))
    seconds = _execute(nb, kernel_name, allow_errors=False)  # raises with the traceback
    assert _errors(nb) == []
    print(f"{script.stem}: {seconds:.1f} s")


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS, ids=_id)
def test_student_version_fails_only_at_the_exercises(script, kernel_name, student_dir):
    nb = jupytext.read(str(student_dir / (script.stem + ".ipynb")))
    seconds = _execute(nb, kernel_name, allow_errors=True)
    errors = _errors(nb)
    wrong = [e for e in errors if e[1] != "NotImplementedError"]
    assert not wrong, f"errors other than NotImplementedError: {wrong}"
    assert errors, "no exercise raised NotImplementedError: is a stub missing?"
    print(f"{script.stem} (student): {seconds:.1f} s")
