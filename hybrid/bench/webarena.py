"""WebArena's task configs as WebArena publishes them: `test.raw.json` (a list of 812 configs), one config
per file (`config_files/N.json`), or a folder of such files.

Every config either loads as a `WebArenaTask` or is refused with a one-line reason: an evaluator type, a
helper function or a locator form that WebArena's harness itself does not know. Sites are named as
WebArena names them (`gitlab`, `shopping`, `shopping_admin`, `reddit`, `map`, `wikipedia`); each is
written in URLs as its placeholder (`__GITLAB__`), replaced with the user's host when the task runs.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sandbox.errors import HybridError

EvalType = Literal["string_match", "url_match", "program_html"]
WEBARENA_SITES = ("gitlab", "shopping", "shopping_admin", "reddit", "map", "wikipedia")
PLACEHOLDER = re.compile(r"__([A-Z][A-Z0-9_]*[A-Z0-9])__")
# The helper functions WebArena's configs call (evaluation_harness/helper_functions.py), with the
# arguments they take: `page` is the browser's page after the run, `str` a literal, `url` a literal URL
# or __last_url__.
HELPERS: dict[str, tuple[str, ...]] = {
    "shopping_get_latest_order_url": (),
    "shopping_get_sku_latest_review_author": ("str",),
    "shopping_get_sku_latest_review_rating": ("str",),
    "reddit_get_post_url": ("url",),
    "gitlab_get_project_memeber_role": ("page", "str"),
}


class WebArenaError(HybridError):
    """A WebArena config file cannot be read at all; the message names the file."""


@dataclass(frozen=True)
class HelperCall:
    """`func:name(args)` from a config, parsed (never evaluated): literals, `__page__` or `__last_url__`."""

    name: str
    args: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> HelperCall:
        source = text.removeprefix("func:").strip()
        try:
            call = ast.parse(source, mode="eval").body
        except SyntaxError as exc:
            raise ValueError(f"func:{source!r} is not a function call") from exc
        if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name) or call.keywords:
            raise ValueError(f"func:{source!r} is not a call of a helper by name")
        name = call.func.id
        if name not in HELPERS:
            raise ValueError(f"func:{name} is not one of WebArena's helper functions ({', '.join(HELPERS)})")
        kinds = HELPERS[name]
        if len(call.args) != len(kinds):
            raise ValueError(f"func:{name} takes {len(kinds)} argument(s), got {len(call.args)}")
        args: list[str] = []
        for kind, arg in zip(kinds, call.args, strict=True):
            if kind == "page" and isinstance(arg, ast.Name) and arg.id == "__page__":
                args.append("__page__")
            elif isinstance(arg, ast.Constant) and isinstance(arg.value, str) and kind != "page":
                args.append(arg.value)
            elif kind == "url" and isinstance(arg, ast.Name) and arg.id == "__last_url__":
                args.append("__last_url__")
            else:
                raise ValueError(f"func:{name}: argument {ast.unparse(arg)!r} is not a {kind}")
        return cls(name, tuple(args))


class RequiredContents(BaseModel):
    model_config = ConfigDict(extra="forbid")

    exact_match: str | None = None
    must_include: list[str] | None = None

    @model_validator(mode="after")
    def one_kind(self) -> RequiredContents:
        if (self.exact_match is None) == (self.must_include is None):
            raise ValueError("required_contents needs exactly one of exact_match or must_include")
        return self


class ProgramHtml(BaseModel):
    """Read something off a page after the run: at `url` (`last`: the page the run ended on; `func:...`:
    a URL a helper computes), by `locator` (empty: the whole page; JavaScript from `document.`; or a
    helper), and compare it with `required_contents`."""

    model_config = ConfigDict(extra="forbid")

    url: str
    locator: str
    required_contents: RequiredContents
    prep_actions: list[str] = Field(default_factory=list)

    @field_validator("url")
    @classmethod
    def known_url(cls, url: str) -> str:
        if url.startswith("func"):
            HelperCall.parse(url)
        elif url != "last" and not PLACEHOLDER.match(url) and not url.startswith("http"):
            raise ValueError(f"program_html url {url!r} is neither last, func:..., nor a URL")
        return url

    @field_validator("locator")
    @classmethod
    def known_locator(cls, locator: str) -> str:
        if locator.startswith("func:"):
            HelperCall.parse(locator)
        elif locator.strip() and not locator.startswith(("document.", "[...document.")):
            raise ValueError(f"unknown locator {locator[:40]!r} (WebArena knows '', document..., func:...)")
        return locator


class ReferenceAnswers(BaseModel):
    model_config = ConfigDict(extra="forbid")

    exact_match: str | None = None
    must_include: list[str] | None = None
    fuzzy_match: list[str] | Literal["N/A"] | None = None


class WebArenaEval(BaseModel):
    model_config = ConfigDict(extra="ignore")  # annotators' notes (string_note aside) are not judged

    eval_types: list[EvalType] = Field(min_length=1)
    reference_answers: ReferenceAnswers | None = None
    reference_url: str | None = ""
    program_html: list[ProgramHtml] = Field(default_factory=list)
    url_note: Literal["GOLD in PRED"] = "GOLD in PRED"
    string_note: str | None = None

    @model_validator(mode="after")
    def has_what_its_types_need(self) -> WebArenaEval:
        if "string_match" in self.eval_types and self.reference_answers is None:
            raise ValueError("string_match with no reference_answers")
        if "url_match" in self.eval_types and not self.reference_url:
            raise ValueError("url_match with no reference_url")
        if "program_html" in self.eval_types and not self.program_html:
            raise ValueError("program_html with no targets")
        return self


class WebArenaTask(BaseModel):
    """One WebArena config. Fields the runner uses are checked; the rest is kept as published."""

    model_config = ConfigDict(extra="ignore")

    task_id: int
    sites: list[str] = Field(min_length=1)
    require_login: bool = False
    storage_state: str | None = None
    start_url: str
    intent_template: str = ""
    instantiation_dict: dict[str, Any] = Field(default_factory=dict)
    intent: str
    intent_template_id: int | None = None
    require_reset: bool = False
    eval: WebArenaEval
    login_as: str | None = Field(
        default=None, description="not WebArena's: the account for sites a --site-setup starts (the demo's)"
    )

    @field_validator("sites")
    @classmethod
    def site_names(cls, sites: list[str]) -> list[str]:
        for site in sites:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", site):
                raise ValueError(f"site {site!r} is not a lower-case name like gitlab or shopping_admin")
        return sites

    @property
    def category(self) -> str:
        """Beyond Browsing's table groups tasks by their site(s): `gitlab`, `gitlab+reddit`, ..."""
        return "+".join(sorted(self.sites))

    @property
    def eval_types(self) -> list[str]:
        return list(self.eval.eval_types)

    @property
    def placeholders(self) -> set[str]:
        """The site names whose placeholders the task's URLs use (start, reference, program_html)."""
        urls = [self.start_url, self.eval.reference_url or ""] + [t.url for t in self.eval.program_html]
        return {match.lower() for url in urls for match in PLACEHOLDER.findall(url)}


@dataclass(frozen=True)
class Refusal:
    task_id: int | str
    reason: str


@dataclass(frozen=True)
class WebArenaSuite:
    tasks: list[WebArenaTask]
    refused: list[Refusal]


def is_webarena(path: Path) -> bool:
    """WebArena's files are JSON documents (a list or one object) or a folder of them; our own suites are
    JSON Lines."""
    return path.is_dir() or path.suffix == ".json"


def _one_line(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {error['msg'].removeprefix('Value error, ')}{more}"


def _documents(path: Path) -> list[tuple[str, Any]]:
    """(where, config) for each config in a file or a folder of files."""
    files = sorted(path.glob("*.json"), key=lambda p: (len(p.stem), p.stem)) if path.is_dir() else [path]
    if not files:
        raise WebArenaError(f"{path}: no *.json WebArena config files in this folder.")
    documents: list[tuple[str, Any]] = []
    for file in files:
        try:
            document = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise WebArenaError(f"{file}: not a readable JSON document ({exc}).") from exc
        if isinstance(document, list):
            documents += [(f"{file.name}[{index}]", item) for index, item in enumerate(document)]
        else:
            documents.append((file.name, document))
    return documents


def load_webarena(path: Path | str) -> WebArenaSuite:
    """Every config in `path`: loaded, or refused with a one-line reason (never both, never silently)."""
    path = Path(path)
    if not path.exists():
        raise WebArenaError(f"{path}: no such WebArena config file or folder.")
    tasks: list[WebArenaTask] = []
    refused: list[Refusal] = []
    seen: set[int] = set()
    for where, document in _documents(path):
        task_id = document.get("task_id", where) if isinstance(document, dict) else where
        if not isinstance(document, dict):
            refused.append(
                Refusal(task_id, f"{where}: a config is a JSON object, not {type(document).__name__}")
            )
            continue
        try:
            task = WebArenaTask.model_validate(document)
        except ValidationError as exc:
            refused.append(Refusal(task_id, _one_line(exc)))
            continue
        if task.task_id in seen:
            refused.append(Refusal(task.task_id, f"{where}: task_id {task.task_id} appears twice"))
            continue
        seen.add(task.task_id)
        tasks.append(task)
    return WebArenaSuite(tasks, refused)


def fill_hosts(url: str, hosts: dict[str, str]) -> str:
    """`__GITLAB__/a/b` -> `http://my-gitlab:8023/a/b`, from site name to its web URL."""

    def host(match: re.Match[str]) -> str:
        name = match.group(1).lower()
        if name not in hosts:
            raise KeyError(name)
        return hosts[name].rstrip("/")

    return PLACEHOLDER.sub(host, url)
