"""Server-side web sessions for the demo site: a random cookie names a logged-in user."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from fastapi import Request

from hybrid.demo.data import User

SESSION_COOKIE = "tracker_session"


@dataclass
class WebSession:
    username: str
    flashes: list[tuple[str, str]] = field(default_factory=list)


class SessionTable:
    def __init__(self) -> None:
        self._sessions: dict[str, WebSession] = {}

    def open(self, username: str) -> str:
        key = secrets.token_urlsafe(24)
        self._sessions[key] = WebSession(username)
        return key

    def close(self, key: str | None) -> None:
        if key:
            self._sessions.pop(key, None)

    def get(self, key: str | None) -> WebSession | None:
        return self._sessions.get(key) if key else None


def current_session(request: Request) -> WebSession | None:
    return request.app.state.sessions.get(request.cookies.get(SESSION_COOKIE))


def session_user(request: Request) -> User | None:
    session = current_session(request)
    if session is None:
        return None
    return request.app.state.store.state.users.get(session.username)


def flash(request: Request, message: tuple[str, str]) -> None:
    """Queue a (kind, text) message for the next page; kind is 'success' or 'error'."""
    session = current_session(request)
    if session is not None:
        session.flashes.append(message)


def take_flashes(request: Request) -> list[tuple[str, str]]:
    session = current_session(request)
    if session is None:
        return []
    messages, session.flashes = session.flashes, []
    return messages
