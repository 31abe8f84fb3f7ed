"""The `hybrid` command line.

Each command's module is imported only when that command runs: `hybrid --help` and the light commands
(`runs list`, `config`) must not pay for the agent's whole stack (LangChain, Playwright, the demo site).
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import sys
import threading

import click

from sandbox.errors import HybridError

# name: (module:attribute, the command's short help as its own docstring gives it; a test holds them equal).
COMMANDS = {
    "bench": (
        "hybrid.commands.bench:bench_command",
        (
            "Run task suite SUITE (`demo`, the built-in one, a JSON Lines file in the same format, "
            "WebArena's configs: test.raw.json, a per-task config file or a folder of them, or "
            "WebArena-Infinity's apps: an app folder or a folder of them, each app started from its folder "
            "and judged by its verifiers), each task on a freshly reset site with a fresh kernel, judge it "
            "with its evaluator, and print success, steps, tokens, cost and time per task by category "
            "(API-only, UI, mixed)."
        ),
    ),
    "config": (
        "hybrid.commands.config:config_command",
        "Show the effective settings and where each value came from.",
    ),
    "demo": (
        "hybrid.commands.demo:demo_group",
        "Run one task of the bundled demo site end to end with the agent.",
    ),
    "mcp": (
        "hybrid.commands.mcp:mcp_group",
        "The Model Context Protocol: offer hybrid's agent, operations and workflows to other agents.",
    ),
    "run": (
        "hybrid.commands.run:run_command",
        "Do TASK on the registered sites: the agent writes Python actions, API first, browser as fallback.",
    ),
    "runs": ("hybrid.commands.runs:runs_group", "List, show, resume and export recorded runs."),
    "sites": (
        "hybrid.commands.sites:sites_group",
        (
            "Add, list, show and search sites (OpenAPI specs the agent calls as api.<site>.<operation>, MCP "
            "servers it calls as mcp.<server>.<tool>)."
        ),
    ),
    "workflows": (
        "hybrid.commands.workflows:workflows_group",
        "Manage the workflows induced from successful runs: inspect, run, verify, share.",
    ),
}


class LazyGroup(click.Group):
    """A group whose commands are imported when they run, and listed from `COMMANDS` until then."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, _, attribute = COMMANDS[cmd_name][0].partition(":")
        return getattr(importlib.import_module(module), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names))  # as click.Group lays out its own
        with formatter.section("Commands"):
            formatter.write_dl(
                [
                    (name, click.Command(name, help=COMMANDS[name][1]).get_short_help_str(limit))
                    for name in names
                ]
            )

    def invoke(self, ctx: click.Context) -> object:
        as_json = asks_for_json([*ctx._protected_args, *ctx.args])
        try:
            return self._invoke(ctx)
        except click.ClickException as exc:
            if as_json:  # what the command would have printed, had it started: its error, as JSON
                click.echo(json.dumps({"error": exc.format_message(), "exit_code": exc.exit_code}))
            raise

    def _invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except HybridError as exc:
            # Imported here, when something failed, so that starting a command does not import them.
            from hybrid.locations import ConfigError
            from workflows.reading import StoreError

            # One line, as click prints its own errors ("Error: ..."); a traceback is for the unexpected.
            if isinstance(exc, (ConfigError, StoreError)):
                raise SetupError(str(exc)) from exc  # exit status 2: the setup, not the task, is at fault
            raise click.ClickException(str(exc)) from exc


def asks_for_json(arguments: list[str]) -> bool:
    """Whether a command line asks for JSON (`--json` before any `--`)."""
    options = arguments[: arguments.index("--")] if "--" in arguments else arguments
    return "--json" in options


class SetupError(click.ClickException):
    """The configuration or the store is at fault, not the task: exit status 2."""

    exit_code = 2


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hybrid-agent")
def cli() -> None:
    """hybrid: an API-first web agent that writes Python code actions.

    It calls a site's REST API through clients generated from its OpenAPI spec, falls back to a real
    browser where the API cannot do the job, and remembers successful runs as reusable workflows.

    Start with `hybrid demo`: it runs a task on the bundled demo site end to end.
    """


def main() -> None:
    try:
        cli(standalone_mode=True)
    except SystemExit as exc:
        end_process(exc.code)


def end_process(code: int | str | None) -> None:
    """Exit with `code` as the interpreter would, but without its teardown of the heap (about two seconds
    after an agent run, with LangChain's modules loaded): threads are waited for and executors ended as at
    any exit, the `atexit` handlers run (temporary directories, logs), and output is flushed."""
    # What the interpreter does first when it exits; private, hence looked up (it exists since Python 3.4).
    wait_for_threads = getattr(threading, "_shutdown", None)
    if wait_for_threads is not None:
        wait_for_threads()
    atexit._run_exitfuncs()
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            pass
    os._exit(code or 0)
