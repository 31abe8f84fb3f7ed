"""Swagger 2.0 -> OpenAPI 3.0.3, in memory, for everything a client and its docs need.

Covered: host/basePath/schemes (servers), consumes/produces (media types), body and formData
parameters (request bodies, `type: file` as binary), collectionFormat (style/explode),
securityDefinitions (securitySchemes), definitions/parameters/responses (components) and the
Swagger-only schema keywords (`x-nullable`, string discriminators).
"""

from __future__ import annotations

from typing import Any

from apis.refs import pointer_get
from apis.shapes import flag

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"

# Parameter keywords that describe the value, which OpenAPI 3 moves into the parameter's `schema`.
_SCHEMA_KEYWORDS = (
    "type",
    "format",
    "items",
    "default",
    "enum",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "multipleOf",
)
_COLLECTION_STYLES = {
    "csv": ("form", False),
    "ssv": ("spaceDelimited", False),
    "pipes": ("pipeDelimited", False),
    "multi": ("form", True),
}
_OAUTH_FLOWS = {
    "implicit": "implicit",
    "password": "password",
    "application": "clientCredentials",
    "accessCode": "authorizationCode",
}
_REF_PREFIXES = {
    "#/definitions/": "#/components/schemas/",
    "#/parameters/": "#/components/parameters/",
    "#/responses/": "#/components/responses/",
}


def convert(swagger: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI 3.0.3 equivalent of a Swagger 2.0 document (the input is not modified)."""
    consumes = swagger.get("consumes") or [JSON]
    produces = swagger.get("produces") or [JSON]
    openapi: dict[str, Any] = {"openapi": "3.0.3", "info": swagger.get("info", {"title": "", "version": ""})}
    for key in ("tags", "externalDocs", "security"):
        if key in swagger:
            openapi[key] = swagger[key]
    openapi.update({key: value for key, value in swagger.items() if key.startswith("x-")})
    openapi["servers"] = _servers(swagger)
    openapi["paths"] = {
        path: _path_item(swagger, item, consumes, produces)
        for path, item in (swagger.get("paths") or {}).items()
        if isinstance(item, dict)
    }
    components: dict[str, Any] = {}
    if swagger.get("definitions"):
        components["schemas"] = {name: _schema(s) for name, s in swagger["definitions"].items()}
    shared_parameters = {
        name: _parameter(p)
        for name, p in (swagger.get("parameters") or {}).items()
        if isinstance(p, dict) and p.get("in") not in ("body", "formData")
    }
    if shared_parameters:
        components["parameters"] = shared_parameters
    if swagger.get("responses"):
        components["responses"] = {name: _response(r, produces) for name, r in swagger["responses"].items()}
    if swagger.get("securityDefinitions"):
        components["securitySchemes"] = {
            name: _security_scheme(s) for name, s in swagger["securityDefinitions"].items()
        }
    if components:
        openapi["components"] = components
    rewritten: dict[str, Any] = _rewrite_refs(openapi)
    return rewritten


def _servers(swagger: dict[str, Any]) -> list[dict[str, str]]:
    base_path = swagger.get("basePath", "") or ""
    host = swagger.get("host")
    if not host:
        return [{"url": base_path or "/"}]
    return [{"url": f"{scheme}://{host}{base_path}"} for scheme in swagger.get("schemes") or ["https"]]


def _path_item(
    swagger: dict[str, Any], item: dict[str, Any], consumes: list[str], produces: list[str]
) -> dict[str, Any]:
    shared = [_dereference(swagger, p) for p in item.get("parameters", [])]
    converted: dict[str, Any] = {k: v for k, v in item.items() if k not in HTTP_METHODS and k != "parameters"}
    plain_shared = [p for p in shared if p.get("in") not in ("body", "formData")]
    if plain_shared:
        converted["parameters"] = [_parameter(p) for p in plain_shared]
    for method in HTTP_METHODS:
        if isinstance(item.get(method), dict):
            converted[method] = _operation(swagger, item[method], shared, consumes, produces)
    return converted


def _operation(
    swagger: dict[str, Any],
    operation: dict[str, Any],
    shared: list[dict[str, Any]],
    consumes: list[str],
    produces: list[str],
) -> dict[str, Any]:
    consumes = operation.get("consumes") or consumes
    produces = operation.get("produces") or produces
    own = [_dereference(swagger, p) for p in operation.get("parameters", [])]
    own_keys = {(p.get("name"), p.get("in")) for p in own}
    inherited_payload = [
        p
        for p in shared
        if p.get("in") in ("body", "formData") and (p.get("name"), p.get("in")) not in own_keys
    ]
    every = own + inherited_payload
    converted = {
        key: value
        for key, value in operation.items()
        if key not in ("parameters", "consumes", "produces", "responses", "schemes")
    }
    plain = [
        _parameter(p)
        for p in operation.get("parameters", [])
        if _dereference(swagger, p).get("in") not in ("body", "formData")
    ]
    if plain:
        converted["parameters"] = plain
    body = _request_body(every, consumes)
    if body:
        converted["requestBody"] = body
    converted["responses"] = {
        str(status): _response(response, produces)
        for status, response in (operation.get("responses") or {}).items()
    } or {"default": {"description": ""}}
    return converted


def _dereference(swagger: dict[str, Any], parameter: Any) -> dict[str, Any]:
    """A shared parameter's definition, needed to tell body/formData parameters from the rest."""
    if isinstance(parameter, dict) and isinstance(parameter.get("$ref"), str):
        try:
            definition = pointer_get(swagger, parameter["$ref"].lstrip("#"))
        except KeyError:
            return {}
        return definition if isinstance(definition, dict) else {}
    return parameter if isinstance(parameter, dict) else {}


def _parameter(parameter: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in parameter:
        return dict(parameter)
    converted = {k: v for k, v in parameter.items() if k not in _SCHEMA_KEYWORDS and k != "collectionFormat"}
    converted["schema"] = _schema({k: parameter[k] for k in _SCHEMA_KEYWORDS if k in parameter})
    style = _COLLECTION_STYLES.get(parameter.get("collectionFormat", "csv"))
    if parameter.get("type") == "array" and style:
        location_default = "simple" if parameter.get("in") in ("path", "header") else None
        converted["style"], converted["explode"] = (location_default or style[0]), style[1]
    return converted


def _request_body(parameters: list[dict[str, Any]], consumes: list[str]) -> dict[str, Any] | None:
    body = next((p for p in parameters if p.get("in") == "body"), None)
    if body is not None:
        media_types = [m for m in consumes if m not in (FORM, MULTIPART)] or [JSON]
        body_schema = _schema(body.get("schema", {}))
        converted: dict[str, Any] = {"content": {m: {"schema": body_schema} for m in media_types}}
        if body.get("description"):
            converted["description"] = body["description"]
        if flag(body.get("required")):
            converted["required"] = True
        return converted
    fields = [p for p in parameters if p.get("in") == "formData"]
    if not fields:
        return None
    has_file = any(p.get("type") == "file" for p in fields)
    media_types = [m for m in consumes if m in (FORM, MULTIPART)]
    if has_file or not media_types:
        media_types = [MULTIPART] if has_file else [FORM]
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {p["name"]: _form_field(p) for p in fields if "name" in p},
    }
    required = [p["name"] for p in fields if flag(p.get("required")) and "name" in p]
    if required:
        schema["required"] = required
    return {"content": {m: {"schema": schema} for m in media_types}, "required": bool(required)}


def _form_field(parameter: dict[str, Any]) -> dict[str, Any]:
    if parameter.get("type") == "file":
        field: dict[str, Any] = {"type": "string", "format": "binary"}
    else:
        field = _schema({k: parameter[k] for k in _SCHEMA_KEYWORDS if k in parameter})
    if parameter.get("description"):
        field["description"] = parameter["description"]
    return field


def _response(response: Any, produces: list[str]) -> Any:
    if not isinstance(response, dict) or "$ref" in response:
        return response
    converted: dict[str, Any] = {"description": response.get("description", "")}
    if "schema" in response:
        schema = _schema(response["schema"])
        converted["content"] = {m: {"schema": schema} for m in produces}
    if response.get("headers"):
        converted["headers"] = {
            name: {
                "schema": _schema({k: h[k] for k in _SCHEMA_KEYWORDS if k in h}),
                **({"description": h["description"]} if "description" in h else {}),
            }
            for name, h in response["headers"].items()
            if isinstance(h, dict)
        }
    return converted


def _schema(schema: Any) -> Any:
    """A Swagger schema with its 2.0-only keywords translated, recursively."""
    if isinstance(schema, list):
        return [_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: _schema(value) for key, value in schema.items() if key != "x-nullable"}
    if schema.get("x-nullable") is True:
        converted["nullable"] = True
    if schema.get("type") == "file":
        converted.update(type="string", format="binary")
    if isinstance(schema.get("discriminator"), str):
        converted["discriminator"] = {"propertyName": schema["discriminator"]}
    return converted


def _security_scheme(scheme: dict[str, Any]) -> dict[str, Any]:
    kind = scheme.get("type")
    described = {"description": scheme["description"]} if "description" in scheme else {}
    if kind == "basic":
        return {"type": "http", "scheme": "basic", **described}
    if kind == "apiKey":
        return {
            "type": "apiKey",
            "name": scheme.get("name", ""),
            "in": scheme.get("in", "header"),
            **described,
        }
    if kind == "oauth2":
        flow: dict[str, Any] = {"scopes": scheme.get("scopes", {})}
        if "authorizationUrl" in scheme:
            flow["authorizationUrl"] = scheme["authorizationUrl"]
        if "tokenUrl" in scheme:
            flow["tokenUrl"] = scheme["tokenUrl"]
        flow_name = _OAUTH_FLOWS.get(scheme.get("flow", ""), "implicit")
        return {"type": "oauth2", "flows": {flow_name: flow}, **described}
    return dict(scheme)


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, list):
        return [_rewrite_refs(item) for item in node]
    if not isinstance(node, dict):
        return node
    rewritten = {key: _rewrite_refs(value) for key, value in node.items()}
    reference = rewritten.get("$ref")
    if isinstance(reference, str):
        for old, new in _REF_PREFIXES.items():
            if reference.startswith(old):
                rewritten["$ref"] = new + reference[len(old) :]
                break
    return rewritten
