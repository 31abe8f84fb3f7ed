"""OpenAPI specs -> documented, callable, validated clients for the agent."""

from apis.errors import (
    ApiArgumentError,
    ApiError,
    ApiNetworkError,
    ApiStatusError,
    ApiValidationError,
    ApiValidationWarning,
    AuthError,
    SpecError,
)
from apis.loader import load_spec
from apis.model import Operation, Parameter, RequestBody, Spec, SpecProblem

__all__ = [
    "ApiArgumentError",
    "ApiError",
    "ApiNetworkError",
    "ApiStatusError",
    "ApiValidationError",
    "ApiValidationWarning",
    "AuthError",
    "Operation",
    "Parameter",
    "RequestBody",
    "Spec",
    "SpecError",
    "SpecProblem",
    "load_spec",
]
