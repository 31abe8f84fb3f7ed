"""Text made to fit: the one way text is shortened, and the one token estimate, for every package.

It lives here, in the lowest package, so `apis`, `workflows` and `hybrid` all use the same helpers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

CHARS_PER_TOKEN = 4
ELLIPSIS = "…"  # one character: what a terminal cell or a notebook table shows for a cut

Cut = Literal["end", "middle"]


def clip(text: str, limit: int, *, cut: Cut = "end", marker: str | Callable[[str], str] = "...") -> str:
    """`text` if it has at most `limit` characters; else `text` with its end (or middle) cut out and
    `marker` in its place.

    A string marker counts within `limit`, so a line or a cell keeps its width. A function marker is
    given the text cut out and says what it was (its size, where the rest is); that notice is added
    beside the `limit` characters kept. A middle cut keeps the first two thirds and the last third.
    """
    if len(text) <= limit:
        return text
    kept = limit - len(marker) if isinstance(marker, str) else limit
    if cut == "end":
        removed, head, tail = text[kept:], text[:kept].rstrip(), ""
    else:
        split = kept * 2 // 3
        removed, head, tail = (
            text[split : len(text) - (kept - split)],
            text[:split],
            text[len(text) - (kept - split) :],
        )
    return head + (marker if isinstance(marker, str) else marker(removed)) + tail


def first_line(text: str | None, width: int) -> str:
    """The first non-blank line of `text`, cut to `width` characters with an ellipsis."""
    lines = (text or "").strip().splitlines()
    return clip(lines[0], width, marker=ELLIPSIS) if lines else ""


def estimate_tokens(text: str) -> int:
    """Tokens as characters / 4, rounded up: good enough to budget a prompt, and what providers bill within
    about 20% for English and code (no tokenizer can be downloaded where this runs)."""
    return -(-len(text) // CHARS_PER_TOKEN)
