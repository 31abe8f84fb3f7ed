"""Credentials configured by reference: a site's config names where the secret is, never the secret.

A reference is a small dict, safe to store and print:

    {"type": "bearer", "token_env": "DEMO_TOKEN"}
    {"type": "bearer", "token_secret": "gitea-token"}           # an entry in the secret store
    {"type": "bearer", "scheme": "Token", "token_env": "DRF_TOKEN"}   # `Authorization: Token …` (DRF, Gitea)
    {"type": "basic", "username": "alice", "password_env": "PASSWORD"}
    {"type": "api_key", "in": "header", "name": "X-API-Key", "key_env": "API_KEY"}   # in: header|query|cookie
    {"type": "oauth2", "flow": "client_credentials", "token_url": "https://auth.example.com/token",
     "client_id": "my-app", "client_secret_env": "CLIENT_SECRET", "scope": "read write"}
    {"type": "oauth2", "flow": "refresh_token", "token_url": "...", "client_id": "my-app",
     "refresh_token_secret": "my-refresh-token"}          # client_secret optional for this flow
    {"type": "web_session"}     # the browser's signed-in cookies, for sites whose API accepts them

Each secret field (`token`, `password`, `key`; `username` may also be given plainly) is read from an
environment variable (`<field>_env`) or from the secret store (`<field>_secret`) when a client is built.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from apis.errors import AuthError
from sandbox.bridge.record import MIN_SECRET_CHARS

if TYPE_CHECKING:
    import httpx

SECRET_FIELDS = {
    "bearer": ("token",),
    "basic": ("username", "password"),
    "api_key": ("key",),
    "oauth2": ("client_secret", "refresh_token"),
    "web_session": (),
}
# Fields that may be written plainly in a reference because they are not secret.
PLAIN_FIELDS = {"username"}
OAUTH2_FLOWS = ("client_credentials", "refresh_token")
OAUTH2_SETTINGS = {"flow", "token_url", "client_id", "scope"}
API_KEY_LOCATIONS = ("header", "query", "cookie")
DEFAULT_BEARER_SCHEME = "Bearer"
# A scheme word is one HTTP token (RFC 9110): no spaces, no separators.
_SCHEME_WORD = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,40}$")
TOKEN_TIMEOUT_SECONDS = 30.0
_SECRET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class SecretStore(Protocol):
    def get(self, name: str) -> str | None: ...


class FileSecretStore:
    """Secrets as files readable only by their owner, one per entry, in a directory of the data dir."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def get(self, name: str) -> str | None:
        try:
            return self._path(name).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def set(self, name: str, value: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self._path(name)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(value)
        path.chmod(0o600)

    def remove(self, name: str) -> bool:
        try:
            self._path(name).unlink()
        except FileNotFoundError:
            return False
        return True

    def names(self) -> list[str]:
        return sorted(p.name for p in self.directory.glob("*")) if self.directory.is_dir() else []

    def _path(self, name: str) -> Path:
        if not _SECRET_NAME.match(name):
            raise AuthError(f"{name!r} is not a valid secret name: use letters, digits, '.', '_' and '-'.")
        return self.directory / name


def check_auth_reference(reference: Mapping[str, Any]) -> dict[str, Any]:
    """The reference as a plain dict if it is well formed and holds no secret; AuthError otherwise."""
    kind = reference.get("type")
    if kind not in SECRET_FIELDS:
        raise AuthError(f"Unknown auth type {kind!r}; use one of: {', '.join(SECRET_FIELDS)}.")
    allowed = {"type"}
    required = _required_secrets(reference)
    for field in SECRET_FIELDS[kind]:
        allowed |= {f"{field}_env", f"{field}_secret"} | ({field} if field in PLAIN_FIELDS else set())
        given = [k for k in (field, f"{field}_env", f"{field}_secret") if k in reference]
        if field in reference and field not in PLAIN_FIELDS:
            raise AuthError(
                f"The {kind} auth gives {field!r} itself; secrets are never stored in a site's config. Use "
                f"{field}_env=VARIABLE (an environment variable) or {field}_secret=NAME (the secret store)."
            )
        if len(given) > 1 or (not given and field in required):
            forms = ([field] if field in PLAIN_FIELDS else []) + [f"{field}_env", f"{field}_secret"]
            raise AuthError(
                f"The {kind} auth needs {'exactly' if field in required else 'at most'} one of "
                f"{' or '.join(forms)}."
            )
    if kind == "oauth2":
        allowed |= OAUTH2_SETTINGS
        if (
            reference.get("flow") not in OAUTH2_FLOWS
            or not reference.get("token_url")
            or not reference.get("client_id")
        ):
            raise AuthError(
                f"The oauth2 auth needs flow={'|'.join(OAUTH2_FLOWS)}, token_url=<the token endpoint> and "
                "client_id=<the client's id>."
            )
    if kind == "bearer":
        allowed.add("scheme")
        if "scheme" in reference and not _SCHEME_WORD.match(str(reference["scheme"])):
            raise AuthError(
                f"The bearer auth's scheme {reference['scheme']!r} is not one word; give the word the site "
                "puts before the token, e.g. scheme=Token for `Authorization: Token …`."
            )
    if kind == "api_key":
        allowed |= {"in", "name"}
        if reference.get("in") not in API_KEY_LOCATIONS or not reference.get("name"):
            raise AuthError(
                "The api_key auth needs in=header|query|cookie and name=<header, parameter or cookie name>."
            )
    unknown = sorted(set(reference) - allowed)
    if unknown:
        raise AuthError(
            f"Unknown field(s) {', '.join(unknown)} for {kind} auth; allowed: {', '.join(sorted(allowed))}."
        )
    return dict(reference)


def describe_auth(reference: Mapping[str, Any] | None) -> str:
    """A one-line description that says where each secret comes from, never what it is."""
    if not reference:
        return "none"
    parts = []
    for field in SECRET_FIELDS.get(reference.get("type", ""), ()):
        if f"{field}_env" in reference:
            parts.append(f"{field} from ${reference[f'{field}_env']}")
        elif f"{field}_secret" in reference:
            parts.append(f"{field} from secret {reference[f'{field}_secret']!r}")
        elif field in reference:
            parts.append(f"{field} {reference[field]!r}")
    where = f" in {reference['in']} {reference['name']!r}" if reference.get("type") == "api_key" else ""
    if (
        reference.get("type") == "bearer"
        and reference.get("scheme", DEFAULT_BEARER_SCHEME) != DEFAULT_BEARER_SCHEME
    ):
        where = f" (scheme {reference['scheme']})"
    if reference.get("type") == "oauth2":
        where = f" {reference.get('flow')} at {reference.get('token_url')} as {reference.get('client_id')!r}"
    if reference.get("type") == "web_session":
        return "web_session: the browser's cookies for the site"
    return f"{reference.get('type')}{where}: {', '.join(parts)}"


def resolve_auth(
    reference: Mapping[str, Any],
    secrets: SecretStore | None = None,
    environ: Mapping[str, str] = os.environ,
    *,
    web_cookies: Callable[[], Iterable[Mapping[str, Any]]] | None = None,
) -> httpx.Auth:
    """The httpx auth for a reference, with secrets read now from the environment or the store.
    `web_cookies` gives the browser's cookies for the site, which a `web_session` reference sends."""
    # httpx (and the auth flows made on it) only when a client is made: listing sites needs none of it.
    from apis.httpauth import ApiKeyAuth, BasicAuth, BearerAuth, OAuth2Auth, WebSessionAuth

    reference = check_auth_reference(reference)
    kind = reference["type"]
    if kind == "web_session":
        if web_cookies is None:
            raise AuthError(
                "The web_session auth sends the browser's cookies for the site, so it works only where a "
                "browser signs in to it (an agent run with a --web-login and Chromium); use a token "
                "otherwise."
            )
        return WebSessionAuth(web_cookies)
    values = {field: _secret_value(reference, field, secrets, environ) for field in _given_secrets(reference)}
    if kind == "bearer":
        return BearerAuth(values["token"], reference.get("scheme", DEFAULT_BEARER_SCHEME))
    if kind == "oauth2":
        return OAuth2Auth(
            reference["token_url"],
            reference["client_id"],
            values.get("client_secret"),
            scope=reference.get("scope"),
            refresh_token=values.get("refresh_token"),
        )
    if kind == "basic":
        return BasicAuth(values["username"], values["password"])
    return ApiKeyAuth(reference["name"], reference["in"], values["key"])


def check_secret_length(value: str, what: str) -> None:
    """AuthError when `value` is too short to be told apart from ordinary text in outputs (see
    `sandbox.bridge.record.MIN_SECRET_CHARS`)."""
    if len(value) < MIN_SECRET_CHARS:
        raise AuthError(
            f"{what} is {len(value)} characters long; secrets need at least {MIN_SECRET_CHARS} so that "
            "hybrid can find them in outputs to redact them without changing ordinary words."
        )


def check_secrets_given(
    reference: Mapping[str, Any] | None,
    secrets: SecretStore | None = None,
    environ: Mapping[str, str] = os.environ,
) -> None:
    """`check_secret_length` for each secret the reference points to that is set now (the others are read
    when a run starts); for a web login, its password."""
    if not reference:
        return
    kind = reference.get("type", "basic")  # a web login is a basic-auth reference plus its page's URL
    for field in SECRET_FIELDS.get(kind, ()):
        if field in PLAIN_FIELDS:
            continue
        if f"{field}_env" in reference:
            where = f"${reference[f'{field}_env']}"
            value = environ.get(reference[f"{field}_env"])
        elif f"{field}_secret" in reference:
            where = f"secret {reference[f'{field}_secret']}"
            value = secrets.get(reference[f"{field}_secret"]) if secrets is not None else None
        else:
            continue
        if value:
            check_secret_length(value, f"The site's {field} ({where})")


def secret_values(
    reference: Mapping[str, Any] | None,
    secrets: SecretStore | None = None,
    environ: Mapping[str, str] = os.environ,
) -> list[str]:
    """The secret strings a reference resolves to, so a host can redact them wherever they might leak."""
    if not reference:
        return []
    reference = check_auth_reference(reference)
    return [
        _secret_value(reference, field, secrets, environ)
        for field in _given_secrets(reference)
        if field not in PLAIN_FIELDS
    ]


def _required_secrets(reference: Mapping[str, Any]) -> set[str]:
    """The secret fields a reference must give: all of its type's, except for OAuth2, where it depends on the
    flow."""
    kind = reference.get("type", "")
    if kind != "oauth2":
        return set(SECRET_FIELDS.get(kind, ()))
    return {"refresh_token"} if reference.get("flow") == "refresh_token" else {"client_secret"}


def _given_secrets(reference: Mapping[str, Any]) -> list[str]:
    return [
        field
        for field in SECRET_FIELDS[reference["type"]]
        if any(key in reference for key in (field, f"{field}_env", f"{field}_secret"))
    ]


def _secret_value(
    reference: Mapping[str, Any], field: str, secrets: SecretStore | None, environ: Mapping[str, str]
) -> str:
    if field in reference:
        return str(reference[field])
    if f"{field}_env" in reference:
        variable = reference[f"{field}_env"]
        value = environ.get(variable)
        if not value:
            raise AuthError(
                f"The environment variable {variable} (the site's {field}) is not set; export it first."
            )
        return value
    name = reference[f"{field}_secret"]
    value = secrets.get(name) if secrets is not None else None
    if value is None:
        raise AuthError(
            f"The secret store has no entry {name!r} (the site's {field}); add it with `hybrid sites secret "
            f"{name}`."
        )
    return value


def check_web_login(reference: Mapping[str, Any]) -> dict[str, Any]:
    """A web sign-in reference: the login page's `url` plus basic-auth fields (username, password_env or
    password_secret), checked like any auth reference, so the password is never stored."""
    url = reference.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise AuthError("A web login needs url=<the login page's absolute URL>.")
    fields = {key: value for key, value in reference.items() if key not in ("url", "type")}
    return {
        "url": url,
        **{k: v for k, v in check_auth_reference({"type": "basic", **fields}).items() if k != "type"},
    }


def parse_web_login(text: str) -> dict[str, Any]:
    """`url=https://site/login username=alice password_env=SITE_PASSWORD`, the form `--web-login` takes."""
    reference: dict[str, Any] = {}
    for pair in text.split():
        key, separator, value = pair.partition("=")
        if not separator:
            raise AuthError(
                f"--web-login: expected key=value, got {pair!r} "
                "(e.g. 'url=https://site/login username=alice password_env=SITE_PASSWORD')."
            )
        reference[key] = value
    return check_web_login(reference)


@dataclass(frozen=True)
class WebLogin:
    """How to sign in to a site's web UI: its login page, and the credentials as read now."""

    url: str
    username: str
    password: str = dataclasses.field(repr=False)


def resolve_web_login(
    reference: Mapping[str, Any], secrets: SecretStore | None = None, environ: Mapping[str, str] = os.environ
) -> WebLogin:
    """The login page and credentials, with the password read now from the environment or the store."""
    basic = check_auth_reference({"type": "basic", **{k: v for k, v in reference.items() if k != "url"}})
    return WebLogin(
        reference["url"],
        _secret_value(basic, "username", secrets, environ),
        _secret_value(basic, "password", secrets, environ),
    )


def parse_auth_reference(text: str) -> dict[str, Any]:
    """`bearer token_env=DEMO_TOKEN` or a JSON object, checked; the form `hybrid sites add --auth` takes."""
    text = text.strip()
    if text.startswith("{"):
        try:
            reference = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AuthError(f"--auth is not valid JSON ({exc.msg} at column {exc.colno}).") from exc
    else:
        kind, *pairs = text.split()
        reference = {"type": kind}
        for pair in pairs:
            key, separator, value = pair.partition("=")
            if not separator:
                raise AuthError(
                    f"--auth: expected key=value, got {pair!r} (e.g. 'bearer token_env=API_TOKEN')."
                )
            reference[key] = value
    if not isinstance(reference, dict):
        raise AuthError("--auth must describe one object, e.g. 'bearer token_env=API_TOKEN'.")
    return check_auth_reference(reference)
