"""`hybrid run`: do a task with the agent, streaming each step.

Its input (the sites, the model's name) is checked first, and a task that a verified workflow matches is
done before the agent's stack (LangChain, LangGraph, Playwright) is imported, with the kernel starting
while the match is looked up: the learnt path costs a fraction of a model run's start-up.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.text import Text

from hybrid.commands.console import make_console
from hybrid.commands.display import (
    FastPathNotice,
    TerminalConfirm,
    print_header,
    print_learned,
    print_outcome,
    result_json,
)
from hybrid.config import Settings, load_settings
from sandbox import ISOLATION_MODES, POLICY_MODES, PolicyMode

if TYPE_CHECKING:
    from hybrid.agent.results import RunResult
    from hybrid.agent.run import Agent
    from sandbox import KernelPool
    from workflows.fastpath import FastPathMatch

INTERRUPTED_EXIT_CODE = 130


NO_MODEL = (
    "No model configured: pass --model provider:name (e.g. openai:gpt-4o-mini), set HYBRID_MODEL, or "
    "replay fixed replies with --model scripted:replies.json."
)


def checked_model(settings: Settings, model: str | None, base_url: str | None) -> str | None:
    """The model's name (None if none is configured), checked without loading it or LangChain."""
    from hybrid.agent.model_spec import ModelError, check_model_spec

    spec = model or settings.model
    if spec:
        try:
            check_model_spec(spec, base_url=base_url)
        except ModelError as exc:
            raise click.UsageError(str(exc)) from exc
    return spec


def resolve_model(
    settings: Settings, model: str | None, base_url: str | None, *, optional: bool = False
) -> tuple[str | None, Any]:
    """The model's name and chat model; with `optional`, (None, None) when none is configured."""
    from hybrid.agent.model_spec import ModelError
    from hybrid.agent.models import load_chat_model

    spec = model or settings.model
    if not spec:
        if optional:
            return None, None
        raise click.UsageError(NO_MODEL)
    try:
        return spec, load_chat_model(
            spec,
            base_url=base_url,
            timeout=settings.model_timeout_seconds,
            context_tokens=settings.model_context_tokens,
        )
    except ModelError as exc:
        raise click.UsageError(str(exc)) from exc


def resolve_sites(settings: Settings, sites: tuple[str, ...]) -> list[str]:
    """The sites named (each must be registered), else the only one registered."""
    import apis
    from apis.mcpsites import McpRegistry
    from hybrid.demo.registration import SITE_NAME as DEMO

    registered = [site.name for site in apis.SiteRegistry(settings.data_dir).list()] + [
        server.name for server in McpRegistry(settings.data_dir).list()
    ]
    if DEMO in sites and DEMO not in registered:
        # `hybrid demo` registers the demo site only while its own task runs.
        raise click.UsageError(
            f"No site named {DEMO!r} is registered: `hybrid demo` serves it only while its task runs. "
            f"Start `hybrid demo serve` in another terminal; it serves the demo site as {DEMO!r} until "
            "Ctrl-C."
        )
    unknown = [name for name in sites if name not in registered]
    if unknown:
        raise click.UsageError(
            f"No site named {', '.join(map(repr, unknown))} is registered "
            f"({'registered: ' + ', '.join(registered) if registered else 'none is'}); "
            "see `hybrid sites list`, or add one with `hybrid sites add`."
        )
    if sites:
        return list(sites)
    if len(registered) == 1:
        return registered
    if not registered:
        raise click.UsageError("No sites registered: add one with `hybrid sites add`, or try `hybrid demo`.")
    raise click.UsageError(
        f"Several sites are registered ({', '.join(registered)}): choose with --site NAME."
    )


def checked_policy(settings: Settings, policy: PolicyMode | None, as_json: bool) -> PolicyMode:
    mode = policy or settings.policy
    if mode == "confirm" and (as_json or not sys.stdin.isatty()):
        raise click.UsageError(
            "--policy confirm asks on the terminal; it needs an interactive terminal "
            "(use read-only or allow otherwise)."
        )
    return mode


def drive(agent: Agent, console: Console, as_json: bool, action: Callable[[], RunResult]) -> RunResult:
    """Run or resume, print the outcome, and turn Ctrl-C into a clean, resumable stop."""
    from hybrid.agent.run import AgentError

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
    show_result(console, as_json, result)
    return result


def show_result(console: Console, as_json: bool, result: RunResult) -> None:
    if as_json:
        click.echo(result_json(result))
    else:
        print_outcome(console, result)


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


def agent_for_command(
    settings: Settings,
    *,
    model_spec: str | None,
    model: Any,
    sites: list[str],
    policy: PolicyMode | None,
    max_steps: int | None,
    as_json: bool,
    console: Console,
    max_cost: float | None = None,
    files: tuple[Path, ...] = (),
    show_thinking: bool = True,
    pool: KernelPool | None = None,
    header: bool = True,
) -> Agent:
    """The agent for a command, its steps printed on `console` (unless `as_json`), and with `header` the
    line that says what it uses. A `pool` passed in is the caller's to close."""
    from hybrid.agent.assembly import open_agent
    from hybrid.agent.run import AgentError
    from hybrid.commands.display import StepPrinter

    mode = checked_policy(settings, policy, as_json)
    printer = None if as_json else StepPrinter(console, show_thinking=show_thinking)
    try:
        agent = open_agent(
            settings,
            model=model,
            model_name=model_spec,
            sites=sites,
            policy=mode,
            confirm=TerminalConfirm(console, printer) if mode == "confirm" else None,
            pool=pool,
            max_steps=max_steps,
            max_cost=max_cost,
            on_step=printer,
            on_model=printer,
            on_fast_path=FastPathNotice(console),
            files=files,
        )
    except AgentError as exc:
        raise click.ClickException(str(exc)) from exc
    if header and not as_json:
        print_header(console, settings, sites=agent.sites, model_name=agent.model_name, policy=mode)
    return agent


def try_fast_path(
    settings: Settings,
    task: str,
    sites: list[str],
    *,
    pool: KernelPool,
    policy: PolicyMode,
    start_url: str | None,
    console: Console,
) -> tuple[FastPathMatch | None, RunResult | None] | None:
    """The fast path tried without the agent's stack: (None, None) when no verified workflow matches,
    (match, attempt) when one was run. None when the match needs what only the agent sets up (a browser,
    an MCP server, a site whose API signs in with the browser's cookies): the agent then tries it."""
    import apis
    from apis.mcpsites import McpRegistry
    from hybrid.agent.fast_path import run_matched, uses_only_apis
    from hybrid.agent.runtime import AgentRuntime, SiteHandle
    from sandbox import Policy
    from workflows.fastpath import match_fast_path
    from workflows.lightstore import FastPathStore, LightStore

    # SQLite at the newest revision (the usual case) is read and written without the ORM.
    store: FastPathStore | None = LightStore.open(settings.effective_database_url)
    if store is None:
        from workflows.memory import WorkflowStore

        store = WorkflowStore(settings.effective_database_url)
    match = match_fast_path(store, task, sites)
    if match is None:
        return None, None
    registry = apis.SiteRegistry(settings.data_dir)
    mcp_registry = McpRegistry(settings.data_dir)
    if not uses_only_apis(match) or any(
        mcp_registry.has(name) or (registry.get(name).auth or {}).get("type") == "web_session"
        for name in sites
    ):
        return None
    try:
        handles = [SiteHandle.from_registry(registry, name, collect_mismatches=True) for name in sites]
    except (apis.RegistryError, apis.ApiError, apis.SpecError) as exc:
        raise click.ClickException(str(exc)) from exc
    runtime = AgentRuntime(
        sites=handles,
        store=None,
        pool=pool,
        policy=Policy(mode=policy, confirm=TerminalConfirm(console) if policy == "confirm" else None),
    )
    try:
        attempt = run_matched(
            runtime,
            store,
            match,
            task,
            sites=sites,
            policy=policy,
            timeout=settings.action_timeout_seconds,
            start_url=start_url,
            on_fast_path=FastPathNotice(console),
        )
    finally:
        runtime.close()
    return match, attempt


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
@click.option("--start-url", help="Where the browser starts. Default: the first site's web UI.")
@click.option(
    "--file",
    "files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
    help="A file of yours the task needs (repeat for several), e.g. one to upload: a read-only copy is put "
    "in the agent's working directory under its name.",
)
@sandbox_options
@click.option(
    "--hide-thinking",
    is_flag=True,
    help="Do not show the model's thinking (shown dimmed by default, for models that send it).",
)
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
    files: tuple[Path, ...],
    sandbox: str | None,
    kernel_network: bool | None,
    hide_thinking: bool,
    as_json: bool,
) -> None:
    """Do TASK on the registered sites: the agent writes Python actions, API first, browser as fallback.

    Each step is shown as it happens (the thought as the model writes it, then the code, what it printed,
    the calls it made); the run ends with the answer, its status, its cost, its run id and whether it
    became a workflow. A task that a verified workflow matches runs it directly, with no model call (and
    needs no model configured). Ctrl-C stops cleanly: `hybrid runs resume` continues.
    """
    names = [path.name for path in files]
    if len(set(names)) < len(names):
        raise click.UsageError(f"--file names two files of the same name ({', '.join(names)}); rename one.")
    settings = load_settings(sandbox=sandbox, kernel_network=kernel_network)
    console = make_console(stderr=as_json)
    model_spec = checked_model(settings, model, base_url)
    site_names = resolve_sites(settings, sites)
    mode = checked_policy(settings, policy, as_json)
    from sandbox import IsolationUnavailable, KernelPool

    try:
        # The run's kernel starts now, while the fast path is looked up (or the agent's stack imported).
        pool = KernelPool(size=1, limits=settings.kernel_limits, refill=False)
    except IsolationUnavailable as exc:
        raise click.ClickException(str(exc)) from exc
    with pool:
        if not as_json:
            print_header(console, settings, sites=site_names, model_name=model_spec or "none", policy=mode)
        tried = (
            try_fast_path(
                settings, task, site_names, pool=pool, policy=mode, start_url=start_url, console=console
            )
            # A task given files of the user's is left to the agent, whose kernels hold them.
            if settings.fast_path and not files
            else None
        )
        attempt = tried[1] if tried is not None else None
        if attempt is not None and attempt.status == "finished":
            show_result(console, as_json, attempt)
            return
        _, chat_model = resolve_model(settings, model_spec, base_url, optional=True)
        agent = agent_for_command(
            settings,
            model_spec=model_spec,
            model=chat_model,
            sites=site_names,
            policy=mode,
            max_steps=max_steps,
            as_json=as_json,
            console=console,
            max_cost=max_cost,
            pool=pool,
            header=False,
            files=files,
            show_thinking=not hide_thinking,
        )
        with agent:
            # --json waits for the learning, to report it; the terminal shows the answer first.
            result = drive(
                agent,
                console,
                as_json,
                lambda: agent.run(task, start_url=start_url, learn=as_json, fast_path_tried=tried),
            )
            if not as_json:
                learn_after(agent, console)
    if result.status != "finished":
        sys.exit(1)
