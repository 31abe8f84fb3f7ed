"""What checking a call against the spec adds: a typical body, a 24 KB repository, a 100-item page of issues.

    .venv/bin/python tests/apis/bench_validation.py [--repeat N]

Bodies are made from Gitea's own schemas (every property filled), served by an in-process transport, so
the figures are the client's and the validator's time, not a network's. Beside them, in the same run:
raw httpx (a GET and `.json()`) and the client with validation off.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from apis import build_client, load_spec
from apis.docs import response_schema
from apis.model import Operation, Spec
from apis.refs import resolve
from apis.validation import SpecValidator

SPECS_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "specs"


def example(document: dict[str, Any], schema: Any, depth: int = 0) -> Any:
    """A value with every property of `schema` filled (arrays with two items), nested objects to depth 3."""
    schema = resolve(document, schema)
    if not isinstance(schema, dict) or depth > 3:
        return None
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type") or ("object" if "properties" in schema else "string")
    if kind == "object":
        properties = schema.get("properties") or {}
        filled = {key: example(document, value, depth + 1) for key, value in properties.items()}
        return {key: value for key, value in filled.items() if value is not None}
    if kind == "array":
        items = [example(document, schema.get("items"), depth + 1) for _ in range(2)]
        return [item for item in items if item is not None]
    formats = {"date-time": "2024-05-01T12:00:00Z", "email": "a@example.com", "uri": "https://example.com"}
    return {
        "integer": 7,
        "number": 1.5,
        "boolean": True,
        "string": formats.get(schema.get("format", ""), "text"),
    }.get(kind)


def timed(call: Callable[[], Any], repeat: int) -> float:
    """Median milliseconds per call."""
    call()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 50
    with tempfile.TemporaryDirectory() as cache:
        spec = load_spec(SPECS_DIR / "gitea.json", cache)
    document = spec.document
    issue_list, repo_get = spec.operation("issue_list_issues"), spec.operation("repo_get")
    issue = example(document, resolve(document, response_schema(document, issue_list, "200"))["items"])
    bodies = {
        "repo_get (one repository)": (
            repo_get,
            example(document, response_schema(document, repo_get, "200")),
        ),
        "issue_list_issues (100 issues)": (issue_list, [issue] * 100),
    }
    create = spec.operation("issue_create_issue")
    request_body = {"title": "Login broken", "body": "Steps...", "labels": [1, 2], "assignees": ["bob"]}

    print(f"{'call':34} {'bytes':>7} {'check ms':>9} {'raw httpx':>10} {'no check':>9} {'checked':>8}")
    started = time.perf_counter()
    validator = SpecValidator(spec)
    validator.request_problems(create, {"owner": "a", "repo": "b", "body": request_body})
    for operation, _ in bodies.values():
        validator.response_problems(operation, httpx.Response(200, json=[]), [])
    print(f"compiling the checks of 3 operations: {(time.perf_counter() - started) * 1000:.1f} ms")
    request_ms = timed(
        lambda: validator.request_problems(create, {"owner": "a", "repo": "b", "body": request_body}), repeat
    )
    print(f"{'issue_create_issue request':34} {len(json.dumps(request_body)):7} {request_ms:9.3f}")
    for label, (operation, body) in bodies.items():
        print(response_figures(spec, validator, label, operation, body, repeat))


def response_figures(
    spec: Spec, validator: SpecValidator, label: str, operation: Operation, body: Any, repeat: int
) -> str:
    """One line: the check alone, raw httpx, and the client's call without and with checks."""
    payload = json.dumps(body).encode()
    body = json.loads(payload)  # distinct objects, as a response's are
    headers = {"Content-Type": "application/json"}
    response = httpx.Response(200, content=payload, headers=headers)
    problems = validator.response_problems(operation, response, body)
    assert not problems, problems[:3]
    check_ms = timed(lambda: validator.response_problems(operation, response, body), repeat)
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=payload, headers=headers))
    with httpx.Client(transport=transport) as raw:
        raw_ms = timed(lambda: raw.get("http://bench.test/x").json(), repeat)
    # Without and with checks in turns, so the machine's load falls on both alike.
    with (
        build_client(spec, base_url="http://bench.test", transport=transport, validation="off") as plain,
        build_client(spec, base_url="http://bench.test", transport=transport, validation="warn") as checked,
    ):
        samples: dict[str, list[float]] = {"off": [], "warn": []}
        for _ in range(repeat):
            for key, client in (("off", plain), ("warn", checked)):
                samples[key].append(timed(partial(client.call, operation.name, owner="a", repo="b"), 1))
        figures = [statistics.median(samples["off"]), statistics.median(samples["warn"])]
    return f"{label:34} {len(payload):7} {check_ms:9.3f} {raw_ms:10.3f} {figures[0]:9.3f} {figures[1]:8.3f}"


if __name__ == "__main__":
    main()
