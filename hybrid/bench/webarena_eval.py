"""WebArena's evaluators, with the semantics of its evaluation harness (evaluation_harness/evaluators.py):

- `string_match`: the final answer, cleaned (outer quotes off, lower case), against `exact_match`,
  `must_include` (every phrase a substring; a one-character phrase, when it is the only one, must be a
  whole token) and `fuzzy_match` (a model judges each reference with WebArena's own prompt; `N/A` is
  judged by exact match, else by whether the answer gives the reason in `string_note`).
- `url_match`: each `|OR|` alternative's host and path is looked for inside the final page's, and every
  query parameter of the references must have one of their values in the final URL's ("GOLD in PRED").
- `program_html`: for each target, open its URL (`last`: stay on the final page; `func:...`: a helper
  computes it), read its locator in the page (empty: the whole HTML; JavaScript; a helper), HTML-unescape
  it, and require `exact_match` or every `must_include` phrase (each may be `a |OR| b`).

A task passes when every evaluator of its `eval_types` does. Each returns the reasons it failed.
"""

from __future__ import annotations

import html
import json
import re
from collections import defaultdict
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlparse

import httpx
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from hybrid.bench.webarena import HelperCall, ProgramHtml, WebArenaTask, fill_hosts
from sandbox.errors import HybridError
from sandbox.text import clip

PROMPTS = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "prompts"),
    undefined=StrictUndefined,
)
OR = " |OR| "
PAGE_SETTLE_MS = 10_000  # WebArena sleeps 3 s after opening a target; we wait for the network instead


class Page(Protocol):
    """What the evaluators use of the browser's page after the run (a Playwright `Page` is one)."""

    @property
    def url(self) -> str: ...

    def goto(self, url: str) -> Any: ...

    def evaluate(self, expression: str) -> Any: ...

    def content(self) -> str: ...

    def wait_for_load_state(self, state: Any = ..., *, timeout: float | None = ...) -> None: ...


class FuzzyJudge(Protocol):
    """Asks a model for a verdict: `(system, user) -> reply text`."""

    def __call__(self, system: str, user: str) -> str: ...


class EvaluationError(HybridError):
    """A task cannot be judged as configured (a helper needs an account nobody gave, no judge model)."""


@dataclass(frozen=True)
class Judging:
    """What judging a task needs besides the run: the hosts, a model for fuzzy_match, and the shopping
    admin account WebArena's shopping helpers read Magento's REST API with."""

    hosts: dict[str, str]
    fuzzy: FuzzyJudge | None = None
    shopping_admin: tuple[str, str] | None = None
    http: Callable[[], httpx.Client] = field(default=lambda: httpx.Client(timeout=30))


# -- string_match ------------------------------------------------------------------------------------


def clean_answer(answer: str) -> str:
    answer = answer.strip()
    if (answer.startswith("'") and answer.endswith("'")) or (answer.startswith('"') and answer.endswith('"')):
        answer = answer[1:-1]
    return answer.lower()


def exact_match(reference: str, prediction: str) -> bool:
    return clean_answer(prediction) == clean_answer(reference)


# Written by hand: WebArena uses nltk's word_tokenize, whose Punkt data is a download at run time. It
# only decides here whether a one-character reference ("0", "5") stands as a token of its own, for which
# splitting words, numbers (with their inner . and ,) and single punctuation marks gives the same answer.
TOKEN = re.compile(r"\w+(?:[.,]\w+)*|[^\w\s]")


def must_include(reference: str, prediction: str, *, tokenize: bool = False) -> bool:
    clean_ref, clean_pred = clean_answer(reference), clean_answer(prediction)
    if tokenize and len(clean_ref) == 1 and len(TOKEN.findall(clean_ref)) == 1:
        return clean_ref in TOKEN.findall(clean_pred)
    return clean_ref in clean_pred


def _verdict_word(reply: str, yes: str, no: tuple[str, ...]) -> bool | None:
    reply = reply.lower()
    if any(word in reply for word in no):
        return False
    return True if yes in reply else None


def fuzzy_match(judge: FuzzyJudge, reference: str, prediction: str, intent: str) -> bool | None:
    """WebArena's llm_fuzzy_match: "partially correct" and "incorrect" fail; None: the reply said neither."""
    if not prediction:
        return not reference
    user = PROMPTS.get_template("fuzzy_match.md.jinja").render(
        question=intent, reference=reference, answer=prediction
    )
    return _verdict_word(
        judge("You are a helpful assistant", user), "correct", ("partially correct", "incorrect")
    )


def ua_match(judge: FuzzyJudge, reason: str, prediction: str, intent: str) -> bool | None:
    """WebArena's llm_ua_match: does the answer give the reason the task cannot be done?"""
    user = PROMPTS.get_template("ua_match.md.jinja").render(task=intent, reason=reason, report=prediction)
    return _verdict_word(judge("You are a helpful assistant", user), "same", ("different",))


def string_match(task: WebArenaTask, answer: str | None, judging: Judging) -> list[str]:
    assert task.eval.reference_answers is not None  # the config was checked on load
    pred = clean_answer(answer or "")
    failures: list[str] = []
    shown = clip(repr(answer or ""), 160)
    references = task.eval.reference_answers.model_dump(exclude_none=True)
    for approach, value in references.items():
        if approach == "exact_match" and not exact_match(value, pred):
            failures.append(f"string_match: answer {shown} is not exactly {value!r}")
        elif approach == "must_include":
            for phrase in value:
                if not must_include(phrase, pred, tokenize=len(value) == 1):
                    failures.append(f"string_match: answer {shown} does not include {phrase!r}")
        elif approach == "fuzzy_match":
            failures = _fuzzy(task, value, pred, shown, judging, failures)
    return failures


def _fuzzy(
    task: WebArenaTask, value: str | list[str], pred: str, shown: str, judging: Judging, failures: list[str]
) -> list[str]:
    if judging.fuzzy is None:
        raise EvaluationError(
            "fuzzy_match needs a model to judge the answer, as WebArena's does: give --judge-model "
            "provider:name (or run with a real --model, which then judges)."
        )
    if value == "N/A":
        if not failures and exact_match("N/A", pred):
            return failures
        # As WebArena: the reason-matching verdict replaces the score so far, earlier checks included.
        said = ua_match(judging.fuzzy, task.eval.string_note or "", pred, task.intent)
        if said is None:
            return ["string_match: the judge model's reply said neither same nor different"]
        return [] if said else [f"string_match: answer {shown} does not give why the task is not achievable"]
    for reference in value:
        said = fuzzy_match(judging.fuzzy, reference, pred, task.intent)
        if said is None:
            failures.append("string_match: the judge model's reply said neither correct nor incorrect")
        elif not said:
            failures.append(
                f"string_match: the judge model found answer {shown} not the same as {reference!r}"
            )
    return failures


# -- url_match ---------------------------------------------------------------------------------------


def _base_and_query(url: str) -> tuple[str, dict[str, list[str]]]:
    parsed = urlparse(url)
    return (parsed.netloc + parsed.path).rstrip("/"), parse_qs(parsed.query)


def url_matches(reference_url: str, page_url: str) -> bool:
    """WebArena's "GOLD in PRED": some reference's host+path is inside the page's, and each reference query
    parameter (over all alternatives) has one of its values among the page's."""
    references = [url.rstrip("/") for url in reference_url.split(OR)]
    pred_base, pred_query = _base_and_query(page_url.rstrip("/"))
    ref_queries: dict[str, set[str]] = defaultdict(set)
    bases = []
    for url in references:
        base, query = _base_and_query(url)
        bases.append(base)
        for key, values in query.items():
            ref_queries[key].update(values)
    if not any(base in pred_base for base in bases):
        return False
    return all(any(v in pred_query.get(key, []) for v in values) for key, values in ref_queries.items())


def url_match(task: WebArenaTask, page: Page, judging: Judging) -> list[str]:
    reference = fill_hosts(task.eval.reference_url or "", judging.hosts)
    if url_matches(reference, page.url):
        return []
    return [f"url_match: the run ended on {page.url}, not {reference}"]


# -- program_html ------------------------------------------------------------------------------------


def reddit_get_post_url(url: str) -> str:
    """A post's URL from the URL of a post or one of its comments (/f/forum/id/...)."""
    parsed = urlparse(url)
    parts = parsed.path.split("/")
    if len(parts) < 4 or parts[1] != "f":
        return url
    return f"{parsed.scheme}://{parsed.netloc}/f/{parts[2]}/{parts[3]}/"


GITLAB_MEMBER_ROLE_JS = """(account) => {
    const accounts = [...document.querySelectorAll(
      "td[data-label='Account'] span.gl-avatar-labeled-sublabel")];
    const index = accounts.findIndex((element) => element.outerText === '@' + account);
    return document.querySelectorAll("td.col-max-role span")[index].outerText;
}"""


def gitlab_get_project_memeber_role(page: Page, account: str) -> str:
    """The role shown for @account on a GitLab project's members page ('' when not shown)."""
    try:
        return str(page.evaluate(f"({GITLAB_MEMBER_ROLE_JS})({json.dumps(account)})"))
    except Exception:  # noqa: BLE001 -- as WebArena: a page without the member is an empty role
        return ""


class Shopping:
    """WebArena's shopping helpers: Magento's REST API on the shopping site, as its admin."""

    def __init__(self, judging: Judging) -> None:
        if "shopping" not in judging.hosts or judging.shopping_admin is None:
            raise EvaluationError(
                "this task's check reads the shopping site's REST API as its admin: map the shopping "
                "host and give the shopping_admin site's username and password in the hosts file."
            )
        self.url = judging.hosts["shopping"].rstrip("/")
        self.judging = judging
        username, password = judging.shopping_admin
        with judging.http() as client:
            response = client.post(
                f"{self.url}/rest/default/V1/integration/admin/token",
                json={"username": username, "password": password},
            )
            response.raise_for_status()
            self.token = str(response.json())

    def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        with self.judging.http() as client:
            response = client.get(
                f"{self.url}/rest/V1/{path}", params=params, headers={"Authorization": f"Bearer {self.token}"}
            )
            response.raise_for_status()
            return response.json()

    def latest_order_url(self) -> str:
        orders = self.get(
            "orders",
            {
                "searchCriteria[sortOrders][0][field]": "created_at",
                "searchCriteria[sortOrders][0][direction]": "DESC",
                "searchCriteria[pageSize]": "1",
            },
        )
        return f"{self.url}/sales/order/view/order_id/{int(orders['items'][0]['increment_id'])}/"

    def latest_review(self, sku: str) -> dict[str, Any] | None:
        reviews = self.get(f"products/{sku}/reviews")
        return reviews[-1] if reviews else None


def call_helper(call: HelperCall, page: Page, judging: Judging) -> str:
    """A helper named in a config, with its arguments filled in (never `eval`: the name is looked up)."""
    args = [page.url if arg == "__last_url__" else fill_hosts(arg, judging.hosts) for arg in call.args]
    if call.name == "reddit_get_post_url":
        return reddit_get_post_url(args[0])
    if call.name == "gitlab_get_project_memeber_role":
        return gitlab_get_project_memeber_role(page, args[1])
    shopping = Shopping(judging)
    if call.name == "shopping_get_latest_order_url":
        return shopping.latest_order_url()
    review = shopping.latest_review(args[0])
    if review is None:
        return ""
    if call.name == "shopping_get_sku_latest_review_author":
        return str(review["nickname"])
    return str(review["ratings"][0]["percent"])


def read_target(target: ProgramHtml, page: Page, judging: Judging) -> str:
    """What the target's locator selects, on the page its URL names, HTML-unescaped."""
    url = target.url
    if url.startswith("func"):
        url = call_helper(HelperCall.parse(url), page, judging)
    if url != "last":
        page.goto(fill_hosts(url, judging.hosts))
        with suppress(Exception):  # a page that keeps polling is read as it is
            page.wait_for_load_state("networkidle", timeout=PAGE_SETTLE_MS)
    locator = target.locator
    if not locator.strip():
        selected = page.content()
    elif locator.startswith("func:"):
        selected = call_helper(HelperCall.parse(locator), page, judging)
    else:
        for action in target.prep_actions:
            try:
                page.evaluate(f"() => {action}")
            except Exception:  # noqa: BLE001 -- as WebArena: a failed preparation is ignored
                break
        try:
            # str() as WebArena does: null reads "None", true "True"; only "" is empty.
            selected = str(page.evaluate(f"() => {locator}"))
        except Exception:  # noqa: BLE001 -- as WebArena: a page where the locator fails reads as empty
            selected = ""
    return html.unescape(selected)


def program_html(task: WebArenaTask, page: Page, judging: Judging) -> list[str]:
    failures: list[str] = []
    for index, target in enumerate(task.eval.program_html):
        where = f"program_html[{index}] ({target.url}, {clip(target.locator, 60) or 'whole page'})"
        selected = read_target(target, page, judging)
        shown = clip(repr(selected), 120)
        contents = target.required_contents
        if contents.exact_match is not None and not exact_match(contents.exact_match, selected):
            failures.append(f"{where}: read {shown}, not exactly {contents.exact_match!r}")
        for phrase in contents.must_include or []:
            if not any(must_include(option, selected) for option in phrase.split(OR)):
                failures.append(f"{where}: read {shown}, which does not include {phrase!r}")
    return failures


def evaluate_page(task: WebArenaTask, page: Page, judging: Judging) -> dict[str, list[str]]:
    """The evaluators that read the browser (url_match, program_html), run on the page the run ended on:
    the failures of each."""
    results: dict[str, list[str]] = {}
    for eval_type in task.eval_types:
        if eval_type == "url_match":
            results[eval_type] = url_match(task, page, judging)
        elif eval_type == "program_html":
            results[eval_type] = program_html(task, page, judging)
    return results


def evaluate_answer(task: WebArenaTask, answer: str | None, judging: Judging) -> dict[str, list[str]]:
    return {"string_match": string_match(task, answer, judging)} if "string_match" in task.eval_types else {}
