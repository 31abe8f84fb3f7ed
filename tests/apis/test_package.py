"""The apis package's names are imported on first use: the site registry and the error classes do not import
the HTTP client, jsonschema or the OpenAPI validators; every exported name still resolves; and jsonschema,
whichever apis module imports it first, does not compile rfc3987-syntax's grammar."""

from __future__ import annotations

import subprocess
import sys

import pytest

import apis

HEAVY = ("httpx", "jsonschema", "jsonschema_rs", "openapi_spec_validator", "yaml", "rfc3987_syntax", "lark")


def modules_after(code: str, names: tuple[str, ...]) -> list[str]:
    """Which of `names` are imported after running `code` in a new interpreter."""
    probe = f"import sys\n{code}\nprint(sorted(name for name in {names!r} if sys.modules.get(name)))"
    shown = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return eval(shown.stdout.strip().splitlines()[-1])  # a list of names printed by the probe


def test_the_registry_and_errors_import_no_spec_machinery() -> None:
    code = "from apis import Site, SiteRegistry, ApiError, describe_auth, code_name"
    assert modules_after(code, HEAVY) == []


@pytest.mark.parametrize("first", ["apis.loader", "apis.client", "apis.validation", "apis"])
def test_jsonschema_never_compiles_the_iri_grammar(first: str) -> None:
    # rfc3987-syntax (installed with JupyterLab) builds three Earley parsers when imported: ~1.4 s of CPU.
    code = f"import {first}\nimport apis.loader, apis.client, apis.validation, jsonschema"
    assert modules_after(code, ("jsonschema", "rfc3987_syntax", "lark")) == ["jsonschema"]


def test_every_exported_name_resolves() -> None:
    for name in apis.__all__:
        assert getattr(apis, name) is not None


def test_a_name_shared_with_its_module_is_the_function() -> None:
    code = "import apis, apis.search, apis.loader\nprint(callable(apis.search))"
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert shown.stdout.strip() == "True"


def test_an_unknown_name_is_an_attribute_error_that_names_it() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        apis.Nothing  # noqa: B018 - asked for on purpose
