"""Which operations read and which write: by method, by a query-only path, by the spec's mark, by the user."""

from __future__ import annotations

from pathlib import Path

from apis import SiteRegistry, load_spec, operation_help
from apis.registry import Site

OK = {"200": {"description": "ok"}}
QUERY = {"content": {"application/json": {"schema": {"type": "object"}}}}
SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Flows", "version": "1"},
    "paths": {
        "/flow_runs/": {"post": {"operationId": "create_flow_run", "requestBody": QUERY, "responses": OK}},
        "/flow_runs/filter": {
            "post": {"operationId": "read_flow_runs", "requestBody": QUERY, "responses": OK}
        },
        "/flow_runs/count": {"post": {"operationId": "count_flow_runs", "responses": OK}},
        "/logs/search": {"post": {"operationId": "search_logs", "responses": OK}},
        "/reports": {"post": {"operationId": "build_report", "x-read-only": True, "responses": OK}},
        "/flow_runs/{id}": {
            "get": {"operationId": "read_flow_run", "responses": OK},
            "delete": {"operationId": "delete_flow_run", "responses": OK},
        },
        "/graphql": {"post": {"operationId": "graphql", "requestBody": QUERY, "responses": OK}},
    },
}


def test_posts_that_only_query_are_reads_and_the_spec_can_mark_others(write_spec, cache_dir: Path) -> None:
    spec = load_spec(write_spec(SPEC), cache_dir)
    writes = {op.name: op.writes for op in spec.operations}
    assert writes == {
        "create_flow_run": True,
        "read_flow_runs": False,
        "count_flow_runs": False,
        "search_logs": False,
        "build_report": False,
        "read_flow_run": False,
        "delete_flow_run": True,
        "graphql": True,
    }
    assert "POST /flow_runs/filter  (read-only: it only queries)" in operation_help(spec, "read_flow_runs")
    assert "(changes data)" in operation_help(spec, "create_flow_run")


def test_a_graphql_call_reads_unless_its_document_is_a_mutation(write_spec, cache_dir: Path) -> None:
    graphql = load_spec(write_spec(SPEC), cache_dir).operation("graphql")
    assert not graphql.writes_for(body={"query": "{ viewer { login } }"})
    assert not graphql.writes_for(
        body={"query": "query Repos($n: Int) { viewer { repositories(first: $n) { totalCount } } }"}
    )
    assert graphql.writes_for(
        body={"query": "fragment F on Issue { id }\nmutation { closeIssue(input: {}) { issue { ...F } } }"}
    )
    assert graphql.writes_for(body="not a document")


def test_the_user_marks_operations_either_way_in_the_site_record(write_spec, tmp_path: Path) -> None:
    registry = SiteRegistry(tmp_path / "data")
    registry.add(Site("flows", str(write_spec(SPEC)), "http://127.0.0.1:4200/api"))
    site = registry.mark("flows", {"create_flow_run": "read", "read_flow_run": "write"})
    assert site.effects == {"create_flow_run": "read", "read_flow_run": "write"}
    spec = registry.load_spec("flows")
    assert not spec.operation("create_flow_run").writes and spec.operation("read_flow_run").writes
    assert registry.mark("flows", {"read_flow_run": "read"}).effects == {
        "create_flow_run": "read",
        "read_flow_run": "read",
    }
    try:
        registry.mark("flows", {"read_flow_rns": "read"})
    except KeyError as exc:
        assert "Did you mean: read_flow_runs, read_flow_run" in exc.args[0]
    else:
        raise AssertionError("an unknown operation was marked")
