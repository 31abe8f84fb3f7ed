"""A recorded run as a re-executable Jupyter notebook.

The first cells say what the run was and connect `api` (and `browser`, if the run used it) to the same sites
(`hybrid.explore.attach`, with the credentials of whoever runs the notebook: none is written into it). Then,
for each step, a Markdown cell with the model's thought and a code cell with its action and the outputs
recorded when the agent ran it. Run it top to bottom to do the task again, cell by cell.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from hybrid.explore.views import StepView, fenced

if TYPE_CHECKING:
    from hybrid.explore.run import Run

# The sections of a step's full record, in this order (hybrid.agent.observation.full_record).
SECTION = re.compile(r"^--- (stdout|stderr|result|error) ---\n", re.MULTILINE)
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def record_sections(full_output: str) -> dict[str, str]:
    """`{"stdout": ..., "stderr": ..., "result": ..., "error": ...}` from a step's full record."""
    parts = SECTION.split(full_output)
    # parts: [text before the first header, name, body, name, body, ...]
    return {name: body.rstrip("\n") for name, body in zip(parts[1::2], parts[2::2], strict=True)}


def outputs_of(step: StepView, execution_count: int) -> list[NotebookNode]:
    sections = record_sections(step.full_output)
    outputs = [
        new_output("stream", name=name, text=sections[name] + "\n")
        for name in ("stdout", "stderr")
        if sections.get(name)
    ]
    if sections.get("result"):
        outputs.append(
            new_output(
                "execute_result", data={"text/plain": sections["result"]}, execution_count=execution_count
            )
        )
    if sections.get("error") or (not step.ok and step.error):
        name, _, message = (step.error or "Error").partition(": ")
        traceback = (sections.get("error") or step.error or "").splitlines()
        outputs.append(new_output("error", ename=name, evalue=message, traceback=traceback))
    return outputs


def header_cells(run: Run) -> list[NotebookNode]:
    record = run.record
    summary = (
        f"# {record.task}\n\nRun `{record.id}` · {record.status} · model {record.model} · "
        f"{len(run.steps)} steps · {run.tokens} tokens.\n\n"
        "Each step below is the model's thought, then its code action with the output recorded when "
        "the agent ran it. The next cell connects `api` to the same sites with *your own* hybrid "
        "configuration (no credential is stored in this notebook); run the notebook to do the task "
        "again, or change a cell and go on from there."
    )
    browser = ", browser=True" if run.used_browser else ""
    setup = (
        f"from hybrid.explore import attach\n\n"
        f"session = attach({run.sites!r}, into=globals(){browser}, policy={record.policy!r})"
    )
    return [new_markdown_cell(summary), new_code_cell(setup, metadata={"hybrid": {"role": "setup"}})]


def step_cells(step: StepView, execution_count: int) -> list[NotebookNode]:
    title = f"**Step {step.index}**" + ("" if step.ok else " (failed)")
    if step.code is None:
        return [new_markdown_cell(f"{title}: no code.\n\n{fenced(step.reply, 'text')}")]
    thought = f"{title}: {step.thought}" if step.thought else title
    metadata = {
        "hybrid": {
            "step": step.index,
            "ok": step.ok,
            "calls": [call.describe() for call in step.calls],
            "tokens": step.tokens,
            "seconds": round(step.model_seconds + step.execute_seconds, 3),
        }
    }
    code = new_code_cell(
        step.code,
        execution_count=execution_count,
        metadata=metadata,
        outputs=outputs_of(step, execution_count),
    )
    return [new_markdown_cell(thought), code]


def notebook_for(run: Run) -> NotebookNode:
    cells = header_cells(run)
    execution_count = 1
    for step in run.steps:
        cells += step_cells(step, execution_count)
        execution_count += step.code is not None
    ending = f"**Answer:** {run.answer}" if run.answer is not None else f"The run ended as {run.status}."
    if run.record.error:
        ending += f"\n\n{run.record.error}"
    cells.append(new_markdown_cell(ending))
    return new_notebook(
        cells=cells,
        metadata={
            "kernelspec": KERNELSPEC,
            "language_info": {"name": "python"},
            "hybrid": {"run_id": run.id, "sites": run.sites},
        },
    )


def write_notebook(run: Run, path: Path) -> Path:
    notebook = notebook_for(run)
    nbformat.validate(notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path
