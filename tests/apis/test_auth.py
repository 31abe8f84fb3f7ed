from __future__ import annotations

import json
from pathlib import Path

import pytest

from apis import AuthError, FileSecretStore, build_client, describe_auth, load_spec, parse_auth_reference
from apis.auth import resolve_auth

SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Secured", "version": "1"},
    "paths": {"/me": {"get": {"operationId": "getMe", "responses": {"200": {"description": "ok"}}}}},
}


@pytest.fixture
def me(write_spec, cache_dir: Path, echo_server, tmp_path: Path):
    spec = load_spec(write_spec(SPEC), cache_dir)
    secrets = FileSecretStore(tmp_path / "secrets")

    def call(reference: dict) -> dict:
        with build_client(spec, base_url=echo_server.url, auth=reference, secrets=secrets) as client:
            return client.get_me()

    return call, secrets


def test_bearer_token_from_the_environment(me, monkeypatch) -> None:
    call, _ = me
    monkeypatch.setenv("DEMO_TOKEN", "tok-123")
    assert call({"type": "bearer", "token_env": "DEMO_TOKEN"})["headers"]["authorization"] == "Bearer tok-123"


def test_basic_auth_from_the_secret_store(me) -> None:
    call, secrets = me
    secrets.set("pw", "s3cret")
    echo = call({"type": "basic", "username": "alice", "password_secret": "pw"})
    assert echo["headers"]["authorization"] == "Basic YWxpY2U6czNjcmV0"


@pytest.mark.parametrize("location", ["header", "query", "cookie"])
def test_api_key_in_each_location(me, monkeypatch, location: str) -> None:
    call, _ = me
    monkeypatch.setenv("KEY", "k-9")
    echo = call({"type": "api_key", "in": location, "name": "api_key", "key_env": "KEY"})
    received = {
        "header": echo["headers"].get("api_key"),
        "query": dict(echo["query"]).get("api_key"),
        "cookie": echo["cookies"].get("api_key"),
    }
    assert received[location] == "k-9"
    assert [v for k, v in received.items() if k != location] == [None, None]


def test_secrets_never_appear_in_references_reprs_or_descriptions(monkeypatch) -> None:
    monkeypatch.setenv("DEMO_TOKEN", "tok-secret-value")
    reference = {"type": "bearer", "token_env": "DEMO_TOKEN"}
    assert "tok-secret-value" not in repr(resolve_auth(reference))
    assert describe_auth(reference) == "bearer: token from $DEMO_TOKEN"
    with pytest.raises(AuthError, match="secrets are never stored"):
        parse_auth_reference("bearer token=tok-secret-value")


def test_missing_secrets_say_what_to_do(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NOPE", raising=False)
    with pytest.raises(AuthError, match="NOPE .* is not set"):
        resolve_auth({"type": "bearer", "token_env": "NOPE"})
    with pytest.raises(AuthError, match="no entry 'gone'.*hybrid sites secret gone"):
        resolve_auth({"type": "bearer", "token_secret": "gone"}, FileSecretStore(tmp_path))


def test_reference_parsing_and_checks() -> None:
    assert parse_auth_reference("api_key in=query name=key key_env=K") == {
        "type": "api_key",
        "in": "query",
        "name": "key",
        "key_env": "K",
    }
    assert parse_auth_reference('{"type": "bearer", "token_secret": "t"}') == {
        "type": "bearer",
        "token_secret": "t",
    }
    with pytest.raises(AuthError, match="Unknown auth type 'oauth'"):
        parse_auth_reference("oauth token_env=X")
    with pytest.raises(AuthError, match="in=header\\|query\\|cookie"):
        parse_auth_reference("api_key in=body name=k key_env=K")
    with pytest.raises(AuthError, match="exactly one of password_env or password_secret"):
        parse_auth_reference("basic username=a")


def test_secret_files_are_private(tmp_path: Path) -> None:
    store = FileSecretStore(tmp_path / "secrets")
    store.set("token", "v")
    assert (tmp_path / "secrets" / "token").stat().st_mode & 0o777 == 0o600
    assert store.get("token") == "v" and store.remove("token") and store.get("token") is None
    with pytest.raises(AuthError, match="not a valid secret name"):
        store.set("../escape", "v")


def test_bearer_with_another_scheme_word(me, monkeypatch) -> None:
    call, _ = me
    monkeypatch.setenv("DRF_TOKEN", "abc")
    reference = parse_auth_reference("bearer scheme=Token token_env=DRF_TOKEN")
    assert call(reference)["headers"]["authorization"] == "Token abc"
    assert describe_auth(reference) == "bearer (scheme Token): token from $DRF_TOKEN"
    with pytest.raises(AuthError, match="not one word"):
        parse_auth_reference('{"type": "bearer", "scheme": "Token abc", "token_env": "DRF_TOKEN"}')


def test_oauth2_client_credentials_fetch_a_token_once(me, echo_server, monkeypatch) -> None:
    call, _ = me
    monkeypatch.setenv("CLIENT_SECRET", "s3cret")
    fetched = echo_server.calls["/oauth/token"]
    reference = {
        "type": "oauth2",
        "flow": "client_credentials",
        "token_url": f"{echo_server.url}/oauth/token",
        "client_id": "app",
        "client_secret_env": "CLIENT_SECRET",
        "scope": "read",
    }
    spec_client = call(reference)
    assert spec_client["headers"]["authorization"] == f"Bearer cc-{fetched + 1}"
    assert describe_auth(reference) == (
        f"oauth2 client_credentials at {echo_server.url}/oauth/token as 'app': "
        "client_secret from $CLIENT_SECRET"
    )


def test_oauth2_refresh_token_is_traded_for_access_tokens_as_they_expire(
    write_spec, cache_dir: Path, echo_server, tmp_path: Path
) -> None:
    secrets = FileSecretStore(tmp_path / "secrets")
    secrets.set("refresh", "r1")
    reference = parse_auth_reference(
        json.dumps(
            {
                "type": "oauth2",
                "flow": "refresh_token",
                "token_url": f"{echo_server.url}/oauth/token?expires_in=1",
                "client_id": "app",
                "refresh_token_secret": "refresh",
            }
        )
    )
    with build_client(
        load_spec(write_spec(SPEC), cache_dir), base_url=echo_server.url, auth=reference, secrets=secrets
    ) as client:
        first, second = (client.get_me()["headers"]["authorization"] for _ in range(2))
    assert first.startswith("Bearer from-r1-") and second.startswith("Bearer from-r1-") and first != second


def test_oauth2_references_are_checked(echo_server) -> None:
    with pytest.raises(AuthError, match="flow=client_credentials|refresh_token"):
        parse_auth_reference(
            '{"type": "oauth2", "token_url": "https://a/token", "client_id": "x", "client_secret_env": "S"}'
        )
    with pytest.raises(AuthError, match="needs exactly one of refresh_token_env or refresh_token_secret"):
        parse_auth_reference(
            '{"type": "oauth2", "flow": "refresh_token", "token_url": "https://a/token", "client_id": "x"}'
        )


def test_a_failing_token_endpoint_says_which_grant_failed(
    write_spec, cache_dir: Path, echo_server, monkeypatch
) -> None:
    monkeypatch.setenv("CLIENT_SECRET", "s")
    reference = {
        "type": "oauth2",
        "flow": "client_credentials",
        "token_url": f"{echo_server.url}/status/401",
        "client_id": "app",
        "client_secret_env": "CLIENT_SECRET",
    }
    with (
        build_client(
            load_spec(write_spec(SPEC), cache_dir), base_url=echo_server.url, auth=reference
        ) as client,
        pytest.raises(AuthError, match="client_credentials grant at .*/status/401 failed"),
    ):
        client.get_me()


def test_web_session_sends_the_cookies_it_is_given_at_each_request(
    write_spec, cache_dir: Path, echo_server
) -> None:
    jar = [{"name": "session", "value": "s-1"}]
    reference = parse_auth_reference("web_session")
    assert describe_auth(reference) == "web_session: the browser's cookies for the site"
    with build_client(
        load_spec(write_spec(SPEC), cache_dir),
        base_url=echo_server.url,
        auth=reference,
        web_cookies=lambda: jar,
    ) as client:
        assert client.get_me()["cookies"] == {"session": "s-1"}
        jar[0]["value"] = "s-2"
        assert client.get_me()["cookies"] == {"session": "s-2"}
    with pytest.raises(AuthError, match="works only where a browser signs in"):
        build_client(load_spec(write_spec(SPEC), cache_dir), base_url=echo_server.url, auth=reference)


REDIRECTED = {
    "openapi": "3.0.3",
    "info": {"title": "Redirected", "version": "1"},
    "paths": {
        "/redirect": {
            "get": {
                "operationId": "go",
                "parameters": [{"name": "to", "in": "query", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok"}},
            }
        }
    },
}


@pytest.mark.parametrize(
    "reference",
    [
        {"type": "bearer", "token_env": "KEY"},
        {"type": "bearer", "scheme": "Token", "token_env": "KEY"},
        {"type": "api_key", "in": "header", "name": "X-API-Key", "key_env": "KEY"},
        {"type": "api_key", "in": "query", "name": "api_key", "key_env": "KEY"},
        {"type": "api_key", "in": "cookie", "name": "session", "key_env": "KEY"},
        {"type": "basic", "username": "alice", "password_env": "KEY"},
    ],
    ids=lambda reference: f"{reference['type']}-{reference.get('in', reference.get('scheme', ''))}",
)
def test_no_credential_follows_a_redirect_to_another_origin(
    write_spec, cache_dir: Path, echo_server, other_origin, monkeypatch, reference: dict
) -> None:
    monkeypatch.setenv("KEY", "k-secret-9")
    spec = load_spec(write_spec(REDIRECTED), cache_dir)
    with build_client(spec, base_url=echo_server.url, auth=reference) as client:
        same = client.go(to=f"{echo_server.url}/landed")
        elsewhere = client.go(to=f"{other_origin.url}/landed")
    # The same origin gets the credential again after the redirect; the other origin gets none of it.
    assert "k-secret-9" in json.dumps(same) or "YWxpY2U6ay1zZWNyZXQtOQ" in json.dumps(same)
    assert elsewhere["path"] == "/landed" and elsewhere["method"] == "GET"
    assert "k-secret-9" not in json.dumps(elsewhere) and "YWxpY2U6ay1zZWNyZXQtOQ" not in json.dumps(elsewhere)
    assert not elsewhere["cookies"] and "authorization" not in elsewhere["headers"]
