"""Reading a model's reply: a short thought and the Python code to run.

The rules, in order:
1. Fenced blocks are code when their tag is python/py/python3/ipython or empty; blocks tagged with
   another language (json, text, bash...) are not run. The last block may lack its closing fence,
   because generation stops at the closing fence (the stop sequence).
2. Several code blocks are run as one action, in order, separated by a blank line.
3. With no fences at all, the whole reply is code if it parses as Python and is not plain prose.
4. The thought is the text before the first block, without a leading "Thought:".
5. A reply with no code is an answer when a line starts with "Final answer:" or "Answer:" (the answer
   is the text after it); otherwise the agent reminds the model of the format, and a second such reply
   in a row ends the run as an error (see `hybrid.agent.graph`), never as a success.
Note: the stop sequence also matches an opening fence without a language tag, so such a block is cut
before its code; the reminder tells the model to tag its blocks with `python`.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass

STOP_SEQUENCES = ["\n```\n", "\n```\r\n"]
CODE_TAGS = {"", "python", "py", "python3", "ipython", "pycon"}
FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:^[ \t]*```[ \t]*$|\Z)", re.DOTALL | re.MULTILINE)
ANSWER_LINE = re.compile(r"^[ \t]*(?:final answer|answer)[ \t]*:[ \t]*", re.IGNORECASE | re.MULTILINE)
THOUGHT_PREFIX = re.compile(r"^\s*thought\s*:\s*", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedReply:
    thought: str
    code: str | None
    answer: str | None = None


def parse_reply(text: str) -> ParsedReply:
    blocks = list(FENCE.finditer(text))
    code_blocks = [textwrap.dedent(m.group(2)).strip("\n") for m in blocks if m.group(1).lower() in CODE_TAGS]
    code_blocks = [block for block in code_blocks if block.strip()]
    if blocks:
        thought = THOUGHT_PREFIX.sub("", text[: blocks[0].start()]).strip()
        if code_blocks:
            return ParsedReply(thought=thought, code="\n\n".join(code_blocks))
        return _without_code(text)
    if not ANSWER_LINE.search(text) and _looks_like_code(text):
        return ParsedReply(thought="", code=text.strip("\n"))
    return _without_code(text)


def _without_code(text: str) -> ParsedReply:
    match = ANSWER_LINE.search(text)
    if match:
        thought = THOUGHT_PREFIX.sub("", text[: match.start()]).strip()
        return ParsedReply(thought=thought, code=None, answer=text[match.end():].strip())
    return ParsedReply(thought=THOUGHT_PREFIX.sub("", text).strip(), code=None)


def _looks_like_code(text: str) -> bool:
    if not text.strip():
        return False
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return False
    # A lone name or constant ("Done", "42") parses but is prose, not an action.
    return any(not (isinstance(node, ast.Expr) and isinstance(node.value, (ast.Name, ast.Constant)))
               for node in tree.body)
