"""Reading a model's reply: a short thought and the Python code to run.

The rules, in order:
1. Fenced blocks (``` or ~~~) are code when their tag is python/py/python3/ipython/pycon or empty; blocks
   tagged with another language (json, text, bash...) are not run. The code block may lack its closing
   fence, because generation stops at the closing fence (the stop sequence).
2. Only the first code block runs: the reply is cut after it (and its fence closed), whether or not the
   server honoured the stop sequence, so a model that goes on to imagine the observation and its next step
   does not get to run
   that too. The model is told how many blocks were dropped.
3. Interactive prompts (`>>> `, `... `) are taken off; the lines without them are echoed output.
4. With no fences at all, the longest tail of the reply that parses as Python and is not plain prose is
   the code, and what comes before it the thought.
5. The thought is the text before the first block, without a leading "Thought:".
6. A reply with no code is an answer when a line starts with "Final answer:" or "Answer:" (the answer
   is the text after it); otherwise the agent reminds the model of the format (saying what was wrong:
   an empty reply, a JSON tool call, prose), and a second such reply in a row ends the run as an error
   (see `hybrid.agent.graph`), never as a success.
Note: the stop sequence also matches an opening fence without a language tag, so such a block is cut
before its code; the reminder tells the model to tag its blocks with `python`.
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
from dataclasses import dataclass
from typing import Literal

STOP_SEQUENCES = ["\n```\n", "\n```\r\n"]
CODE_TAGS = {"", "python", "py", "python3", "ipython", "pycon"}
FENCE = re.compile(
    r"^[ \t]*(```|~~~)[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:^[ \t]*\1[ \t]*$|\Z)", re.DOTALL | re.MULTILINE
)
ANSWER_LINE = re.compile(r"^[ \t]*(?:final answer|answer)[ \t]*:[ \t]*", re.IGNORECASE | re.MULTILINE)
THOUGHT_PREFIX = re.compile(r"^\s*thought\s*:\s*", re.IGNORECASE)
PROMPT = re.compile(r"^(>>>|\.\.\.)( |$)")

NoCode = Literal["empty", "tool_call", "prose"]


@dataclass(frozen=True)
class ParsedReply:
    thought: str
    code: str | None
    answer: str | None = None
    reply: str = ""  # the reply as the agent keeps it: cut after the code block that runs
    dropped_blocks: int = 0  # further code blocks that were not run
    no_code: NoCode | None = None  # why a reply without code and without an answer had none


def parse_reply(text: str) -> ParsedReply:
    blocks = list(FENCE.finditer(text))
    code_blocks = [m for m in blocks if m.group(2).lower() in CODE_TAGS and m.group(3).strip()]
    if code_blocks:
        first = code_blocks[0]
        thought = THOUGHT_PREFIX.sub("", text[: blocks[0].start()]).strip()
        code = _without_prompts(textwrap.dedent(first.group(3)).strip("\n"))
        # Closed the same way whether the stop sequence cut the fence off or the server ignored it.
        closed = f"{text[: first.end(3)].rstrip()}\n{first.group(1)}"
        return ParsedReply(thought=thought, code=code, reply=closed, dropped_blocks=len(code_blocks) - 1)
    if not blocks and not ANSWER_LINE.search(text):
        lines = text.splitlines()
        # Code without fences, maybe after a thought: the longest tail of the reply that is code.
        start = next((i for i in range(len(lines)) if _looks_like_code("\n".join(lines[i:]))), None)
        if start is not None:
            thought = THOUGHT_PREFIX.sub("", "\n".join(lines[:start])).strip()
            return ParsedReply(
                thought=thought, code=_without_prompts("\n".join(lines[start:]).strip("\n")), reply=text
            )
    return _without_code(text, blocks)


def _without_code(text: str, blocks: list[re.Match[str]]) -> ParsedReply:
    match = ANSWER_LINE.search(text)
    if match:
        thought = THOUGHT_PREFIX.sub("", text[: match.start()]).strip()
        return ParsedReply(thought=thought, code=None, answer=text[match.end() :].strip(), reply=text)
    if not text.strip():
        why: NoCode = "empty"
    elif _is_tool_call(text) or any(_is_tool_call(m.group(3)) for m in blocks):
        why = "tool_call"
    else:
        why = "prose"
    return ParsedReply(thought=THOUGHT_PREFIX.sub("", text).strip(), code=None, reply=text, no_code=why)


def _is_tool_call(text: str) -> bool:
    """A JSON object naming a function or tool, the way function-calling models answer."""
    try:
        value = json.loads(text.strip())
    except ValueError:
        return False
    values = value if isinstance(value, list) else [value]
    return any(
        isinstance(v, dict) and ({"name", "tool", "function", "action", "tool_calls"} & v.keys())
        for v in values
    )


def _without_prompts(code: str) -> str:
    """Code copied from an interactive session: keep the prompted lines without their prompts."""
    lines = code.splitlines()
    if not any(line.startswith(">>>") for line in lines):
        return code
    return "\n".join(PROMPT.sub("", line) for line in lines if PROMPT.match(line))


def _looks_like_code(text: str) -> bool:
    if not text.strip():
        return False
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return _looks_like_code(_without_prompts(text)) if text.lstrip().startswith(">>>") else False
    # A lone name or constant ("Done", "42") parses but is prose, not an action; so does a JSON object.
    return any(
        not (
            isinstance(node, ast.Expr)
            and isinstance(node.value, (ast.Name, ast.Constant, ast.Dict, ast.List))
        )
        for node in tree.body
    )
