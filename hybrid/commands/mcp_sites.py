"""`hybrid sites add-mcp` and the MCP side of `hybrid sites list/show/search/remove`: MCP servers as sites."""

from __future__ import annotations

import shlex

import click
from rich.markup import escape

from apis.errors import ApiError, RegistryError
from apis.mcpsites.registry import McpRegistry, McpServer, parse_reference_pairs
from hybrid.commands.console import make_console
from hybrid.locations import data_dir

REFERENCE_HELP = (
    "env:VAR (the host's environment) or secret:NAME (`hybrid sites secret NAME`), never the value."
)


def mcp_registry() -> McpRegistry:
    return McpRegistry(data_dir())


@click.command(name="add-mcp")
@click.argument("name")
@click.option(
    "--command",
    "command_line",
    default=None,
    help="The command that starts the server, spoken to over stdio, e.g. 'npx -y @acme/mcp-server'.",
)
@click.option(
    "--url", default=None, help="The server's streamable HTTP endpoint, e.g. https://mcp.example.com/mcp."
)
@click.option(
    "--env",
    "env_pairs",
    multiple=True,
    metavar="NAME=REF",
    help=f"An environment variable for the server (repeatable); REF is {REFERENCE_HELP}",
)
@click.option(
    "--header",
    "header_pairs",
    multiple=True,
    metavar="NAME=REF",
    help=f"An HTTP header for a --url server (repeatable); REF is {REFERENCE_HELP}",
)
@click.option("--replace", is_flag=True, help="Overwrite a server with the same name.")
def add_mcp_command(
    name: str,
    command_line: str | None,
    url: str | None,
    env_pairs: tuple[str, ...],
    header_pairs: tuple[str, ...],
    replace: bool,
) -> None:
    """Register the MCP server NAME: its tools become mcp.NAME.<tool>(...) in code actions.

    The server is started (or reached) once now, to check it answers and list its tools."""
    from apis.mcpsites.connection import McpServerError

    registry = mcp_registry()
    try:
        server = McpServer(
            name,
            command=shlex.split(command_line) if command_line else None,
            url=url,
            env=parse_reference_pairs(env_pairs, "--env"),
            headers=parse_reference_pairs(header_pairs, "--header"),
        )
        registry.add(server, replace=replace)
        try:
            with registry.connect(name) as connection:
                tools = connection.tools
        except BaseException:
            registry.remove(name)
            raise
    except (RegistryError, ApiError, McpServerError) as exc:
        raise click.ClickException(str(exc)) from exc
    writes = sum(tool.writes for tool in tools)
    hinted = [tool.python_name for tool in tools if tool.hinted_read_only]
    click.echo(
        f"Added {name}: MCP server ({server.transport}) with {len(tools)} tools, {writes} of them "
        "writing (a tool writes unless you mark it read: a server's word is not taken)."
    )
    if hinted:
        click.echo(
            f"The server hints these only read: {', '.join(hinted)}. If you trust that, "
            f"`hybrid sites edit {name} --read TOOL` marks each."
        )


def list_mcp_servers() -> None:
    servers = mcp_registry().list()
    if not servers:
        return
    from rich.table import Table

    table = Table(title="MCP servers")
    for column in ("name", "transport", "command or URL", "secrets"):
        table.add_column(column)
    for server in servers:
        secrets = ", ".join(f"{key} from {ref}" for key, ref in {**server.env, **server.headers}.items())
        table.add_row(server.name, server.transport, server.where, secrets or "-")
    make_console().print(table)


def show_mcp_server(name: str) -> None:
    from apis.mcpsites.connection import McpServerError
    from apis.mcpsites.docs import tool_line

    registry = mcp_registry()
    try:
        server = registry.get(name)
        with registry.connect(name) as connection:
            tools = connection.tools
    except (RegistryError, ApiError, McpServerError) as exc:
        raise click.ClickException(str(exc)) from exc
    console = make_console(highlight=False, soft_wrap=True)
    console.print(f"[bold]{server.name}[/bold]: MCP server over {server.transport}: {escape(server.where)}")
    console.print(f"\n[bold]Tools ({len(tools)})[/bold]")
    for tool in tools:
        console.print(escape(tool_line(tool)))


def search_mcp_server(name: str, query: str, limit: int) -> None:
    from apis.mcpsites.connection import McpServerError
    from apis.mcpsites.docs import search_tools, tool_line

    try:
        with mcp_registry().connect(name) as connection:
            found = search_tools(connection.tools, query, limit)
    except (RegistryError, ApiError, McpServerError) as exc:
        raise click.ClickException(str(exc)) from exc
    if not found:
        click.echo(f"No tool of {name} matches {query!r}.")
    for tool in found:
        click.echo(tool_line(tool))
