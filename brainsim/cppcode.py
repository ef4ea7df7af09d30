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
