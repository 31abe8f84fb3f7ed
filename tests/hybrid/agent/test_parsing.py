"""Reading model replies: robust to fences, tags, several blocks, prose and missing code."""

from __future__ import annotations

import pytest

from hybrid.agent.parsing import STOP_SEQUENCES, parse_reply

pytestmark = pytest.mark.kernel


def test_thought_and_tagged_block() -> None:
    parsed = parse_reply(
        "Thought: list them.\n```python\nissues = api.demo.list_issues()\nprint(len(issues))\n```\n"
    )
    assert parsed.thought == "list them."
    assert parsed.code == "issues = api.demo.list_issues()\nprint(len(issues))"


def test_block_cut_by_the_stop_sequence_has_no_closing_fence() -> None:
    reply = "Thought: go.\n```python\nx = 1\n```\nThen I will..."
    cut = reply[: reply.find(STOP_SEQUENCES[0])]
    assert parse_reply(cut).code == "x = 1"


@pytest.mark.parametrize("tag", ["", "py", "Python", "python3", "ipython"])
def test_code_tags(tag: str) -> None:
    assert parse_reply(f"go\n```{tag}\nprint(1)\n```").code == "print(1)"


def test_only_the_first_code_block_runs_and_the_reply_is_cut_after_it() -> None:
    # A server that ignores the stop sequence lets the model go on: imagine the observation, write more code.
    reply = (
        'The data:\n```json\n{"x": 1}\n```\nFirst\n```python\na = 1\n```\nObservation: 1\n```\nb = a + '
        "1\n```\n```py\nfinish(b)\n```"
    )
    parsed = parse_reply(reply)
    assert parsed.code == "a = 1" and parsed.dropped_blocks == 2
    assert parsed.reply == 'The data:\n```json\n{"x": 1}\n```\nFirst\n```python\na = 1\n```'


@pytest.mark.parametrize(
    "reply",
    [
        "~~~python\nprint(1)\n~~~",
        "~~~\nprint(1)\n~~~\nmore",
        ">>> print(1)",
        "```pycon\n>>> x = [1,\n... ]\n>>> print(1)\n1\n```",
    ],
)
def test_tilde_fences_and_interactive_prompts(reply: str) -> None:
    assert parse_reply(reply).code.endswith("print(1)")
    assert ">>>" not in parse_reply(reply).code


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        ("", "empty"),
        ("  \n", "empty"),
        ('{"name": "list_issues", "arguments": {"owner": "alice"}}', "tool_call"),
        ('```json\n{"tool": "list_issues", "args": {}}\n```', "tool_call"),
        ("The answer is 17.", "prose"),
    ],
)
def test_why_a_reply_has_no_code(reply: str, why: str) -> None:
    parsed = parse_reply(reply)
    assert parsed.code is None and parsed.no_code == why


def test_indented_block_is_dedented() -> None:
    assert parse_reply("  ```python\n  if True:\n      x = 1\n  ```").code == "if True:\n    x = 1"


def test_reply_without_fences_that_is_code() -> None:
    assert parse_reply("print(api.demo.get_user())").code == "print(api.demo.get_user())"


@pytest.mark.parametrize("prose", ["I am not sure what to do.", "Done", "42", ""])
def test_prose_is_not_code(prose: str) -> None:
    parsed = parse_reply(prose)
    assert parsed.code is None and parsed.answer is None


@pytest.mark.parametrize("reply", ["Final answer: 17", "answer: 17", "Thought: done.\nFinal Answer:  17 "])
def test_explicit_answer_without_code(reply: str) -> None:
    assert parse_reply(reply).answer == "17"


def test_only_non_python_blocks_means_no_code() -> None:
    assert parse_reply("Here:\n```json\n{}\n```").code is None
