"""Intent templates bind a task's values to typed parameters, or do not match at all."""

from __future__ import annotations

from workflows.templates import bind, misfit, render, slots

PARAMS = [
    {"name": "number", "type": "int", "example": 7},
    {"name": "owner", "type": "str", "example": "alice"},
    {"name": "project", "type": "str", "example": "tracker-core"},
]
CLOSE = "Close issue #{{number}} in {{owner}}/{{project}}."


def test_binds_every_slot_with_its_type() -> None:
    assert bind(CLOSE, PARAMS, "Close issue #12 in bob/mobile-app.") == {
        "number": 12,
        "owner": "bob",
        "project": "mobile-app",
    }
    assert bind(CLOSE, PARAMS, "  Close issue #12\nin bob/mobile-app. ") is not None  # spacing is not meaning
    assert slots("{{a}} and {{ b }} and {{a}}") == ["a", "b"]


def test_no_match_unless_the_whole_task_fits() -> None:
    assert bind(CLOSE, PARAMS, "Close issue #twelve in bob/mobile-app.") is None
    assert bind(CLOSE, PARAMS, "Close issue #12 in bob/mobile-app and tell me its title.") is None
    assert (
        bind(CLOSE, PARAMS[:2], "Close issue #12 in bob/mobile-app.") is None
    )  # a parameter the text cannot bind


def test_a_repeated_slot_must_repeat_the_same_value() -> None:
    template = "Move {{owner}}/x to {{owner}}/y."
    params = [{"name": "owner", "type": "str"}]
    assert bind(template, params, "Move bob/x to bob/y.") == {"owner": "bob"}
    assert bind(template, params, "Move bob/x to eve/y.") is None


def test_a_value_of_several_words_binds_several_words() -> None:
    params = [{"name": "labels", "type": "str", "example": "help wanted"}, {"name": "number", "type": "int"}]
    template = "Add the label {{labels}} to issue #{{number}}."
    assert bind(template, params, "Add the label good first issue to issue #4.") == {
        "labels": "good first issue",
        "number": 4,
    }


def test_values_given_directly_fit_only_if_the_task_they_make_binds_back_to_them() -> None:
    numbers = [{"name": "numbers", "type": "list", "items": "int", "example": [17, 18]}, *PARAMS[1:]]
    closes = "Close issues {{numbers}} in {{owner}}/{{project}}."
    assert render(closes, {"numbers": [40, 41, 42], "owner": "bob", "project": "app"}) == (
        "Close issues 40, 41 and 42 in bob/app."
    )
    assert misfit(closes, numbers, {"numbers": [40, 41, 42], "owner": "bob", "project": "app"}) is None
    assert misfit(CLOSE, PARAMS, {"number": 7, "owner": "bob", "project": "app"}) is None
    assert "do not bind" in str(misfit(closes, numbers, {"numbers": [], "owner": "bob", "project": "app"}))
    assert misfit(CLOSE, PARAMS, {"number": 7, "owner": "bob smith", "project": "app"}) == (
        "owner takes one word (like 'alice'), not 'bob smith'"
    )
    assert misfit(CLOSE, PARAMS, {"number": 7, "owner": "bob/app", "project": "docs"}) == (
        "as a task, 'Close issue #7 in bob/app/docs.', owner='bob/app' reads as owner='bob'"
    )
    # A template that does not name every parameter has nothing to read back.
    assert misfit("Count bugs of {owner}/{project}", PARAMS[1:], {"owner": "a b", "project": "c"}) is None
