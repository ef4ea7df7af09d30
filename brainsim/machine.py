"""What the compiled networks depend on: the CPU, its vector extensions, the compiler.

A binary built with ``-march=native`` uses every instruction of the CPU that
compiled it (AVX-512 on this project's machine) and may crash with "illegal
instruction" on another one; :func:`build_target` therefore goes into the
compile-cache key (:func:`brainsim.simulation.build_key`), and
``experiments/benchmark.py`` records :func:`machine_info` with every speed
figure.

``$BRAINSIM_MARCH`` chooses the instruction set of the compiled networks:
unset or ``native`` (default) compiles for this CPU; any other value is passed
to GCC as ``-march=VALUE``, e.g. ``x86-64-v3`` (AVX2 and FMA, no AVX-512: the
binary runs on any x86-64 CPU of the last decade and shows the speed of an
AVX2-only CPU on this one) or ``x86-64-v4`` (AVX-512).
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
from functools import lru_cache

#: Vector extensions worth reporting, in /proc/cpuinfo's spelling.
VECTOR_FLAGS = ("sse2", "sse4_1", "sse4_2", "avx", "avx2", "fma", "avx512f", "avx512dq",
                "avx512cd", "avx512bw", "avx512vl", "avx512_bf16", "avx512_vnni", "neon", "asimd")


def _cpuinfo() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else :func:`platform.processor`."""
    match = re.search(r"^model name\s*:\s*(.+)$", _cpuinfo(), flags=re.M)
    return match.group(1).strip() if match else (platform.processor() or platform.machine())


def cpu_flags() -> list[str]:
    """All CPU feature flags of the first CPU in ``/proc/cpuinfo`` (sorted; empty elsewhere)."""
    match = re.search(r"^(?:flags|Features)\s*:\s*(.+)$", _cpuinfo(), flags=re.M)
    return sorted(set(match.group(1).split())) if match else []


def vector_extensions() -> list[str]:
    """The CPU's SIMD extensions among :data:`VECTOR_FLAGS` (e.g. avx2, avx512f)."""
    flags = set(cpu_flags())
    return [f for f in VECTOR_FLAGS if f in flags]


@lru_cache(maxsize=None)
def compiler_version(cxx: str | None = None) -> str:
    """First line of ``$CXX --version`` (default g++), or "" if there is none."""
    cxx = cxx or os.environ.get("CXX", "g++")
    try:
        out = subprocess.run([cxx, "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.strip().splitlines()[0] if out.strip() else ""


def march() -> str:
    """Instruction set the networks are compiled for: ``$BRAINSIM_MARCH`` or "native"."""
    value = os.environ.get("BRAINSIM_MARCH", "").strip() or "native"
    if not re.fullmatch(r"[A-Za-z0-9_.+-]+", value):
        from brainsim.errors import ConfigError

        raise ConfigError(f"BRAINSIM_MARCH={value!r} is not a GCC -march value "
                          "(e.g. native, x86-64-v3, x86-64-v4)")
    return value


def build_target() -> dict:
    """What makes a compiled binary specific to a machine: part of the cache key.

    The compiler (version line), the -march value and, for ``native``, the
    CPU's flags: a binary built for one CPU is never reused on another.
    """
    target = {"compiler": compiler_version(), "march": march(), "machine": platform.machine()}
    if target["march"] == "native":
        target["cpu_flags"] = cpu_flags()
    return target


def machine_info() -> dict:
    """CPU, vector extensions, cores, compiler and C library, for metrics.json."""
    return {
        "cpu_model": cpu_model(),
        "vector_extensions": vector_extensions(),
        "cpus": os.cpu_count(),
        "compiler": compiler_version(),
        "march": march(),
        "libc": " ".join(platform.libc_ver()).strip(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
