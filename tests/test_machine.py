"""The build target: CPU description, -march choice, and the compile-cache key."""

import pytest

from brainsim.errors import ConfigError
from brainsim.machine import build_target, machine_info, march
from brainsim.network import NetworkShape
from brainsim.simulation import build_key, compile_args

SHAPE = NetworkShape(n_input=64, n_neurons=10, n_slots=5)
BRIAN2_ARGS = ["-w", "-O3", "-ffast-math", "-march=native", "-std=c++11"]


def test_march_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("BRAINSIM_MARCH", raising=False)
    assert march() == "native"
    assert "-march=native" in compile_args(BRIAN2_ARGS)
    monkeypatch.setenv("BRAINSIM_MARCH", "x86-64-v3")
    args = compile_args(BRIAN2_ARGS)
    assert "-march=x86-64-v3" in args and "-march=native" not in args
    assert args[:3] == BRIAN2_ARGS[:3]  # the rest of Brian2's arguments stay
    monkeypatch.setenv("BRAINSIM_MARCH", "x86-64-v3; rm -rf /")
    with pytest.raises(ConfigError, match="not a GCC -march value"):
        march()


def test_build_key_separates_targets(monkeypatch):
    monkeypatch.delenv("BRAINSIM_MARCH", raising=False)
    native = build_key(SHAPE)
    assert build_key(SHAPE) == native  # deterministic
    monkeypatch.setenv("BRAINSIM_MARCH", "x86-64-v3")
    avx2 = build_key(SHAPE)
    assert avx2 != native
    monkeypatch.setenv("BRAINSIM_MARCH", "native")
    # a native build is tied to this CPU's flags: another CPU gets another key
    monkeypatch.setattr("brainsim.machine.cpu_flags", lambda: ["sse2", "avx2"])
    assert build_target()["cpu_flags"] == ["sse2", "avx2"]
    assert build_key(SHAPE) != native


def test_machine_info_describes_the_cpu():
    from brainsim.machine import cpu_flags

    info = machine_info()
    assert info["cpu_model"] and info["cpus"] >= 1
    if cpu_flags():  # Linux: the reported extensions are among the CPU's flags
        assert set(info["vector_extensions"]) <= set(cpu_flags())
