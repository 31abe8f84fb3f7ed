"""The `hybrid` command line."""

from __future__ import annotations

import sys

import click

from hybrid.commands.bench import bench_command
from hybrid.commands.config import config_command
from hybrid.commands.demo import demo_group
from hybrid.commands.mcp import mcp_group
from hybrid.commands.run import run_command
from hybrid.commands.runs import runs_group
from hybrid.commands.sites import sites_group
from hybrid.commands.workflows import workflows_group
from hybrid.config import ConfigError
from workflows.store import StoreError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hybrid-agent")
def cli() -> None:
    """hybrid: an API-first web agent that writes Python code actions.

    It calls a site's REST API through clients generated from its OpenAPI spec, falls back to a real
    browser where the API cannot do the job, and remembers successful runs as reusable workflows.

    Start with `hybrid demo`: it runs a task on the bundled demo site end to end.
    """


cli.add_command(config_command)
cli.add_command(demo_group)
cli.add_command(mcp_group)
cli.add_command(run_command)
cli.add_command(sites_group)
cli.add_command(runs_group)
cli.add_command(workflows_group)
cli.add_command(bench_command)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except ConfigError as exc:
        click.echo(f"hybrid: configuration error: {exc}", err=True)
        sys.exit(2)
    except StoreError as exc:
        click.echo(f"hybrid: {exc}", err=True)
        sys.exit(2)
