"""The normalised view of a spec: operations, their parameters and bodies, and the problems found."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

# What reads (GET, HEAD, OPTIONS, a POST that only queries) is one rule for API calls and the browser.
from sandbox.reads import READ_METHODS, queries_only

# What an operation does, as a spec's extension or the user (`hybrid sites edit --read/--write`) says.
EFFECTS = ("read", "write")
_GRAPHQL_MUTATION = re.compile(r"^\s*mutation\b", re.MULTILINE)
BODY_ARGUMENT = "body"


@dataclass(frozen=True)
class SpecProblem:
    """A defect found in the spec, with where it is (a JSON path into the document)."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # path, query, header or cookie
    argument: str  # the Python keyword argument that carries it
    required: bool
    schema: dict[str, Any]
    description: str = ""
    style: str | None = None
    explode: bool | None = None
    deprecated: bool = False

    @property
    def preset(self) -> bool:
        """A header the spec gives a constant or a default (Prefect's `x-prefect-api-version`): the client
        sends that value unless told another, so a call need not, and the call shapes leave it out."""
        return self.location == "header" and ("const" in self.schema or "default" in self.schema)

    @property
    def preset_value(self) -> Any:
        return self.schema["const"] if "const" in self.schema else self.schema.get("default")


@dataclass(frozen=True)
class RequestBody:
    media_types: list[str]
    schema: dict[str, Any]
    required: bool = False
    description: str = ""


@dataclass
class Operation:
    """One callable of a site: `name(**arguments)` sends `method path`."""

    name: str
    method: str
    path: str
    operation_id: str | None
    summary: str
    description: str
    tags: list[str]
    group: str
    parameters: list[Parameter]
    body: RequestBody | None
    responses: dict[str, str]
    security: list[list[str]] | None
    servers: list[str]
    deprecated: bool = False
    effect: str | None = None  # "read" or "write" as the spec or the user marked it; None: as its method says
    alias: str | None = None  # the name its operationId gives, when that was shortened (FastAPI's)

    @property
    def writes(self) -> bool:
        """Whether calling it may change something: as marked, else every method but GET, HEAD and
        OPTIONS, except a POST that only queries (`.../filter`, `/search`, `/query`, `/count`)."""
        if self.effect in EFFECTS:
            return self.effect == "write"
        if self.method in READ_METHODS:
            return False
        return not queries_only(self.method, self.path)

    @property
    def is_graphql(self) -> bool:
        return self.effect is None and self.method == "POST" and self.path.rstrip("/").endswith("graphql")

    def writes_for(self, *args: Any, **arguments: Any) -> bool:
        """Whether this call writes: `writes`, except that a GraphQL endpoint's call reads unless its
        body's document holds a mutation."""
        if not self.is_graphql:
            return self.writes
        body = arguments.get(BODY_ARGUMENT)
        query = body.get("query") if isinstance(body, dict) else None
        return not isinstance(query, str) or bool(_GRAPHQL_MUTATION.search(query))

    @property
    def required_arguments(self) -> list[str]:
        names = [p.argument for p in self.parameters if p.required and not p.preset]
        if self.body is not None and self.body.required:
            names.append(BODY_ARGUMENT)
        return names

    @property
    def optional_arguments(self) -> list[str]:
        names = [p.argument for p in self.parameters if not p.required or p.preset]
        if self.body is not None and not self.body.required:
            names.append(BODY_ARGUMENT)
        return names

    @property
    def shown_optional_arguments(self) -> list[str]:
        """The optional arguments a call shape shows: preset headers left out."""
        preset = {p.argument for p in self.parameters if p.preset}
        return [name for name in self.optional_arguments if name not in preset]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Operation:
        """An operation from `asdict` data; its parameters may already be Parameter objects."""
        data = dict(data)
        data["parameters"] = [p if isinstance(p, Parameter) else Parameter(**p) for p in data["parameters"]]
        data["body"] = RequestBody(**data["body"]) if data["body"] else None
        return cls(**data)


@dataclass(eq=False)
class Spec:
    """A loaded OpenAPI document (3.x; Swagger 2.0 arrives converted) and its operations.

    `document` (the whole normalised document, needed for full help and validation) is read on first
    use, so a cached spec is ready to call and search without it. `dependencies` are the other
    documents its `$ref`s pulled in, with the hash of their bytes. Specs compare and hash by identity,
    so per-spec indexes can be kept beside them.
    """

    source: str
    content_hash: str
    title: str
    api_version: str
    openapi_version: str
    converted_from: str | None
    servers: list[str]
    operations: list[Operation] = field(repr=False)
    warnings: list[SpecProblem] = field(repr=False)
    load_document: Callable[[], dict[str, Any]] = field(repr=False)
    dependencies: dict[str, str] = field(default_factory=dict, repr=False)

    @cached_property
    def document(self) -> dict[str, Any]:
        return self.load_document()

    @cached_property
    def _by_name(self) -> dict[str, Operation]:
        return {
            **{op.alias: op for op in self.operations if op.alias},
            **{op.name: op for op in self.operations},
        }

    def operation(self, name: str) -> Operation:
        """The operation called `name`; KeyError naming close matches when there is none."""
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(unknown_operation_message(self, name)) from None

    def groups(self) -> dict[str, list[Operation]]:
        """Operations by group (first tag, else first meaningful path segment), in document order."""
        grouped: dict[str, list[Operation]] = {}
        for op in self.operations:
            grouped.setdefault(op.group, []).append(op)
        return grouped

    @property
    def default_base_url(self) -> str | None:
        """The first absolute server URL, when the spec names one."""
        return next((url for url in self.servers if urlsplit(url).scheme in ("http", "https")), None)

    def to_dict(self) -> dict[str, Any]:
        """Everything but the document, as JSON-ready data. Parameters are stored once in a table that
        operations point into: large APIs repeat the same ones (Kubernetes' `pretty`, `dryRun`...) hundreds of
        times."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "load_document"}
        table: dict[str, int] = {}
        operations = []
        for operation in self.operations:
            entry = asdict(operation)
            entry["parameters"] = [
                table.setdefault(json.dumps(parameter, sort_keys=True), len(table))
                for parameter in entry["parameters"]
            ]
            operations.append(entry)
        data["parameters"] = [json.loads(text) for text in table]
        data["operations"] = operations
        data["warnings"] = [asdict(w) for w in self.warnings]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], load_document: Callable[[], dict[str, Any]]) -> Spec:
        data = dict(data)
        parameters = [Parameter(**p) for p in data.pop("parameters")]
        data["operations"] = [
            Operation.from_dict({**op, "parameters": [parameters[i] for i in op["parameters"]]})
            for op in data["operations"]
        ]
        data["warnings"] = [SpecProblem(**w) for w in data["warnings"]]
        return cls(**data, load_document=load_document)


def unknown_operation_message(spec: Spec, name: str) -> str:
    close = difflib.get_close_matches(name, [op.name for op in spec.operations], n=5, cutoff=0.6)
    hint = f" Did you mean: {', '.join(close)}?" if close else " Use search() or operations() to find one."
    return f"{spec.title or spec.source} has no operation named {name!r}.{hint}"
