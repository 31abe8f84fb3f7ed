"""Canary: a configured token never reaches the kernel's environment, any output, or the record."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict

import psutil
import pytest

from sandbox import REDACTED, HostFunction, KernelLimits, KernelSession, Namespace

pytestmark = pytest.mark.kernel

CANARY = "hyb-canary-7f3c9e1d2b8a4f60"


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> Iterator[KernelSession]:
    # Set before the kernel starts, as a real configuration would be.
    monkeypatch.setenv("HYBRID_DEMO_TOKEN", CANARY)
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)

    def whoami(verbose: bool = False) -> dict:
        """The signed-in user; like some real APIs, it echoes the credentials it was given."""
        return {"user": "alice", "echo": f"Bearer {CANARY}", "headers": {"X-Api-Token": "opaque"}}

    def fail() -> None:
        raise RuntimeError(f"401 Unauthorized (sent Authorization: Bearer {CANARY})")

    with KernelSession(secrets=[CANARY]) as session:
        session.register(
            "api",
            Namespace(
                {
                    "demo": {
                        "whoami": HostFunction(whoami, writes=False),
                        "fail": HostFunction(fail, writes=False),
                    }
                }
            ),
        )
        yield session


def test_token_never_enters_the_kernel_outputs_or_record(session: KernelSession) -> None:
    kernel_environment = psutil.Process(session.kernel_pid).environ()
    assert CANARY not in json.dumps(kernel_environment)

    results = [
        session.execute("import os\nprint(dict(os.environ))\nopen('/proc/self/environ', 'rb').read()"),
        session.execute("me = api.demo.whoami(verbose=True)\nprint(me)\nme"),
        session.execute("api.demo.fail()"),
        session.execute("import sys\nprint(me['echo'], file=sys.stderr)\nfinish(me)"),
    ]
    for result in results:
        assert CANARY not in json.dumps(asdict(result), default=str)
        assert CANARY not in json.dumps([call.to_dict() for call in result.calls])

    whoami, fail, shown = results[1], results[2], results[3]
    assert whoami.result is not None and f"Bearer {REDACTED}" in whoami.result
    assert whoami.calls[0].result is not None and "'X-Api-Token': '[REDACTED]'" in whoami.calls[0].result
    assert (
        fail.error is not None
        and fail.error.message == f"401 Unauthorized (sent Authorization: Bearer {REDACTED})"
    )
    assert shown.stderr == f"Bearer {REDACTED}\n" and shown.answer["echo"] == f"Bearer {REDACTED}"


def test_allowlisting_a_secret_looking_variable_is_refused() -> None:
    with pytest.raises(ValueError, match="look like secrets"):
        KernelLimits(environment=("PATH", "HYBRID_DEMO_TOKEN", "OPENAI_API_KEY"))
