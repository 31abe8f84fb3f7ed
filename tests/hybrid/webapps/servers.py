"""Real open-source web apps installed from PyPI, each served on 127.0.0.1 from its own temp dir by a
subprocess that stops with the block: Django's admin over a small library project, and JupyterLab.

Each app is started once and reset to its seed state before every task (`reset()`), which is much
cheaper than a new start. The apps' state is read back over HTTP, the way the tasks are judged.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

FIXTURES = Path(__file__).parents[2] / "fixtures" / "webapps"
LIBRARY_PROJECT = FIXTURES / "library"
START_SECONDS = 90  # two cores shared by several test runs: JupyterLab may take a while
STOP_SECONDS = 15


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} did not start (exit {process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=5).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {START_SECONDS} s:\n{log.read_text()[-3000:]}")


@contextmanager
def _serve(
    command: list[str], *, cwd: Path, env: dict[str, str], ready_url: str, log: Path
) -> Iterator[None]:
    """Run `command` in its own process group until the block ends; a hung server is killed."""
    with log.open("w") as output:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_up(process, ready_url, log)
        yield
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_SECONDS)


def _private_env(root: Path, **extra: str) -> dict[str, str]:
    """The environment of an app's process: home, config, data and runtime dirs all under `root`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("JUPYTER", "DJANGO"))}
    home = root / "home"
    home.mkdir(exist_ok=True)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local/share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / ".local/state"),
        PYTHONDONTWRITEBYTECODE="1",
        **extra,
    )
    return env


@dataclass
class DjangoLibrary:
    """Django's admin over the library project (tests/fixtures/webapps/library), signed in as `username`."""

    base_url: str
    data_dir: Path
    username: str = "librarian"
    password: str = "correct-horse-battery"

    @property
    def admin_url(self) -> str:
        return f"{self.base_url}/admin/"

    @property
    def login_url(self) -> str:
        return f"{self.base_url}/admin/login/"

    @property
    def spec(self) -> Path:
        return LIBRARY_PROJECT / "openapi.json"

    @property
    def database(self) -> Path:
        """The SQLite file the server uses (LIBRARY_DATA_DIR/library.sqlite3, see the project's settings)."""
        return self.data_dir / "library.sqlite3"

    @property
    def seed_database(self) -> Path:
        return self.data_dir / "seed.sqlite3"

    def books(self) -> dict[str, dict]:
        """The books as the app stores them, by title."""
        books = httpx.get(f"{self.base_url}/api/books", timeout=10).raise_for_status().json()["books"]
        return {book["title"]: book for book in books}

    def reset(self) -> None:
        """Back to the seed catalogue, no uploads and no sessions (the server opens the database per
        request)."""
        shutil.copyfile(self.seed_database, self.database)
        shutil.rmtree(self.data_dir / "media", ignore_errors=True)


@contextmanager
def django_library() -> Iterator[DjangoLibrary]:
    with tempfile.TemporaryDirectory(prefix="hybrid-django-") as temp:
        root = Path(temp)
        port = free_port()
        site = DjangoLibrary(base_url=f"http://127.0.0.1:{port}", data_dir=root / "data")
        site.data_dir.mkdir()
        env = _private_env(root, LIBRARY_DATA_DIR=str(site.data_dir), DJANGO_SETTINGS_MODULE="settings")

        def manage(*arguments: str) -> None:
            done = subprocess.run(
                [sys.executable, "manage.py", *arguments],
                cwd=LIBRARY_PROJECT,
                env=env,
                capture_output=True,
                text=True,
                timeout=START_SECONDS,
                check=False,
            )
            if done.returncode != 0:
                raise RuntimeError(f"manage.py {arguments[0]} failed:\n{done.stdout}{done.stderr}")

        # The catalog app has no migrations: --run-syncdb creates its tables from the models.
        manage("migrate", "--run-syncdb", "--no-input")
        manage("seed", site.username, site.password)
        shutil.copyfile(site.database, site.seed_database)
        command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
        with _serve(command, cwd=LIBRARY_PROJECT, env=env, ready_url=site.login_url, log=root / "server.log"):
            yield site


@dataclass
class JupyterLab:
    """JupyterLab with its own root dir of files to work on; `lab_url` carries the token that signs in."""

    base_url: str
    token: str
    root_dir: Path
    workspaces_dir: Path

    @property
    def lab_url(self) -> str:
        return f"{self.base_url}/lab?token={self.token}"

    @property
    def spec(self) -> Path:
        return FIXTURES / "jupyter_server_api.yaml"

    def _api(self, method: str, path: str) -> httpx.Response:
        return httpx.request(
            method, f"{self.base_url}{path}", headers={"Authorization": f"token {self.token}"}, timeout=10
        ).raise_for_status()

    def files(self, directory: str = "") -> dict[str, str]:
        """Names in `directory` of the root, with their type (file, notebook, directory), by the contents
        API."""
        listing = self._api("GET", f"/api/contents/{directory}").json()["content"]
        return {entry["name"]: entry["type"] for entry in listing}

    def text(self, path: str) -> str:
        return self._api("GET", f"/api/contents/{path}?content=1&type=file&format=text").json()["content"]

    def sessions(self) -> list[str]:
        """The paths of the notebooks open with a kernel (a session each)."""
        return sorted(session["path"] for session in self._api("GET", "/api/sessions").json())

    def reset(self, seed: dict[str, str]) -> None:
        """No sessions or kernels, no saved workspace, and exactly the files of `seed` (path: text) in the
        root."""
        for session in self._api("GET", "/api/sessions").json():
            self._api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self._api("GET", "/api/kernels").json():
            self._api("DELETE", f"/api/kernels/{kernel['id']}")
        shutil.rmtree(self.workspaces_dir, ignore_errors=True)
        self.workspaces_dir.mkdir()
        shutil.rmtree(self.root_dir)
        self.root_dir.mkdir()
        for path, text in seed.items():
            (self.root_dir / path).parent.mkdir(parents=True, exist_ok=True)
            (self.root_dir / path).write_text(text)


@contextmanager
def jupyter_lab() -> Iterator[JupyterLab]:
    with tempfile.TemporaryDirectory(prefix="hybrid-jupyterlab-") as temp:
        root = Path(temp)
        port = free_port()
        lab = JupyterLab(
            base_url=f"http://127.0.0.1:{port}",
            token=os.urandom(16).hex(),
            root_dir=root / "files",
            workspaces_dir=root / "workspaces",
        )
        lab.root_dir.mkdir()
        lab.workspaces_dir.mkdir()
        settings = root / "settings"
        # The lab's own toast asking whether to fetch Jupyter's news: off, as a user would answer it once.
        (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
        (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
            '{"fetchNews": "false"}'
        )
        env = _private_env(
            root,
            JUPYTER_CONFIG_DIR=str(root / "config"),
            JUPYTER_DATA_DIR=str(root / "data"),
            JUPYTER_RUNTIME_DIR=str(root / "runtime"),
            IPYTHONDIR=str(root / "ipython"),
        )
        command = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={lab.token}",
            f"--ServerApp.root_dir={lab.root_dir}",
            f"--LabApp.workspaces_dir={lab.workspaces_dir}",
            f"--LabApp.user_settings_dir={settings}",
            # Nothing reaches the internet: no news feed, no update check, no extension manager's PyPI
            # look-ups.
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
            "--ServerApp.terminals_enabled=False",
            *(
                ["--allow-root"] if os.geteuid() == 0 else []
            ),  # as root (a container), the lab refuses otherwise
        ]
        with _serve(
            command,
            cwd=root,
            env=env,
            ready_url=f"{lab.base_url}/api/status?token={lab.token}",
            log=root / "server.log",
        ):
            yield lab
