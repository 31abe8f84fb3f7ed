"""Intent templates: `Close issue #{{number}} in {{owner}}/{{project}}.` matched against task text."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

SLOT = re.compile(r"\{\{\s*(\w+)\s*\}\}")
# Separators between the items of a list a task names: `17, 18 and 19`, `17 or 18`, `17 & 18`.
ITEM_SEPARATOR = r"(?:\s*,\s*(?:(?:and|or)\s+)?|\s+(?:and|or|&)\s+|\s*&\s*)"


# Values in a task's text that name what it is about: quoted text, dates and numbers, and the segments of
# paths such as `owner/project`.
_VALUES = re.compile(r'"([^"]+)"|\b(\d{4}-\d{2}-\d{2}|\d+(?:\.\d+)?)\b|((?:[\w.-]*\w/)+[\w.-]*\w)')


def task_values(task: str) -> list[str]:
    """The task-specific values its text names: `Close issue #7 in alice/app` -> ["7", "alice", "app"]."""
    tokens: list[str] = []
    for match in _VALUES.finditer(task):
        quoted, number, path = match.groups()
        tokens.extend(
            [quoted] if quoted else [number] if number else [s for s in path.split("/") if len(s) > 1]
        )
    return tokens


def fits(template: str, parameters: Sequence[dict[str, Any]], task: str) -> bool:
    """Whether a workflow of `template` can take `task`: its template binds the task, or every
    task-specific value the task names (see `task_values`) is either written in the template itself or
    left for one of its parameters of a matching type, and every value the template writes is in the task.
    A task naming a value the workflow cannot take (a second issue for a one-issue workflow) does not fit."""
    if bind(template, parameters, task) is not None:
        return True
    written = SLOT.sub(" ", template)
    if any(not _names(task, value) for value in task_values(written)):
        return False  # the template is about a value the task does not name
    left = [value for value in task_values(task) if not _names(written, value)]
    numbers = sum(1 for value in left if re.fullmatch(r"\d+(?:\.\d+)?", value))
    kinds = [p.get("type", "str") for p in parameters]
    if "list" in kinds:
        return len(left) - numbers <= len(kinds)  # a list takes any count of numbers
    return len(left) <= len(kinds) and numbers <= kinds.count("int") + kinds.count("float")


def render(template: str, arguments: dict[str, Any]) -> str:
    """The task `template` reads as with `arguments` in its slots: a list as a task lists it (`40, 41 and
    42`)."""

    def text(match: re.Match[str]) -> str:
        value = arguments.get(match.group(1), match.group(0))
        if isinstance(value, list):
            items = [str(item) for item in value]
            return " and ".join([", ".join(items[:-1]), items[-1]]) if len(items) > 1 else "".join(items)
        return str(value)

    return SLOT.sub(text, template)


def misfit(template: str, parameters: Sequence[dict[str, Any]], arguments: dict[str, Any]) -> str | None:
    """Why a workflow of `template` cannot take `arguments` given directly (an MCP client's call), by the
    rule the fast path binds a task with: the task the template reads with them must bind back to them,
    value for value. None if it does, or if the template does not name every parameter (nothing to read
    back)."""
    types = {p["name"]: p.get("type", "str") for p in parameters}
    if not types or set(slots(template)) != set(types) or set(arguments) != set(types):
        return None
    task = render(template, arguments)
    bound = bind(template, parameters, task)
    if bound is None:
        several = [
            f"{p['name']} takes one word (like {p['example']!r}), not {arguments[p['name']]!r}"
            for p in parameters
            if p.get("type", "str") == "str"
            and "example" in p
            and not re.search(r"\s", str(p["example"]))
            and re.search(r"\s", _normalise(str(arguments[p["name"]])))
        ]
        return "; ".join(several) or f"as a task, {task!r}, they do not bind to its parameters"
    for name, value in arguments.items():
        given = [_normalise(str(v)) for v in value] if isinstance(value, list) else _normalise(str(value))
        read = bound[name]
        back = [_normalise(str(v)) for v in read] if isinstance(read, list) else _normalise(str(read))
        if given != back:
            return f"as a task, {task!r}, {name}={value!r} reads as {name}={read!r}"
    return None


def _names(text: str, value: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(value)}(?![\w]|\.\d)", text, re.IGNORECASE) is not None


def slots(template: str) -> list[str]:
    names: list[str] = []
    for name in SLOT.findall(template):
        if name not in names:
            names.append(name)
    return names


def _normalise(text: str) -> str:
    return " ".join(text.split())


def bind(template: str, parameters: Sequence[dict[str, Any]], task: str) -> dict[str, Any] | None:
    """The arguments that make `template` read as `task`, converted to the parameters' types;
    None unless the whole task matches and every parameter is bound.

    A list parameter binds items the way a task lists them (`17, 18 and 19`). A text parameter whose example
    value is one word binds one word, so that a longer task ("... in
    bob/app and tell me its title") does not match by swallowing its extra words into a value.
    """
    types = {p["name"]: p.get("type", "str") for p in parameters}
    items = {p["name"]: p.get("items", "str") for p in parameters}
    words = {p["name"]: not re.search(r"\s", str(p.get("example", ""))) for p in parameters}
    if set(slots(template)) != set(types):
        return None
    pattern, position, seen = [], 0, set()
    normalised = _normalise(template)
    for match in SLOT.finditer(normalised):
        pattern.append(re.escape(normalised[position : match.start()]))
        name = match.group(1)
        if name in seen:
            pattern.append(f"(?P={name})")
        else:
            pattern.append(rf"(?P<{name}>{_value_pattern(types[name], items[name], words[name])})")
            seen.add(name)
        position = match.end()
    pattern.append(re.escape(normalised[position:]))
    found = re.fullmatch("".join(pattern), _normalise(task))
    if found is None:
        return None
    return {name: _convert(value, types[name], items[name]) for name, value in found.groupdict().items()}


def _value_pattern(kind: str, items: str, one_word: bool) -> str:
    if kind == "list":
        item = r"-?\d+" if items == "int" else r"[^\s,&]+"
        return rf"{item}(?:{ITEM_SEPARATOR}{item})*"
    return r"-?\d+" if kind == "int" else r"\S+?" if one_word else r".+?"


def _convert(text: str, kind: str, items: str) -> Any:
    if kind == "list":
        return [int(item) if items == "int" else item for item in re.split(ITEM_SEPARATOR, text)]
    return int(text) if kind == "int" else text
