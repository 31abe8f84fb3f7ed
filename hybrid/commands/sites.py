"""`hybrid sites`: add, list, show, search and remove the sites the agent can call."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click
from rich.markup import escape
from rich.table import Table

from apis.auth import (
    check_secret_length,
    check_secrets_given,
    describe_auth,
    parse_auth_reference,
    parse_web_login,
)
from apis.errors import ApiError, RegistryError, SpecError
from apis.records import is_url
from apis.registry import Site, SiteRegistry
from hybrid.commands.console import make_console
from hybrid.commands.mcp_sites import (
    add_mcp_command,
    list_mcp_servers,
    mcp_registry,
    search_mcp_server,
    show_mcp_server,
)
from hybrid.locations import data_dir
from workflows.reading import StoreError

if TYPE_CHECKING:
    from apis.model import SpecProblem
    from workflows.memory import LearnedOperations

AUTH_HELP = (
    "Where the credentials are, never the secret itself: 'bearer token_env=VAR', 'bearer token_secret=NAME', "
    "'bearer scheme=Token token_env=VAR' (sends `Authorization: Token ...`), 'basic username=alice "
    "password_env=VAR', 'api_key in=header name=X-API-Key key_env=VAR' (in: header, query or cookie), "
    "'oauth2 flow=client_credentials token_url=URL client_id=ID client_secret_env=VAR' (or "
    "flow=refresh_token with refresh_token_env=VAR), 'web_session' (the browser's signed-in cookies, for "
    "APIs that accept them; needs --web-login), or the same as JSON (needed for a scope with spaces)."
)


def _registry() -> SiteRegistry:
    return SiteRegistry(data_dir())


@click.group(name="sites")
def sites_group() -> None:
    """Add, list, show and search sites (OpenAPI specs the agent calls as api.<site>.<operation>, MCP
    servers it calls as mcp.<server>.<tool>)."""


sites_group.add_command(add_mcp_command)


@sites_group.command(name="add")
@click.argument("name")
@click.option(
    "--spec",
    "spec_source",
    default=None,
    help="OpenAPI 3.0/3.1 or Swagger 2.0 spec: file path or URL. Without one, the site has only its web "
    "UI (--web-url), which the agent uses through the browser.",
)
@click.option(
    "--base-url",
    default=None,
    help="Where the API is served, e.g. https://git.example.com/api/v1. Default: the spec's first "
    "absolute server URL.",
)
@click.option(
    "--web-url",
    default=None,
    help="The site's web UI: where the browser starts, and its fallback to the API.",
)
@click.option("--auth", "auth_text", default=None, help=AUTH_HELP)
@click.option(
    "--web-login",
    "web_login_text",
    default=None,
    help="How the browser signs in (browser.login): 'url=https://site/login username=alice "
    "password_env=VAR' (or password_secret=NAME). The password itself is never stored.",
)
@click.option("--replace", is_flag=True, help="Overwrite a site with the same name.")
def add_command(
    name: str,
    spec_source: str | None,
    base_url: str | None,
    web_url: str | None,
    auth_text: str | None,
    web_login_text: str | None,
    replace: bool,
) -> None:
    """Register site NAME: its API spec (loaded and checked first, and cached), its web UI, or both."""
    registry = _registry()
    if spec_source is None:
        if web_url is None:
            raise click.UsageError("give the site's API spec (--spec) or its web UI (--web-url), or both")
        try:
            site = registry.add(
                Site(
                    name,
                    None,
                    web_url,
                    web_url,
                    None,
                    parse_web_login(web_login_text) if web_login_text else None,
                ),
                replace=replace,
            )
        except (RegistryError, ApiError) as exc:
            raise click.ClickException(str(exc)) from exc
        signs_in = " (browser.login signs in)" if site.web_login else ""
        click.echo(
            f"Added {site.name}: a web UI only, at {site.web_url}{signs_in}; the agent uses the browser."
        )
        return
    try:
        auth = parse_auth_reference(auth_text) if auth_text else None
        web_login = parse_web_login(web_login_text) if web_login_text else None
        for reference in (auth, web_login):
            check_secrets_given(reference, registry.secrets)
        from apis.loader import load_spec

        spec = load_spec(spec_source, registry.cache_dir)
        base_url = base_url or spec.default_base_url
        if base_url is None:
            raise click.ClickException(
                "the spec names no absolute server URL (its `servers`), so say where the API is served "
                "with --base-url URL"
            )
        site = registry.add(Site(name, spec_source, base_url, web_url, auth, web_login), replace=replace)
    except SpecError as exc:
        raise click.ClickException(f"the spec cannot be used: {exc}") from exc
    except (RegistryError, ApiError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Added {site.name}: {spec.title or 'API'} with {len(spec.operations)} operations at {site.base_url}"
        f" (auth: {describe_auth(site.auth)})."
    )
    if spec.warnings:
        click.echo(f"{len(spec.warnings)} problem(s) in the spec; see `hybrid sites show {site.name}`.")
    click.echo(f"Strict validation against the OpenAPI schema: `hybrid sites show {site.name} --check`.")


@sites_group.command(name="list")
def list_command() -> None:
    """List the registered sites."""
    registry = _registry()
    sites = registry.list()
    list_mcp_servers()
    if not sites:
        if not mcp_registry().list():
            click.echo(
                "No sites yet; add one with `hybrid sites add NAME --spec FILE_OR_URL --base-url URL`."
            )
        return

    table = Table(title="sites")
    for column in ("name", "base URL", "auth", "spec"):
        table.add_column(column)
    for site in sites:
        table.add_row(site.name, site.base_url, describe_auth(site.auth), site.spec or "(web UI only)")
    make_console().print(table)


@sites_group.command(name="show")
@click.argument("name")
@click.option("--operations/--no-operations", default=True, help="List every operation (one line each).")
@click.option(
    "--check",
    is_flag=True,
    help=(
        "Also validate the spec strictly against the OpenAPI schema (slow on large specs; once per content)."
    ),
)
def show_command(name: str, operations: bool, check: bool) -> None:
    """Show site NAME: its settings, the spec's problems, groups and operations (an MCP server's tools)."""
    if mcp_registry().has(name):
        return show_mcp_server(name)
    from apis.docs import group_index, operation_lines
    from apis.loader import check_spec

    registry = _registry()
    try:
        site = registry.get(name)
        if site.spec is None:
            click.echo(f"{site.name}: a web UI only, at {site.web_url}; no API spec.")
            return
        spec = registry.load_spec(name)
        strict = check_spec(site.spec, registry.cache_dir) if check else []
    except (RegistryError, SpecError) as exc:
        raise click.ClickException(str(exc)) from exc
    console = make_console(highlight=False, soft_wrap=True)
    converted = f", converted from {spec.converted_from}" if spec.converted_from else ""
    console.print(
        f"[bold]{site.name}[/bold]: {escape(spec.title)} {escape(spec.api_version)} "
        f"(OpenAPI {spec.openapi_version}{converted})"
    )
    console.print(f"spec:     {escape(site.spec)}")
    console.print(f"base URL: {escape(site.base_url)}")
    console.print(f"web URL:  {escape(site.web_url or '-')}")
    console.print(f"auth:     {escape(describe_auth(site.auth))}")
    if site.effects:
        marked = ", ".join(f"{op} {effect}s" for op, effect in sorted(site.effects.items()))
        console.print(f"marked:   {escape(marked)}")
    console.print(f"\n[bold]Problems in the spec ({len(spec.warnings)})[/bold]")
    for problem in spec.warnings:
        console.print(f"  {escape(str(problem))}")
    if check:
        console.print(f"\n[bold]Strict validation ({len(strict)} problem(s))[/bold]")
        for message, places in _grouped(strict).items():
            console.print(f"  {escape(message)}")
            for place in places:
                console.print(f"    at {escape(place)}")
    console.print(f"\n[bold]Groups ({len(spec.groups())})[/bold]")
    console.print(escape(group_index(spec)))
    if operations:
        console.print(f"\n[bold]Operations ({len(spec.operations)})[/bold]")
        for line in operation_lines(spec):
            console.print(escape(line))


def _grouped(problems: list[SpecProblem]) -> dict[str, list[str]]:
    """The places of each distinct problem, so a defect repeated across the spec reads as one entry."""
    grouped: dict[str, list[str]] = {}
    for problem in problems:
        grouped.setdefault(problem.message, []).append(problem.where)
    return grouped


@sites_group.command(name="search")
@click.argument("name")
@click.argument("query")
@click.option("-k", "limit", default=10, show_default=True, help="How many operations to show.")
def search_command(name: str, query: str, limit: int) -> None:
    """Find the operations of site NAME (the tools of an MCP server) that best match QUERY; what successful
    runs on the site called for tasks worded alike ranks first."""
    if mcp_registry().has(name):
        return search_mcp_server(name, query, limit)
    from apis.docs import operation_lines
    from apis.search import search

    registry = _registry()
    try:
        spec = registry.load_spec(name)
    except (RegistryError, SpecError) as exc:
        raise click.ClickException(str(exc)) from exc
    found = search(spec, query, limit, learned=_learned_operations(name))
    if not found:
        click.echo(f"No operation of {name} matches {query!r}.")
    for line in operation_lines(spec, found):
        click.echo(line)


def _learned_operations(site: str) -> list[LearnedOperations]:
    """What successful runs on `site` called, from the memory (none when it cannot be opened)."""
    from hybrid.config import load_settings
    from workflows.memory import WorkflowStore

    try:
        return WorkflowStore(load_settings().effective_database_url).learned_operations(site)
    except StoreError:
        return []


@sites_group.command(name="refresh")
@click.argument("name")
def refresh_command(name: str) -> None:
    """Read site NAME's spec again (a URL spec is kept after its first fetch; this asks whether it
    changed)."""
    registry = _registry()
    try:
        source = registry.get(name).spec
        if source is None:
            click.echo(f"{name} has a web UI only; it has no spec to read again.")
            return
        before = registry.load_spec(name)
        if not is_url(source):
            click.echo(
                f"{name}: the spec is a file, read on every load ({len(before.operations)} operations)."
            )
            return
        after = registry.refresh(name)
    except (RegistryError, SpecError) as exc:
        raise click.ClickException(str(exc)) from exc
    if after.content_hash == before.content_hash:
        click.echo(f"{name}: the spec is unchanged ({len(after.operations)} operations).")
    else:
        click.echo(
            f"{name}: the spec changed: {len(before.operations)} -> {len(after.operations)} operations."
        )


@sites_group.command(name="edit")
@click.argument("name")
@click.option(
    "--read",
    "reads",
    multiple=True,
    metavar="OPERATION",
    help="Mark OPERATION as one that only reads (read-only runs may call it); repeatable.",
)
@click.option(
    "--write",
    "writes",
    multiple=True,
    metavar="OPERATION",
    help="Mark OPERATION as one that changes data (read-only runs refuse it, confirm asks); repeatable.",
)
def edit_command(name: str, reads: tuple[str, ...], writes: tuple[str, ...]) -> None:
    """Say what operations of site NAME do, where their method says otherwise (a POST that only queries,
    a GET that changes something); for an MCP server, which of its tools only read (each is taken as a
    write until marked, whatever the server hints)."""
    both = set(reads) & set(writes)
    if both:
        raise click.ClickException(f"marked both --read and --write: {', '.join(sorted(both))}")
    if not reads and not writes:
        raise click.ClickException("nothing to change: give --read OPERATION or --write OPERATION")
    effects = {**dict.fromkeys(reads, "read"), **dict.fromkeys(writes, "write")}
    servers = mcp_registry()
    try:
        marked = (
            servers.mark(name, effects).effects
            if servers.has(name)
            else _registry().mark(name, effects).effects
        )
    except KeyError as exc:
        raise click.ClickException(str(exc.args[0])) from exc
    except (RegistryError, SpecError) as exc:
        raise click.ClickException(str(exc)) from exc
    for operation, effect in sorted((marked or {}).items()):
        click.echo(f"{name}.{operation}: {'reads' if effect == 'read' else 'writes'}")


@sites_group.command(name="remove")
@click.argument("name")
def remove_command(name: str) -> None:
    """Forget site NAME (its secret-store entries are kept)."""
    try:
        registry = mcp_registry()
        (registry if registry.has(name) else _registry()).remove(name)
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Removed {name}.")


@sites_group.command(name="secret")
@click.argument("secret_name")
@click.option("--remove", is_flag=True, help="Delete the entry instead of setting it.")
def secret_command(secret_name: str, remove: bool) -> None:
    """Store a secret under SECRET_NAME, read from a hidden prompt or stdin; refer to it with
    *_secret=SECRET_NAME."""
    store = _registry().secrets
    try:
        if remove:
            click.echo(
                f"Removed secret {secret_name}." if store.remove(secret_name) else f"No secret {secret_name}."
            )
            return
        value = click.prompt("Secret", hide_input=True) if sys.stdin.isatty() else sys.stdin.read().strip()
        if not value:
            raise click.ClickException("an empty secret was given; nothing stored.")
        check_secret_length(value, f"The secret {secret_name}")
        store.set(secret_name, value)
    except ApiError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Stored secret {secret_name} (readable only by you).")
