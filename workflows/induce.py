"""Induction: a successful run becomes a stored workflow (or strengthens an existing one).

Programs come from the deterministic lifter (workflows.lifting) or, given a chat model, from the
model (workflows.model_induction), which also writes a text workflow. Every program passes the static
checks before it is stored. Duplicates are not stored: a workflow of the same site doing the same
sequence of operations, either the same way or for the same intent, gains the run as evidence, or,
when it was deprecated or failed verification, gets the new program as its next version. A run that
worked around a workflow that failed in use repairs it: its program becomes that workflow's next version.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sandbox.names import SITE_CAPABILITIES
from workflows.lifting import InductionRefused, WorkflowDraft, lift_program, refuse_task_literals_left
from workflows.memory import FAILED, Workflow, WorkflowStore
from workflows.model_induction import AskModel, model_program, model_text
from workflows.program import (
    capability_calls,
    check_program,
    operation_sequence,
    parameter_sinks,
    structure_fingerprint,
)
from workflows.record import InductionInput, read_run
from workflows.templates import SLOT

Action = Literal["created", "evidence", "new-version", "repaired", "used"]


@dataclass(frozen=True)
class Induced:
    workflow: Workflow
    action: Action


def induce_from_run(
    store: WorkflowStore, run_id: str, *, model: AskModel | None = None, repairs: Sequence[Workflow] = ()
) -> list[Induced]:
    """Induce from a finished run: a program (by the model if given, else by literal lifting), and with
    a model also a text workflow. A workflow whose use failed in the run, or that is in `repairs` (it
    failed on this run's task elsewhere, e.g. on the fast path), was worked around by the run: the run's
    program becomes its next version. Raises `InductionRefused` when nothing reusable can be made."""
    record = read_run(store, run_id)
    listed = {w.id for w in repairs}
    broken = [*repairs, *(w for w in store.failed_in_run(run_id) if w.id not in listed)]
    if model is None:
        codes, outputs = record.steps_to_lift()
        lifted = lift_program(record.run.task, codes, writing_calls=record.writing_calls, outputs=outputs)
        used = _only_workflows(store, lifted)
        if used:
            # The run did its task with workflows alone: they are credited with it, and it adds nothing.
            return [Induced(workflow, "used") for workflow in used]
        return [store_program(store, record, lifted, repairs=broken)]
    results: list[Induced] = []
    program = model_program(model, record)
    if program is not None:
        results.append(store_program(store, record, program, repairs=broken))
    results.append(store_text(store, record, model_text(model, record, program)))
    return results


def _only_workflows(store: WorkflowStore, program: WorkflowDraft) -> list[Workflow]:
    """The stored workflows a program calls, when `wf.<name>` calls are all it does (a wrapper that adds
    nothing); else none."""
    calls = capability_calls(ast.parse(program.source))
    if not calls or any(not call.startswith("wf.") for call in calls):
        return []
    return [store.get_workflow(name) for name in dict.fromkeys(call.split(".", 1)[1] for call in calls)]


def site_of(record: InductionInput, operations: list[str]) -> str:
    """The site (API or MCP server) whose operations the code calls first, else the run's first site."""
    for operation in operations:
        parts = operation.split(".")
        if parts[0] in SITE_CAPABILITIES and len(parts) > 2:
            return parts[1]
    if not record.run.sites:
        raise InductionRefused(f"run {record.run.id} names no site, and its code calls no site's api")
    return record.run.sites[0]


def store_program(
    store: WorkflowStore, record: InductionInput, program: WorkflowDraft, *, repairs: Sequence[Workflow] = ()
) -> Induced:
    facts = check_program(program.source, program.name)
    function = ast.parse(program.source).body[0]
    assert isinstance(function, ast.FunctionDef)
    docstring = ast.get_docstring(function) is not None
    refuse_task_literals_left(record.run.task, function.body[1:] if docstring else function.body)
    idle = [name for name, sinks in parameter_sinks(program.source).items() if not sinks]
    if idle:
        raise InductionRefused(
            f"parameter {', '.join(idle)} reaches neither a call nor the answer: the program would ignore "
            "what it is given"
        )
    workflow = Workflow(
        name=program.name,
        site=site_of(record, facts.operations),
        kind="program",
        description=program.description,
        intent_template=program.intent_template,
        parameters=program.parameters,
        body=program.source,
        operations=facts.operations,
        fingerprint=structure_fingerprint(program.source),
        writes=any(op in record.writing_calls for op in facts.operations),
        source_runs=[record.run.id],
        source_arguments=program.arguments,
        expected_answer=record.run.answer,
    )
    broken = next(
        (
            w
            for w in repairs
            if w.site == workflow.site
            and w.kind == "program"
            and w.fingerprint != workflow.fingerprint
            # A repair takes what the workflow took (a field's new label may rename a parameter): one
            # dropping a parameter would hard-wire its value.
            and len(workflow.parameters) >= len(w.parameters)
        ),
        None,
    )
    if broken is not None:
        return Induced(_repair(store, broken, workflow), "repaired")
    return _store_deduplicated(store, workflow)


def _repair(store: WorkflowStore, broken: Workflow, repaired: Workflow) -> Workflow:
    """`repaired` becomes the next version of `broken`'s name; the versions before stay, deprecated, and
    say what replaced them."""
    stored = store.add_version(broken, repaired)
    assert broken.id is not None
    store.set_status(
        broken.id,
        "deprecated",
        note=f"failed in use; repaired as v{stored.version} by run {repaired.source_runs[0]}",
    )
    return stored


def store_text(store: WorkflowStore, record: InductionInput, text: WorkflowDraft) -> Induced:
    """A text workflow: `text.source` is the guide; its fingerprint is the run's operation sequence."""
    operations = operation_sequence(
        ast.Module(body=[s for code in record.codes for s in _parsed(code)], type_ignores=[])
    )
    workflow = Workflow(
        name=text.name,
        site=site_of(record, operations),
        kind="text",
        description=text.description,
        intent_template=text.intent_template,
        parameters=text.parameters,
        body=text.source,
        operations=operations,
        fingerprint=f"text:{text.intent_template}",
        writes=bool(record.writing_calls),
        source_runs=[record.run.id],
        source_arguments=text.arguments,
        expected_answer=record.run.answer,
    )
    return _store_deduplicated(store, workflow)


def _parsed(code: str) -> list[ast.stmt]:
    try:
        return ast.parse(code).body
    except SyntaxError:
        return []


def _store_deduplicated(store: WorkflowStore, workflow: Workflow) -> Induced:
    """One family per task shape: a workflow of the same site and kind for the same shape of task (its
    intent template, whatever its slots are called) or doing the same operations the same way gains the run
    as evidence, or, when it was deprecated or failed verification, gets the program as its next version."""
    shape = family_shape(workflow.intent_template)
    for existing in store.list_workflows(sites=[workflow.site]):
        if existing.kind != workflow.kind:
            continue
        same_way = existing.fingerprint == workflow.fingerprint and existing.operations == workflow.operations
        if not same_way and family_shape(existing.intent_template) != shape:
            continue
        assert existing.id is not None
        # A successful run repairs a deprecated workflow, and replaces a program that failed verification.
        if existing.status == "deprecated" or (
            existing.verification == FAILED and existing.fingerprint != workflow.fingerprint
        ):
            return Induced(store.add_version(existing, workflow), "new-version")
        return Induced(store.add_evidence(existing.id, workflow.source_runs[0]), "evidence")
    base, suffix = workflow.name, 2
    while store.name_taken(workflow.name):
        workflow.name, suffix = f"{base}_{suffix}", suffix + 1
    return Induced(store.add_workflow(workflow), "created")


def family_shape(template: str) -> str:
    """A task shape: the intent template with its slots unnamed and its case and spacing ignored."""
    return " ".join(SLOT.sub("{{}}", template).casefold().split())
