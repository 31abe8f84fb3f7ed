"""Resource limits are enforced on the kernel, and the environment it gets is only the allowlist."""

from __future__ import annotations

import pytest

from sandbox import ExecutionResult, KernelLimits, KernelSession

pytestmark = pytest.mark.kernel

MIB = 1024**2


def run(limits: KernelLimits, code: str, timeout: float = 30) -> ExecutionResult:
    with KernelSession(limits=limits) as session:
        return session.execute(code, timeout=timeout)


def test_open_files_limit() -> None:
    result = run(KernelLimits(open_files=64), "handles = [open('/dev/null') for _ in range(100)]")
    assert result.error is not None and "Too many open files" in result.error.message


def test_address_space_limit_turns_runaway_growth_into_memory_error() -> None:
    result = run(
        KernelLimits(address_space=1024 * MIB),
        "chunks = []\nwhile True:\n    chunks.append(bytearray(32 * 1024**2))",
    )
    assert result.error is not None and result.error.name == "MemoryError"
    assert not result.restarted


def test_cpu_time_limit_ends_the_kernel_and_the_session_recovers() -> None:
    with KernelSession(limits=KernelLimits(cpu_seconds=3)) as session:
        result = session.execute("while True:\n    pass", timeout=60)
        assert result.restarted and "CPU time limit" in result.notices[0]
        assert session.execute("1 + 1").result == "2"


def test_environment_is_only_the_allowlist(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("HYBRID_VISIBLE", "yes")
    monkeypatch.setenv("HYBRID_HIDDEN", "no")
    limits = KernelLimits(environment=("PATH", "HYBRID_VISIBLE"), working_dir=tmp_path)
    result = run(limits, "import os\nsorted(k for k in os.environ if k.startswith('HYBRID'))")
    assert result.result == "['HYBRID_VISIBLE']"
    assert tmp_path.exists()  # a working dir the caller gave is the caller's to remove
