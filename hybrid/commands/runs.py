"""`hybrid runs`: list recorded runs, show every step of one, resume one that was stopped, export one."""

from __future__ import annotations

import json
import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.text import Text

from hybrid.commands.console import make_console, panel, rule
from hybrid.commands.display import ESTIMATED, format_cost
from hybrid.locations import database_url
from sandbox.text import ELLIPSIS, clip
from workflows.reading import Reader, RunNotFound, open_reader
from workflows.status import FINAL_STATUSES

if TYPE_CHECKING:
    from workflows.store import RunStore


def open_store() -> RunStore:
    from hybrid.config import load_settings
    from workflows.store import RunStore

    return RunStore(load_settings().effective_database_url)


def open_for_reading() -> AbstractContextManager[Reader | RunStore]:
    """What the listing commands read from: the database read directly (`workflows.reading`), or, where it
    cannot be (not SQLite, not made or upgraded yet), the store, which makes or upgrades it."""
    reader = open_reader(database_url())
    return reader if reader is not None else nullcontext(open_store())


@click.group(name="runs")
def runs_group() -> None:
    """List, show, resume and export recorded runs."""


@runs_group.command(name="list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1), help="How many runs.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per run.")
def list_command(limit: int, as_json: bool) -> None:
    """The most recent runs, newest first."""
    with open_for_reading() as store:
        runs = store.list_runs(limit)
    if as_json:
        for run in runs:
            click.echo(run.model_dump_json())
        return
    if not runs:
        click.echo('No runs yet: try `hybrid demo` or `hybrid run "..."`.')
        return
    from rich.table import Table

    console = make_console()
    table = Table()
    for column in ("run id", "status", "steps", "tokens", "cost", "started", "task"):
        table.add_column(column, no_wrap=True)
    task_width = max(20, console.width - 78)
    for run in runs:
        table.add_row(
            run.id,
            run.status,
            str(run.steps),
            f"{'~' if run.usage_estimated else ''}{run.prompt_tokens + run.completion_tokens}",
            "-" if run.cost is None else f"${run.cost:.4f}",
            run.started_at.strftime("%m-%d %H:%M"),
            Text(clip(run.task, task_width, marker=ELLIPSIS)),
        )
    console.print(table)


@runs_group.command(name="show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="The run, its steps and their calls as JSON.")
def show_command(run_id: str, as_json: bool) -> None:
    """Every step of a run: thought, code, full observation, calls, tokens and timing.

    RUN_ID may be abbreviated to any unique prefix.
    """
    with open_for_reading() as store:
        _show(store, run_id, as_json)


def _show(store: Reader | RunStore, run_id: str, as_json: bool) -> None:
    from rich.syntax import Syntax

    try:
        run = store.get_run(run_id)
    except RunNotFound as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(store.run_document(run.id), indent=2))
        return
    steps = store.steps_of(run.id)
    console = make_console()
    console.print(Text(run.task, style="bold"))
    console.print(
        f"run {run.id} · {run.status} · model {run.model} · sites "
        f"{', '.join(run.sites)} · policy {run.policy} · sandbox {run.sandbox} · {run.steps} steps · "
        f"{run.prompt_tokens} prompt + {run.completion_tokens} completion tokens"
        f"{ESTIMATED if run.usage_estimated else ''} · {format_cost(run.cost)}",
        highlight=False,
    )
    for step in steps:
        rule(
            console,
            f"step {step.index + 1} · {step.prompt_tokens}+{step.completion_tokens} tokens"
            f"{ESTIMATED if step.usage_estimated else ''} · "
            f"{format_cost(step.cost)} · model {step.model_seconds:.2f} s · run {step.execute_seconds:.2f} s",
        )
        if step.thought:
            console.print(Text(step.thought, style="italic"))
        if step.code:
            console.print(Syntax(step.code, "python", theme="ansi_dark", word_wrap=True))
        console.print(
            panel(
                console, Text(step.full_output or step.observation), title="observation", title_align="left"
            )
        )
        for call in store.calls_of(step.id):
            console.print(Text(f"  {call.describe()}"))
    if run.answer is not None:
        console.print(panel(console, Text(run.answer), title="answer", title_align="left"))
    if run.error:
        console.print(Text(run.error, style="red"))
    if run.judgement:
        console.print(Text.assemble(("judged: ", "bold"), run.judgement, f" · {run.judgement_reason}"))


@runs_group.command(name="resume")
@click.argument("run_id")
@click.option("--model", help="Model to continue with (default: the run's own).")
@click.option("--base-url", help="Base URL of an OpenAI-compatible server for the model.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON result instead of the steps.")
def resume_command(run_id: str, model: str | None, base_url: str | None, as_json: bool) -> None:
    """Continue a run that was stopped (Ctrl-C, a crash, a killed process) from its last checkpoint.

    The kernel is fresh, so the model is told that earlier variables are gone.
    """
    from hybrid.config import load_settings

    settings = load_settings()
    try:
        run = open_store().get_run(run_id)
    except RunNotFound as exc:
        raise click.ClickException(str(exc)) from exc
    if run.status in FINAL_STATUSES:
        raise click.ClickException(f"Run {run.id} already ended ({run.status}); nothing to resume.")
    console = make_console(stderr=as_json)
    from hybrid.commands.run import (  # the agent's stack, only when resuming
        agent_for_command,
        drive,
        resolve_model,
    )

    model_spec, chat_model = resolve_model(settings, model or run.model, base_url)
    agent = agent_for_command(
        settings,
        model_spec=model_spec,
        model=chat_model,
        sites=run.sites,
        policy=run.policy,
        max_steps=None,
        as_json=as_json,
        console=console,
    )
    with agent:
        result = drive(agent, console, as_json, lambda: agent.resume(run.id))
    if result.status != "finished":
        sys.exit(1)


@runs_group.command(name="export")
@click.argument("run_id")
@click.option(
    "--notebook",
    "notebook",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the .ipynb file.",
)
def export_command(run_id: str, notebook: Path) -> None:
    """Write a run as a re-executable Jupyter notebook: the model's thoughts as Markdown cells, its code
    actions as code cells with their recorded outputs.

    The first code cell connects `api` to the run's sites with the credentials of your own hybrid
    configuration (HYBRID_DATA_DIR's site registry); no credential is written into the notebook.
    RUN_ID may be abbreviated to any unique prefix.
    """
    from hybrid.config import load_settings

    try:
        from hybrid.explore import Run  # the agent's stack, only when exporting

        run = Run.load(run_id, settings=load_settings())
    except RunNotFound as exc:
        raise click.ClickException(str(exc)) from exc
    path = run.export(notebook)
    click.echo(f"Wrote {path}: {len(run.steps)} steps of run {run.id}. {_how_to_open(path)}")


def _how_to_open(notebook: Path) -> str:
    """The commands this installation has for a notebook (they live beside this Python), or how to get
    them."""
    installed = Path(sys.executable).parent
    if (installed / "jupyter-lab").exists():
        return f"Open it with `jupyter lab {notebook}`."
    if (installed / "jupyter-execute").exists():
        return (
            f"Run it with `jupyter execute {notebook}`; to open it, install JupyterLab "
            "(`.venv/bin/pip install -e '.[notebooks]'` in the clone)."
        )
    return (
        f"To open it, install JupyterLab (`.venv/bin/pip install -e '.[notebooks]'` in the clone), then "
        f"`jupyter lab {notebook}`."
    )
