"""The commands' Rich consoles: a terminal's width on a terminal, and no cropping in a pipe or a file.

Rich lays out for 80 columns when its stream is not a terminal, so `hybrid runs list | less` would cut
run ids and tasks, and `hybrid run ... > log` would break one line of the run into two. Piped, a console
here is as wide as what it prints (up to `PIPE_WIDTH`); boxes and rules, which Rich would stretch to the
whole width, fit what they hold instead (`panel`, `rule`). `COLUMNS`, when set, is a width asked for and
is kept.
"""

from __future__ import annotations

import os
from typing import Any

from rich.console import Console, RenderableType
from rich.panel import Panel
from rich.text import Text

PIPE_WIDTH = 10_000  # wider than any line the commands print, short of a pathological one (then wrapped)


def make_console(*, stderr: bool = False, **options: Any) -> Console:
    """A console on stdout (or stderr) as wide as the terminal, or `PIPE_WIDTH` when it is not one."""
    console = Console(stderr=stderr, **options)
    if not console.is_terminal and not os.environ.get("COLUMNS") and "width" not in options:
        console.width = PIPE_WIDTH
    return console


def piped(console: Console) -> bool:
    """Whether `console` was widened for a pipe (`make_console`): boxes then fit their content."""
    return console.width >= PIPE_WIDTH


def panel(console: Console, renderable: RenderableType, **options: Any) -> Panel:
    """A box around `renderable`: the terminal's width on a terminal, as wide as its content in a pipe."""
    return Panel(renderable, expand=not piped(console), **options)


def rule(console: Console, title: str) -> None:
    """A titled rule across a terminal; in a pipe, the title between short rules, on one line."""
    if piped(console):
        console.print(Text(f"── {title} ──"), soft_wrap=True)
    else:
        console.rule(title)
