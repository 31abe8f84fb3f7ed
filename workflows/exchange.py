"""Sharing workflows between memories: JSON Lines export records in, as unverified candidates."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sandbox.errors import HybridError
from workflows.memory import KINDS, Workflow, WorkflowNotFound, WorkflowStore
from workflows.program import ProgramError, check_program

# What an import keeps: the workflow itself and its provenance, not another memory's verdicts or counts.
IMPORTED_FIELDS = (
    "name",
    "version",
    "site",
    "kind",
    "description",
    "intent_template",
    "parameters",
    "body",
    "operations",
    "fingerprint",
    "writes",
    "source_runs",
    "source_arguments",
    "expected_answer",
)


class ImportRejected(HybridError, ValueError):
    """A line of the import is not a workflow; the message names the line."""


def import_workflows(store: WorkflowStore, lines: Iterable[str]) -> tuple[int, int]:
    """Add each exported workflow not already stored (same name and version); returns (added, skipped)."""
    added = skipped = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            fields = {name: record[name] for name in IMPORTED_FIELDS}
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ImportRejected(f"line {number}: not an exported workflow ({exc})") from None
        if fields["kind"] not in KINDS:
            raise ImportRejected(f"line {number}: unknown kind {fields['kind']!r}")
        if fields["kind"] == "program":
            try:
                check_program(fields["body"], fields["name"])
            except ProgramError as exc:
                raise ImportRejected(
                    f"line {number}: {fields['name']} fails the program checks: {exc}"
                ) from None
        try:
            store.get_workflow(fields["name"], fields["version"])
            skipped += 1
            continue
        except WorkflowNotFound:
            pass
        store.add_workflow(Workflow(**fields, status="candidate"))
        added += 1
    return added, skipped
