"""Command groups the product will have but that are not built yet.

They are listed in `hybrid --help` so users see the whole shape of the tool, and they say plainly
that they do nothing yet, exiting non-zero, rather than pretending.
"""

from __future__ import annotations

import click

NOT_BUILT_EXIT_CODE = 3


def unbuilt_group(name: str, summary: str, arrives_with: str) -> click.Command:
    """A command that accepts any arguments, explains it is not built yet, and exits non-zero."""

    @click.command(
        name=name,
        help=f"{summary}\n\nNot built yet: arrives with {arrives_with}.",
        short_help=f"{summary} (not built yet)",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )
    @click.pass_context
    def command(ctx: click.Context) -> None:
        click.echo(
            f"hybrid {name}: not built yet ({arrives_with}). Nothing was done.", err=True
        )
        ctx.exit(NOT_BUILT_EXIT_CODE)

    return command
