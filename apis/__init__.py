"""OpenAPI specs -> documented, callable, validated clients for the agent.

spec = load_spec("gitea.json")                    # file or URL; 3.0, 3.1 or Swagger 2.0
client = build_client(spec, base_url="https://git.example.com/api/v1",
                      auth={"type": "bearer", "token_env": "GITEA_TOKEN"})
client.issue_list_issues(owner="acme", repo="site", state="open")
render_api_section(spec, "close the wontfix issues", token_budget=3000, site="gitea")

Names are imported when first used (as `sandbox`'s are), so a caller that needs only the site registry or
an error class does not import httpx, jsonschema and the OpenAPI validators.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from sandbox.lazy import lazy_names

# jsonschema checks the `iri` formats with rfc3987-syntax when it is installed (JupyterLab's jupyter-events
# brings it), and that module builds three Earley parsers on import: about 1.4 s of CPU added to whatever
# first imports jsonschema (here: the loader's validators, the client's error explanations). Specs seldom
# use `iri`; where it is installed but not yet imported, jsonschema is told it is absent, so `iri` goes
# unchecked. It is done here, in the package, because any of its modules may be the first to import
# jsonschema (a lazy package imports them in whatever order they are first asked for).
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

# Imported now: `search` is also the name of its module, which, imported later, would be bound on the
# package over a lazily imported function. The module is light (no HTTP client, no validators).
from apis.search import LearnedTask as LearnedTask, search as search

if TYPE_CHECKING:
    # `X as X`: names re-exported for type checkers (at run time `__getattr__` imports them).
    from apis.auth import (
        FileSecretStore as FileSecretStore,
        describe_auth as describe_auth,
        parse_auth_reference as parse_auth_reference,
        parse_web_login as parse_web_login,
        resolve_auth as resolve_auth,
        secret_values as secret_values,
    )
    from apis.client import (
        Client as Client,
        RetryPolicy as RetryPolicy,
        build_client as build_client,
    )
    from apis.docs import (
        group_index as group_index,
        operation_help as operation_help,
        operation_lines as operation_lines,
        render_api_section as render_api_section,
    )
    from apis.errors import (
        ApiArgumentError as ApiArgumentError,
        ApiError as ApiError,
        ApiNetworkError as ApiNetworkError,
        ApiStatusError as ApiStatusError,
        ApiValidationError as ApiValidationError,
        ApiValidationWarning as ApiValidationWarning,
        AuthError as AuthError,
        RegistryError as RegistryError,
        SpecError as SpecError,
    )
    from apis.loader import (
        check_spec as check_spec,
        load_spec as load_spec,
    )
    from apis.model import (
        Operation as Operation,
        Parameter as Parameter,
        RequestBody as RequestBody,
        Spec as Spec,
        SpecProblem as SpecProblem,
    )
    from apis.paging import (
        Page as Page,
    )
    from apis.records import (
        code_name as code_name,
    )
    from apis.registry import (
        Site as Site,
        SiteRegistry as SiteRegistry,
    )
    from apis.requested import (
        operations_requested as operations_requested,
    )
    from apis.validation import (
        Mismatch as Mismatch,
        mismatch_section as mismatch_section,
    )

_HOMES = {
    "apis.auth": (
        "FileSecretStore",
        "describe_auth",
        "parse_auth_reference",
        "parse_web_login",
        "resolve_auth",
        "secret_values",
    ),
    "apis.client": (
        "Client",
        "RetryPolicy",
        "build_client",
    ),
    "apis.docs": (
        "group_index",
        "operation_help",
        "operation_lines",
        "render_api_section",
    ),
    "apis.errors": (
        "ApiArgumentError",
        "ApiError",
        "ApiNetworkError",
        "ApiStatusError",
        "ApiValidationError",
        "ApiValidationWarning",
        "AuthError",
        "RegistryError",
        "SpecError",
    ),
    "apis.loader": (
        "check_spec",
        "load_spec",
    ),
    "apis.model": (
        "Operation",
        "Parameter",
        "RequestBody",
        "Spec",
        "SpecProblem",
    ),
    "apis.paging": ("Page",),
    "apis.records": ("code_name",),
    "apis.registry": (
        "Site",
        "SiteRegistry",
    ),
    "apis.requested": ("operations_requested",),
    "apis.validation": (
        "Mismatch",
        "mismatch_section",
    ),
}
__all__, __getattr__ = lazy_names(__name__, _HOMES)
__all__ += ["LearnedTask", "search"]
