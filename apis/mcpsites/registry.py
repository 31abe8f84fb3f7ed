"""MCP servers the user has added, one JSON file each in `<data_dir>/mcp_servers/`.

A server is a command the host starts (spoken to over stdio) or a streamable HTTP URL. Its secrets, the
environment variables and HTTP headers it needs, are stored as references (`env:VAR`, `secret:NAME`),
never as values, and resolved on the host when it is connected.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from apis.auth import FileSecretStore
from apis.errors import AuthError, RegistryError
from apis.records import RecordFiles, is_url
from apis.registry import SITE_NAME

if TYPE_CHECKING:
    from apis.mcpsites.connection import McpConnection

REFERENCE_KINDS = ("env", "secret")


@dataclass(frozen=True)
class McpServer:
    """How to reach one MCP server: `command` (argv, over stdio) or `url` (streamable HTTP), not both.
    `env` and `headers` map names to references (`env:VAR` or `secret:NAME`). `effects` maps tools (by
    their name on the server or in Python) to "read" or "write", as the user marked them (`hybrid sites
    edit`): a tool writes unless marked read, whatever the server's own hints say."""

    name: str
    command: list[str] | None = None
    url: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    effects: dict[str, str] = field(default_factory=dict)

    @property
    def transport(self) -> str:
        return "stdio" if self.command else "http"

    @property
    def where(self) -> str:
        """The command line or URL, for listings."""
        return " ".join(self.command) if self.command else str(self.url)


def parse_reference_pairs(pairs: tuple[str, ...] | list[str], what: str) -> dict[str, str]:
    """`("TOKEN=env:NOTES_TOKEN", "Authorization=secret:notes")` -> a mapping of checked references."""
    parsed: dict[str, str] = {}
    for pair in pairs:
        name, sep, reference = pair.partition("=")
        if not sep or not name:
            raise RegistryError(f"{what} {pair!r} must look like NAME=env:VAR or NAME=secret:SECRET_NAME.")
        parsed[name] = _check_reference(reference, f"{what} {name}")
    return parsed


def _check_reference(reference: str, where: str) -> str:
    kind, sep, target = reference.partition(":")
    if not sep or kind not in REFERENCE_KINDS or not target:
        raise RegistryError(
            f"{where}: {reference!r} is not a reference. Say where the value is, never the value itself: "
            "env:VAR (an environment variable of the host) or secret:NAME (filled with `hybrid sites secret "
            "NAME`)."
        )
    return reference


class McpRegistry:
    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        self.directory = self.data_dir / "mcp_servers"
        self._files = RecordFiles(self.directory, McpServer, "MCP server", "hybrid sites add-mcp")
        self.secrets = FileSecretStore(self.data_dir / "secrets")

    def add(self, server: McpServer, *, replace: bool = False) -> McpServer:
        """Store `server`; RegistryError when the name is taken (by an MCP server or an API site) or the
        server is not described completely."""
        if not SITE_NAME.match(server.name):
            raise RegistryError(
                f"{server.name!r} is not a valid name: it becomes mcp.<name> in code, so use lowercase "
                "letters, digits and '_', starting with a letter (at most 40 characters)."
            )
        if bool(server.command) == bool(server.url):
            raise RegistryError("Give the server either a command (--command) or a URL (--url), not both.")
        if server.url is not None and not is_url(server.url):
            raise RegistryError(f"{server.url!r} is not an http(s) URL.")
        if (self.data_dir / "sites" / f"{server.name}.json").exists():
            raise RegistryError(
                f"An API site named {server.name!r} exists; choose another name for the MCP server."
            )
        if self._files.path(server.name).exists() and not replace:
            raise RegistryError(
                f"An MCP server named {server.name!r} already exists; pass --replace to replace it, or "
                "remove it first."
            )
        for name, reference in {**server.env, **server.headers}.items():
            _check_reference(reference, name)
        self._files.write(server.name, server)
        return server

    def has(self, name: str) -> bool:
        return SITE_NAME.match(name) is not None and self._files.path(name).exists()

    def get(self, name: str) -> McpServer:
        return self._files.read(name)

    def list(self) -> list[McpServer]:
        return self._files.all()

    def remove(self, name: str) -> None:
        self._files.remove(name)

    def mark(self, name: str, effects: dict[str, str]) -> McpServer:
        """Record what tools of server `name` do ({tool: "read" | "write"}), over any earlier marking."""
        wrong = sorted(tool for tool, effect in effects.items() if effect not in ("read", "write"))
        if wrong:
            raise RegistryError(f"{', '.join(wrong)}: an effect is 'read' or 'write'.")
        server = self.get(name)
        marked = replace(server, effects={**server.effects, **effects})
        self._files.write(name, marked)
        return marked

    def resolve(self, references: dict[str, str]) -> dict[str, str]:
        """The values the references point to, read now; AuthError naming the one that is missing."""
        values = {}
        for name, reference in references.items():
            kind, _, target = reference.partition(":")
            value = os.environ.get(target) if kind == "env" else self.secrets.get(target)
            if not value:
                where = (
                    f"the environment variable {target}"
                    if kind == "env"
                    else f"the secret {target} (set it with `hybrid sites secret {target}`)"
                )
                raise AuthError(f"{name} of an MCP server reads {where}, which is not set.")
            values[name] = value
        return values

    def connect(self, name: str, timeout: float = 60.0) -> McpConnection:
        """The server `name`, started or reached now, its tools listed; close it (or use `with`) when done."""
        server = self.get(name)
        from apis.mcpsites.connection import McpConnection  # the MCP SDK, only when connecting

        return McpConnection(
            server,
            env=self.resolve(server.env),
            headers=self.resolve(server.headers),
            timeout=timeout,
            log_path=self.log_path(name),
        ).open()

    def log_path(self, name: str) -> Path:
        """Where a started server's stderr goes."""
        return self.data_dir / "logs" / f"mcp-{name}.log"
