from __future__ import annotations

import inspect
import io
import warnings
from pathlib import Path

import httpx
import pytest

from apis import (
    ApiArgumentError,
    ApiNetworkError,
    ApiStatusError,
    ApiValidationError,
    ApiValidationWarning,
    Mismatch,
    RetryPolicy,
    build_client,
    load_spec,
    mismatch_section,
    operation_help,
)
from apis.docs import operation_line
from apis.validation import SpecValidator

OK = {"200": {"description": "ok"}}
STRING = {"type": "string"}
ITEM = {"type": "object", "required": ["name"], "properties": {"name": STRING, "count": {"type": "integer"}}}

TRACKER = {
    "openapi": "3.0.3",
    "info": {"title": "Tracker", "version": "1"},
    "paths": {
        "/items/{item_id}": {
            "get": {
                "operationId": "getItem",
                "summary": "Get one item.",
                "parameters": [
                    {"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                    {"name": "tags", "in": "query", "schema": {"type": "array", "items": STRING}},
                    {
                        "name": "ids",
                        "in": "query",
                        "style": "form",
                        "explode": False,
                        "schema": {"type": "array", "items": {"type": "integer"}},
                    },
                    {
                        "name": "filter",
                        "in": "query",
                        "style": "deepObject",
                        "schema": {"type": "object", "additionalProperties": STRING},
                    },
                    {"name": "X-Trace-Id", "in": "header", "schema": STRING},
                    {"name": "session", "in": "cookie", "schema": STRING},
                    {"name": "verbose", "in": "query", "schema": {"type": "boolean"}},
                ],
                "responses": OK,
            },
            "delete": {
                "operationId": "deleteItem",
                "parameters": [{"name": "item_id", "in": "path", "required": True, "schema": STRING}],
                "responses": OK,
            },
        },
        "/items": {
            "post": {
                "operationId": "createItem",
                "requestBody": {"required": True, "content": {"application/json": {"schema": ITEM}}},
                "responses": {
                    "201": {"description": "created", "content": {"application/json": {"schema": ITEM}}}
                },
            }
        },
        "/forms": {
            "post": {
                "operationId": "submitForm",
                "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": ITEM}}},
                "responses": OK,
            }
        },
        "/uploads": {
            "post": {
                "operationId": "upload",
                "requestBody": {
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "caption": STRING,
                                    "file": {"type": "string", "format": "binary"},
                                },
                            }
                        }
                    }
                },
                "responses": OK,
            }
        },
        "/raw": {
            "put": {
                "operationId": "putRaw",
                "requestBody": {
                    "content": {
                        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                    }
                },
                "responses": OK,
            }
        },
        "/status/{code}": {
            "get": {
                "operationId": "getStatus",
                "parameters": [
                    {"name": "code", "in": "path", "required": True, "schema": {"type": "integer"}},
                    {"name": "big", "in": "query", "schema": STRING},
                ],
                "responses": OK,
            }
        },
        "/flaky/{key}": {
            "get": {
                "operationId": "getFlaky",
                "parameters": [{"name": "key", "in": "path", "required": True, "schema": STRING}],
                "responses": OK,
            },
            "post": {
                "operationId": "postFlaky",
                "parameters": [{"name": "key", "in": "path", "required": True, "schema": STRING}],
                "responses": OK,
            },
        },
        "/text": {"get": {"operationId": "getText", "responses": OK}},
        "/bytes": {"get": {"operationId": "getBytes", "responses": OK}},
        "/empty": {"get": {"operationId": "getEmpty", "responses": {"204": {"description": "nothing"}}}},
        "/typed": {
            "get": {
                "operationId": "getTyped",
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["id"],
                                    "properties": {"id": {"type": "integer"}},
                                }
                            }
                        },
                    }
                },
            }
        },
    },
}

FAST_RETRY = RetryPolicy(attempts=3, backoff_seconds=0.01)


@pytest.fixture
def tracker(write_spec, cache_dir: Path, echo_server):
    spec = load_spec(write_spec(TRACKER), cache_dir)
    with build_client(spec, base_url=echo_server.url, retry=FAST_RETRY) as client:
        yield client


def test_parameters_in_every_location(tracker) -> None:
    echo = tracker.get_item(
        item_id=7,
        tags=["a", "b"],
        ids=[1, 2],
        filter={"state": "open"},
        x_trace_id="t-1",
        session="s-1",
        verbose=True,
    )
    assert echo["path"] == "/items/7"
    assert echo["query"] == [
        ["tags", "a"],
        ["tags", "b"],
        ["ids", "1,2"],
        ["filter[state]", "open"],
        ["verbose", "true"],
    ]
    assert echo["headers"]["x-trace-id"] == "t-1"
    assert echo["cookies"] == {"session": "s-1"}


def test_path_values_are_percent_encoded(tracker) -> None:
    assert tracker.delete_item(item_id="a/b c")["raw_path"] == "/items/a%2Fb%20c"


def test_spec_parameter_names_are_accepted_too(tracker) -> None:
    echo = tracker.get_item(**{"item_id": 1, "X-Trace-Id": "t-2"})
    assert echo["headers"]["x-trace-id"] == "t-2"


def test_json_body(tracker) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ApiValidationWarning)  # the echo is not an Item
        echo = tracker.create_item(body={"name": "n", "count": 2})
    assert echo["content_type"] == "application/json"
    assert echo["body"] == '{"name": "n", "count": 2}'


def test_form_body(tracker) -> None:
    echo = tracker.submit_form(body={"name": "n", "count": 3})
    assert echo["content_type"] == "application/x-www-form-urlencoded"
    assert echo["form"] == {"name": "n", "count": "3"}


def test_multipart_body_with_a_file(tracker) -> None:
    echo = tracker.upload(
        body={"caption": "hello", "file": ("a.txt", io.BytesIO(b"file content"), "text/plain")}
    )
    assert echo["content_type"].startswith("multipart/form-data")
    assert echo["form"] == {"caption": "hello", "file": {"filename": "a.txt", "content": "file content"}}


def test_multipart_body_without_files_is_still_multipart(tracker) -> None:
    echo = tracker.upload(body={"caption": "only text"})
    assert echo["content_type"].startswith("multipart/form-data")
    assert echo["form"] == {"caption": "only text"}


def test_raw_bytes_body(tracker) -> None:
    echo = tracker.put_raw(body=b"\x00raw")
    assert echo["content_type"] == "application/octet-stream"
    assert echo["body"] == "\x00raw"


def test_responses_parsed_by_content_type(tracker) -> None:
    assert tracker.get_text() == "plain words"
    assert tracker.get_bytes() == b"\x00\x01binary"
    assert tracker.get_empty() is None


def test_status_errors_carry_operation_status_and_trimmed_body(tracker) -> None:
    with pytest.raises(ApiStatusError) as caught:
        tracker.get_status(code=404)
    error = caught.value
    assert (error.operation, error.status, error.method) == ("get_status", 404, "GET")
    assert "status 404 as asked" in error.body
    assert "get_status: GET" in str(error) and "returned 404" in str(error) and "path arguments" in str(error)
    with pytest.raises(ApiStatusError) as caught:
        tracker.get_status(code=422, big="1")
    assert len(caught.value.body) < 2100 and "characters cut" in caught.value.body


def test_network_errors_name_the_operation(write_spec, cache_dir: Path, closed_url: str) -> None:
    spec = load_spec(write_spec(TRACKER), cache_dir)
    with (
        build_client(spec, base_url=closed_url, retry=FAST_RETRY) as client,
        pytest.raises(ApiNetworkError, match="get_text: GET .* failed before any answer") as caught,
    ):
        client.get_text()
    assert caught.value.operation == "get_text"


def test_idempotent_calls_are_retried_and_writes_are_not(tracker, echo_server) -> None:
    assert tracker.get_flaky(key="retry-get")["method"] == "GET"
    assert echo_server.calls["/flaky/retry-get"] == 3
    with pytest.raises(ApiStatusError) as caught:
        tracker.post_flaky(key="retry-post")
    assert caught.value.status == 503
    assert echo_server.calls["/flaky/retry-post"] == 1


def test_argument_mistakes_are_reported_before_sending(tracker, echo_server) -> None:
    sent = len(echo_server.requests)
    with pytest.raises(ApiArgumentError, match="missing required argument.*item_id"):
        tracker.get_item(tags=["a"])
    with pytest.raises(ApiArgumentError, match=r"unknown argument 'tag'.*Did you mean tags"):
        tracker.get_item(item_id=1, tag="a")
    with pytest.raises(ApiArgumentError, match="missing required argument.*body"):
        tracker.create_item()
    with pytest.raises(AttributeError, match="no operation named 'get_itme'.*get_item"):
        _ = tracker.get_itme
    assert len(echo_server.requests) == sent


def test_request_validation_problems_warn_but_the_call_goes_ahead(tracker, echo_server) -> None:
    with pytest.warns(ApiValidationWarning) as warned:
        echo = tracker.create_item(body={"name": "n", "count": "not a number"})
    assert echo["method"] == "POST"
    assert "create_item: request body.count: spec says type 'integer', got 'not a number'" in [
        str(w.message) for w in warned
    ]


def test_strict_validation_blocks_bad_requests(write_spec, cache_dir: Path, echo_server) -> None:
    spec = load_spec(write_spec(TRACKER), cache_dir)
    sent = len(echo_server.requests)
    with (
        build_client(spec, base_url=echo_server.url, validation="strict") as client,
        pytest.raises(ApiValidationError, match="count"),
    ):
        client.create_item(body={"name": "n", "count": "not a number"})
    assert len(echo_server.requests) == sent


def test_response_mismatch_is_a_warning_and_returns_the_data(tracker) -> None:
    with pytest.warns(ApiValidationWarning) as warned:
        echo = tracker.get_typed()
    assert echo["path"] == "/typed"
    assert [str(w.message) for w in warned if w.category is ApiValidationWarning] == [
        "get_typed: response body does not match the spec: 'id' is a required property"
    ]


def test_mismatches_go_to_the_handler_as_short_lines_with_the_detail_kept(
    write_spec, cache_dir: Path, echo_server
) -> None:
    found = []
    spec = load_spec(write_spec(TRACKER), cache_dir)
    with (
        build_client(spec, base_url=echo_server.url, on_mismatch=found.append) as client,
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("error")
        client.create_item(body={"name": "n" * 5000, "count": "x" * 5000})
    request = [m for m in found if m.direction == "request"]
    assert [(m.field, m.expected) for m in request] == [("body.count", "type 'integer'")]
    assert len(request[0].line()) < 200 and "x" * 5000 in request[0].detail


def test_deep_object_arrays_are_a_known_gap_that_never_blocks(
    write_spec, cache_dir: Path, echo_server
) -> None:
    spec_doc = {
        **TRACKER,
        "paths": {
            "/search": {
                "get": {
                    "operationId": "search",
                    "parameters": [
                        {
                            "name": "filter",
                            "in": "query",
                            "style": "deepObject",
                            "explode": True,
                            "schema": {
                                "type": "object",
                                "properties": {"labels": {"type": "array", "items": STRING}},
                            },
                        }
                    ],
                    "responses": OK,
                }
            }
        },
    }
    with (
        build_client(load_spec(write_spec(spec_doc), cache_dir), base_url=echo_server.url) as client,
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("error")  # anything but an ApiValidationWarning would fail the test
        warnings.simplefilter("ignore", ApiValidationWarning)
        echo = client.search_(filter={"labels": ["x"]})
    assert echo["path"] == "/search"


def test_operations_expose_writes_host_signature_and_docs(tracker, echo_server) -> None:
    assert "get_item" in tracker.operations() and "get_item" in dir(tracker)
    assert tracker.get_item.writes is False and tracker.delete_item.writes is True
    assert tracker.get_item.host == "127.0.0.1" and tracker.host == "127.0.0.1"
    assert str(inspect.signature(tracker.create_item)) == "(*, body)"
    assert "GET /items/{item_id}" in tracker.get_item.__doc__
    assert "tags: [string], optional, in query" in tracker.get_item.__doc__


def test_base_url_defaults_to_the_spec_server_or_asks_for_one(
    write_spec, cache_dir: Path, specs_dir: Path
) -> None:
    client = build_client(load_spec(specs_dir / "petstore.yaml", cache_dir))
    assert client.base_url == "http://petstore.swagger.io/v1"
    with pytest.raises(ValueError, match="pass base_url="):
        build_client(load_spec(write_spec(TRACKER), cache_dir))


def test_operation_level_servers_are_used_without_an_explicit_base_url(
    specs_dir: Path, cache_dir: Path
) -> None:
    client = build_client(load_spec(specs_dir / "twilio-lookups-v2.json", cache_dir))
    name = client.operations()[0]
    assert getattr(client, name).host == "lookups.twilio.com"


def test_clients_build_for_every_shared_spec(specs_dir: Path, cache_dir: Path) -> None:
    for path in sorted(specs_dir.glob("*.[jy]*")):
        client = build_client(load_spec(path, cache_dir), base_url="http://127.0.0.1:9")
        first = getattr(client, client.operations()[0])
        assert first.__doc__ and callable(first)


def test_a_schema_the_docs_cannot_read_leaves_the_operation_callable(
    write_spec, cache_dir: Path, echo_server
) -> None:
    odd = {"type": {"kind": "object"}, "properties": {"name": {"type": ["string", "null"]}}, "required": True}
    spec = load_spec(
        write_spec(
            {
                "openapi": "3.0.3",
                "info": {"title": "Odd", "version": "1"},
                "paths": {
                    "/items": {
                        "post": {
                            "operationId": "createItem",
                            "parameters": [
                                {"name": "mode", "in": "query", "schema": {"type": {"not": "a string"}}}
                            ],
                            "requestBody": {"content": {"application/json": {"schema": odd}}},
                            "responses": {
                                "200": {"description": "ok", "content": {"application/json": {"schema": odd}}}
                            },
                        }
                    }
                },
            }
        ),
        cache_dir,
    )
    with build_client(spec, base_url=echo_server.url, on_mismatch=lambda found: None) as client:
        create = client.create_item
        assert create.__doc__.startswith("create_item(mode=None, body=None)")
        assert client.create_item(mode="x", body={"name": "n"})["query"] == [["mode", "x"]]


def test_whatever_breaks_the_help_the_operation_stays_callable(tracker, monkeypatch) -> None:
    def broken(spec, name):
        raise RecursionError("a schema too deep to describe")

    monkeypatch.setattr("apis.client.operation_help", broken)
    assert "could not be rendered from the spec: RecursionError" in tracker.delete_item.__doc__
    assert tracker.delete_item(item_id="7")["method"] == "DELETE"


def test_read_only_properties_are_not_checked_in_requests_but_nulls_and_types_are(
    write_spec, cache_dir: Path
) -> None:
    """GitHub marks its `alert_number` path parameter readOnly: sending it is how the API is called."""
    number = {"type": "integer", "readOnly": True}
    item = {
        "type": "object",
        "properties": {"id": number, "title": {"type": "string", "nullable": True}, "n": {"type": "integer"}},
    }
    operation = {
        "operationId": "update_alert",
        "parameters": [{"name": "alert_number", "in": "path", "required": True, "schema": number}],
        "requestBody": {"content": {"application/json": {"schema": item}}},
        "responses": {
            "200": {
                "description": "ok",
                "content": {"application/json": {"schema": {"type": "array", "items": item}}},
            }
        },
    }
    spec = load_spec(
        write_spec({**TRACKER, "paths": {"/alerts/{alert_number}": {"patch": operation}}}), cache_dir
    )
    validator = SpecValidator(spec)
    update = spec.operation("update_alert")
    assert validator.request_problems(update, {"alert_number": 8, "body": {"id": 8, "title": None}}) == []
    wrong = validator.request_problems(update, {"alert_number": 8, "body": {"id": 8, "n": "x"}})
    assert [m.line() for m in wrong] == ["update_alert: request body.n: spec says type 'integer', got 'x'"]
    page = [{"id": i, "title": None if i % 2 else "t", "n": i} for i in range(100)]
    response = httpx.Response(200, json=page)
    assert validator.response_problems(update, response, page) == []
    page[57]["n"] = "57"
    assert [m.field for m in validator.response_problems(update, response, page)] == ["body[57].n"]


PAGES = {
    **TRACKER,
    "paths": {
        "/html": {
            "get": {
                "operationId": "list_things",
                "parameters": [
                    {"name": "title", "in": "query", "schema": STRING},
                    {"name": "status", "in": "query", "schema": {"type": "integer"}},
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": {"type": "array"}}},
                    }
                },
            }
        }
    },
}


def test_a_web_page_where_json_is_promised_is_one_line_with_its_title(
    write_spec, cache_dir: Path, echo_server
) -> None:
    found: list[Mismatch] = []
    spec = load_spec(write_spec(PAGES), cache_dir)
    with build_client(spec, base_url=echo_server.url, on_mismatch=found.append) as client:
        client.list_things(title="Sign in &middot; Acme")
        with pytest.raises(ApiStatusError) as raised:
            client.list_things(title="500 Internal Server Error", status=500)
    expected = (
        "list_things: response content type: spec says application/json, got text/html, "
        "an HTML page titled 'Sign in · Acme' (4,090 characters)"
    )
    assert [m.line() for m in found] == [expected]
    message = str(raised.value)
    assert "<" not in message and len(message.splitlines()) == 2
    assert message.endswith(
        "Response body: an HTML page titled '500 Internal Server Error' (4,094 characters)"
    )


def test_mismatch_lines_name_their_site_are_shown_once_and_counted_past_ten() -> None:
    def mismatch(n: int) -> Mismatch:
        return Mismatch(f"op{n}", "response", "body.id", "type 'integer'", "'x'", "detail")

    shown: set[str] = set()
    first = mismatch_section({"gitea": [mismatch(1), mismatch(1)], "jira": [mismatch(1)]}, shown)
    assert first.splitlines()[2:] == [
        "- gitea: op1: response body.id: spec says type 'integer', got 'x'",
        "- jira: op1: response body.id: spec says type 'integer', got 'x'",
    ]
    assert mismatch_section({"gitea": [mismatch(1)]}, shown) == ""
    many = mismatch_section({"gitea": [mismatch(n) for n in range(1, 15)]}, shown).splitlines()
    assert many[2] == "- gitea: op2: response body.id: spec says type 'integer', got 'x'"
    assert len(many) == 13 and many[-1] == "- and 3 more (the run record has every one)"


def test_headers_the_spec_presets_are_sent_for_the_caller_and_left_out_of_call_shapes(
    write_spec, cache_dir: Path, echo_server
) -> None:
    version = {
        "name": "x-prefect-api-version",
        "in": "header",
        "required": True,
        "schema": {"type": "string", "default": "0.8.4"},
    }
    tenant = {"name": "X-Tenant", "in": "header", "schema": {"const": "acme"}}
    limit = {"name": "limit", "in": "query", "schema": {"type": "integer"}}
    operation = {"operationId": "read_flows", "parameters": [version, tenant, limit], "responses": OK}
    spec = load_spec(write_spec({**TRACKER, "paths": {"/flows": {"get": operation}}}), cache_dir)
    assert operation_line(spec.operation("read_flows")) == "read_flows(limit=?) GET /flows"
    assert "x_prefect_api_version" not in operation_help(spec, "read_flows")
    with build_client(spec, base_url=echo_server.url) as client:
        sent = client.read_flows()["headers"]
        assert (sent["x-prefect-api-version"], sent["x-tenant"]) == ("0.8.4", "acme")
        assert client.read_flows(x_prefect_api_version="0.8.5")["headers"]["x-prefect-api-version"] == "0.8.5"


def test_generated_fastapi_ids_get_short_names_and_keep_theirs_as_aliases(
    write_spec, cache_dir: Path, echo_server
) -> None:
    paths = {
        "/flow_runs/filter": {
            "post": {"operationId": "read_flow_runs_flow_runs_filter_post", "responses": OK}
        },
        "/flow_runs/{id}": {"get": {"operationId": "read_flow_run_flow_runs__id__get", "responses": OK}},
        "/v2/flow_runs/{id}": {
            "get": {"operationId": "read_flow_run_v2_flow_runs__id__get", "responses": OK}
        },
        "/health": {"get": {"operationId": "health_check", "responses": OK}},
    }
    spec = load_spec(write_spec({**TRACKER, "paths": paths}), cache_dir)
    assert [(op.name, op.alias) for op in spec.operations] == [
        ("read_flow_runs", "read_flow_runs_flow_runs_filter_post"),
        ("read_flow_run", "read_flow_run_flow_runs_id_get"),
        ("read_flow_run_v2_flow_runs_id_get", None),  # its short name is taken: it keeps the long one
        ("health_check", None),
    ]
    assert "Also callable as read_flow_runs_flow_runs_filter_post" in operation_help(spec, "read_flow_runs")
    with build_client(spec, base_url=echo_server.url) as client:
        assert client.read_flow_run(id="7")["path"] == "/flow_runs/7"
        assert client.read_flow_run_flow_runs_id_get(id="8")["path"] == "/flow_runs/8"
