"""OpenAPI specs -> documented, callable, validated clients for the agent.

spec = load_spec("gitea.json")                    # file or URL; 3.0, 3.1 or Swagger 2.0
client = build_client(spec, base_url="https://git.example.com/api/v1",
                      auth={"type": "bearer", "token_env": "GITEA_TOKEN"})
client.issue_list_issues(owner="acme", repo="site", state="open")
render_api_section(spec, "close the wontfix issues", token_budget=3000, site="gitea")
"""

from apis.auth import (
    FileSecretStore,
    describe_auth,
    parse_auth_reference,
    parse_web_login,
    resolve_auth,
    secret_values,
)
from apis.client import Client, RetryPolicy, build_client
from apis.docs import group_index, operation_help, operation_lines, render_api_section
from apis.errors import (
    ApiArgumentError,
    ApiError,
    ApiNetworkError,
    ApiStatusError,
    ApiValidationError,
    ApiValidationWarning,
    AuthError,
    RegistryError,
    SpecError,
)
from apis.loader import check_spec, load_spec
from apis.model import Operation, Parameter, RequestBody, Spec, SpecProblem
from apis.paging import Page
from apis.records import code_name
from apis.registry import Site, SiteRegistry
from apis.requested import operations_requested
from apis.search import LearnedTask, search
from apis.validation import Mismatch, mismatch_section

__all__ = [
    "ApiArgumentError",
    "ApiError",
    "ApiNetworkError",
    "ApiStatusError",
    "ApiValidationError",
    "ApiValidationWarning",
    "AuthError",
    "Client",
    "FileSecretStore",
    "LearnedTask",
    "Mismatch",
    "Operation",
    "Page",
    "Parameter",
    "RegistryError",
    "RequestBody",
    "RetryPolicy",
    "Site",
    "SiteRegistry",
    "Spec",
    "SpecError",
    "SpecProblem",
    "build_client",
    "check_spec",
    "code_name",
    "describe_auth",
    "group_index",
    "load_spec",
    "mismatch_section",
    "operation_help",
    "operation_lines",
    "operations_requested",
    "parse_auth_reference",
    "parse_web_login",
    "render_api_section",
    "resolve_auth",
    "search",
    "secret_values",
]
