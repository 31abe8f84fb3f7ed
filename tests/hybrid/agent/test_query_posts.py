"""Under read-only, an API's POSTs that only query are let through and its writes are not."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

import apis
from hybrid.agent.runtime import SiteHandle, api_capability, marked_reads
from sandbox import Policy
from sandbox.bridge import Dispatcher, kernel_stub

pytestmark = pytest.mark.kernel

OK = {"200": {"description": "ok"}}
BODY = {"content": {"application/json": {"schema": {"type": "object"}}}}
SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Flows", "version": "1"},
    "paths": {
        "/flow_runs/": {"post": {"operationId": "create_flow_run", "requestBody": BODY, "responses": OK}},
        "/flow_runs/filter": {
            "post": {"operationId": "read_flow_runs", "requestBody": BODY, "responses": OK}
        },
        "/flow_runs/{id}/set_state": {"post": {"operationId": "set_flow_run_state", "responses": OK}},
        "/graphql": {"post": {"operationId": "graphql", "requestBody": BODY, "responses": OK}},
    },
}


@pytest.fixture
def read_only(tmp_path: Path):
    """A read-only dispatcher with the `flows` site, whose server is not there: a call let through fails to
    connect, one refused never tries."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    spec_file = tmp_path / "flows.json"
    spec_file.write_text(json.dumps(SPEC))
    registry = apis.SiteRegistry(tmp_path / "data")
    registry.add(apis.Site("flows", str(spec_file), base_url))
    registry.mark("flows", {"set_flow_run_state": "read"})
    dispatcher = Dispatcher(Policy(mode="read-only"))
    site = SiteHandle.from_registry(registry, "flows")
    dispatcher.register("api", api_capability([site]))

    def call(operation: str, **kwargs: object) -> str:
        dispatcher.handle(
            {"op": "call", "capability": "api", "path": ["flows", operation], "args": [], "kwargs": kwargs}
        )
        [record] = dispatcher.recorder.take()
        return f"{'writes' if record.writes else 'reads'} {record.status}"

    yield call
    site.client.close()


def test_posts_that_only_query_are_reads_under_read_only(read_only) -> None:
    assert (
        read_only("read_flow_runs", body={"flow_runs": {"state": {"type": {"any_": ["FAILED"]}}}})
        == "reads error"
    )
    assert read_only("set_flow_run_state", id="7") == "reads error"  # marked read by the user
    assert read_only("graphql", body={"query": "{ flowRuns { id } }"}) == "reads error"
    assert read_only("create_flow_run", body={"name": "x"}) == "writes denied"
    assert read_only("graphql", body={"query": "mutation { deleteFlowRun(id: 7) }"}) == "writes denied"


def test_a_site_s_base_and_web_urls_are_readable_in_code(tmp_path: Path) -> None:
    spec_file = tmp_path / "flows.json"
    spec_file.write_text(json.dumps(SPEC))
    registry = apis.SiteRegistry(tmp_path / "data")
    registry.add(
        apis.Site("flows", str(spec_file), "http://127.0.0.1:4200/api/", web_url="http://127.0.0.1:4200")
    )
    site = SiteHandle.from_registry(registry, "flows")
    tree = api_capability([site]).describe()["members"]["flows"]["members"]
    assert tree["base_url"] == {"kind": "value", "value": "http://127.0.0.1:4200/api"}
    # The kernel's stub is the value itself: `api.flows.web_url` reads, nothing is called.
    namespace = kernel_stub._stub(
        None,
        "api",
        [],
        {
            "kind": "namespace",
            "doc": "",
            "members": {"flows": {"kind": "namespace", "doc": "", "members": {"web_url": tree["web_url"]}}},
        },
    )  # type: ignore[arg-type]
    assert namespace.flows.web_url == "http://127.0.0.1:4200"
    site.client.close()


def test_the_browser_is_told_which_of_a_site_s_posts_read(tmp_path: Path) -> None:
    spec_file = tmp_path / "flows.json"
    spec_file.write_text(json.dumps(SPEC))
    registry = apis.SiteRegistry(tmp_path / "data")
    registry.add(apis.Site("flows", str(spec_file), "http://127.0.0.1:4200/api/"))
    registry.mark("flows", {"set_flow_run_state": "read"})
    site = SiteHandle.from_registry(registry, "flows")
    assert sorted(marked_reads([site])) == [
        ("POST", "http://127.0.0.1:4200/api/flow_runs/filter"),
        ("POST", "http://127.0.0.1:4200/api/flow_runs/{id}/set_state"),
    ]
    site.client.close()
