"""WebArena-Infinity's suites as they are published: an app folder (`server.py`, `index.html`, its task
lists `function-tasks.json` and `real-tasks.json`, and one `verify(server_url)` module per task), or a folder
of such app folders.

Each app is a web-only site named after its folder. A worker starts the app from its folder with its own
`server.py` (bound to 127.0.0.1 on a free port, see `hybrid.bench.infinity_serve`), resets it with
`POST /api/reset` before every task, and judges each task by running its verifier in a process of its own
(`hybrid.bench.infinity_verify`), as the benchmark's harness does.

Tasks are numbered in suite order (apps by name; in each, the function tasks, then the real ones), so
`--tasks` takes numbers as for the other suites; each keeps its published id, and its name
(`gmail/real:task_e1`) is what reports show. `--category` takes a difficulty (`easy`, `medium`, `hard`) or
`function`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

import apis
from sandbox.errors import HybridError

SERVER = "server.py"
TASK_LISTS = (("function", "function-tasks.json"), ("real", "real-tasks.json"))
START_SECONDS = 60.0  # an app's server is up in well under a second when idle; a loaded machine is slower
RESET_SECONDS = 30.0
VERIFY_SECONDS = 120.0  # a verifier reads GET /api/state once or twice
STOP_SECONDS = 10.0


class InfinityError(HybridError):
    """A WebArena-Infinity suite or app cannot be used; the message names the file or folder."""


class InfinityTask(BaseModel):
    """One task of an app's task list, as published, with its number in the suite."""

    model_config = ConfigDict(frozen=True)

    task_id: int = Field(description="its position in the suite, from 1")
    app: str = Field(description="the app's folder name, which is its site name")
    task_list: str = Field(description="the task list it comes from: function or real")
    id: str = Field(description="its id in that list, e.g. task_e1")
    intent: str = Field(description="the published instruction")
    verify: str = Field(description="its verifier, a path inside the app's folder")
    difficulty: str | None = None

    @property
    def name(self) -> str:
        return f"{self.app}/{self.task_list}:{self.id}"

    @property
    def sites(self) -> list[str]:
        return [self.app]

    @property
    def category(self) -> str:
        return self.difficulty or self.task_list

    @property
    def eval_types(self) -> list[str]:
        return ["verify"]

    @property
    def login_as(self) -> None:
        return None

    @property
    def intent_template_id(self) -> None:
        return None

    @property
    def instantiation_dict(self) -> dict[str, Any]:
        return {}

    def start_url_for(self, web_url: str) -> str:
        return web_url.rstrip("/") + "/"


class _Listed(BaseModel):
    """An entry of a published task list."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1)
    instruction: str = Field(min_length=1)
    verify: str = Field(min_length=1)
    difficulty: str | None = None


@dataclass(frozen=True)
class InfinitySuite:
    tasks: list[InfinityTask]
    refused: list[str]  # "gmail/real:task_x: why", one line each
    apps: dict[str, Path]  # site name -> the app's folder


def is_app(path: Path) -> bool:
    return (path / SERVER).is_file() and any((path / name).is_file() for _, name in TASK_LISTS)


def is_infinity(path: Path) -> bool:
    """An app folder, or a folder holding app folders."""
    if not path.is_dir():
        return False
    return is_app(path) or any(is_app(child) for child in path.iterdir() if child.is_dir())


def load_infinity(path: Path | str) -> InfinitySuite:
    """Every task of every app under `path`: loaded, or refused with a one-line reason."""
    path = Path(path)
    folders = [path] if is_app(path) else sorted(c for c in path.iterdir() if c.is_dir() and is_app(c))
    if not folders:
        raise InfinityError(
            f"{path}: neither a WebArena-Infinity app folder (server.py with function-tasks.json or "
            "real-tasks.json) nor a folder of them."
        )
    tasks: list[InfinityTask] = []
    refused: list[str] = []
    for folder in folders:
        app = folder.name
        for list_name, file in TASK_LISTS:
            listed = folder / file
            if not listed.is_file():
                continue
            try:
                entries = json.loads(listed.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise InfinityError(f"{listed}: not a readable JSON task list ({exc}).") from exc
            if not isinstance(entries, list):
                raise InfinityError(f"{listed}: a task list is a JSON list, not {type(entries).__name__}.")
            seen: set[str] = set()
            for index, entry in enumerate(entries):
                where = f"{app}/{list_name}[{index}]"
                try:
                    item = _Listed.model_validate(entry)
                except ValidationError as exc:
                    error = exc.errors()[0]
                    refused.append(f"{where}: {'.'.join(map(str, error['loc']))}: {error['msg']}")
                    continue
                where = f"{app}/{list_name}:{item.id}"
                inside = Path(os.path.normpath(item.verify))
                if item.id in seen:
                    refused.append(f"{where}: the id appears twice in {file}")
                elif inside.is_absolute() or inside.parts[0] == ".." or not (folder / inside).is_file():
                    refused.append(f"{where}: no verifier file {item.verify} in the app's folder")
                else:
                    seen.add(item.id)
                    tasks.append(
                        InfinityTask(
                            task_id=len(tasks) + 1,
                            app=app,
                            task_list=list_name,
                            id=item.id,
                            intent=item.instruction,
                            verify=item.verify,
                            difficulty=item.difficulty,
                        )
                    )
    return InfinitySuite(tasks, refused, {folder.name: folder.absolute() for folder in folders})


def replies_file(folder: Path, task: InfinityTask) -> Path:
    """A task's scripted replies in a folder of them: FOLDER/APP/ID.json, or FOLDER/ID.json for a suite of one
    app (ids are unique within an app: function tasks are task_N, real ones task_eN, task_mN, task_hN)."""
    nested = folder / task.app / f"{task.id}.json"
    return nested if nested.is_file() or (folder / task.app).is_dir() else folder / f"{task.id}.json"


class InfinityApp:
    """One app served by its own server.py in a process of its own, private to a worker: a `SiteInstance`."""

    def __init__(self, name: str, folder: Path, log_dir: Path) -> None:
        self.name = name
        self.folder = folder
        log_dir.mkdir(parents=True, exist_ok=True)
        self._log = log_dir / f"infinity-{name}.log"
        with tempfile.TemporaryDirectory() as scratch:
            port_file = Path(scratch) / "port"
            with self._log.open("ab") as log:
                # Its own session, so closing it ends whatever it started.
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "hybrid.bench.infinity_serve", str(port_file)],
                    cwd=folder,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            try:
                self.url = f"http://127.0.0.1:{self._wait_for_port(port_file)}"
                self._wait_until_serving()
            except BaseException:
                self.close()
                raise

    def _wait_for_port(self, port_file: Path) -> int:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise InfinityError(
                    f"{self.folder}/{SERVER} ended with status {self._process.returncode} before serving: "
                    f"{self._tail()}"
                )
            text = port_file.read_text(encoding="utf-8") if port_file.is_file() else ""
            if text.endswith("\n"):
                return int(text)
            time.sleep(0.05)
        raise InfinityError(
            f"{self.folder}/{SERVER} did not bind a port in {START_SECONDS:.0f} s: {self._tail()}"
        )

    def _wait_until_serving(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                httpx.get(self.url + "/", timeout=5).raise_for_status()
                return
            except httpx.HTTPError as exc:
                if time.monotonic() > deadline or self._process.poll() is not None:
                    raise InfinityError(
                        f"{self.folder}/{SERVER} does not serve its page ({exc}): {self._tail()}"
                    ) from exc
                time.sleep(0.1)

    def _tail(self) -> str:
        lines = self._log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        return " | ".join(lines[-3:]) or "(no output)"

    @property
    def web_url(self) -> str:
        return self.url

    def reset(self) -> None:
        """`POST /api/reset`: the state goes back to the seed the first page load pushed (none before)."""
        httpx.post(self.url + "/api/reset", timeout=RESET_SECONDS).raise_for_status()

    def register(self, registry: apis.SiteRegistry, login_as: str) -> None:
        registry.add(apis.Site(name=self.name, spec=None, base_url=self.url, web_url=self.url), replace=True)

    def inspector(self) -> httpx.Client:
        return httpx.Client(base_url=self.url)

    def verify(self, task: InfinityTask) -> tuple[bool, str]:
        """The task's verifier run in a process of its own, on this app's state now."""
        try:
            done = subprocess.run(
                [sys.executable, "-m", "hybrid.bench.infinity_verify", task.verify, self.url],
                cwd=self.folder,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=VERIFY_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return False, f"its verifier {task.verify} did not finish in {VERIFY_SECONDS:.0f} s"
        lines = done.stdout.strip().splitlines()
        try:
            verdict = json.loads(lines[-1]) if lines else {}
            return bool(verdict["passed"]), str(verdict["message"])
        except (ValueError, TypeError, KeyError):
            error = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            return False, f"its verifier {task.verify} failed (status {done.returncode}): {error}"

    def close(self) -> None:
        if self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()


@contextmanager
def infinity_app(name: str, folder: Path, log_dir: Path) -> Iterator[InfinityApp]:
    app = InfinityApp(name, folder, log_dir)
    try:
        yield app
    finally:
        app.close()
