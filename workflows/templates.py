"""Intent templates: `Close issue #{{number}} in {{owner}}/{{project}}.` matched against task text."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

SLOT = re.compile(r"\{\{\s*(\w+)\s*\}\}")


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

    A text parameter whose example value is one word binds one word, so that a longer task ("... in
    bob/app and tell me its title") does not match by swallowing its extra words into a value.
    """
    types = {p["name"]: p.get("type", "str") for p in parameters}
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
            value = r"-?\d+" if types[name] == "int" else r"\S+?" if words[name] else r".+?"
            pattern.append(rf"(?P<{name}>{value})")
            seen.add(name)
        position = match.end()
    pattern.append(re.escape(normalised[position:]))
    found = re.fullmatch("".join(pattern), _normalise(task))
    if found is None:
        return None
    return {name: int(value) if types[name] == "int" else value for name, value in found.groupdict().items()}
