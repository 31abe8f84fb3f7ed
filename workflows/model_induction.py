"""Induction with a chat model: the model writes the program (and a text workflow) from the run.

Prompts are the Jinja templates in workflows/prompts. Replies are parsed strictly; a reply that does
not parse, or a program that fails the static checks, is refused with the reason.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage

from workflows.lifting import InductionRefused, WorkflowDraft, lift_program, template_as_text
from workflows.program import check_program
from workflows.record import InductionInput
from workflows.templates import slots

OBSERVATION_CHARS = 1500
TYPES = {"str", "int", "float", "bool"}
_PROMPTS = Environment(
    loader=PackageLoader("workflows", "prompts"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,
)
_FIELD = re.compile(r"^(NAME|INTENT|DESCRIPTION|ARGUMENTS):[ \t]*(.*)$", re.MULTILINE)
_CODE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.DOTALL)


def _steps(record: InductionInput) -> list[dict[str, str]]:
    return [{"code": step.code or "", "observation": _trim(step.observation)} for step in record.steps]


def _trim(text: str) -> str:
    return text if len(text) <= OBSERVATION_CHARS else f"{text[:OBSERVATION_CHARS]}\n[... trimmed]"


def _ask(model: BaseChatModel, template: str, **context: Any) -> str:
    reply = model.invoke([HumanMessage(_PROMPTS.get_template(template).render(**context))])
    return reply.text  # the text blocks of a reply given as content blocks, never their repr


def _fields(reply: str) -> dict[str, str]:
    return {key: value.strip() for key, value in _FIELD.findall(reply)}


def _arguments(fields: dict[str, str]) -> dict[str, Any]:
    try:
        arguments = json.loads(fields.get("ARGUMENTS", ""))
    except json.JSONDecodeError as exc:
        raise InductionRefused(f"the model's ARGUMENTS line is not JSON ({exc.msg})") from None
    if not isinstance(arguments, dict):
        raise InductionRefused("the model's ARGUMENTS line is not a JSON object")
    return arguments


def model_program(model: BaseChatModel, record: InductionInput) -> WorkflowDraft | None:
    """The model's program for the run, or None if it says the run holds nothing reusable."""
    try:
        codes, outputs = record.steps_to_lift()
        draft = lift_program(record.run.task, codes, writing_calls=record.writing_calls, outputs=outputs)
    except InductionRefused:
        draft = None
    reply = _ask(model, "program.md.jinja", task=record.run.task, steps=_steps(record), draft=draft)
    if reply.strip().upper().startswith("NONE"):
        return None
    code = _CODE.search(reply)
    fields = _fields(reply)
    if code is None or "INTENT" not in fields:
        raise InductionRefused("the model's reply has no INTENT line or no ```python block")
    source = code.group(1).strip() + "\n"
    facts = check_program(source)
    function = ast.parse(source).body[0]
    assert isinstance(function, ast.FunctionDef)
    types = {arg.arg: ast.unparse(arg.annotation) if arg.annotation else "str" for arg in function.args.args}
    unknown = {t for t in types.values() if t not in TYPES}
    arguments = _arguments(fields)
    if unknown or set(arguments) != set(facts.parameters):
        raise InductionRefused(
            f"the model's program does not fit its own arguments: parameters {facts.parameters}, "
            f"ARGUMENTS {sorted(arguments)}, unsupported types {sorted(unknown)}"
        )
    parameters = [
        {"name": name, "type": types[name], "example": arguments[name]} for name in facts.parameters
    ]
    description = (facts.docstring.splitlines() or [f"For tasks like: {template_as_text(fields['INTENT'])}"])[
        0
    ]
    return WorkflowDraft(
        name=facts.name,
        source=source,
        parameters=parameters,
        intent_template=fields["INTENT"],
        description=description,
        arguments=arguments,
    )


def model_text(model: BaseChatModel, record: InductionInput, program: WorkflowDraft | None) -> WorkflowDraft:
    """The model's step-by-step guide for the run (kind `text`; the guide is in `source`)."""
    reply = _ask(model, "text.md.jinja", task=record.run.task, steps=_steps(record), program=program)
    fields = _fields(reply)
    guide = reply.split("GUIDE:", 1)[1].strip() if "GUIDE:" in reply else ""
    name = fields.get("NAME", "")
    if not guide or not name.isidentifier() or "INTENT" not in fields:
        raise InductionRefused("the model's guide lacks a NAME (an identifier), an INTENT line or a GUIDE")
    arguments = _arguments(fields)
    names = slots(fields["INTENT"])
    parameters = [
        {"name": n, "type": type(arguments.get(n, "")).__name__, "example": arguments.get(n)} for n in names
    ]
    return WorkflowDraft(
        name=name,
        source=guide,
        parameters=parameters,
        intent_template=fields["INTENT"],
        description=fields.get("DESCRIPTION") or f"Guide for: {template_as_text(fields['INTENT'])}",
        arguments={n: arguments.get(n) for n in names},
    )
