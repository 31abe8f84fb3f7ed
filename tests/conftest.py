"""Fixtures shared by all tests: the demo site, a headless system Chromium, and databases (a SQLite file,
or a fresh database on a private PostgreSQL server started once per session)."""

from __future__ import annotations

import glob
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hybrid.config import find_chromium
from hybrid.demo import DemoSite, demo_site
from sandbox.browser import DEFAULT_ARGS


@pytest.fixture(autouse=True)
def private_user_directories(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the user's own data, config or cache (subprocesses inherit this too)."""
    user = tmp_path_factory.mktemp("user")
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(user / name.lower()))
    for name in ("HYBRID_DATA_DIR", "HYBRID_DATABASE_URL", "HYBRID_CONFIG"):  # the default data dir is under XDG
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def demo_server() -> Iterator[DemoSite]:
    with demo_site() as site:
        yield site


@pytest.fixture
def demo(demo_server: DemoSite) -> DemoSite:
    """The demo site, reset to its seed state for this test."""
    demo_server.reset()
    return demo_server


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    executable = find_chromium()
    if executable is None:
        pytest.fail("No Chromium found: run ./install.sh, which installs Debian's chromium package.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=list(DEFAULT_ARGS))
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, demo: DemoSite):
    context = chromium.new_context(base_url=demo.base_url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


POSTGRES_START_SECONDS = 60


def _postgres_bin(name: str) -> str:
    """`initdb` or `pg_ctl` from PATH, else from Debian's /usr/lib/postgresql/<version>/bin (the newest)."""
    debian = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda path: float(Path(path).parts[4]))
    found = shutil.which(name) or (debian[-1] if debian else None)
    if found is None:
        pytest.fail(f"No PostgreSQL server binaries ({name}): run ./install.sh --dev, which installs Debian's "
                    "postgresql package (or: apt-get install postgresql).")
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_server_user(*command: str) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run its binaries as the `postgres` user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A private PostgreSQL server on 127.0.0.1 (trust auth, its socket in its own temp dir), started once
    and stopped and removed at the end of the session; yields the URL of its `postgres` database."""
    initdb, pg_ctl = _postgres_bin("initdb"), _postgres_bin("pg_ctl")
    as_root = os.geteuid() == 0
    # As root, in /tmp: the `postgres` user must reach the dir, which TMPDIR (say under /root) may not allow.
    root = Path(tempfile.mkdtemp(prefix="hybrid-postgres-", dir="/tmp" if as_root else None))
    data, log = root / "data", root / "server.log"
    if as_root:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()

    def run(*command: str) -> None:
        done = subprocess.run(_as_server_user(*command), capture_output=True, text=True,
                              timeout=POSTGRES_START_SECONDS + 30, check=False)
        if done.returncode != 0:
            server_log = log.read_text() if log.exists() else ""
            pytest.fail(f"{' '.join(command[:2])} failed:\n{done.stdout}{done.stderr}{server_log}")

    try:
        run(initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
        # Durability off (a throwaway server), and a time zone that is not UTC, as many real servers have.
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c synchronous_commit=off " \
                  "-c full_page_writes=off -c max_connections=200 -c timezone=Asia/Kolkata"
        stop = _as_server_user(pg_ctl, "stop", "-D", str(data), "-m", "fast", "-w", "-t", "30")
        # Should pytest die before its teardown (a hard timeout, SIGKILL), this stops the server all the same.
        after_pytest = (f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 1; done; "
                        f"{shlex.join(stop)}; rm -rf {shlex.quote(str(root))}")
        watchdog = subprocess.Popen(
            ["sh", "-c", after_pytest],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            run(pg_ctl, "start", "-D", str(data), "-l", str(log), "-w", "-t", str(POSTGRES_START_SECONDS),
                "-o", options)
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:  # also after a failed or timed-out start, which may have left a postmaster behind
            subprocess.run(stop, capture_output=True, timeout=60, check=False)
            watchdog.kill()
            watchdog.wait()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A fresh, empty database on the session's PostgreSQL server, so tests never see each other's rows."""
    try:
        import psycopg
    except ImportError:
        pytest.fail("The PostgreSQL tests need psycopg: .venv/bin/pip install -e '.[dev]' (or ./install.sh --dev).")
    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return postgres_server.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database: a SQLite file in tmp_path, or a new PostgreSQL database for tests parametrised with
    `@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)`."""
    kind = getattr(request, "param", "sqlite")
    if kind == "postgresql":
        return request.getfixturevalue("postgres_url")
    assert kind == "sqlite", f"database_url is 'sqlite' or 'postgresql', not {kind!r}"
    return f"sqlite:///{tmp_path / 'db' / 'hybrid.db'}"
