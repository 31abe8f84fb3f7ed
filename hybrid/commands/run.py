"""`hybrid run`: do a task with the agent, streaming each step."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

import click
from rich.console import Console
from rich.text import Text

import apis
from apis.mcpsites import McpRegistry
from hybrid.agent.models import ModelError, load_chat_model
from hybrid.agent.run import Agent, AgentError, RunResult
from hybrid.commands.display import (
    FastPathNotice,
    StepPrinter,
    TerminalConfirm,
    print_header,
    print_learned,
    print_outcome,
    result_json,
)
from hybrid.config import Settings, load_settings
from sandbox import ISOLATION_MODES, POLICY_MODES, PolicyMode

INTERRUPTED_EXIT_CODE = 130


NO_MODEL = (
    "No model configured: pass --model provider:name (e.g. openai:gpt-4o-mini), set HYBRID_MODEL, or "
    "replay fixed replies with --model scripted:replies.json."
)


def resolve_model(settings: Settings, model: str | None, base_url: str | None, *, optional: bool = False):
    """The model's name and chat model; with `optional`, (None, None) when none is configured."""
    spec = model or settings.model
    if not spec:
        if optional:
            return None, None
        raise click.UsageError(NO_MODEL)
    try:
        return spec, load_chat_model(spec, base_url=base_url, timeout=settings.model_timeout_seconds)
    except ModelError as exc:
        raise click.UsageError(str(exc)) from exc


def resolve_sites(settings: Settings, sites: tuple[str, ...]) -> list[str]:
    registered = [site.name for site in apis.SiteRegistry(settings.data_dir).list()]
    registered += [server.name for server in McpRegistry(settings.data_dir).list()]
    if sites:
        from hybrid.demo.registration import SITE_NAME as DEMO

        if DEMO in sites and DEMO not in registered:
            # `hybrid demo` registers the demo site only while its own task runs.
            raise click.UsageError(
                f"No site named {DEMO!r} is registered: `hybrid demo` serves it only while its task runs. "
                f"Start `hybrid demo serve` in another terminal; it serves the demo site as {DEMO!r} until "
                "Ctrl-C."
            )
        return list(sites)
    if len(registered) == 1:
        return registered
    if not registered:
        raise click.UsageError("No sites registered: add one with `hybrid sites add`, or try `hybrid demo`.")
    raise click.UsageError(
        f"Several sites are registered ({', '.join(registered)}): choose with --site NAME."
    )


def drive(agent: Agent, console: Console, as_json: bool, action: Callable[[], RunResult]) -> RunResult:
    """Run or resume, print the outcome, and turn Ctrl-C into a clean, resumable stop."""
    try:
        result = action()
    except KeyboardInterrupt:
        run_id = agent.current_run_id or "RUN_ID"
        console.print(
            f"\n[yellow]Stopped.[/] The run is saved; continue it with `hybrid runs resume {run_id}`."
        )
        sys.exit(INTERRUPTED_EXIT_CODE)
    except AgentError as exc:
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "run_id": exc.run_id,
                        "status": "error",
                        "answer": None,
                        "error": str(exc),
                        "workflow": None,
                    }
                )
            )
            sys.exit(1)
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(result_json(result))
    else:
        print_outcome(console, result)
    return result


def learn_after(agent: Agent, console: Console) -> None:
    """Once the answer is shown: judge the run with the model and learn from it (see `Agent.learn`), and
    say what the workflow memory kept."""
    if agent.real_model and agent.induce:
        console.print(Text("Judging the run and learning from it (Ctrl-C skips this)...", style="dim"))
    try:
        lesson = agent.learn()
    except KeyboardInterrupt:
        return  # the run and its answer are recorded; only the learning is skipped
    except Exception as exc:  # noqa: BLE001 -- e.g. a provider's own error while the model writes the workflow
        problem = f"{type(exc).__name__}: {exc}".splitlines()[0]
        console.print(
            Text(
                f"Learning from the run failed ({problem}); the run is recorded, and `hybrid "
                "workflows induce RUN_ID` tries again.",
                style="yellow",
            )
        )
        return
    if lesson is None:
        return
    if lesson.verdict is not None:
        style = "green" if lesson.verdict.success else "yellow"
        console.print(
            Text.assemble(
                ("judged: ", "bold"), (lesson.verdict.judgement, style), f" · {lesson.verdict.reason}"
            )
        )
    print_learned(console, lesson.learned.to_dict())


def open_agent(
    settings: Settings,
    *,
    model_spec: str | None,
    model,
    sites: list[str],
    policy: PolicyMode | None,
    max_steps: int | None,
    as_json: bool,
    console: Console,
    max_cost: float | None = None,
) -> Agent:
    mode = policy or settings.policy
    if mode == "confirm" and (as_json or not sys.stdin.isatty()):
        raise click.UsageError(
            "--policy confirm asks on the terminal; it needs an interactive terminal "
            "(use read-only or allow otherwise)."
        )
    printer = None if as_json else StepPrinter(console)
    try:
        agent = Agent(
            settings,
            model=model,
            model_name=model_spec,
            sites=sites,
            policy=mode,
            confirm=TerminalConfirm(console) if mode == "confirm" else None,
            max_steps=max_steps,
            max_cost=max_cost,
            on_step=printer,
            on_text=printer.thought if printer else None,
            on_fast_path=FastPathNotice(console),
        )
    except AgentError as exc:
        raise click.ClickException(str(exc)) from exc
    if not as_json:
        print_header(console, agent)
    return agent


def sandbox_options(command: Callable[..., None]) -> Callable[..., None]:
    """--sandbox and --kernel-network, for the commands that run code actions."""
    command = click.option(
        "--kernel-network",
        is_flag=True,
        default=None,
        help="Let code actions open network connections themselves (by default they reach sites only "
        "through the api and browser capabilities, under the policy).",
    )(command)
    return click.option(
        "--sandbox",
        type=click.Choice(ISOLATION_MODES),
        help="How code actions are isolated: bubblewrap (the default) walls them off from your files, "
        "processes and network; none runs them as you, for machines where bubblewrap cannot run "
        "(recorded in the run).",
    )(command)


@click.command(name="run")
@click.argument("task")
@click.option(
    "--site",
    "sites",
    multiple=True,
    help="Site to use (repeat for several). Default: the only registered site.",
)
@click.option("--model", help="Chat model as provider:name, or scripted:FILE. Default: HYBRID_MODEL.")
@click.option("--base-url", help="Base URL of an OpenAI-compatible server for the model.")
@click.option("--max-steps", type=click.IntRange(min=1), help="Most code actions the agent may take.")
@click.option(
    "--max-cost",
    type=click.FloatRange(min=0, min_open=True),
    metavar="USD",
    help="End the run (status max_cost) once the model's calls cost this much. Default: HYBRID_MAX_COST.",
)
@click.option(
    "--policy",
    type=click.Choice(POLICY_MODES),
    help="allow everything; read-only refuses writes; confirm asks before each write.",
)
@click.option("--start-url", help="Where the browser starts, when the task needs it.")
@sandbox_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON result instead of the steps.")
def run_command(
    task: str,
    sites: tuple[str, ...],
    model: str | None,
    base_url: str | None,
    max_steps: int | None,
    max_cost: float | None,
    policy: PolicyMode | None,
    start_url: str | None,
    sandbox: str | None,
    kernel_network: bool | None,
    as_json: bool,
) -> None:
    """Do TASK on the registered sites: the agent writes Python actions, API first, browser as fallback.

    Each step is shown as it happens (the thought as the model writes it, then the code, what it printed,
    the calls it made); the run ends with the answer, its status, its cost, its run id and whether it
    became a workflow. A task that a verified workflow matches runs it directly, with no model call (and
    needs no model configured). Ctrl-C stops cleanly: `hybrid runs resume` continues.
    """
    settings = load_settings(sandbox=sandbox, kernel_network=kernel_network)
    console = Console(stderr=as_json)
    model_spec, chat_model = resolve_model(settings, model, base_url, optional=True)
    agent = open_agent(
        settings,
        model_spec=model_spec,
        model=chat_model,
        sites=resolve_sites(settings, sites),
        policy=policy,
        max_steps=max_steps,
        as_json=as_json,
        console=console,
        max_cost=max_cost,
    )
    with agent:
        # --json waits for the learning, to report it; the terminal shows the answer first.
        result = drive(agent, console, as_json, lambda: agent.run(task, start_url=start_url, learn=as_json))
        if not as_json:
            learn_after(agent, console)
    if result.status != "finished":
        sys.exit(1)
