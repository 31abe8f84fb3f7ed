"""After a run: what it taught the workflow memory, and the one line that tells the user.

A finished run is induced and each new or repaired program verified. A run that worked around a
workflow that failed in use (the site changed) repairs it: the run's program becomes the workflow's next
version (self-healing). Whatever happens, `Learned.line` says it in one line: "saved as workflow
close_issue v2 (verified)", or why nothing was saved.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from workflows.induce import Induced, induce_from_run
from workflows.kernel import WorkflowInstallError
from workflows.learned import Learned
from workflows.lifting import InductionRefused
from workflows.memory import PASSED, Workflow, WorkflowStore
from workflows.model_induction import AskModel
from workflows.program import ProgramError
from workflows.verify import CannotVerify, Recheck, SessionFactory, Verification, verify


def learn_from_run(
    store: WorkflowStore,
    run_id: str,
    open_session: SessionFactory,
    *,
    model: AskModel | None = None,
    reset: Callable[[], None] | None = None,
    recheck: Recheck | None = None,
    repairs: Sequence[Workflow] = (),
) -> Learned:
    """Induce from a finished run and verify each new, repaired or replaced program workflow.

    `repairs` are workflows that failed on this task outside the run (on the fast path, say); with those
    whose use failed in it, the run repairs them (see `induce_from_run`). Never raises for a run that
    holds nothing reusable: the result says why.
    """
    try:
        induced = induce_from_run(store, run_id, model=model, repairs=repairs)
    except InductionRefused as exc:
        return Learned.nothing(str(exc))
    except ProgramError as exc:
        return Learned.nothing(f"the induced program fails the checks ({exc})")
    verifications: list[Verification] = []
    notes: dict[int | None, str] = {}
    results: list[Induced] = []
    for item in induced:
        if item.action not in ("evidence", "used") and item.workflow.kind == "program":
            try:
                checked = verify(store, item.workflow, open_session, reset=reset, recheck=recheck)
            except (CannotVerify, WorkflowInstallError) as exc:
                notes[item.workflow.id] = f"not verified: {exc}"
            else:
                verifications.append(checked)
                item = Induced(checked.workflow, item.action)
                if checked.outcome != PASSED:
                    notes[item.workflow.id] = checked.detail
        results.append(item)
    return _summary(results, notes, verifications)


def _summary(
    induced: list[Induced], notes: dict[int | None, str], verifications: list[Verification]
) -> Learned:
    programs = [item for item in induced if item.workflow.kind == "program"] or induced
    item = programs[0]
    workflow = item.workflow
    named = f"workflow {workflow.name} v{workflow.version}"
    if item.action == "used":
        names = ", ".join(f"{i.workflow.name} v{i.workflow.version}" for i in programs)
        line = f"not saved as a new workflow: the run did its task with {names} alone, credited with it"
    elif item.action == "evidence":
        line = (
            f"not saved as a new workflow: it does what {named} ({workflow.status}) does; "
            "noted as its evidence"
        )
    else:
        repaired = f"repaired {workflow.name}: " if item.action == "repaired" else ""
        note = notes.get(workflow.id)
        line = f"{repaired}saved as {named} ({workflow.status}{f': {note}' if note else ''})"
    return Learned(line, workflow.name, workflow.version, workflow.status, item.action, verifications)
