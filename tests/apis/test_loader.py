from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from apis import SpecError, SpecProblem, check_spec, load_spec, operation_help, sources
from apis.validation import SpecValidator

EXPECTED_OPERATIONS = {
    "petstore.yaml": 3,
    "petstore-expanded.yaml": 4,
    "uspto.yaml": 3,
    "link-example.yaml": 6,
    "swagger-petstore-3.0.4.yaml": 19,
    "slack-web-swagger2.json": 174,
    "twilio-lookups-v2.json": 10,
    "spotify.yaml": 97,
    "discourse-3.1.json": 93,
    "pagerduty-events-v2.json": 2,
    "tmdb.json": 54,
    "gitea.json": 346,
    "httpbin.json": 78,
    "kubernetes.json": 845,
}


def minimal(paths: dict, **extra) -> dict:
    return {"openapi": "3.0.3", "info": {"title": "T", "version": "1"}, "paths": paths, **extra}


@pytest.mark.parametrize("name", sorted(EXPECTED_OPERATIONS))
def test_every_shared_spec_loads_with_all_its_operations(specs_dir: Path, name: str, cache_dir: Path) -> None:
    spec = load_spec(specs_dir / name, cache_dir)
    assert len(spec.operations) == EXPECTED_OPERATIONS[name]
    names = [op.name for op in spec.operations]
    assert len(set(names)) == len(names)
    assert all(n.isidentifier() and n == n.lower() for n in names)


def test_cached_load_gives_the_same_spec(specs_dir: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    cold = load_spec(specs_dir / "gitea.json", cache_dir)
    assert list(cache_dir.iterdir()), "the processed spec is cached"
    cached = load_spec(specs_dir / "gitea.json", cache_dir)
    assert cached.operations == cold.operations
    assert cached.document == cold.document
    assert cached.content_hash == cold.content_hash


def test_a_corrupt_cache_entry_is_ignored(specs_dir: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    load_spec(specs_dir / "petstore.yaml", cache_dir)
    for entry in cache_dir.iterdir():
        entry.write_text("{not json")
    assert len(load_spec(specs_dir / "petstore.yaml", cache_dir).operations) == 3


def test_yaml_dates_and_numeric_keys_stay_json_compatible(tmp_path: Path, cache_dir: Path) -> None:
    path = tmp_path / "dated.yaml"
    path.write_text(
        "openapi: 3.0.0\ninfo: {title: T, version: 2024-01-01}\npaths:\n  /a:\n    get:\n"
        "      operationId: getA\n      responses:\n        200: {description: ok}\n"
    )
    spec = load_spec(path, cache_dir)
    assert spec.api_version == "2024-01-01"
    assert spec.operations[0].responses == {"200": "ok"}


def test_missing_operation_ids_get_route_names_and_a_warning(write_spec, cache_dir: Path) -> None:
    spec = load_spec(
        write_spec(
            minimal(
                {
                    "/repos/{owner}/issues": {
                        "get": {
                            "parameters": [
                                {
                                    "name": "owner",
                                    "in": "path",
                                    "required": True,
                                    "schema": {"type": "string"},
                                }
                            ],
                            "responses": {"200": {"description": "ok"}},
                        }
                    }
                }
            )
        ),
        cache_dir,
    )
    assert spec.operations[0].name == "get_repos_owner_issues"
    assert (
        SpecProblem(
            "#/paths/~1repos~1{owner}~1issues/get",
            "no operationId; named get_repos_owner_issues from method and path",
        )
        in spec.warnings
    )


def test_duplicate_names_are_numbered_in_document_order(write_spec, cache_dir: Path) -> None:
    ok = {"responses": {"200": {"description": "ok"}}}
    spec = load_spec(
        write_spec(
            minimal(
                {
                    "/a": {"get": {"operationId": "listThings", **ok}},
                    "/b": {"get": {"operationId": "list_things", **ok}},
                    "/c": {"get": {"operationId": "list-things", **ok}},
                }
            )
        ),
        cache_dir,
    )
    assert [op.name for op in spec.operations] == ["list_things", "list_things_2", "list_things_3"]
    duplicates = [p for p in spec.warnings if "already used" in p.message]
    assert len(duplicates) == 2 and "GET /a" in duplicates[0].message


def test_undeclared_path_variables_become_string_arguments(write_spec, cache_dir: Path) -> None:
    spec = load_spec(
        write_spec(
            minimal(
                {
                    "/items/{item_id}": {
                        "get": {"operationId": "getItem", "responses": {"200": {"description": "ok"}}}
                    }
                }
            )
        ),
        cache_dir,
    )
    assert spec.operations[0].required_arguments == ["item_id"]
    assert any("{item_id} is not declared" in p.message for p in spec.warnings)


def test_strict_validation_runs_on_demand_and_names_the_offending_node(
    specs_dir: Path, tmp_path: Path
) -> None:
    assert not any(
        "does not match any of the regexes" in p.message
        for p in load_spec(specs_dir / "tmdb.json", tmp_path).warnings
    ), "loading does not validate strictly"
    problems = check_spec(specs_dir / "tmdb.json", tmp_path)
    assert (
        SpecProblem("#/paths/~1discover~1movie/get", "'cache' does not match any of the regexes: '^x-'")
        in problems
    )
    assert check_spec(specs_dir / "tmdb.json", tmp_path) == problems
    assert list(tmp_path.glob("*.check*.json")), "the findings are kept for this content"


def test_strict_problems_found_through_refs_point_at_the_node_not_the_root(
    specs_dir: Path, tmp_path: Path
) -> None:
    problems = check_spec(specs_dir / "slack-web-swagger2.json", tmp_path)
    assert (
        SpecProblem(
            "#/definitions/objs_channel/properties/latest/items",
            "the value is not of type 'object', 'boolean'",
        )
        in problems
    )
    assert all(p.where != "#" for p in problems)
    assert len(problems) == len(set(problems))


def test_ref_keys_alone_decide_whether_a_spec_spans_several_files(write_spec, tmp_path: Path) -> None:
    document = minimal(
        {
            "/things/$ref": {
                "get": {
                    "operationId": "getRef",
                    "description": "Takes a $ref: './other.json' like text",
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {"type": "object", "properties": {"$ref": {"type": "string"}}}
                                }
                            },
                        }
                    },
                }
            }
        }
    )
    cache_dir = tmp_path / "cache"
    load_spec(write_spec(document), cache_dir)
    assert list(cache_dir.glob("*.spec.json")), "a single-document spec is cached"


def test_invalid_json_names_file_line_and_column(tmp_path: Path, cache_dir: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "openapi": "3.0.0",\n  "paths": {,}\n}')
    with pytest.raises(SpecError, match=r"broken\.json: line 3, column 13: invalid JSON"):
        load_spec(path, cache_dir)


def test_invalid_yaml_names_the_line(tmp_path: Path, cache_dir: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("openapi: 3.0.0\npaths:\n  /a: [\n")
    with pytest.raises(SpecError, match=r"broken\.yaml: line \d+, column \d+: invalid YAML"):
        load_spec(path, cache_dir)


def test_unusable_specs_are_refused_with_the_reason(write_spec, cache_dir: Path) -> None:
    with pytest.raises(SpecError, match="neither an `openapi: 3.0/3.1`"):
        load_spec(write_spec({"openapi": "4.0.0", "paths": {}}, "future.json"), cache_dir)
    with pytest.raises(SpecError, match="`paths` is missing or empty"):
        load_spec(write_spec(minimal({}), "empty.json"), cache_dir)
    with pytest.raises(SpecError, match="holds no operation"):
        load_spec(write_spec(minimal({"/a": {"summary": "nothing"}}), "noops.json"), cache_dir)
    with pytest.raises(SpecError, match="cannot read the spec file"):
        load_spec(Path("/nonexistent/spec.json"), cache_dir)


def test_external_file_refs_are_inlined_and_remote_ones_not_fetched(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "schemas.json").write_text(
        json.dumps(
            {
                "Pet": {"type": "object", "properties": {"owner": {"$ref": "#/Owner"}}},
                "Owner": {"type": "string"},
            }
        )
    )
    main = tmp_path / "main.json"
    main.write_text(
        json.dumps(
            minimal(
                {
                    "/pets": {
                        "post": {
                            "operationId": "addPet",
                            "requestBody": {
                                "content": {"application/json": {"schema": {"$ref": "schemas.json#/Pet"}}}
                            },
                            "responses": {
                                "200": {
                                    "description": "ok",
                                    "content": {
                                        "application/json": {
                                            "schema": {"$ref": "https://example.invalid/remote.json#/Pet"}
                                        }
                                    },
                                }
                            },
                        }
                    }
                }
            )
        )
    )
    spec = load_spec(main, cache_dir)
    assert spec.operations[0].body.schema == {"type": "object", "properties": {"owner": {"type": "string"}}}
    assert any("remote reference" in p.message and "not fetched" in p.message for p in spec.warnings)
    (tmp_path / "schemas.json").write_text(json.dumps({"Pet": {"type": "integer"}}))
    assert load_spec(main, cache_dir).operations[0].body.schema == {"type": "integer"}, (
        "a changed file is read again"
    )


def test_loads_from_a_url_and_resolves_relative_servers(echo_server, cache_dir: Path) -> None:
    echo_server.documents["openapi.json"] = json.dumps(
        minimal(
            {"/a": {"get": {"operationId": "getA", "responses": {"200": {"description": "ok"}}}}},
            servers=[{"url": "/api/v1"}],
        )
    )
    spec = load_spec(f"{echo_server.url}/documents/openapi.json", cache_dir)
    assert spec.source == f"{echo_server.url}/documents/openapi.json"
    assert spec.default_base_url == f"{echo_server.url}/api/v1"


def test_a_url_spec_is_fetched_once_and_refreshed_with_a_conditional_request(
    echo_server, tmp_path: Path
) -> None:
    url = f"{echo_server.url}/documents/refreshed.json"
    first = minimal({"/a": {"get": {"operationId": "getA", "responses": {"200": {"description": "ok"}}}}})
    echo_server.documents["refreshed.json"] = json.dumps(first)
    assert len(load_spec(url, tmp_path).operations) == 1
    second = minimal(
        {
            **first["paths"],
            "/b": {"get": {"operationId": "getB", "responses": {"200": {"description": "ok"}}}},
        }
    )
    echo_server.documents["refreshed.json"] = json.dumps(second)
    fetched = echo_server.calls["/documents/refreshed.json"]
    assert len(load_spec(url, tmp_path).operations) == 1, "the kept copy is used"
    assert echo_server.calls["/documents/refreshed.json"] == fetched, "without asking the server"
    assert len(load_spec(url, tmp_path, refresh=True).operations) == 2
    unchanged_before = echo_server.not_modified
    assert len(load_spec(url, tmp_path, refresh=True).operations) == 2
    assert echo_server.not_modified == unchanged_before + 1, "an unchanged spec costs a 304"


def test_server_variables_take_their_defaults(specs_dir: Path, cache_dir: Path) -> None:
    spec = load_spec(specs_dir / "uspto.yaml", cache_dir)
    assert spec.default_base_url == "https://developer.uspto.gov/ds-api"


def test_format_suffix_twins_are_left_out_with_a_note(write_spec, cache_dir: Path) -> None:
    ok = {"200": {"description": "ok"}}
    fmt = [
        {"name": "format", "in": "path", "required": True, "schema": {"type": "string", "enum": [".json"]}}
    ]
    spec = load_spec(
        write_spec(
            minimal(
                {
                    "/api/items/": {"get": {"operationId": "items_list", "responses": ok}},
                    "/api/items{format}": {
                        "get": {"operationId": "items_list_formatted", "parameters": fmt, "responses": ok}
                    },
                    "/api/items/{id}.{format}": {
                        "get": {
                            "operationId": "items_read_formatted",
                            "parameters": [*fmt, {"name": "id", "in": "path", "required": True}],
                            "responses": ok,
                        }
                    },
                    "/api/items/{id}/": {
                        "get": {
                            "operationId": "items_read",
                            "parameters": [{"name": "id", "in": "path", "required": True}],
                            "responses": ok,
                        }
                    },
                    "/api/report.{format}": {
                        "get": {"operationId": "report", "parameters": fmt, "responses": ok}
                    },
                }
            )
        ),
        cache_dir,
    )
    assert [op.name for op in spec.operations] == ["items_list", "items_read", "report"]
    assert (
        SpecProblem("#/paths/~1api~1items{format}", "the same as /api/items/ with a format suffix; left out")
        in spec.warnings
    )


def test_yaml_alias_bombs_are_refused(tmp_path: Path, cache_dir: Path) -> None:
    lines = ["openapi: 3.0.0", 'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\npaths: {}\n")
    with pytest.raises(SpecError, match="expands through aliases"):
        load_spec(path, cache_dir)


def test_ordinary_yaml_anchors_still_load(tmp_path: Path, cache_dir: Path) -> None:
    path = tmp_path / "anchors.yaml"
    path.write_text("""openapi: 3.0.0
info: {title: Anchors, version: '1'}
x-ok: &ok {description: ok}
paths:
  /a: {get: {operationId: getA, responses: {'200': *ok}}}
  /b: {get: {operationId: getB, responses: {'200': *ok}}}
""")
    assert [op.responses for op in load_spec(path, cache_dir).operations] == [{"200": "ok"}, {"200": "ok"}]


def test_specs_past_the_size_limit_are_refused_unless_allowed(
    write_spec, cache_dir: Path, monkeypatch
) -> None:
    path = write_spec(
        minimal(
            {
                "/a": {
                    "get": {
                        "operationId": "getA",
                        "description": "x" * 300_000,
                        "responses": {"200": {"description": "ok"}},
                    }
                }
            }
        )
    )
    monkeypatch.setenv("HYBRID_MAX_SPEC_MB", "0.25")
    with pytest.raises(SpecError, match=r"larger than 0.25 MB.*HYBRID_MAX_SPEC_MB"):
        load_spec(path, cache_dir)
    monkeypatch.setenv("HYBRID_MAX_SPEC_MB", "1")
    assert load_spec(path, cache_dir).operations[0].name == "get_a"


def test_ref_cycles_load_and_render(write_spec, cache_dir: Path) -> None:
    spec = load_spec(
        write_spec(
            minimal(
                {
                    "/nodes": {
                        "post": {
                            "operationId": "addNode",
                            "requestBody": {
                                "content": {
                                    "application/json": {"schema": {"$ref": "#/components/schemas/Node"}}
                                }
                            },
                            "responses": {"200": {"description": "ok"}},
                        }
                    }
                },
                components={
                    "schemas": {
                        "Node": {
                            "type": "object",
                            "properties": {
                                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}
                            },
                        }
                    }
                },
            )
        ),
        cache_dir,
    )
    assert "children?: [Node]" in operation_help(spec, "add_node")


def test_real_spec_shapes_are_read_as_meant(write_spec, cache_dir: Path) -> None:
    spec = load_spec(
        write_spec(
            minimal(
                {
                    "/tracks": {
                        "get": {
                            "operationId": "getTracks",
                            "summary": (
                                "<p>Get the <b>saved</b> tracks&nbsp;of the user.</p><br/>More "
                                "<a href='x'>here</a>."
                            ),
                            "parameters": [
                                {
                                    "name": "limit",
                                    "in": "query",
                                    "required": "false",
                                    "schema": {"type": ["integer", "null"]},
                                },
                                {
                                    "name": "market",
                                    "in": "query",
                                    "required": "true",
                                    "deprecated": "false",
                                    "schema": {"type": "string"},
                                },
                            ],
                            "responses": {"200": {"description": "<p>The tracks</p>"}},
                        }
                    }
                }
            )
        ),
        cache_dir,
    )
    [operation] = spec.operations
    assert operation.required_arguments == ["market"] and operation.optional_arguments == ["limit"]
    assert operation.summary == "Get the saved tracks of the user. More here."
    assert operation.responses == {"200": "The tracks"}
    assert not operation.parameters[0].deprecated


def test_integers_past_64_bits_are_cached_too(write_spec, tmp_path: Path) -> None:
    bound = {"name": "id", "in": "query", "schema": {"type": "integer", "maximum": 18446744073709551616}}
    path = write_spec(
        minimal(
            {
                "/a": {
                    "get": {
                        "operationId": "getA",
                        "parameters": [bound],
                        "responses": {"200": {"description": "ok"}},
                    }
                }
            }
        )
    )
    load_spec(path, tmp_path)
    assert list(tmp_path.glob("*.spec.json"))
    assert load_spec(path, tmp_path).operations[0].parameters[0].schema["maximum"] == 18446744073709551616


def test_a_spec_nested_thousands_of_levels_deep_is_refused_in_one_line(
    tmp_path: Path, cache_dir: Path
) -> None:
    text = json.dumps(minimal({"/x": {"get": {"responses": {"200": {"description": "ok"}}}}}))
    path = tmp_path / "deep.json"
    path.write_text(text[:-1] + ', "x-deep": ' + "[" * 20_000 + "]" * 20_000 + "}")
    with pytest.raises(SpecError) as raised:
        load_spec(path, cache_dir)
    message = str(raised.value)
    assert "\n" not in message and "nested deeper than" in message and str(path) in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


@pytest.mark.parametrize(
    ("schemas", "cycle"),
    [
        ({"A": {"$ref": "#/components/schemas/A"}}, "A -> A"),
        ({"A": {"$ref": "#/components/schemas/B"}, "B": {"$ref": "#/components/schemas/A"}}, "A -> B -> A"),
    ],
)
def test_a_schema_that_is_only_a_reference_to_itself_is_one_cycle_warning(
    write_spec, cache_dir: Path, schemas: dict, cycle: str
) -> None:
    body = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}}
    operation = {
        "operationId": "put",
        "requestBody": body,
        "responses": {"200": {"description": "ok", **body}},
    }
    spec = load_spec(
        write_spec(minimal({"/x": {"post": operation}}, components={"schemas": schemas})), cache_dir
    )
    cycles = [w for w in spec.warnings if "cycle" in w.message]
    assert len(cycles) == 1 and f"({cycle})" in cycles[0].message
    assert cycles[0].where == "#/components/schemas/A"
    # The cycle is gone from what docs and checks follow: any value passes, nothing recurses.
    assert "body: optional" in operation_help(spec, "put")
    assert SpecValidator(spec).request_problems(spec.operation("put"), {"body": {"a": 1}}) == []


def test_a_changed_spec_replaces_its_previous_version_in_the_cache(write_spec, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for version in ("1", "2", "3"):
        document = minimal({"/x": {"get": {"responses": {"200": {"description": "ok"}}}}})
        document["info"]["version"] = version
        load_spec(write_spec(document, "changing.json"), cache)
    other = write_spec(minimal({"/y": {"get": {"responses": {"200": {"description": "ok"}}}}}), "other.json")
    load_spec(other, cache)
    entries = {path.name.split("-")[0] for path in cache.glob("*.spec.json")}
    assert len(entries) == 2  # the third version of changing.json and other.json
    assert len(list(cache.glob("*.document.json"))) == 2
    assert load_spec(write_spec(document, "changing.json"), cache).api_version == "3"


@pytest.fixture
def trickling_server() -> Iterator[str]:
    """An HTTP server that answers every connection with one byte every 0.1 s, never finishing."""
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)

    def serve() -> None:
        connections = []
        payload = b'HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n{"openapi": "3.0.3"' + b" " * 100_000
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                connection, _ = listener.accept()
                connections.append([connection, 0])
            for entry in connections:
                with contextlib.suppress(OSError):
                    entry[0].sendall(payload[entry[1] : entry[1] + 1])
                    entry[1] += 1
        for connection, _ in connections:
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/spec.json"
    stop.set()
    thread.join(timeout=10)
    listener.close()


def test_a_server_sending_a_byte_at_a_time_cannot_hold_a_load_for_ever(
    trickling_server: str, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "FETCH_DEADLINE_SECONDS", 1.5)
    with pytest.raises(SpecError) as raised:
        load_spec(trickling_server, cache_dir)
    assert "did not arrive within 1.5 s" in str(raised.value) and "\n" not in str(raised.value)
