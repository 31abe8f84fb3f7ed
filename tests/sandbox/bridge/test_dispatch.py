"""A write an operation only comes upon while it runs is put to the policy of the call it serves."""

from __future__ import annotations

import time

import pytest

from sandbox import Call, HostFunction, PermissionDenied, Policy
from sandbox.bridge import Dispatcher, decide_during_call

PAGE_WRITE = Call(
    "browser", "request", ("POST", "http://127.0.0.1:8000/ping"), {}, writes=True, domain="127.0.0.1"
)


def _click_that_sends_a_write() -> str:
    try:
        decide_during_call(PAGE_WRITE)
    except PermissionDenied:
        return "held back"
    return "sent"


def _call(dispatcher: Dispatcher) -> dict:
    return dispatcher.handle({"op": "call", "capability": "click", "path": [], "args": [], "kwargs": {}})


@pytest.mark.parametrize(("answer", "status"), [(True, "ok"), (False, "denied")])
def test_confirm_asks_about_a_write_found_during_a_call_and_records_it(answer: bool, status: str) -> None:
    asked: list[Call] = []

    def slow_confirm(call: Call) -> bool:
        asked.append(call)
        time.sleep(0.3)
        return answer

    dispatcher = Dispatcher(Policy(mode="confirm", confirm=slow_confirm))
    dispatcher.register("click", HostFunction(_click_that_sends_a_write, writes=False))
    assert _call(dispatcher) == {"ok": True, "value": "sent" if answer else "held back"}
    assert asked == [PAGE_WRITE]
    assert [(r.capability, r.target, r.writes, r.status) for r in dispatcher.recorder.take()] == [
        ("browser", "request", True, status),
        ("click", "", False, "ok"),
    ]
    assert dispatcher.deciding_seconds() >= 0.3  # the person's time, which the action's limit leaves out


def test_read_only_refuses_it_without_asking() -> None:
    dispatcher = Dispatcher(Policy(mode="read-only"))
    dispatcher.register("click", HostFunction(_click_that_sends_a_write, writes=False))
    assert _call(dispatcher)["value"] == "held back"


def test_outside_any_call_there_is_nobody_to_decide_for() -> None:
    with pytest.raises(PermissionDenied, match="not made on behalf of a call from the kernel"):
        decide_during_call(PAGE_WRITE)


def test_the_time_the_user_takes_to_answer_is_not_the_calls() -> None:
    def slow_confirm(call: Call) -> bool:
        time.sleep(2.0)  # a person reading the question
        return True

    dispatcher = Dispatcher(Policy(mode="confirm", confirm=slow_confirm))
    dispatcher.register("click", HostFunction(_click_that_sends_a_write, writes=False))
    assert _call(dispatcher)["ok"]
    records = dispatcher.recorder.take()
    assert [r.capability for r in records] == ["browser", "click"]
    assert dispatcher.deciding_seconds() >= 2.0
    assert all(r.latency < 2.0 for r in records), [r.latency for r in records]  # was over 2 s each
