"""The demo site's REST API, exercised over HTTP as an API client would."""

from __future__ import annotations

import re

import httpx
import pytest

from hybrid.demo import DemoSite


@pytest.fixture
def alice(demo: DemoSite) -> httpx.Client:
    with httpx.Client(
        base_url=demo.api_url, headers={"Authorization": f"Bearer {demo.token_for('alice')}"}
    ) as c:
        yield c


def client_for(demo: DemoSite, username: str) -> httpx.Client:
    return httpx.Client(
        base_url=demo.api_url, headers={"Authorization": f"Bearer {demo.token_for(username)}"}
    )


def all_pages(client: httpx.Client, path: str, **params) -> list[dict]:
    items, page = [], 1
    while True:
        response = client.get(path, params={**params, "page": page, "per_page": 100})
        response.raise_for_status()
        batch = response.json()
        items += batch
        if len(batch) < 100:
            return items
        page += 1


def test_requests_without_a_valid_token_are_refused(demo: DemoSite) -> None:
    assert httpx.get(f"{demo.api_url}/user").status_code == 401
    bad = httpx.get(f"{demo.api_url}/user", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert "token" in bad.json()["detail"].lower()


def test_current_user_is_the_token_owner(alice: httpx.Client) -> None:
    assert alice.get("/user").json()["username"] == "alice"


def test_issue_lists_are_paginated_with_total_and_link_headers(alice: httpx.Client) -> None:
    first = alice.get("/projects/alice/tracker-core/issues", params={"state": "all", "per_page": 50})
    total = int(first.headers["X-Total-Count"])
    assert total == 230 and len(first.json()) == 50
    assert 'rel="next"' in first.headers["Link"] and "page=5" in first.headers["Link"]
    everything = all_pages(alice, "/projects/alice/tracker-core/issues", state="all")
    assert sorted(i["number"] for i in everything) == list(range(1, 231))
    assert alice.get("/projects/alice/tracker-core/issues", params={"per_page": 101}).status_code == 422


def test_issue_filters_combine(alice: httpx.Client) -> None:
    issues = all_pages(alice, "/projects/alice/tracker-core/issues", state="closed", labels="bug,security")
    assert issues and all(i["state"] == "closed" and {"bug", "security"} <= set(i["labels"]) for i in issues)
    unassigned = all_pages(alice, "/projects/alice/tracker-core/issues", assignee="none")
    assert unassigned and all(i["assignee"] is None for i in unassigned)
    v2 = all_pages(alice, "/projects/alice/tracker-core/issues", milestone="v2.0", state="all")
    assert v2 and all(i["milestone"] == "v2.0" for i in v2)
    found = all_pages(alice, "/projects/alice/tracker-core/issues", q="csv export", state="all")
    assert found and all("csv export" in (i["title"] + i["body"]).lower() for i in found)


def test_private_projects_are_hidden_from_non_members(demo: DemoSite) -> None:
    with client_for(demo, "erin") as erin, client_for(demo, "frank") as frank:
        assert erin.get("/projects/dave/infra").status_code == 404
        assert "dave/infra" not in [p["path"] for p in all_pages(erin, "/projects")]
        assert frank.get("/projects/dave/infra").json()["visibility"] == "private"


def test_issue_lifecycle_create_comment_close(alice: httpx.Client) -> None:
    created = alice.post(
        "/projects/alice/docs-site/issues",
        json={
            "title": "Explain API tokens",
            "body": "Where do I find mine?",
            "labels": ["docs"],
            "assignee": "grace",
            "milestone": "v1.1",
        },
    )
    assert created.status_code == 201
    number = created.json()["number"]
    assert number == 35 and created.json()["web_url"].endswith(f"/alice/docs-site/issues/{number}")
    comment = alice.post(
        f"/projects/alice/docs-site/issues/{number}/comments", json={"body": "On the profile."}
    )
    assert comment.status_code == 201
    closed = alice.patch(f"/projects/alice/docs-site/issues/{number}", json={"state": "closed"})
    assert closed.json()["state"] == "closed" and closed.json()["closed_at"]
    fetched = alice.get(f"/projects/alice/docs-site/issues/{number}").json()
    assert fetched["comments_count"] == 1 and fetched["labels"] == ["docs"] and fetched["assignee"] == "grace"


def test_invalid_input_says_what_is_wrong(alice: httpx.Client) -> None:
    bad_label = alice.post("/projects/alice/docs-site/issues", json={"title": "x", "labels": ["nope"]})
    assert bad_label.status_code == 422
    assert "nope" in bad_label.json()["detail"] and "existing labels" in bad_label.json()["detail"]
    outsider = alice.post("/projects/alice/docs-site/issues", json={"title": "x", "assignee": "oscar"})
    assert outsider.status_code == 422 and "not a member" in outsider.json()["detail"]
    missing = alice.get("/projects/alice/docs-site/issues/9999")
    assert missing.status_code == 404 and "#9999" in missing.json()["detail"]


def test_permissions_are_enforced(demo: DemoSite) -> None:
    with client_for(demo, "judy") as judy:  # a guest in alice/tracker-core
        issue = next(
            i for i in all_pages(judy, "/projects/alice/tracker-core/issues") if i["author"] != "judy"
        )
        denied = judy.patch(
            f"/projects/alice/tracker-core/issues/{issue['number']}", json={"state": "closed"}
        )
        assert denied.status_code == 403 and "permission" in denied.json()["detail"]
        assert judy.post("/projects/alice/tracker-core/labels", json={"name": "x"}).status_code == 403


def test_api_only_features(alice: httpx.Client) -> None:
    label = alice.post("/projects/alice/tracker-core/labels", json={"name": "regression", "color": "#123456"})
    assert label.status_code == 201
    assert "regression" in [x["name"] for x in alice.get("/projects/alice/tracker-core/labels").json()]
    member = alice.post(
        "/projects/alice/tracker-core/members", json={"username": "oscar", "role": "reporter"}
    )
    assert member.status_code == 201
    assert {"username": "oscar", "role": "reporter"} in alice.get(
        "/projects/alice/tracker-core/members"
    ).json()
    milestone = alice.post(
        "/projects/alice/tracker-core/milestones", json={"title": "v3.0", "due_date": "2027-03-01"}
    )
    assert milestone.status_code == 201
    hits = all_pages(alice, "/issues/search", q="dark theme", state="all")
    assert len({h["project"] for h in hits}) > 1


def test_ui_only_features_are_not_in_the_api(demo: DemoSite, alice: httpx.Client) -> None:
    transfer = alice.patch("/projects/alice/docs-site", json={"owner": "bob"})
    assert transfer.status_code == 422
    assert alice.get("/projects/alice/docs-site").json()["owner"] == "alice"
    spec = httpx.get(demo.openapi_url).json()
    paths = " ".join(spec["paths"])
    assert "activity" not in paths and "transfer" not in paths and "bulk" not in paths
    assert not [p for p, ops in spec["paths"].items() if p.startswith("/api/v1/users") and set(ops) - {"get"}]


def test_openapi_document_describes_the_api(demo: DemoSite) -> None:
    spec = httpx.get(demo.openapi_url).json()
    assert spec["openapi"].startswith("3.1")
    operation_ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(operation_ids) == len(set(operation_ids)) >= 20
    assert all(re.fullmatch(r"[a-z][a-z_]*", op) for op in operation_ids)
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert all(p.startswith("/api/v1/") for p in spec["paths"])


def test_reset_restores_the_seed_state(demo: DemoSite, alice: httpx.Client) -> None:
    alice.patch("/projects/alice/tracker-core/issues/1", json={"state": "closed", "title": "changed"})
    alice.post("/projects/alice/tracker-core/labels", json={"name": "temp"})
    demo.reset()
    issue = alice.get("/projects/alice/tracker-core/issues/1").json()
    assert issue["title"] != "changed"
    assert "temp" not in [x["name"] for x in alice.get("/projects/alice/tracker-core/labels").json()]


def test_the_web_session_cookie_also_authenticates_the_api(demo: DemoSite) -> None:
    with httpx.Client(base_url=demo.base_url) as browser_like:
        browser_like.post("/login", data={"username": "bob", "password": demo.password})
        assert browser_like.get("/api/v1/user").json()["username"] == "bob"
