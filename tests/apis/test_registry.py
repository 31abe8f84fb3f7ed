from __future__ import annotations

import json
from pathlib import Path

import pytest

from apis import RegistryError, Site, SiteRegistry


def test_sites_persist_across_registry_instances(tmp_path: Path, specs_dir: Path) -> None:
    SiteRegistry(tmp_path).add(
        Site(
            "pets",
            str(specs_dir / "petstore.yaml"),
            "http://127.0.0.1:1/v1/",
            web_url="http://127.0.0.1:1",
            auth={"type": "bearer", "token_env": "T"},
        )
    )
    again = SiteRegistry(tmp_path)
    site = again.get("pets")
    assert site == Site(
        "pets",
        str(specs_dir / "petstore.yaml"),
        "http://127.0.0.1:1/v1",
        "http://127.0.0.1:1",
        {"type": "bearer", "token_env": "T"},
    )
    assert [s.name for s in again.list()] == ["pets"]
    assert json.loads((tmp_path / "sites" / "pets.json").read_text())["auth"] == {
        "type": "bearer",
        "token_env": "T",
    }
    again.remove("pets")
    assert again.list() == []


def test_names_and_duplicates_are_checked(tmp_path: Path, specs_dir: Path) -> None:
    registry = SiteRegistry(tmp_path)
    site = Site("pets", str(specs_dir / "petstore.yaml"), "http://127.0.0.1:1")
    registry.add(site)
    with pytest.raises(RegistryError, match="already exists; pass --replace to replace it"):
        registry.add(site)
    registry.add(Site("pets", site.spec, "http://127.0.0.1:2"), replace=True)
    assert registry.get("pets").base_url == "http://127.0.0.1:2"
    with pytest.raises(RegistryError, match="not a valid site name"):
        registry.add(Site("My-Site", site.spec, "http://127.0.0.1:1"))
    with pytest.raises(RegistryError, match="No site named 'other' \\(known: pets\\)"):
        registry.get("other")


def test_relative_spec_paths_are_stored_absolute(tmp_path: Path, specs_dir: Path, monkeypatch) -> None:
    monkeypatch.chdir(specs_dir)
    site = SiteRegistry(tmp_path).add(Site("pets", "petstore.yaml", "http://127.0.0.1:1"))
    assert Path(site.spec).is_absolute() and Path(site.spec).samefile(specs_dir / "petstore.yaml")


def test_client_for_a_site_uses_its_base_url_and_stored_secret(
    tmp_path: Path, write_spec, echo_server
) -> None:
    spec_path = write_spec(
        {
            "openapi": "3.0.3",
            "info": {"title": "T", "version": "1"},
            "paths": {"/me": {"get": {"operationId": "getMe", "responses": {"200": {"description": "ok"}}}}},
        }
    )
    registry = SiteRegistry(tmp_path / "data")
    registry.secrets.set("demo-token", "tok-1")
    registry.add(
        Site("demo", str(spec_path), echo_server.url, auth={"type": "bearer", "token_secret": "demo-token"})
    )
    with registry.client("demo") as client:
        assert client.get_me()["headers"]["authorization"] == "Bearer tok-1"
    assert list((tmp_path / "data" / "cache" / "specs").iterdir()), (
        "the processed spec is cached in the data dir"
    )
    assert "tok-1" not in (tmp_path / "data" / "sites" / "demo.json").read_text()
