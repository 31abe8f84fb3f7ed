"""How a run looks on the terminal: the confirm question on a line of its own."""

from __future__ import annotations

import io

import click
import pytest
from rich.console import Console

from hybrid.commands.display import StepPrinter, TerminalConfirm
from sandbox import Call


def test_the_confirm_question_starts_a_line_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    console = Console(file=out, width=200)
    printer = StepPrinter(console)
    printer.text("Thought: close issue 17, which asks for")
    printer.text(" nothing more.")
    monkeypatch.setattr(click, "confirm", lambda *args, **kwargs: True)
    call = Call("api", "demo.update_issue", (), {"number": 17, "state": "closed"}, True, None)
    assert TerminalConfirm(console, printer)(call)
    lines = out.getvalue().splitlines()
    assert lines[0] == "close issue 17, which asks for nothing more."  # was glued to the question
    assert lines[1].startswith("The agent wants to run api.demo.update_issue(number=17, state='closed')")
