"""Tolerant readers for the shapes real specs use where the OpenAPI schema says otherwise.

Vendors publish `required: 'false'` (a string), `type: [string, null]` or a `type` that is an
object, and summaries written in HTML. Each reader here turns one such shape into what the rest of
the package expects, so a defect in the docs never makes an operation uncallable.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

_TRUE_WORDS = frozenset({"true", "yes", "1", "on"})
_HTML_TAG = re.compile(r"<(/?[a-zA-Z][a-zA-Z0-9]*)[^<>]*>|&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
# Tags after which the text reads as a new line or paragraph.
_BREAKING_TAGS = frozenset(
    {
        "br",
        "p",
        "div",
        "li",
        "ul",
        "ol",
        "tr",
        "table",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "pre",
        "blockquote",
        "dd",
        "dt",
        "hr",
    }
)


def flag(value: Any) -> bool:
    """A boolean keyword such as `required` or `deprecated`: `true`, and the strings "true"/"yes"/"1"."""
    if isinstance(value, str):
        return value.strip().lower() in _TRUE_WORDS
    return value is True or (isinstance(value, int) and value == 1)


def schema_types(schema: dict[str, Any]) -> list[str]:
    """The type names a schema declares: `type` as a string or a list of strings; anything else is no type."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return [kind for kind in declared if isinstance(kind, str)]
    return []


def plain_text(text: Any) -> str:
    """Documentation text with HTML tags and entities turned into plain words (markup-free text is kept)."""
    text = "" if text is None else str(text)
    if not _HTML_TAG.search(text):
        return str(text)
    reader = _TextReader()
    reader.feed(text)
    reader.close()
    return reader.text()


class _TextReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BREAKING_TAGS:
            self._parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BREAKING_TAGS:
            self._parts.append("\n")

    def handle_data(self, data: str) -> None:
        self._parts.append(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self._parts).split("\n"))
        return "\n".join(line for line in lines if line)
