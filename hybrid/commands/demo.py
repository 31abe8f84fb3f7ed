"""`hybrid demo`: the bundled demo site (a project tracker with an API and a web UI)."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from hybrid.demo.data import USERS, api_token_for
from hybrid.demo.server import DemoSite, DemoSiteError, serve_forever

console = Console()
SHOWN_USERS = ("alice", "bob", "erin")


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


def _serve(port: int, intro: str | None = None) -> None:
    def on_ready(site: DemoSite) -> None:
        if intro:
            console.print(intro)
        _print_site(site)

    try:
        serve_forever(port, on_ready)
    except DemoSiteError as exc:
        raise click.ClickException(str(exc)) from exc
    except KeyboardInterrupt:
        pass
    console.print("Demo site stopped.")


@click.group(name="demo", invoke_without_command=True)
@click.option("--port", default=0, show_default="a free port", help="Port on 127.0.0.1 to serve on.")
@click.pass_context
def demo_group(ctx: click.Context, port: int) -> None:
    """Serve the bundled demo site: a project tracker with a REST API and a web UI.

    Without a subcommand, starts the site and prints its URLs and sign-in details. Running one of its
    tasks end to end with the agent arrives with the agent itself; until then this says so and serves.
    """
    if ctx.invoked_subcommand is None:
        _serve(port, intro="[yellow]The agent is not built yet, so `hybrid demo` only serves the demo "
                           "site; try its UI and API below.[/]")


@demo_group.command(name="serve")
@click.option("--port", default=0, show_default="a free port", help="Port on 127.0.0.1 to serve on.")
def serve_command(port: int) -> None:
    """Serve the demo site on 127.0.0.1 until Ctrl-C."""
    _serve(port)


@demo_group.command(name="token")
@click.argument("username")
def token_command(username: str) -> None:
    """Print the API token of demo user USERNAME."""
    known = [u[0] for u in USERS]
    if username not in known:
        raise click.BadParameter(f"no demo user {username!r}; users: {', '.join(known)}", param_hint="USERNAME")
    click.echo(api_token_for(username))
