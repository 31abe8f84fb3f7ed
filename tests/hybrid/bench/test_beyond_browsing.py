"""Beyond Browsing's API documents for WebArena's shopping sites become sites: the Magento admin and
customer documents, OpenAPI 3 in shape but with no `openapi` field and a `server_url`, load when the hosts
file says what to assume, and the warnings say what was assumed."""

from __future__ import annotations

from pathlib import Path

import pytest

import apis
from apis.errors import SpecError
from apis.loader import load_spec
from hybrid.agent.runtime import SiteHandle
from hybrid.bench.hosts import HostedInstance, load_hosts

DOCUMENTS = (
    Path(__file__).parents[2]
    / "fixtures"
    / "benchmarks"
    / "webarena"
    / "beyond-browsing-api"
    / "evaluation"
    / "webarena"
    / "api"
)


@pytest.mark.parametrize(
    ("document", "operations"), [("shopping-admin.json", 556), ("shopping-customer.json", None)]
)
def test_magento_documents_load_with_the_version_assumed(
    tmp_path: Path, document: str, operations: int | None
) -> None:
    with pytest.raises(SpecError, match='assume_openapi="3.0.0"'):
        load_spec(DOCUMENTS / document, tmp_path)
    spec = load_spec(DOCUMENTS / document, tmp_path, assume_openapi="3.0.0")
    assert spec.openapi_version == "3.0.0" and len(spec.operations) >= (operations or 100)
    if operations:
        assert len(spec.operations) == operations
    assert spec.servers[0].endswith("/rest/default")
    said = {(w.where, w.message) for w in spec.warnings}
    assert ("#/openapi", "no openapi field: assumed OpenAPI 3.0.0, as asked") in said
    assert ("#/server_url", "taken as the one entry of servers") in said
    again = load_spec(DOCUMENTS / document, tmp_path, assume_openapi="3.0.0")  # from the cache
    assert len(again.operations) == len(spec.operations) and again.document["openapi"] == "3.0.0"


def test_a_hosts_file_makes_them_sites_at_the_users_hosts(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts.toml"
    hosts.write_text(
        f"""
[shopping_admin]
url = "http://127.0.0.1:7780/admin"
spec = "{DOCUMENTS / "shopping-admin.json"}"
assume_openapi = "3.0.0"
api_url = "http://127.0.0.1:7780/rest/default"
token = "admin-token"

[shopping]
url = "http://127.0.0.1:7770"
spec = "{DOCUMENTS / "shopping-customer.json"}"
assume_openapi = "3.0.0"
api_url = "http://127.0.0.1:7770/rest/default"
"""
    )
    registry = apis.SiteRegistry(tmp_path / "data")
    for site in load_hosts(hosts).sites:
        HostedInstance(site).register(registry, "")
    admin = SiteHandle.from_registry(registry, "shopping_admin")
    assert admin.client.base_url == "http://127.0.0.1:7780/rest/default" and len(admin.spec.operations) == 556
    assert "admin-token" in admin.secrets and admin.web_url == "http://127.0.0.1:7780/admin"
    assert any(op.path == "/V1/orders" and op.method == "GET" for op in admin.spec.operations)
    customer = SiteHandle.from_registry(registry, "shopping")
    assert customer.spec.operations and customer.client.base_url.endswith(":7770/rest/default")
