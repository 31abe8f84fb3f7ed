"""The policy decides on classified calls: modes, operation allowlists, domain allowlists."""

from __future__ import annotations

import pytest

from sandbox import Call, PermissionDenied, Policy


def call(name: str = "api.demo.list_issues", writes: bool = False, domain: str | None = "demo.test") -> Call:
    capability, _, target = name.partition(".")
    return Call(capability, target, (), {}, writes, domain)


def test_allow_runs_reads_and_writes() -> None:
    Policy().check(call(writes=False))
    Policy().check(call(writes=True))


def test_read_only_refuses_writes_and_says_so() -> None:
    policy = Policy(mode="read-only")
    policy.check(call(writes=False))
    with pytest.raises(
        PermissionDenied, match="api.demo.update_issue was refused: it writes, and this session is read-only"
    ):
        policy.check(call("api.demo.update_issue", writes=True))


def test_confirm_asks_only_about_writes() -> None:
    asked: list[Call] = []
    policy = Policy(mode="confirm", confirm=lambda c: asked.append(c) or c.target == "demo.ok")
    policy.check(call(writes=False))
    policy.check(call("api.demo.ok", writes=True))
    with pytest.raises(PermissionDenied, match="declined"):
        policy.check(call("api.demo.no", writes=True))
    assert [c.name for c in asked] == ["api.demo.ok", "api.demo.no"]


def test_confirm_without_a_callback_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="needs a confirm"):
        Policy(mode="confirm")
    with pytest.raises(ValueError, match="unknown policy mode"):
        Policy(mode="yolo")  # type: ignore[arg-type]


def test_operation_allowlist_restricts_only_the_capabilities_it_names() -> None:
    policy = Policy(operations=("api.demo.list_*", "api.demo.get_issue"))
    policy.check(call("api.demo.list_issues"))
    policy.check(call("api.demo.get_issue"))
    policy.check(call("finish", domain=None))
    policy.check(call("browser.goto"))
    with pytest.raises(PermissionDenied, match="not among the allowed operations"):
        policy.check(call("api.demo.delete_issue", writes=True))
    with pytest.raises(PermissionDenied):
        policy.check(call("api.other.list_issues"))


def test_domain_allowlist_matches_hosts_and_subdomains() -> None:
    policy = Policy(domains=("demo.test", "*.example.org"))
    for allowed in ("demo.test", "DEMO.test", "api.example.org", "a.b.example.org", None):
        policy.check(call(domain=allowed))
    for refused in ("evil.test", "example.org", "demo.test.evil", "notexample.org"):
        with pytest.raises(PermissionDenied, match="not an allowed domain"):
            policy.check(call(domain=refused))
