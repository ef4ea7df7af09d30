"""The hand-written C++ pieces of the compiled networks, loaded by name.

The C++ lives in files of its own in ``brainsim/cpp/`` (shipped as package
data), as Brian2 keeps its code templates. A piece that needs values known
only when a network is built (array names, sizes, constants) marks them with
placeholders of the form ``@name@``; :func:`load_cpp` replaces each with its
value:

* ``str`` values are inserted as they are (e.g. Brian2 array names);
* ``int`` values as decimal integers;
* ``float`` values as ``repr(value)`` (shortest round-trip decimal, a valid
  C++ double literal), so no precision is lost.

``@`` cannot occur in C++ outside strings and comments, so the placeholders
cannot clash with the code. Every placeholder in the file must be given a
value and every value must be used: a typo fails at load time with a clear
error, never in the compiler.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

#: A placeholder: ``@`` + identifier + ``@``.
PLACEHOLDER = re.compile(r"@([A-Za-z_][A-Za-z0-9_]*)@")


def cpp_files() -> list[str]:
    """Names of the C++ pieces in the package (``brainsim/cpp``), sorted."""
    folder = resources.files("brainsim") / "cpp"
    return sorted(p.name for p in folder.iterdir()
                  if p.is_file() and p.name.endswith((".cpp", ".h")))


@lru_cache(maxsize=None)
def cpp_source(name: str) -> str:
    """Text of the C++ piece `name` (e.g. ``"delay_ring.cpp"``), placeholders unfilled."""
    path = resources.files("brainsim") / "cpp" / name
    if not path.is_file():
        raise FileNotFoundError(
            f"no C++ piece {name!r} in brainsim/cpp (have: {', '.join(cpp_files())})")
    return path.read_text(encoding="utf-8")


def placeholders(name: str) -> set[str]:
    """Names of the placeholders in the C++ piece `name`."""
    return set(PLACEHOLDER.findall(cpp_source(name)))


def _format(value) -> str:
    if isinstance(value, bool):
        raise TypeError("a C++ placeholder value cannot be a bool; pass 0 or 1")
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        if text in ("inf", "-inf", "nan"):
            raise ValueError(f"{value} has no C++ literal")
        return text
    # numpy scalars
    if hasattr(value, "dtype") and hasattr(value, "item"):
        return _format(value.item())
    raise TypeError(f"cannot insert a {type(value).__name__} into C++ code")


def load_cpp(name: str, **values) -> str:
    """The C++ piece `name` with every ``@placeholder@`` replaced by its value.

    Parameters
    ----------
    name : str
        File name in ``brainsim/cpp`` (e.g. ``"input_calendar.cpp"``).
    **values : str, int or float
        One value per placeholder (see the module docstring for the formats).

    Raises
    ------
    KeyError
        If a placeholder has no value or a value has no placeholder.
    """
    text = cpp_source(name)
    wanted = set(PLACEHOLDER.findall(text))
    missing, unused = wanted - set(values), set(values) - wanted
    if missing or unused:
        raise KeyError(
            f"C++ piece {name}: "
            + "; ".join(filter(None, [
                f"no value for placeholder(s) {', '.join(sorted(missing))}" if missing else "",
                f"no placeholder for value(s) {', '.join(sorted(unused))}" if unused else "",
            ])))
    formatted = {key: _format(val) for key, val in values.items()}
    return PLACEHOLDER.sub(lambda m: formatted[m.group(1)], text)


_WRITE_BLOCK = re.compile(r"^\s*ofstream (outfile_\w+);\s*$")
_WRITE_FILE = re.compile(r'results_dir \+ "([^"]+)"')


def prune_written_arrays(objects_cpp: str, keep: set[str]) -> str:
    """Generated ``objects.cpp`` that writes only the result files in `keep`.

    At the end of every run, Brian2's C++ standalone binary writes each of its
    arrays to the results folder (``_write_arrays``), including those that
    brainsim never reads back: the input synapses' indices and delays (millions
    of entries at 1,600 neurons), spike spaces, clocks. This removes the
    writing of every array whose file name is not in `keep`; the run itself is
    unchanged.

    Parameters
    ----------
    objects_cpp : str
        Text of the generated ``objects.cpp``.
    keep : set of str
        File names (``device.get_array_filename``) to keep writing.

    Returns
    -------
    str
        The text with the other arrays' write blocks removed.

    Raises
    ------
    ValueError
        If the text has no ``_write_arrays`` function or a file of `keep` is not
        written by it (a Brian2 version whose template differs).
    """
    lines = objects_cpp.splitlines(keepends=True)
    try:
        start = next(k for k, line in enumerate(lines) if line.startswith("void _write_arrays()"))
    except StopIteration:
        raise ValueError("generated objects.cpp has no _write_arrays() function") from None
    end = next(k for k in range(start, len(lines)) if lines[k].rstrip() == "}")
    out, block, found = lines[:start], [], set()

    def flush():
        text = "".join(block)
        match = _WRITE_FILE.search(text)
        if match is None or match.group(1) in keep:
            out.append(text)
            if match is not None:
                found.add(match.group(1))
        block.clear()

    for line in lines[start:end]:
        # a block starts at each "ofstream outfile_X;" or comment and runs to the next
        if _WRITE_BLOCK.match(line) or line.lstrip().startswith("//"):
            flush()
        block.append(line)
    flush()
    missing = set(keep) - found
    if missing:
        raise ValueError(f"generated objects.cpp does not write {sorted(missing)}")
    return "".join(out + lines[end:])


#: The per-step reading of the CPU clock in Brian2's ``Network::run`` (network.cpp)
#: when no maximum run time is set: the statement at the end of the loop body,
#: followed by the loop's end.
_STEP_CLOCK = re.compile(
    r"(?P<read>[ \t]*current = std::clock\(\);\n[ \t]*elapsed_realtime = [^\n]*;\n)"
    r"(?P<end>\s*\}\n(?P<indent>[ \t]*)Network::_globally_running = false;)")


def time_run_once(network_cpp: str) -> str:
    """Generated ``network.cpp`` that reads the CPU clock once per run, not per step.

    Brian2's single-threaded ``Network::run`` calls ``std::clock()`` at the end
    of every time step to know the elapsed time, which it needs only for a
    maximum run time (not used here) and for ``_last_run_time`` after the loop.
    ``std::clock`` is a system call (the process's CPU time): about half a
    microsecond, a few per cent of a step of a 1,600-neuron network, and a cost
    that does not shrink when the network is split into parts
    (:class:`brainsim.simulation.PartsSimulator`). This moves the reading after
    the loop; the run itself is unchanged. Text without that statement (an
    OpenMP build, which reads ``omp_get_wtime``; Brian2 >= 2.10, whose template
    reads a wall clock once per run itself) is returned as it is.
    """
    match = _STEP_CLOCK.search(network_cpp)
    if match is None:
        return network_cpp
    read = "".join(line.strip() + " " for line in match.group("read").splitlines()).strip()
    moved = match.group("end").replace(
        "Network::_globally_running = false;",
        f"{read}  // brainsim: once per run (cppcode.time_run_once)\n"
        f"{match.group('indent')}Network::_globally_running = false;")
    return network_cpp[:match.start()] + moved + network_cpp[match.end():]
