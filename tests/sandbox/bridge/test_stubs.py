"""Capabilities as the kernel sees them: ordinary objects with help, completion and clear errors."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

import pytest

from sandbox import HostFunction, KernelPool, KernelSession, Namespace, Policy

pytestmark = pytest.mark.kernel


class ApiError(Exception):
    pass


def list_issues(owner: str, project: str, state: str = "open") -> list[dict]:
    """List the issues of a project.

    Returns dicts with number, title and state.
    """
    return [{"number": 1, "title": f"{owner}/{project}", "state": state}]


def update_issue(owner: str, project: str, number: int, title: str) -> dict:
    """Change an issue's title."""
    return {"number": number, "title": title}


def failing(kind: str) -> None:
    if kind == "builtin":
        raise ValueError("owner must not be empty")
    raise ApiError("404 Not Found: no project acme/nope")


def demo_api(calls: list[str] | None = None) -> Namespace:
    def update(*args, **kwargs):
        if calls is not None:
            calls.append("update_issue")
        return update_issue(*args, **kwargs)

    update.__doc__ = update_issue.__doc__
    return Namespace(
        {
            "demo": {
                "list_issues": HostFunction(list_issues, writes=False, domain="demo.test"),
                "update_issue": HostFunction(update, writes=True, domain="demo.test"),
                "failing": HostFunction(failing, writes=False),
                "now": HostFunction(
                    lambda: __import__("datetime").datetime.now(), writes=False, doc="The time."
                ),
            }
        },
        doc="REST APIs of the registered sites.",
    )


@pytest.fixture
def api_session(session: KernelSession) -> KernelSession:
    session.register("api", demo_api())
    return session


def test_operation_call_returns_the_hosts_value(api_session: KernelSession) -> None:
    result = api_session.execute("api.demo.list_issues('acme', project='site', state='closed')")
    assert result.result == "[{'number': 1, 'title': 'acme/site', 'state': 'closed'}]"
    (call,) = result.calls
    assert (call.capability, call.target, call.status) == ("api", "demo.list_issues", "ok")
    assert (call.args, call.kwargs, call.writes, call.domain) == (
        ["acme"],
        {"project": "site", "state": "closed"},
        False,
        "demo.test",
    )
    assert call.latency > 0 and "list of 1" in (call.result or "")


def test_help_shows_signature_and_docstring(api_session: KernelSession) -> None:
    text = api_session.execute("help(api.demo.list_issues)").stdout
    assert "list_issues(owner: str, project: str, state: str = 'open')" in text
    assert "List the issues of a project." in text
    namespace_help = api_session.execute("help(api)").stdout
    assert "REST APIs of the registered sites." in namespace_help


def test_attributes_are_visible_to_dir_and_tab_completion(api_session: KernelSession) -> None:
    assert "'list_issues'" in (api_session.execute("dir(api.demo)").result or "")
    assert api_session.complete("api.demo.li") == ["list_issues"]
    assert api_session.complete("api.de") == ["demo"]
    assert api_session.execute("api.demo").result == "<api.demo: failing, list_issues, now, update_issue>"


def test_wrong_arguments_fail_in_the_kernel_with_the_signature(api_session: KernelSession) -> None:
    result = api_session.execute("api.demo.list_issues('acme')")
    assert result.error is not None and result.error.name == "TypeError"
    assert "missing a required argument: 'project'" in result.error.message
    assert "api.demo.list_issues(owner: str" in result.error.message
    assert result.calls == []


def test_host_exception_arrives_as_the_same_builtin_type_without_host_frames(
    api_session: KernelSession,
) -> None:
    result = api_session.execute(
        "try:\n    api.demo.failing('builtin')\nexcept ValueError as exc:\n    caught = exc\ncaught"
    )
    assert result.result == "ValueError('owner must not be empty')"
    (call,) = result.calls
    assert call.status == "error" and call.error == "ValueError: owner must not be empty"
    uncaught = api_session.execute("api.demo.failing('builtin')")
    assert uncaught.error is not None
    assert uncaught.error.traceback == (
        f"Traceback (most recent call last):\n  Cell In[{uncaught.execution_count}], line 1\n    "
        "api.demo.failing('builtin')\n"
        "ValueError: owner must not be empty"
    )


def test_host_exception_of_a_custom_type_keeps_its_name(api_session: KernelSession) -> None:
    result = api_session.execute("api.demo.failing('custom')")
    assert result.error is not None
    assert (result.error.name, result.error.message) == ("ApiError", "404 Not Found: no project acme/nope")
    assert "Cell In[" in result.error.traceback
    assert "sandbox" not in result.error.traceback and __file__ not in result.error.traceback
    caught = api_session.execute(
        "from _hybrid_bridge import CapabilityError\n"
        "try:\n    api.demo.failing('custom')\nexcept CapabilityError:\n    print('caught')"
    )
    assert caught.stdout == "caught\n"


def test_result_that_is_not_json_is_a_clear_error(api_session: KernelSession) -> None:
    result = api_session.execute("api.demo.now()")
    assert result.error is not None and result.error.name == "TypeError"
    assert "api.demo.now returned a value that cannot be sent to the kernel" in result.error.message


def test_argument_that_is_not_json_is_refused_in_the_kernel(api_session: KernelSession) -> None:
    result = api_session.execute("api.demo.list_issues(owner=object(), project='p')")
    assert result.error is not None and result.error.name == "TypeError"
    assert "cannot be sent to the host" in result.error.message
    assert result.calls == []


def test_denied_call_raises_permission_error_and_never_runs(pool: KernelPool) -> None:
    calls: list[str] = []
    with pool.acquire(policy=Policy(mode="read-only")) as session:
        session.register("api", demo_api(calls))
        result = session.execute("api.demo.update_issue('acme', 'site', 1, 'new')")
        assert result.error is not None and result.error.name == "PermissionDenied"
        assert "read-only" in result.error.message
        caught = session.execute(
            "try:\n    api.demo.update_issue('acme', 'site', 1, 'new')\nexcept PermissionError:\n    "
            "print('refused')"
        )
        assert caught.stdout == "refused\n"
        assert session.execute("len(api.demo.list_issues('a', 'b'))").result == "1"
    assert calls == []
    assert [c.status for c in result.calls] == ["denied"]


def test_confirm_asks_for_writes_only_and_its_wait_does_not_count_against_the_limit(pool: KernelPool) -> None:
    asked: list[str] = []

    def confirm(call) -> bool:
        asked.append(call.name)
        __import__("time").sleep(1.5)  # a person thinking
        return call.args[3] == "yes"

    with pool.acquire(policy=Policy(mode="confirm", confirm=confirm)) as session:
        session.register("api", demo_api())
        approved = session.execute(
            "api.demo.list_issues('a', 'b')\napi.demo.update_issue('a', 'b', 1, 'yes')", timeout=1
        )
        declined = session.execute("api.demo.update_issue('a', 'b', 1, 'no')", timeout=5)
    assert asked == ["api.demo.update_issue", "api.demo.update_issue"]
    assert approved.ok and approved.result == "{'number': 1, 'title': 'yes'}"
    assert declined.error is not None and "declined" in declined.error.message


def test_domain_allowlist_uses_the_domain_each_call_touches(pool: KernelPool) -> None:
    visited: list[str] = []
    browser = Namespace(
        {"goto": HostFunction(visited.append, writes=False, domain=lambda url: urlsplit(url).hostname)}
    )
    with pool.acquire(policy=Policy(domains=("*.demo.test",))) as session:
        session.register("browser", browser)
        allowed = session.execute("browser.goto('https://www.demo.test/issues')")
        denied = session.execute("browser.goto('https://elsewhere.test/')")
    assert allowed.ok and visited == ["https://www.demo.test/issues"]
    assert denied.error is not None and "elsewhere.test is not an allowed domain" in denied.error.message


def test_calls_are_attached_to_the_action_that_made_them(api_session: KernelSession) -> None:
    first = api_session.execute("api.demo.list_issues('a', 'b')\napi.demo.list_issues('c', 'd')")
    second = api_session.execute("api.demo.list_issues('e', 'f')")
    assert [c.args for c in first.calls] == [["a", "b"], ["c", "d"]]
    assert [c.args for c in second.calls] == [["e", "f"]]


def test_capabilities_registered_later_appear_in_the_kernel(api_session: KernelSession) -> None:
    api_session.register("wf", Namespace({"count_open": HostFunction(lambda project: 3, writes=False)}))
    assert api_session.execute("wf.count_open('site') + len(api.demo.list_issues('a', 'b'))").result == "4"


def test_finish_records_the_answer(session: KernelSession) -> None:
    before = session.execute("1")
    result = session.execute("finish({'closed': 3})")
    assert not before.finished
    assert result.finished and result.answer == {"closed": 3}


def test_threads_in_the_kernel_can_call_capabilities_at_once(api_session: KernelSession) -> None:
    result = api_session.execute(
        "from concurrent.futures import ThreadPoolExecutor\n"
        "with ThreadPoolExecutor(4) as workers:\n"
        "    titles = list(workers.map(lambda n: api.demo.list_issues('o', str(n))[0]['title'], range(8)))\n"
        "titles"
    )
    assert result.result == repr([f"o/{n}" for n in range(8)])
    assert len(result.calls) == 8


def test_call_interrupted_by_the_time_limit_is_recorded_with_the_next_action(
    session: KernelSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded = threading.Event()
    recorder = session.dispatcher.recorder
    add = recorder.add
    monkeypatch.setattr(recorder, "add", lambda record: (add(record), recorded.set()))

    def wait(seconds: float) -> str:
        time.sleep(seconds)
        return f"waited {seconds}"

    session.register("wait", HostFunction(wait, writes=False))
    interrupted = session.execute("wait(1.5)", timeout=0.5)
    assert interrupted.interrupted and interrupted.calls == []
    assert recorded.wait(5), "the interrupted call was never recorded"
    following = session.execute("wait(0)")  # the bridge works again after the dropped connection
    assert following.result == "'waited 0'"
    assert [call.args for call in following.calls] == [[1.5], [0]]
    assert following.calls[0].status == "ok"
