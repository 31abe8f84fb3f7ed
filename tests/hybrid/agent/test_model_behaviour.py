"""What real models do wrong, replayed against the real agent on the demo site: for each, the observation
the model sees next says exactly what to do, or the run ends with a clear status."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import BaseMessage
from pydantic import Field

import apis
from hybrid.agent.assembly import open_agent
from hybrid.agent.models import ScriptedChatModel
from hybrid.agent.run import RunResult
from hybrid.config import Settings
from hybrid.demo import DemoSite
from hybrid.demo.registration import register_demo

pytestmark = pytest.mark.kernel

FINISH = "Thought: done.\n```python\nfinish('done')\n```"
LIST = "api.demo.list_issues(owner='alice', project='tracker-core'"


class RecordingModel(ScriptedChatModel):
    """Keeps the last message of every prompt: what the model was told after its previous reply. Like some
    servers, it may ignore stop sequences."""

    told: list[str] = Field(default_factory=list)
    honour_stop: bool = True

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, *args: Any, **kwargs: Any
    ):
        self.told.append(messages[-1].text)
        return super()._generate(messages, stop if self.honour_stop else None, *args, **kwargs)


@pytest.fixture
def behave(settings: Settings, demo: DemoSite):
    register_demo(apis.SiteRegistry(settings.data_dir), demo, "alice")

    def run(*replies: str, honour_stop: bool = True) -> tuple[RunResult, list[str]]:
        model = RecordingModel(replies=list(replies), honour_stop=honour_stop)
        with open_agent(settings, model=model, model_name="scripted", sites=["demo"], induce=False) as agent:
            result = agent.run("How many open issues are in alice/tracker-core?")
        return result, model.told[1:]

    return run


def code(body: str) -> str:
    return f"Thought: try.\n```python\n{body}\n```"


def test_an_unknown_operation_name_gets_the_closest_names(behave) -> None:
    result, told = behave(code("print(api.demo.list_issue(owner='alice', project='tracker-core'))"), FINISH)
    assert "api.demo has no operation 'list_issue'. Did you mean api.demo.list_issues" in told[0]
    assert "api.demo.search(" in told[0] and result.status == "finished"


@pytest.mark.parametrize(
    "call",
    [
        "api.demo.list_issues(project='tracker-core')",
        "api.demo.list_issues(owner='alice', projct='tracker-core')",
    ],
    ids=["missing", "misspelt"],
)
def test_a_missing_or_misspelt_argument_names_it_with_the_signature(behave, call: str) -> None:
    _, told = behave(code(f"print({call})"), FINISH)
    assert "missing a required argument" in told[0]
    assert "its signature is api.demo.list_issues(*, owner, project," in told[0]


def test_a_list_read_from_its_first_page_only_says_how_many_pages_there_are(behave) -> None:
    # The demo site pages its lists with Link and X-Total-Count headers, as Gitea and GitLab do.
    _, told = behave(code(f"print(len({LIST})))"), FINISH)
    assert told[0].startswith("Observation:\n20\n")
    assert (
        "Hint: api.demo.list_issues returned 20 items, page 1 of 8 (148 in all): more pages exist; pass "
        "page=2 for the next; per_page can be up to 100."
    ) in told[0]
    _, told = behave(code(f"print(len({LIST}, per_page=100, page=2)))"), FINISH)
    assert told[0].startswith("Observation:\n48\n") and "more pages" not in told[0]  # the last page


def test_no_pagination_hint_once_the_code_read_every_page(behave) -> None:
    # The README's loop: the first page's hint is taken back when the last page is read in the same step.
    loop = (
        "issues, page = [], 1\nwhile True:\n"
        f"    batch = {LIST}, per_page=100, page=page)\n"
        "    issues += batch\n    if len(batch) < 100:\n        break\n    page += 1\nprint(len(issues))"
    )
    _, told = behave(code(loop), FINISH)
    assert told[0].startswith("Observation:\n148\n")
    assert "more pages" not in told[0]  # was told after reading all 148
    _, told = behave(code(f"print(len({LIST}, per_page=100)))"), FINISH)
    assert "more pages exist" in told[0]  # one page of two: still said


def test_printing_a_whole_long_list_is_trimmed_and_says_so(behave) -> None:
    _, told = behave(code(f"print({LIST}, state='all', per_page=100))"), FINISH)
    assert len(told[0]) < 10_000 and "characters" in told[0]


def test_http_by_hand_is_pointed_to_the_api_client(behave, demo: DemoSite) -> None:
    _, told = behave(
        code(f"import requests\nprint(requests.get('{demo.api_url}/projects').status_code)"), FINISH
    )
    assert "Hint: call the site through api.demo.<operation>(...), not with requests" in told[0]


@pytest.mark.parametrize(
    "fence",
    [
        "```py\n{}\n```",
        "```Python\n{}\n```",
        "~~~python\n{}\n~~~",
        "~~~\n{}\n~~~",
        "```python\n>>> {}\n```",
        "{}",
    ],
)
def test_fence_variants_and_interactive_prompts_run(behave, fence: str) -> None:
    result, told = behave("Thought: count.\n" + fence.format(f"print(len({LIST})))"), FINISH)
    assert told[0].startswith("Observation:\n20\n") and result.status == "finished"


def test_a_bare_fence_is_cut_by_the_stop_sequence_and_the_model_told_to_tag_it(behave) -> None:
    result, told = behave("Thought: count.\n```\n" + f"print(len({LIST})))\n```", FINISH)
    assert "a bare ``` fence ends your reply there" in told[0] and result.status == "finished"


def test_two_blocks_in_one_reply_run_the_first_and_say_so(behave) -> None:
    result, told = behave(
        code("x = 1") + "\nand then\n" + code("finish(str(x))"), code("print(x)"), FINISH, honour_stop=False
    )
    assert told[0].startswith("Only the first code block of your reply ran; the 1 after it did not.")
    assert told[1].startswith("Observation:\n1\n") and result.answer == "done"


def test_a_json_tool_call_is_told_to_write_python(behave) -> None:
    call = '{"name": "list_issues", "arguments": {"owner": "alice", "project": "tracker-core"}}'
    result, told = behave(call, FINISH)
    assert told[0].startswith(
        "Your reply was a JSON tool call, so nothing ran: there are no tools to call here."
    )
    assert result.status == "finished"


def test_an_answer_in_prose_is_not_taken_and_twice_ends_the_run(behave) -> None:
    result, told = behave("There are 17 open issues.", "I counted: 17.")
    assert "a reply in prose is not taken as the answer" in told[0]
    assert (result.status, result.answer) == ("error", None)
    assert "without a code block or a final answer 2 times in a row" in result.error


def test_a_very_long_reply_still_runs_its_code(behave) -> None:
    musing = "Let me think about which operation lists issues and how pages work. " * 400
    result, told = behave(f"Thought: {musing}\n```python\nprint(len({LIST})))\n```", FINISH)
    assert told[0].startswith("Observation:\n20\n") and result.status == "finished"
