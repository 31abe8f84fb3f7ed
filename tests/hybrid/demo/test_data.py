"""The seed data: deterministic, large enough to need pagination, and covering what tasks ask about."""

from __future__ import annotations

from hybrid.demo.data import build_seed_state


def fingerprint(state) -> list[tuple]:
    return [
        (
            p.path,
            i.number,
            i.title,
            i.state,
            tuple(i.labels),
            i.assignee,
            i.milestone_id,
            len(i.comments),
            i.created_at.isoformat(),
        )
        for p in state.projects
        for i in p.issues
    ]


def test_seed_is_deterministic() -> None:
    assert fingerprint(build_seed_state()) == fingerprint(build_seed_state())


def test_seed_needs_pagination_and_has_variety() -> None:
    state = build_seed_state()
    issues = [i for p in state.projects for i in p.issues]
    assert len(issues) >= 400 and max(len(p.issues) for p in state.projects) > 200
    assert {i.state for i in issues} == {"open", "closed"}
    assert any(i.assignee is None for i in issues) and any(i.comments for i in issues)
    assert {p.visibility for p in state.projects} == {"public", "private"}
    assert all(e.action in {"opened", "commented", "closed"} for p in state.projects for e in p.events)
