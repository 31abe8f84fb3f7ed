"""`hybrid config`: the effective settings and where each came from."""

from __future__ import annotations

import json

import click
from rich.table import Table

from hybrid.commands.console import make_console
from hybrid.config import describe_settings, user_config_dir


@click.command(name="config")
@click.option("--json", "as_json", is_flag=True, help="Print the settings as one JSON object.")
def config_command(as_json: bool) -> None:
    """Show the effective settings and where each value came from.

    Values come from HYBRID_* environment variables, then a hybrid.toml file (the one named by
    HYBRID_CONFIG, else ./hybrid.toml, else hybrid.toml in your config directory), then defaults.
    """
    rows, config_file = describe_settings()
    if as_json:
        payload = {
            "config_file": str(config_file) if config_file else None,
            "config_dir": str(user_config_dir()),
            "settings": {r.name: {"value": _plain(r.value), "origin": r.origin} for r in rows},
        }
        click.echo(json.dumps(payload, indent=2))
        return
    table = Table(title="hybrid settings", show_lines=False)
    table.add_column("setting", style="bold")
    table.add_column("value")
    table.add_column("from", style="dim")
    for row in rows:
        table.add_row(row.name, str(row.value), row.origin)
    console = make_console()
    console.print(table)
    console.print(f"config file: {config_file if config_file else 'none (defaults and environment only)'}")
    console.print(
        f"config directory: {user_config_dir()} (a hybrid.toml there is read when no other is named)"
    )


def _plain(value: object) -> object:
    return value if value is None or isinstance(value, (int, float, str, bool)) else str(value)
