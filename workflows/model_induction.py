"""Induction with a chat model: the model writes the program (and a text workflow) from the run.

The model is reached through an `AskModel` the caller passes in (the agent's, which retries, prices and
budgets the call like every other call of the run). Prompts are the Jinja templates in workflows/prompts;
both start with the same account of the run (run.md.jinja), so the second call reads it from the
provider's prompt cache. Replies are parsed strictly; a reply that does not parse, or a program that fails
the static checks, is refused with the reason.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any, Protocol

from jinja2 import Environment, PackageLoader, StrictUndefined

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


class AskModel(Protocol):
    """Sends the prompt `shared + rest` to the chat model and returns its reply's text; `shared` is the
    start that other prompts of the same induction repeat (a caller may mark it for the prompt cache). It
    raises `InductionRefused` when the model cannot be asked."""

    def __call__(self, shared: str, rest: str) -> str: ...


def _steps(record: InductionInput) -> list[dict[str, str]]:
    return [{"code": step.code or "", "observation": _trim(step.observation)} for step in record.steps]


def _trim(text: str) -> str:
    return text if len(text) <= OBSERVATION_CHARS else f"{text[:OBSERVATION_CHARS]}\n[... trimmed]"


def _ask(model: AskModel, record: InductionInput, template: str, **context: Any) -> str:
    shared = _PROMPTS.get_template("run.md.jinja").render(task=record.run.task, steps=_steps(record))
    return model(shared, _PROMPTS.get_template(template).render(**context))


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


def model_program(model: AskModel, record: InductionInput) -> WorkflowDraft | None:
    """The model's program for the run, or None if it says the run holds nothing reusable."""
    try:
        codes, outputs = record.steps_to_lift()
        draft = lift_program(record.run.task, codes, writing_calls=record.writing_calls, outputs=outputs)
    except InductionRefused:
        draft = None
    reply = _ask(model, record, "program.md.jinja", draft=draft)
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


def model_text(model: AskModel, record: InductionInput, program: WorkflowDraft | None) -> WorkflowDraft:
    """The model's step-by-step guide for the run (kind `text`; the guide is in `source`)."""
    reply = _ask(model, record, "text.md.jinja", program=program)
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
