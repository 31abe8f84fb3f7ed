"""`hybrid mcp serve`: hybrid as an MCP server for other agents (Claude Desktop, Claude Code, Cursor, ...)."""

from __future__ import annotations

import click

import apis
from apis.mcpsites import McpServerError
from hybrid.commands.run import sandbox_options
from hybrid.config import load_settings
from hybrid.mcp.server import HybridMcp, serve
from sandbox import POLICY_MODES, PolicyMode
from workflows.store import StoreError


@click.group(name="mcp")
def mcp_group() -> None:
    """The Model Context Protocol: offer hybrid's agent, operations and workflows to other agents."""


@mcp_group.command(name="serve")
@click.option(
    "--site",
    "sites",
    multiple=True,
    help="Site to offer (repeat for several). Default: every registered API site.",
)
@click.option(
    "--policy",
    type=click.Choice(POLICY_MODES),
    help="allow everything; read-only refuses writes; confirm asks the client's user before each "
    "write (through MCP elicitation; refused when the client cannot ask).",
)
@click.option("--model", help="Chat model for run_task, as provider:name (default: the `model` setting).")
@click.option("--base-url", help="Base URL of an OpenAI-compatible server for --model.")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Serve streamable HTTP on 127.0.0.1:PORT (at /mcp) instead of stdio.",
)
@sandbox_options
def serve_command(
    sites: tuple[str, ...],
    policy: PolicyMode | None,
    model: str | None,
    base_url: str | None,
    port: int | None,
    sandbox: str | None,
    kernel_network: bool | None,
) -> None:
    """Serve hybrid over MCP: stdio by default (for desktop clients), streamable HTTP with --port.

    Tools: run_task, search_operations, describe_operation, call_operation, and one per verified workflow;
    runs are resources (hybrid://runs/RUN_ID). Every call passes the policy and is recorded as a run.
    """
    settings = load_settings(sandbox=sandbox, kernel_network=kernel_network)
    chosen = list(sites) or [site.name for site in apis.SiteRegistry(settings.data_dir).list()]
    try:
        hybrid = HybridMcp(settings, sites=chosen, policy=policy, model=model, base_url=base_url)
    except (apis.RegistryError, apis.ApiError, apis.SpecError, StoreError, McpServerError) as exc:
        raise click.ClickException(str(exc)) from exc
    if port is not None:
        click.echo(
            f"hybrid MCP server on http://127.0.0.1:{port}/mcp (sites: {', '.join(chosen) or 'none'}, "
            f"policy: {hybrid.policy_mode})",
            err=True,
        )
    serve(hybrid, port)
