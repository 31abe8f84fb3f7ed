"""`hybrid demo`: the bundled demo site (a project tracker with an API and a web UI)."""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack

import click
import httpx
from rich.table import Table

import apis
from hybrid.agent.models import scripted_replies_for
from hybrid.bench.evaluators import evaluate
from hybrid.bench.suite import load_suite
from hybrid.commands.console import make_console
from hybrid.commands.run import agent_for_command, drive, resolve_model, sandbox_options
from hybrid.config import load_settings
from hybrid.demo import demo_site
from hybrid.demo.data import USERS, api_token_for
from hybrid.demo.registration import SITE_NAME, demo_registered
from hybrid.demo.server import DemoSite, DemoSiteError, serve_forever

console = make_console()
SHOWN_USERS = ("alice", "bob", "erin")
DEFAULT_TASK = 38  # a mixed task: a UI-only transfer, then an API-only label


def _print_site(site: DemoSite) -> None:
    console.print(f"[bold green]Demo site running[/] at [link={site.base_url}]{site.base_url}[/link]")
    console.print(f"  web UI:       {site.base_url}/login")
    console.print(f"  REST API:     {site.api_url}")
    console.print(f"  OpenAPI spec: {site.openapi_url}")
    table = Table(title="Sign in (every user's password is the same)", title_justify="left")
    table.add_column("user")
    table.add_column("password")
    table.add_column("API token (Authorization: Bearer ...)")
    for username in SHOWN_USERS:
        table.add_row(username, site.password, site.token_for(username))
    console.print(table)
    others = ", ".join(u[0] for u in USERS if u[0] not in SHOWN_USERS)
    console.print(f"  other users: {others} (tokens: `hybrid demo token USER`)")
    console.print("Press Ctrl-C to stop. Data is reset to the seed state at every start.")


def _serve(port: int, username: str) -> None:
    registry = apis.SiteRegistry(load_settings().data_dir)
    with ExitStack() as registration:

        def on_ready(site: DemoSite) -> None:
            _print_site(site)
            registration.enter_context(demo_registered(registry, site, username))
            console.print(
                f"Registered as the site `{SITE_NAME}` (acting as {username}) while it runs: try\n"
                f'  hybrid run "How many open issues are in alice/tracker-core?" --site {SITE_NAME} '
                "--model provider:name"
            )

        try:
            serve_forever(port, on_ready)
        except DemoSiteError as exc:
            raise click.ClickException(str(exc)) from exc
        except KeyboardInterrupt:
            pass
    console.print("Demo site stopped.")


@click.group(name="demo", invoke_without_command=True)
@click.option(
    "--task",
    "task_id",
    type=int,
    default=DEFAULT_TASK,
    show_default=True,
    help="Which task of the demo suite to run (see hybrid/demo/tasks.jsonl).",
)
@click.option(
    "--model",
    help="Chat model as provider:name. Default: HYBRID_MODEL; with none, the task's "
    "reference solution is replayed by a scripted model.",
)
@click.option("--base-url", help="Base URL of an OpenAI-compatible server for the model.")
@sandbox_options
@click.pass_context
def demo_group(
    ctx: click.Context,
    task_id: int,
    model: str | None,
    base_url: str | None,
    sandbox: str | None,
    kernel_network: bool | None,
) -> None:
    """Run one task of the bundled demo site end to end with the agent.

    Starts the demo site (a project tracker with a REST API and a web UI) on 127.0.0.1, registers it as
    the site `demo`, runs the task, and judges the outcome with the task's evaluator. `hybrid demo serve`
    serves the site for you to explore.
    """
    if ctx.invoked_subcommand is not None:
        return
    settings = load_settings(sandbox=sandbox, kernel_network=kernel_network)
    tasks = {task.task_id: task for task in load_suite()}
    if task_id not in tasks:
        raise click.BadParameter(
            f"no task {task_id}; the suite has ids 0 to {max(tasks)}", param_hint="--task"
        )
    task = tasks[task_id]
    if model or settings.model:
        model_spec, chat_model = resolve_model(settings, model, base_url)
    else:
        console.print(
            "[yellow]No model configured[/] (--model or HYBRID_MODEL), so a scripted model replays "
            "this task's reference solution: the real agent, kernel and site, with fixed replies."
        )
        # Written to a file so that `hybrid runs resume` can load the same script again.
        script = settings.data_dir / "scripts" / f"demo-task-{task.task_id}.json"
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text(
            json.dumps(scripted_replies_for(task.reference_solution), indent=1), encoding="utf-8"
        )
        model_spec, chat_model = resolve_model(settings, f"scripted:{script}", None)
    with demo_site() as site, demo_registered(apis.SiteRegistry(settings.data_dir), site, task.login_as):
        console.print(
            f"Demo site at {site.base_url} · acting as {task.login_as} · task {task.task_id} "
            f"({task.category}):\n[bold]{task.intent}[/]"
        )
        agent = agent_for_command(
            settings,
            model_spec=model_spec,
            model=chat_model,
            sites=[SITE_NAME],
            policy=None,
            max_steps=None,
            as_json=False,
            console=console,
        )
        with agent:
            result = drive(
                agent,
                console,
                False,
                lambda: agent.run(
                    task.intent,
                    start_url=task.start_url_for(site.base_url),
                    source=f"demo-suite:{task.task_id}",
                ),
            )
        with httpx.Client(
            base_url=site.api_url, headers={"Authorization": f"Bearer {site.token_for('alice')}"}
        ) as inspector:
            verdict = evaluate(task, result.answer, inspector)
    if verdict.passed:
        console.print("[bold green]The evaluator accepts the outcome.[/]")
    else:
        console.print("[bold red]The evaluator rejects the outcome:[/] " + "; ".join(verdict.failures))
    console.print(f"Inspect the run: hybrid runs show {result.run_id} · explore the site: hybrid demo serve")
    if not verdict.passed:
        sys.exit(1)


@demo_group.command(name="serve")
@click.option("--port", default=0, show_default="a free port", help="Port on 127.0.0.1 to serve on.")
@click.option(
    "--as",
    "username",
    default="alice",
    show_default=True,
    type=click.Choice([u[0] for u in USERS]),
    help="The demo user `hybrid run --site demo` acts as.",
)
def serve_command(port: int, username: str) -> None:
    """Serve the demo site on 127.0.0.1 until Ctrl-C, registered as the site `demo`.

    While it runs, `hybrid run "..." --site demo` works against it (as --as USER, alice by default).
    """
    _serve(port, username)


@demo_group.command(name="token")
@click.argument("username")
def token_command(username: str) -> None:
    """Print the API token of demo user USERNAME."""
    known = [u[0] for u in USERS]
    if username not in known:
        raise click.BadParameter(
            f"no demo user {username!r}; users: {', '.join(known)}", param_hint="USERNAME"
        )
    click.echo(api_token_for(username))
