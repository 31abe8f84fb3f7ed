"""`hybrid mcp serve`: hybrid as an MCP server for other agents (Claude Desktop, Claude Code, Cursor, ...)."""

from __future__ import annotations

import secrets

import click

import apis
from apis.mcpsites import McpServerError
from hybrid.commands.run import checked_model, resolve_sites, sandbox_options
from hybrid.config import load_settings
from sandbox import POLICY_MODES, PolicyMode
from workflows.reading import StoreError


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
@click.option(
    "--token",
    envvar="HYBRID_MCP_TOKEN",
    help="With --port: the bearer token clients must send (header `Authorization: Bearer TOKEN`); "
    "default: a new one, printed at start. Also read from HYBRID_MCP_TOKEN.",
)
@click.option(
    "--no-auth",
    is_flag=True,
    help="With --port: take requests without a token. Any program running on this machine, as any user, "
    "can then call the tools with your sites' credentials and run tasks; use only on a machine that is "
    "yours alone.",
)
@sandbox_options
def serve_command(
    sites: tuple[str, ...],
    policy: PolicyMode | None,
    model: str | None,
    base_url: str | None,
    port: int | None,
    token: str | None,
    no_auth: bool,
    sandbox: str | None,
    kernel_network: bool | None,
) -> None:
    """Serve hybrid over MCP: stdio by default (for desktop clients), streamable HTTP with --port.

    Tools: run_task, search_operations, describe_operation, call_operation, and one per verified workflow;
    runs are resources (hybrid://runs/RUN_ID). Every call passes the policy and is recorded as a run.

    Over HTTP, clients authenticate with a bearer token: pass the header `Authorization: Bearer TOKEN`
    (in Claude Code: `claude mcp add --transport http hybrid http://127.0.0.1:PORT/mcp --header
    "Authorization: Bearer TOKEN"`; most clients have a "headers" field in their server configuration).
    """
    if port is None and (token is not None or no_auth):
        raise click.UsageError("--token and --no-auth apply to --port (HTTP) only; stdio needs no token")
    if token is not None and no_auth:
        raise click.UsageError("--token and --no-auth contradict each other: choose one")
    settings = load_settings(sandbox=sandbox, kernel_network=kernel_network)
    # The input is checked before anything starts (the agent's stack, kernels, MCP connections).
    checked_model(settings, model, base_url)
    if sites:
        resolve_sites(settings, sites)  # each must be registered
    chosen = list(sites) or [site.name for site in apis.SiteRegistry(settings.data_dir).list()]
    from hybrid.mcp.server import HybridMcp, serve

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
        if no_auth:
            click.echo("No authentication (--no-auth): any local program can use this server.", err=True)
        else:
            if token is None:
                token = secrets.token_urlsafe(32)
                click.echo(f"Bearer token (new for this start): {token}", err=True)
            click.echo("Clients must send the header: Authorization: Bearer <token>", err=True)
    serve(hybrid, port, token)
