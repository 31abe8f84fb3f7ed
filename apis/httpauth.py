"""The httpx auth flows that `apis.auth.resolve_auth` makes from a site's auth reference, with the secrets
read (never shown in a repr)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterable, Mapping
from http.cookies import SimpleCookie
from typing import Any

import httpx

from apis.auth import DEFAULT_BEARER_SCHEME, TOKEN_TIMEOUT_SECONDS
from apis.errors import AuthError


class BearerAuth(httpx.Auth):
    """`Authorization: <scheme> <token>`; the scheme word is `Bearer` unless the site wants another
    (`Token`)."""

    def __init__(self, token: str, scheme: str = DEFAULT_BEARER_SCHEME) -> None:
        self._token = token
        self.scheme = scheme

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"{self.scheme} {self._token}"
        yield request

    def __repr__(self) -> str:
        return f"BearerAuth(scheme={self.scheme!r}, token=***)"


class ApiKeyAuth(httpx.Auth):
    def __init__(self, name: str, location: str, key: str) -> None:
        self.name = name
        self.location = location
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.location == "header":
            request.headers[self.name] = self._key
        elif self.location == "query":
            request.url = request.url.copy_merge_params({self.name: self._key})
        else:
            cookies = SimpleCookie(request.headers.get("Cookie", ""))
            cookies[self.name] = self._key
            request.headers["Cookie"] = "; ".join(f"{k}={m.value}" for k, m in cookies.items())
        yield request

    def __repr__(self) -> str:
        return f"ApiKeyAuth(name={self.name!r}, location={self.location!r}, key=***)"


class OAuth2Auth(httpx.Auth):
    """Access tokens from an OAuth2 token endpoint, by the client-credentials or the refresh-token grant,
    fetched by Authlib when first needed and again when they expire."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str | None,
        *,
        scope: str | None = None,
        refresh_token: str | None = None,
    ) -> None:
        # Imported here: Authlib (with the cryptography it loads, about 13 MiB) is for OAuth2 sites only.
        from authlib.integrations.httpx_client import OAuth2Client as AuthlibOAuth2Client

        self.token_url = token_url
        self.flow = "refresh_token" if refresh_token else "client_credentials"
        self._session = AuthlibOAuth2Client(
            client_id,
            client_secret,
            scope=scope,
            token_endpoint=token_url,
            grant_type="client_credentials" if refresh_token is None else None,
            # An expired token holding the refresh token: the first request trades it for an access token.
            token={
                "access_token": "",
                "token_type": "bearer",
                "refresh_token": refresh_token,
                "expires_at": 1,
            }
            if refresh_token
            else None,
            timeout=TOKEN_TIMEOUT_SECONDS,
        )
        self._lock = threading.Lock()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._access_token()}"
        yield request

    def _access_token(self) -> str:
        from authlib.integrations.base_client import OAuthError

        with self._lock:
            try:
                if self._session.token is None:
                    self._session.fetch_token(grant_type="client_credentials")
                else:
                    self._session.ensure_active_token(self._session.token)
            except (OAuthError, httpx.HTTPError) as exc:
                raise self._failure(str(exc)) from exc
            token = self._session.token
            if not token or not token.get("access_token"):
                raise self._failure(f"the answer held no access_token: {dict(token or {})!r}"[:300])
            return str(token["access_token"])

    def _failure(self, reason: str) -> AuthError:
        return AuthError(
            f"The OAuth2 {self.flow} grant at {self.token_url} failed ({reason}); check the site's "
            "client id, secret and token URL (`hybrid sites show`)."
        )

    def __repr__(self) -> str:
        return f"OAuth2Auth(flow={self.flow!r}, token_url={self.token_url!r}, secrets=***)"


class WebSessionAuth(httpx.Auth):
    """The browser's cookies for the site, read at each request, so the API client acts in its web session."""

    def __init__(self, cookies: Callable[[], Iterable[Mapping[str, Any]]]) -> None:
        self._cookies = cookies

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        jar = SimpleCookie(request.headers.get("Cookie", ""))
        for cookie in self._cookies():
            jar[str(cookie["name"])] = str(cookie["value"])
        if jar:
            request.headers["Cookie"] = "; ".join(f"{k}={m.value}" for k, m in jar.items())
        yield request

    def __repr__(self) -> str:
        return "WebSessionAuth(cookies=***)"


class BasicAuth(httpx.BasicAuth):
    def __repr__(self) -> str:
        return "BasicAuth(username=***, password=***)"
