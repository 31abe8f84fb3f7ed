"""`hybrid workflows`: list, show, run, induce, verify, deprecate, export and import workflows."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import click

from hybrid.commands.console import make_console
from hybrid.locations import database_url
from sandbox import POLICY_MODES
from workflows.reading import Reader, open_reader
from workflows.status import WORKFLOW_STATUSES

if TYPE_CHECKING:
    from sandbox import KernelSession, Policy, PolicyMode
    from workflows.memory import Workflow, WorkflowStore


def expected_errors() -> tuple[type[Exception], ...]:
    """The errors a command reports in one line; imported when one is raised (an `except` clause's
    expression is evaluated only then), so that listing imports none of what raises them."""
    from apis import ApiError, RegistryError, SpecError
    from hybrid.agent.model_spec import ModelError
    from workflows.exchange import ImportRejected
    from workflows.kernel import WorkflowInstallError
    from workflows.lifting import InductionRefused
    from workflows.memory import WorkflowNotFound
    from workflows.program import ProgramError
    from workflows.reading import RunNotFound
    from workflows.verify import CannotVerify

    return (
        WorkflowNotFound,
        RunNotFound,
        InductionRefused,
        ProgramError,
        CannotVerify,
        RegistryError,
        ApiError,
        SpecError,
        WorkflowInstallError,
        ModelError,
        ImportRejected,
    )


def _store() -> WorkflowStore:
    from hybrid.config import load_settings
    from workflows.memory import WorkflowStore

    return WorkflowStore(load_settings().effective_database_url)


@contextmanager
def _site_session(site: str, policy: Policy) -> Iterator[KernelSession]:
    """A kernel with `api.<site>` from the site registry, for running a workflow outside an agent run."""
    from apis import SiteRegistry
    from hybrid.agent.runtime import SiteHandle, api_capability
    from hybrid.config import load_settings
    from sandbox import IsolationUnavailable, KernelSession
    from sandbox.names import API

    settings = load_settings()
    handle = SiteHandle.from_registry(SiteRegistry(settings.data_dir), site)
    try:
        session = KernelSession(limits=settings.kernel_limits, policy=policy, secrets=handle.secrets)
    except IsolationUnavailable as exc:
        raise click.ClickException(str(exc)) from exc
    with session:
        session.register(API, api_capability([handle]))
        yield session


def _can_ask() -> bool:
    """Whether a person can answer a question here (stdin is a terminal)."""
    return sys.stdin.isatty()


def _terminal_policy(mode: PolicyMode) -> Policy:
    """The policy `mode` as this terminal can apply it: confirm asks here, so it needs a person at it."""
    from hybrid.commands.display import TerminalConfirm
    from sandbox import Policy

    if mode != "confirm":
        return Policy(mode=mode)
    if not _can_ask():
        raise click.UsageError(
            "the policy is confirm, which asks on the terminal before each write, and there is no "
            "interactive terminal here; pass --policy read-only (or allow) to run without asking."
        )
    return Policy(mode="confirm", confirm=TerminalConfirm(make_console(stderr=True)))


def _parse_arguments(workflow: Workflow, pairs: tuple[str, ...]) -> dict[str, Any]:
    types = {p["name"]: p.get("type", "str") for p in workflow.parameters}
    arguments: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or name not in types:
            raise click.ClickException(
                f"--arg {pair!r}: expected NAME=VALUE with NAME one of {', '.join(types) or 'none'}"
            )
        try:
            arguments[name] = (
                [int(item) if workflow_items(workflow, name) == "int" else item for item in value.split(",")]
                if types[name] == "list"
                else int(value)
                if types[name] == "int"
                else float(value)
                if types[name] == "float"
                else value.lower() in ("1", "true", "yes")
                if types[name] == "bool"
                else value
            )
        except ValueError:
            raise click.ClickException(f"--arg {name}: {value!r} is not a {types[name]}") from None
    missing = [name for name in types if name not in arguments]
    if missing:
        raise click.ClickException(
            f"missing --arg for {', '.join(missing)}; {workflow.name} takes {workflow.signature}"
        )
    return arguments


def workflow_items(workflow: Workflow, name: str) -> str:
    """The type of the items of list parameter `name` (`--arg numbers=40,41`)."""
    return next(str(p.get("items", "str")) for p in workflow.parameters if p["name"] == name)


@click.group(name="workflows")
def workflows_group() -> None:
    """Manage the workflows induced from successful runs: inspect, run, verify, share."""


@workflows_group.command(name="list")
@click.option("--site", "sites", multiple=True, help="Only workflows of this site (repeatable).")
@click.option(
    "--status", "statuses", multiple=True, type=click.Choice(WORKFLOW_STATUSES), help="Only these statuses."
)
@click.option("--all-versions", is_flag=True, help="Every version, not only each name's newest.")
@click.option("--json", "as_json", is_flag=True, help="JSON, one object per workflow.")
def list_command(
    sites: tuple[str, ...], statuses: tuple[str, ...], all_versions: bool, as_json: bool
) -> None:
    """List stored workflows."""
    reader = open_reader(database_url())
    store: Reader | WorkflowStore = reader if reader is not None else _store()
    try:
        every: list[Any] = store.list_workflows(sites=sites or None, all_versions=True)
    finally:
        if reader is not None:
            reader.close()
    rows = every if all_versions else _newest(every)
    if statuses:
        rows = [w for w in rows if w.status in statuses]
    if as_json:
        click.echo(json.dumps([w.export() for w in rows], indent=2))
        return
    if not rows:
        click.echo(
            "No workflows yet: they are induced from successful runs (`hybrid workflows induce RUN_ID`)."
        )
        return
    from rich.table import Table

    # One family per task shape: a workflow's name; its versions, newest first, with what became of each.
    family: dict[str, list[str]] = {}
    for version in every:
        family.setdefault(version.name, []).append(f"v{version.version} {version.status}")
    table = Table("family", "v", "site", "kind", "status", "uses ok/failed", "signature", "versions")
    for w in rows:
        table.add_row(
            w.name,
            str(w.version),
            w.site,
            w.kind,
            w.status,
            f"{w.success_count}/{w.failure_count}",
            w.signature,
            ", ".join(family.get(w.name, [])),
        )
    make_console().print(table)


class _Named(Protocol):
    @property
    def name(self) -> str: ...


Listed = TypeVar("Listed", bound=_Named)


def _newest(workflows: list[Listed]) -> list[Listed]:
    """Each name's newest version, of workflows listed by name and newest version first."""
    newest: dict[str, Listed] = {}
    for workflow in workflows:
        newest.setdefault(workflow.name, workflow)
    return list(newest.values())


@workflows_group.command(name="show")
@click.argument("name")
@click.option("--version", type=int, help="A given version (default: the newest).")
def show_command(name: str, version: int | None) -> None:
    """Show a workflow: its intent, parameters, provenance, record and body."""
    from rich.syntax import Syntax

    try:
        w = _store().get_workflow(name, version)
    except expected_errors() as exc:
        raise click.ClickException(str(exc)) from exc
    console = make_console()
    console.print(f"[bold]{w.name}[/] v{w.version}  site {w.site}  {w.kind}  [bold]{w.status}[/]")
    console.print(f"intent:       {w.intent_template}")
    console.print(f"signature:    {w.signature}")
    console.print(
        "verification: "
        f"{w.verification or 'not tried'}{f' ({w.verification_note})' if w.verification_note else ''}"
    )
    console.print(f"uses:         {w.success_count} succeeded, {w.failure_count} failed")
    console.print(f"source runs:  {', '.join(w.source_runs)}  arguments {json.dumps(w.source_arguments)}")
    console.print(Syntax(w.body, "python", word_wrap=True) if w.kind == "program" else w.body)


@workflows_group.command(name="run")
@click.argument("name")
@click.option("--arg", "pairs", multiple=True, metavar="NAME=VALUE", help="A parameter (repeat for each).")
@click.option(
    "--policy",
    type=click.Choice(POLICY_MODES),
    default=None,
    help="Default: the configured policy. confirm asks on the terminal before each write, and refuses to "
    "start without one.",
)
@click.option(
    "--timeout", type=float, default=120.0, show_default=True, help="Seconds before it is interrupted."
)
def run_command(name: str, pairs: tuple[str, ...], policy: PolicyMode | None, timeout: float) -> None:
    """Run a workflow directly with arguments, in a fresh kernel, with no model."""
    from hybrid.config import load_settings
    from workflows.kernel import call_code, install_workflows

    store = _store()
    try:
        workflow = store.get_workflow(name)
        if workflow.kind != "program":
            raise click.ClickException(
                f"{name} is a text workflow (a guide for the model); `hybrid workflows show {name}` prints it"
            )
        arguments = _parse_arguments(workflow, pairs)
        with _site_session(workflow.site, _terminal_policy(policy or load_settings().policy)) as session:
            installed = install_workflows(session, store, [workflow], via="cli")
            result = session.execute(call_code(workflow, arguments), timeout=timeout)
            installed.settle(result)
            installed.close()
    except expected_errors() as exc:
        raise click.ClickException(str(exc)) from exc
    if result.stdout:
        click.echo(result.stdout, nl=False)
    if result.error is not None:
        raise click.ClickException(f"{name} failed: {result.error.name}: {result.error.message}")
    click.echo(json.dumps(result.answer) if not isinstance(result.answer, str) else result.answer)


@workflows_group.command(name="induce")
@click.argument("run_id")
@click.option(
    "--model",
    help="provider:name of a chat model to write the program and a guide "
    "(default: the deterministic path, no model).",
)
def induce_command(run_id: str, model: str | None) -> None:
    """Induce a workflow from a finished run."""
    # Imported here: induction and models need LangChain, which the other commands do without.
    from hybrid.agent.model_calls import ModelCaller
    from hybrid.agent.models import load_chat_model
    from hybrid.config import load_settings
    from workflows.induce import induce_from_run

    try:
        settings = load_settings()
        caller = (
            ModelCaller(
                load_chat_model(
                    model,
                    timeout=settings.model_timeout_seconds,
                    context_tokens=settings.model_context_tokens,
                ),
                retries=settings.model_retries,
            )
            if model
            else None
        )
        results = induce_from_run(_store(), run_id, model=caller.ask if caller else None)
    except expected_errors() as exc:
        raise click.ClickException(str(exc)) from exc
    for result in results:
        w = result.workflow
        click.echo(f"{result.action}: {w.name} v{w.version} ({w.kind}, {w.status}) {w.signature}")


@workflows_group.command(name="verify")
@click.argument("name")
@click.option("--timeout", type=float, default=120.0, show_default=True)
def verify_command(name: str, timeout: float) -> None:
    """Re-execute a workflow with its source run's arguments and compare the answer.

    A workflow that changes its site is not re-executed here (the site cannot be reset from the CLI):
    it becomes verified on its first successful use.
    """
    from sandbox import Policy
    from workflows.verify import verify

    store = _store()
    try:
        workflow = store.get_workflow(name)
        result = verify(store, workflow, lambda: _site_session(workflow.site, Policy()), timeout=timeout)
    except expected_errors() as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"{name} v{workflow.version}: {result.outcome} ({result.detail}); now {result.workflow.status}"
    )
    if result.outcome == "failed":
        sys.exit(1)


@workflows_group.command(name="deprecate")
@click.argument("name")
def deprecate_command(name: str) -> None:
    """Stop offering a workflow (it stays stored; a later successful run can make a new version)."""
    store = _store()
    try:
        workflow = store.get_workflow(name)
    except expected_errors() as exc:
        raise click.ClickException(str(exc)) from exc
    assert workflow.id is not None
    store.set_status(workflow.id, "deprecated")
    click.echo(f"{name} v{workflow.version} is deprecated.")


@workflows_group.command(name="export")
@click.option("--output", "-o", type=click.File("w"), default="-", help="File to write (default: stdout).")
@click.option("--site", "sites", multiple=True, help="Only workflows of this site (repeatable).")
@click.option("--all-versions", is_flag=True, help="Every version, not only each name's newest.")
def export_command(output: Any, sites: tuple[str, ...], all_versions: bool) -> None:
    """Write workflows as JSON Lines, one per line, for `hybrid workflows import`."""
    rows = _store().list_workflows(sites=sites or None, all_versions=all_versions)
    for workflow in rows:
        output.write(json.dumps(workflow.export()) + "\n")
    click.echo(f"Exported {len(rows)} workflow(s).", err=True)


@workflows_group.command(name="import")
@click.argument("source", type=click.File("r"))
def import_command(source: Any) -> None:
    """Add workflows from a JSON Lines export. Each comes in as an unverified candidate with no uses;
    programs are checked first, and a name and version already stored is skipped."""
    from workflows.exchange import import_workflows

    try:
        added, skipped = import_workflows(_store(), source)
    except expected_errors() as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Imported {added} workflow(s); skipped {skipped} already stored.")
