"""A minimal in-process runner for the suite's reference solutions, to prove the tasks are solvable.

It gives the solutions the kernel's names (`api`, `browser`, `finish`) with the smallest faithful
implementations: `api.demo.<operation>` dispatches by operationId over HTTP, and `browser` drives a
Playwright page, handing out element ids for elements found by role and accessible name. The agent's
real runtime (generated clients, the browser service, the kernel) replaces it once it exists.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from urllib.parse import urljoin

import httpx
import pytest

from hybrid.bench.suite import Task
from hybrid.demo import DemoSite


class HttpOperations:
    def __init__(self, site: DemoSite, username: str) -> None:
        self._spec = httpx.get(site.openapi_url).json()
        self._client = httpx.Client(base_url=site.base_url,
                                    headers={"Authorization": f"Bearer {site.token_for(username)}"})

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


class PageByIds:
    def __init__(self, page) -> None:
        self._page = page
        self._elements: dict[int, object] = {}

    def goto(self, url: str) -> str:
        self._page.goto(urljoin(self._page.url, url))
        return self.text()

    def find(self, role: str, name: str) -> int:
        locator = self._page.get_by_role(role, name=name, exact=True)
        if locator.count() != 1:
            raise LookupError(f"{locator.count()} elements with role {role} and name {name!r}")
        element_id = len(self._elements) + 1
        self._elements[element_id] = locator
        return element_id

    def click(self, element_id: int) -> str:
        self._elements[element_id].click()
        self._page.wait_for_load_state()
        return self.text()

    def fill(self, element_id: int, text: str) -> None:
        self._elements[element_id].fill(text)

    def select(self, element_id: int, option: str) -> None:
        self._elements[element_id].select_option(option)

    def text(self) -> str:
        return f"{self._page.url}\n{self._page.inner_text('body')}"


class Namespace:
    def __init__(self, **members) -> None:
        self.__dict__.update(members)


@pytest.fixture
def run_reference(demo: DemoSite, chromium) -> Callable[[Task], tuple[str | None, str]]:
    contexts = []

    def run(task: Task) -> tuple[str | None, str]:
        context = chromium.new_context()
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{demo.base_url}/login")
        page.get_by_label("Username").fill(task.login_as)
        page.get_by_label("Password").fill(demo.password)
        page.get_by_role("button", name="Sign in").click()
        page.goto(task.start_url_for(demo.base_url))
        answers: list[str] = []
        names = {"api": Namespace(demo=HttpOperations(demo, task.login_as)), "browser": PageByIds(page),
                 "finish": lambda answer: answers.append(str(answer))}
        output = io.StringIO()
        for step in task.reference_solution:
            with contextlib.redirect_stdout(output):
                exec(compile(step, f"<task {task.task_id} step>", "exec"), names)  # noqa: S102 -- running reference code is the point
            if answers:
                break
        return (answers[0] if answers else None), output.getvalue()

    yield run
    for context in contexts:
        context.close()


@pytest.fixture
def judge_client(demo: DemoSite):
    with httpx.Client(base_url=demo.api_url, headers={"Authorization": f"Bearer {demo.token_for('alice')}"}) as c:
        yield c
