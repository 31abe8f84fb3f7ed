"""Every operation of every fixture spec is callable: each call is built, sent to the local echo server
with every argument it takes (required and optional), and the request that arrives is checked; the
spec checks of every request and response run without failing (their findings are the spec's business)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from apis import Mismatch, build_client, load_spec
from apis.model import Operation, Parameter
from apis.shapes import schema_types

from .conftest import SPECS_DIR, EchoServer

FIXTURE_SPECS = sorted(path.name for path in SPECS_DIR.glob("*.[jy]*"))
# Under a prefix, so spec paths such as /status/{code} never reach the echo server's special routes.
PREFIX = "/every-operation"


def sample(parameter: Parameter) -> Any:
    """A value of the parameter's type that is easy to find again in the request."""
    kinds = schema_types(parameter.schema)
    enum = parameter.schema.get("enum")
    if isinstance(enum, list) and enum and isinstance(enum[0], (str, int)) and not isinstance(enum[0], bool):
        return enum[0]
    if "integer" in kinds or "number" in kinds:
        return 7
    if parameter.location == "query" and "boolean" in kinds:
        return True
    if parameter.location == "query" and "array" in kinds:
        return ["a1", "a2"]
    return f"v-{parameter.argument}"


def sample_body(operation: Operation) -> Any:
    media = operation.body.media_types[0].split(";")[0].strip().lower() if operation.body else ""
    if media.endswith("json") or "form" in media or "*" in media:
        return {"sample_field": "sample value"}
    return b"sample bytes"


def expected_path(operation: Operation, values: dict[str, Any]) -> str:
    path = operation.path
    for parameter in operation.parameters:
        if parameter.location == "path":
            path = path.replace(f"{{{parameter.name}}}", str(values[parameter.argument]))
    return PREFIX + path


def check_request(operation: Operation, values: dict[str, Any], request: dict[str, Any]) -> list[str]:
    problems = []
    if request["method"] != operation.method:
        problems.append(f"method {request['method']} != {operation.method}")
    if unquote(request["raw_path"]) != expected_path(operation, values):
        problems.append(f"path {unquote(request['raw_path'])} != {expected_path(operation, values)}")
    query_names = {name for name, _ in request["query"]}
    for parameter in operation.parameters:
        if parameter.location == "query" and parameter.name not in query_names:
            problems.append(f"query parameter {parameter.name} missing from {sorted(query_names)}")
        elif parameter.location == "header" and request["headers"].get(parameter.name.lower()) != str(
            values[parameter.argument]
        ):
            problems.append(f"header {parameter.name} is {request['headers'].get(parameter.name.lower())!r}")
        elif parameter.location == "cookie" and parameter.name not in request["cookies"]:
            problems.append(f"cookie {parameter.name} missing")
    if operation.body is not None and operation.method not in ("GET", "HEAD"):
        sent = request.get("form") or request.get("body")
        if not sent or ("sample" not in json.dumps(sent)):
            problems.append(f"body not received: {sent!r}")
    return problems


# Kubernetes' 845 operations take a minute on a loaded machine: the rest cover the same code in seconds.
@pytest.mark.parametrize(
    "spec_file",
    [
        pytest.param(name, marks=pytest.mark.slow) if name.startswith("kubernetes") else name
        for name in FIXTURE_SPECS
    ],
)
def test_every_operation_is_called_with_all_its_arguments(
    spec_file: str, echo_server: EchoServer, cache_dir: Path
) -> None:
    spec = load_spec(SPECS_DIR / spec_file, cache_dir)
    checked: list[Mismatch] = []
    client = build_client(spec, base_url=echo_server.url + PREFIX, timeout=10, on_mismatch=checked.append)
    failures = []
    for operation in spec.operations:
        values = {p.argument: sample(p) for p in operation.parameters}
        if operation.body is not None:
            values["body"] = sample_body(operation)
        before = len(echo_server.requests)
        try:
            getattr(client, operation.name)(**values)
        except Exception as exc:  # noqa: BLE001 - collected so one run reports every broken operation
            failures.append(f"{operation.name}: {type(exc).__name__}: {exc}")
            continue
        if len(echo_server.requests) != before + 1:
            failures.append(
                f"{operation.name}: {len(echo_server.requests) - before} requests arrived instead of 1"
            )
            continue
        failures += [
            f"{operation.name}: {p}" for p in check_request(operation, values, echo_server.requests[-1])
        ]
    client.close()
    failures += [m.line() for m in checked if "could not be checked" in m.actual]
    assert not failures, f"{len(failures)} of {len(spec.operations)} operations:\n" + "\n".join(failures[:20])


def test_parameters_named_like_the_clients_own_arguments_are_sent(
    write_spec, echo_server: EchoServer, cache_dir: Path
) -> None:
    names = ["name", "self", "operation_name", "arguments", "timeout", "headers", "validation"]
    document = {
        "openapi": "3.0.3",
        "info": {"title": "Clashes", "version": "1"},
        "paths": {
            "/things/{name}": {
                "post": {
                    "operationId": "call",
                    "parameters": [
                        {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
                        *({"name": n, "in": "query", "schema": {"type": "string"}} for n in names[1:]),
                    ],
                    "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }
    client = build_client(load_spec(write_spec(document), cache_dir), base_url=echo_server.url + PREFIX)
    arguments = {n: f"{n}-value" for n in names}
    echo = client.call_(**arguments, body={"name": "in the body"})
    assert echo["path"] == f"{PREFIX}/things/name-value"
    assert dict(echo["query"]) == {n: f"{n}-value" for n in names[1:]}
    assert json.loads(echo["body"]) == {"name": "in the body"}
    assert client.call("call_", **arguments)["path"] == f"{PREFIX}/things/name-value"
