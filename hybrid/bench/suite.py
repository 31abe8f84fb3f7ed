"""Task suites: WebArena-style task records in JSON Lines, loaded and validated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sandbox.errors import HybridError

DEMO_SUITE = Path(__file__).parents[1] / "demo" / "tasks.jsonl"
Category = Literal["api", "ui", "mixed"]


class SuiteError(HybridError):
    """A suite file cannot be used; the message names the file and line."""


class AnswerCheck(BaseModel):
    """How the final answer is judged (at most one kind of check besides must_exclude)."""

    model_config = ConfigDict(extra="forbid")

    exact: str | None = Field(default=None, description="equal after normalising case and spacing")
    must_include: list[str] | None = Field(default=None, description="every phrase appears")
    must_exclude: list[str] = Field(default_factory=list, description="no phrase appears")
    number: float | None = Field(default=None, description="this number appears as a whole number token")

    @model_validator(mode="after")
    def one_kind(self) -> AnswerCheck:
        kinds = [k for k in ("exact", "must_include", "number") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("give exactly one of exact, must_include or number")
        return self


class StateCheck(BaseModel):
    """A GET request to the site's API and what its JSON must show."""

    model_config = ConfigDict(extra="forbid")

    get: str = Field(description="API path below the API base URL, e.g. /projects/alice/x/issues/3")
    params: dict[str, str | int] = Field(default_factory=dict)
    where: dict[str, str | int | bool] = Field(
        default_factory=dict, description="keep only list items with these field values"
    )
    select: str | None = Field(default=None, description="dotted path into the JSON, e.g. labels or owner")
    equals: str | int | bool | None = None
    contains: str | None = None
    excludes: str | None = None
    count: int | None = Field(default=None, description="length of the (all-pages) list")
    status: int = 200

    @model_validator(mode="after")
    def one_expectation(self) -> StateCheck:
        kinds = [k for k in ("equals", "contains", "excludes", "count") if getattr(self, k) is not None]
        if len(kinds) > 1:
            raise ValueError("give at most one of equals, contains, excludes, count")
        return self


class Evaluation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: AnswerCheck | None = None
    state: list[StateCheck] = Field(default_factory=list)

    @model_validator(mode="after")
    def something_to_check(self) -> Evaluation:
        if self.answer is None and not self.state:
            raise ValueError("an evaluation needs an answer check, state checks, or both")
        return self


class Task(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task_id: int
    sites: list[str]
    category: Category
    intent_template_id: int
    intent_template: str
    instantiation_dict: dict[str, str | int]
    intent: str
    start_url: str = Field(description="URL with a __SITE__ placeholder for the site's web URL")
    login_as: str = Field(description="the user the agent acts as, in the API and the browser")
    eval: Evaluation
    reference_solution: list[str] = Field(min_length=1, description="code actions, one string each")

    @model_validator(mode="after")
    def intent_matches_template(self) -> Task:
        rendered = self.intent_template
        for key, value in self.instantiation_dict.items():
            rendered = rendered.replace("{{" + key + "}}", str(value))
        if rendered != self.intent:
            raise ValueError(f"intent does not match its template filled with its arguments: {rendered!r}")
        return self

    def start_url_for(self, web_url: str) -> str:
        return self.start_url.replace("__SITE__", web_url.rstrip("/"))


def load_suite(path: Path | str = DEMO_SUITE) -> list[Task]:
    path = Path(path)
    if not path.is_file():
        raise SuiteError(f"{path}: no such task suite file.")
    tasks: list[Task] = []
    for line_number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            tasks.append(Task.model_validate(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise SuiteError(f"{path}:{line_number}: not valid JSON ({exc.msg}).") from exc
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or 'task'}: {error['msg']}"
                for error in exc.errors()
            )
            raise SuiteError(f"{path}:{line_number}: not a valid task: {problems}") from exc
    ids = [t.task_id for t in tasks]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise SuiteError(f"{path}: duplicate task_id(s) {duplicates}.")
    return tasks
