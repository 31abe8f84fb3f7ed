"""Wrong writes: the side effects of a benchmark run that its task did not ask for.

A run's write is an API call that writes and succeeded (browser writes name elements, not objects, and
are not judged here). For a task of hybrid's own suite format it is **wrong** when

- the task's evaluator checks no state, only the answer: the task changes nothing, so no write should
  have happened; or
- the object it changes is another than the task's: its API path (the operation's path with the call's
  arguments, below the API's base path: `/projects/alice/tracker-core/issues/17`) is neither a path the
  evaluator's state checks read nor under one (a check of `/projects/alice/tracker-core/issues` covers
  a write to `.../issues/9`; a check of `.../issues/40` does not cover closing `.../issues/17`).

A write on the task's objects that leaves them wrong (the wrong member added where the evaluator looks) is
a failed task, counted under "passed", not here. For a WebArena task, whose evaluators read pages rather
than API paths (and a WebArena-Infinity one, whose verifiers read the app's state), and for a call whose
operation the site's spec does not have, a write is wrong when its arguments do not carry every value the
task names (`owner/project` as its two parts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import quote

from apis.model import Spec
from apis.records import code_name
from hybrid.bench.infinity import InfinityTask
from hybrid.bench.suite import Task
from hybrid.bench.webarena import WebArenaTask
from sandbox import CallRecord

BenchTask = Task | WebArenaTask | InfinityTask


def wrong_writes(calls: Sequence[CallRecord], task: BenchTask, specs: Mapping[str, Spec]) -> int:
    """How many of a run's `calls` are wrong writes for `task` (see the module's doc); `specs` are the
    task's sites' specs by site name."""
    writes = [c for c in calls if c.writes and c.status == "ok" and c.capability == "api"]
    if isinstance(task, WebArenaTask | InfinityTask):
        return sum(1 for call in writes if not _carries_task_values(call, task))
    checked = [_segments(check.get) for check in task.eval.state]
    if not checked:
        return len(writes)
    by_code = {code_name(name): spec for name, spec in specs.items()}
    wrong = 0
    for call in writes:
        path = _object_path(call, by_code)
        if path is None:
            wrong += not _carries_task_values(call, task)
        else:
            wrong += not any(_within(path, check) for check in checked)
    return wrong


def _object_path(call: CallRecord, specs: Mapping[str, Spec]) -> tuple[list[str], int] | None:
    """The path segments of what `call` changes, and how many of them lead it with no argument in them
    (where the API's base path, `api/v1`, may end); None if its operation or a path argument is unknown."""
    site, _, name = call.target.partition(".")
    spec = specs.get(site)
    if spec is None:
        return None
    operation = next((op for op in spec.operations if name in (op.name, op.alias)), None)
    if operation is None:
        return None
    segments = _segments(operation.path)
    literal = next((i for i, part in enumerate(segments) if "{" in part), len(segments))
    path = operation.path
    for parameter in (p for p in operation.parameters if p.location == "path"):
        if parameter.argument not in call.kwargs:
            return None
        value = quote(str(call.kwargs[parameter.argument]), safe="")
        path = path.replace("{" + parameter.name + "}", value)
    return _segments(path), literal


def _segments(path: str) -> list[str]:
    return [part.casefold() for part in path.split("?", 1)[0].split("/") if part]


def _within(path: tuple[list[str], int], check: list[str]) -> bool:
    """Whether the object at `path` is one a check reads or is under it: the check's segments begin the
    path once a base path (some of its leading segments without arguments) is set aside."""
    segments, literal = path
    return any(
        len(segments) - base >= len(check) and segments[base : base + len(check)] == check
        for base in range(literal + 1)
    )


def _carries_task_values(call: CallRecord, task: BenchTask) -> bool:
    named = {part.casefold() for value in task.instantiation_dict.values() for part in str(value).split("/")}
    return named <= {str(leaf).casefold() for leaf in _leaves([call.args, call.kwargs])}


def _leaves(value: object) -> list[object]:
    """The scalar values inside nested lists and dicts."""
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]
