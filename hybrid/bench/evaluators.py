"""Judging a finished task: the final answer against its check, the site's state against its checks.

State is read through the site's own API (any site with an API works, not only the demo), with a
client that carries an account allowed to see what the checks ask about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from hybrid.bench.suite import AnswerCheck, StateCheck, Task
from sandbox.text import clip

MAX_PAGES = 100


@dataclass
class EvaluatorResult:
    """What a task's evaluators found of a run's answer and the site's state (not the model's judge)."""

    passed: bool
    failures: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.passed


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().strip(".").casefold()


def check_answer(check: AnswerCheck, answer: str | None) -> list[str]:
    """The reasons an answer fails its check (empty when it passes)."""
    if answer is None or not str(answer).strip():
        return ["no answer was given"]
    text = normalise(str(answer))
    failures = []
    if check.exact is not None and text != normalise(check.exact):
        failures.append(f"answer {answer!r} is not {check.exact!r}")
    for phrase in check.must_include or []:
        if normalise(phrase) not in text:
            failures.append(f"answer {answer!r} does not mention {phrase!r}")
    if check.number is not None and check.number not in _numbers_in(text):
        failures.append(f"answer {answer!r} does not give the number {_plain_number(check.number)}")
    for phrase in check.must_exclude:
        if normalise(phrase) in text:
            failures.append(f"answer {answer!r} mentions {phrase!r}, which is wrong")
    return failures


def _numbers_in(text: str) -> list[float]:
    # Whole tokens only: "v2.0" or "#12" are names, not counts.
    return [
        float(m.replace(",", "")) for m in re.findall(r"(?<![\w#.])-?\d[\d,]*(?:\.\d+)?(?![\w.]*\w)", text)
    ]


def _plain_number(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def fetch_json(client: httpx.Client, path: str, params: dict[str, Any]) -> tuple[int, Any]:
    """GET a path; for a paginated list, follow the Link header's next pages and join them."""
    response = client.get(path, params=params)
    if response.status_code >= 400 or not response.content:
        return response.status_code, None
    body = response.json()
    pages = 1
    while isinstance(body, list) and "next" in response.links and pages < MAX_PAGES:
        response = client.get(response.links["next"]["url"])
        response.raise_for_status()
        body += response.json()
        pages += 1
    return 200, body


def select(value: Any, path: str | None) -> Any:
    """Follow a dotted path; a name applied to a list maps over its items (`labels`, `members.username`)."""
    for part in path.split(".") if path else []:
        if isinstance(value, list) and part.isdigit():
            value = value[int(part)] if int(part) < len(value) else None
        elif isinstance(value, list):
            value = [item.get(part) if isinstance(item, dict) else None for item in value]
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


def check_state(check: StateCheck, client: httpx.Client) -> list[str]:
    status, body = fetch_json(client, check.get, dict(check.params))
    where = (
        f"GET {check.get}"
        + (f" {check.params}" if check.params else "")
        + (f" where {check.where}" if check.where else "")
    )
    if status != check.status:
        return [f"{where} answered {status}, expected {check.status}"]
    if status >= 400:
        return []
    if check.where and isinstance(body, list):
        body = [item for item in body if all(item.get(k) == v for k, v in check.where.items())]
    value = select(body, check.select)
    shown = f"{where} -> {check.select or 'body'} = {clip(repr(value), 120)}"
    if check.equals is not None and value != check.equals:
        return [f"{shown}, expected {check.equals!r}"]
    if check.contains is not None and not _contains(value, check.contains):
        return [f"{shown}, expected it to contain {check.contains!r}"]
    if check.excludes is not None and _contains(value, check.excludes):
        return [f"{shown}, expected it not to contain {check.excludes!r}"]
    if check.count is not None and (not isinstance(value, list) or len(value) != check.count):
        size = len(value) if isinstance(value, list) else "not a list"
        return [f"{where} -> {size} item(s), expected {check.count}"]
    return []


def _contains(value: Any, item: str) -> bool:
    if isinstance(value, list):
        return item in value
    return isinstance(value, str) and item.casefold() in value.casefold()


def evaluate(task: Task, answer: str | None, site_api: httpx.Client) -> EvaluatorResult:
    """Judge one finished task. `site_api` is based at the site's API URL with a privileged account."""
    failures: list[str] = []
    if task.eval.answer is not None:
        failures += check_answer(task.eval.answer, answer)
    for check in task.eval.state:
        failures += check_state(check, site_api)
    return EvaluatorResult(passed=not failures, failures=failures)
