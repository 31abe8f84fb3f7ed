"""Observing a page: a compact text accessibility tree over all its frames, and the ids in it."""

from __future__ import annotations

import difflib
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


def matching(elements: list[ElementRecord], role: str, name: str) -> list[ElementRecord]:
    """The elements `find(role, name)` means: that role and that name, exactly or else ignoring case and a
    label's closing colon ("Title:" as a form shows it, "Title" as the observation names it). A row (named by
    its cells' texts, "a | b") also matches the text of one of its cells."""
    wanted = " ".join(name.split())
    candidates = [r for r in elements if r.role == role]
    exact = [r for r in candidates if r.name == wanted]
    if exact:
        return exact
    loose = _loosely(wanted)
    return [
        r
        for r in candidates
        if _loosely(r.name) == loose
        or (r.role == "row" and loose in (_loosely(cell) for cell in r.name.split(" | ")))
    ]


def _loosely(name: str) -> str:
    return name.casefold().removesuffix(":").strip()


def diff(before: Observation, after: Observation) -> list[str]:
    """Lines that appeared (+) or went away (-) between two observations of one document."""
    changes: list[str] = []
    matcher = difflib.SequenceMatcher(a=before.lines, b=after.lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            changes += [f"- {line.strip()}" for line in before.lines[i1:i2]]
            changes += [f"+ {line.strip()}" for line in after.lines[j1:j2]]
    return changes
