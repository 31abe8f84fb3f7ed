"""Observing a page: a compact text accessibility tree over all its frames, and the ids in it."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Error as PlaywrightError, Frame, Page

ID_ATTRIBUTE = "data-hybrid-id"
# Marks the line where a child frame's walk is spliced in; a NUL byte cannot occur in page text.
IFRAME_MARKER = "\x00frame:"
_SNAPSHOT_JS = Path(__file__).with_name("snapshot.js").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Limits:
    """How much of a page an observation shows before summarising."""

    list_items: int = 25
    options: int = 15
    text: int = 300


@dataclass(frozen=True)
class ElementRecord:
    """What the host remembers about an element id, to act on it and to explain stale ids."""

    id: int
    role: str
    name: str
    tag: str
    href: str | None
    new_tab: bool  # a link that opens its page in another tab
    submits: dict[str, Any] | None  # {"method", "action"} of the form a submit-type control sends
    form: dict[str, Any] | None  # {"method", "action"} of the form a control belongs to
    frame: Frame
    doc: str  # token of the document the id was issued in
    url: str
    row: str = ""  # the texts of the table row it is in ("a | b"), which a person names it by

    def describe(self) -> str:
        return f'[{self.id}] {self.role} "{self.name}"' if self.name else f"[{self.id}] {self.role}"


@dataclass(frozen=True)
class Observation:
    url: str
    title: str
    doc: str
    lines: list[str]
    elements: dict[int, ElementRecord]

    def render(self) -> str:
        return "\n".join(self.lines) if self.lines else "(the page is empty)"


class Observer:
    """Walks pages and hands out element ids, never reusing one, so a stale id is always detectable."""

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self.next_id = 1

    def observe(self, page: Page) -> Observation:
        elements: dict[int, ElementRecord] = {}
        walk = self._walk(page.main_frame, elements)
        return Observation(
            url=page.url,
            title=walk["title"],
            doc=walk["doc"],
            lines=self._splice(page.main_frame, walk["lines"], elements, ""),
            elements=elements,
        )

    def _walk(self, frame: Frame, elements: dict[int, ElementRecord]) -> dict[str, Any]:
        walk: dict[str, Any] = frame.evaluate(
            _SNAPSHOT_JS,
            {
                "nextId": self.next_id,
                "listLimit": self._limits.list_items,
                "optionLimit": self._limits.options,
                "textLimit": self._limits.text,
                "attr": ID_ATTRIBUTE,
                "iframeMarker": IFRAME_MARKER,
            },
        )
        self.next_id = walk["next"]
        for item in walk["elements"]:
            elements[item["id"]] = ElementRecord(
                id=item["id"],
                role=item["role"],
                name=item["name"],
                tag=item["tag"],
                href=item["href"],
                new_tab=item["newTab"],
                submits=item["submits"],
                form=item["form"],
                frame=frame,
                doc=walk["doc"],
                url=walk["url"],
                row=item["row"],
            )
        return walk

    def _splice(
        self, frame: Frame, lines: list[str], elements: dict[int, ElementRecord], indent: str
    ) -> list[str]:
        children = self._children_by_id(frame) if any(IFRAME_MARKER in line for line in lines) else {}
        out: list[str] = []
        for line in lines:
            if IFRAME_MARKER not in line:
                out.append(indent + line)
                continue
            lead, _, rest = line.partition(IFRAME_MARKER)
            frame_id, _, label = rest.partition(":")
            child = children.get(frame_id)
            out.append(f"{indent}{lead}{label}:")
            if child is None:
                out.append(f"{indent}{lead}  (not loaded)")
                continue
            try:
                walk = self._walk(child, elements)
            except PlaywrightError:
                out.append(f"{indent}{lead}  (not readable: the frame is loading or was removed)")
                continue
            out.extend(self._splice(child, walk["lines"], elements, indent + lead + "  "))
        return out

    @staticmethod
    def _children_by_id(frame: Frame) -> dict[str, Frame]:
        children = {}
        for child in frame.child_frames:
            try:
                handle = child.frame_element()
            except PlaywrightError:
                continue
            children[handle.get_attribute(ID_ATTRIBUTE) or ""] = child
            handle.dispose()
        return children


# Roles a person may call a thing that is clicked: a toggle drawn as a div is a "switch" to them.
CLICKED = frozenset({"button", "link", "switch", "checkbox", "radio", "tab", "menuitem", "clickable"})

# A row's checkbox often has no name a person sees (or the same one on every row): its row names it.
TICKED = frozenset({"checkbox", "radio", "switch"})


def matching(elements: list[ElementRecord], role: str, name: str) -> list[ElementRecord]:
    """The elements `find(role, name)` means, the first kind of match that finds any: that role and that
    name exactly; ignoring case and a label's closing colon or required mark ("Title:" or "Title *" as a
    form shows it, "Title" as the observation names it) and the marks a name starts with ("🏷 Label"), or
    one cell of a row (named "a | b"); a checkbox
    in a table row by a cell of its row; then names holding every word of `name`, as whole words before
    as parts of words. A thing that is clicked matches by another clicked role when its own finds nothing
    (a toggle drawn as a div is a "switch" and a "clickable")."""
    wanted = " ".join(name.split())
    found = _matching([r for r in elements if r.role == role], wanted)
    if found or role not in CLICKED:
        return found
    return _matching([r for r in elements if r.role in CLICKED], wanted)


def _matching(candidates: list[ElementRecord], wanted: str) -> list[ElementRecord]:
    loose = _loosely(wanted)
    words = loose.split()
    tests: tuple[Callable[[ElementRecord], bool], ...] = (
        lambda r: r.name == wanted,
        lambda r: (
            _loosely(r.name) == loose
            or _unmarked(r.name) == loose
            or (r.role == "row" and loose in (_loosely(cell) for cell in r.name.split(" | ")))
        ),
        lambda r: r.role in TICKED and loose in (_loosely(cell) for cell in r.row.split(" | ")),
        lambda r: bool(words) and all(_has_word(_loosely(r.name), word) for word in words),
        lambda r: (
            bool(words) and r.role in TICKED and all(_has_word(_loosely(r.row), word) for word in words)
        ),
        lambda r: bool(words) and all(word in _loosely(r.name) for word in words),
        lambda r: bool(words) and r.role in TICKED and all(word in _loosely(r.row) for word in words),
    )
    for test in tests:
        found = [r for r in candidates if test(r)]
        if found:
            return found
    return []


def _has_word(text: str, word: str) -> bool:
    """Whether `word` is in `text` as a whole word ("label" in "🏷 label", not in "+ labels")."""
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) is not None


def likeliest(elements: list[ElementRecord], name: str, limit: int) -> list[ElementRecord]:
    """The `limit` elements whose names are nearest to `name`, nearest first."""
    wanted = _loosely(name)

    def nearness(record: ElementRecord) -> float:
        return difflib.SequenceMatcher(a=wanted, b=_loosely(record.name or record.row)).ratio()

    return sorted(elements, key=nearness, reverse=True)[:limit]


def _loosely(name: str) -> str:
    """A name as compared loosely: case, and a label's closing colon or required-field mark, set aside."""
    return name.casefold().strip().removesuffix("*").strip().removesuffix(":").strip()


def _unmarked(name: str) -> str:
    """A name as compared loosely without the marks it starts with: "🏷 Label" is the Label button, "☆ Star"
    the Star one, as a person calls them."""
    words = _loosely(name).split(" ")
    while len(words) > 1 and not any(character.isalnum() for character in words[0]):
        words.pop(0)
    return " ".join(words)


ELEMENT_ID = re.compile(r"\[\d+\] ")


def diff(before: Observation, after: Observation, ids: bool = True) -> list[str]:
    """Lines that appeared (+) or went away (-) between two observations of one document; with `ids=False`,
    lines that differ only by their elements' ids count as the same (a page that drew itself again)."""
    changes: list[str] = []
    key = (lambda line: line) if ids else (lambda line: ELEMENT_ID.sub("", line))
    old, new = [key(line) for line in before.lines], [key(line) for line in after.lines]
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            changes += [f"- {line.strip()}" for line in (old if not ids else before.lines)[i1:i2]]
            changes += [f"+ {line.strip()}" for line in after.lines[j1:j2]]
    return changes
