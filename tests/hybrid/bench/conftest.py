"""A minimal in-process runner for the suite's reference solutions, to prove the tasks are solvable.

It gives the solutions the kernel's names (`api`, `browser`, `finish`): `browser` is the real browser
service (`sandbox.browser.BrowserService`), called as kernel code calls it; `api.demo.<operation>`
is the smallest faithful stand-in, dispatching by operationId over HTTP, until the generated clients
and the kernel exist.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator

import httpx
import pytest

from hybrid.bench.suite import Task
from hybrid.config import find_chromium
from hybrid.demo import DemoSite
from sandbox.browser import BrowserService, SiteLogin

# Ray reads its settings from the environment once per process (its C++ config is fixed at the first
# `ray.init`): every Ray test sets the same ones, so a local instance started by one test and a cluster
# joined by a later one agree. Without RAY_AUTH_MODE, a ~/.ray/auth_token left by any earlier Ray use turns
# token authentication on in the driver, and a cluster started without it cannot call the driver back.
RAY_ENVIRONMENT = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


@pytest.fixture
def ray_environment(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment every Ray test runs in (the driver's and the nodes' it starts)."""
    for name, value in RAY_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    return RAY_ENVIRONMENT


class HttpOperations:
    def __init__(self, site: DemoSite, username: str) -> None:
        self._spec = httpx.get(site.openapi_url).json()
        self._client = httpx.Client(
            base_url=site.base_url, headers={"Authorization": f"Bearer {site.token_for(username)}"}
        )

    def __getattr__(self, operation_id: str) -> Callable:
        for path, operations in self._spec["paths"].items():
            for method, operation in operations.items():
                if operation["operationId"] == operation_id:
                    return lambda body=None, **params: self._call(method, path, operation, body, params)
        raise AttributeError(operation_id)

    def _call(self, method: str, path: str, operation: dict, body: dict | None, params: dict):
        in_path = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        url = path.format(**{k: params.pop(k) for k in in_path})
        response = self._client.request(method.upper(), url, params=params, json=body)
        if response.status_code >= 400:
            raise RuntimeError(f"{operation['operationId']} -> {response.status_code}: {response.text}")
        return response.json() if response.content else None


class Namespace:
    def __init__(self, **members) -> None:
        self.__dict__.update(members)


@pytest.fixture(scope="session")
def browser_service(demo_server: DemoSite) -> Iterator[tuple[BrowserService, dict[str, str]]]:
    """The real browser service, signed in per task as that task's user (`users["demo"]`)."""
    users: dict[str, str] = {}
    credentials = lambda site: SiteLogin(f"{demo_server.base_url}/login", users[site], demo_server.password)
    executable = find_chromium()
    if executable is None:
        pytest.fail("No Chromium found: run ./install.sh, which installs Debian's chromium package.")
    with BrowserService(executable, credentials=credentials) as service:
        yield service, users


@pytest.fixture
def run_reference(demo: DemoSite, browser_service) -> Callable[[Task], tuple[str | None, str]]:
    service, users = browser_service

    def run(task: Task) -> tuple[str | None, str]:
        users["demo"] = task.login_as
        service.login("demo")
        service.goto(task.start_url_for(demo.base_url))
        answers: list[str] = []
        names = {
            "api": Namespace(demo=HttpOperations(demo, task.login_as)),
            "browser": service,
            "finish": lambda answer: answers.append(str(answer)),
        }
        output = io.StringIO()
        for step in task.reference_solution:
            with contextlib.redirect_stdout(output):
                exec(compile(step, f"<task {task.task_id} step>", "exec"), names)  # noqa: S102 -- running reference code is the point
            if answers:
                break
        return (answers[0] if answers else None), output.getvalue()

    return run


@pytest.fixture
def inspector_client(demo: DemoSite):
    with httpx.Client(
        base_url=demo.api_url, headers={"Authorization": f"Bearer {demo.token_for('alice')}"}
    ) as c:
        yield c
