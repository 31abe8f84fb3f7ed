"""What a workflow program is allowed to be, and facts read from its source.

A program is the source of one top-level function. It runs only in the kernel, where `api`, `browser`
and `wf` are capability stubs; the checks here keep induced code to that shape before it is stored.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
from dataclasses import dataclass

from sandbox.errors import HybridError
from sandbox.names import CAPABILITIES

# The standard library's data modules (a listed package allows its submodules: `xml` allows
# `xml.etree.ElementTree`). What reaches files, processes, the network or the interpreter is not listed.
ALLOWED_MODULES = frozenset(
    {
        "base64",
        "binascii",
        "bisect",
        "calendar",
        "collections",
        "copy",
        "csv",
        "dataclasses",
        "datetime",
        "decimal",
        "difflib",
        "email.utils",
        "enum",
        "fractions",
        "functools",
        "hashlib",
        "heapq",
        "html",
        "io",
        "ipaddress",
        "itertools",
        "json",
        "math",
        "numbers",
        "operator",
        "pprint",
        "random",
        "re",
        "shlex",
        "statistics",
        "string",
        "struct",
        "textwrap",
        "time",
        "typing",
        "unicodedata",
        "urllib.parse",
        "uuid",
        "xml",
        "zoneinfo",
    }
)
# Functions of allowed modules that open files by name; their in-memory twins (`fromstring`,
# `io.StringIO`) are allowed.
FILE_FUNCTIONS = {
    "io": frozenset({"open", "open_code", "FileIO"}),
    "xml.etree.ElementTree": frozenset({"parse", "iterparse"}),
    "xml.etree.cElementTree": frozenset({"parse", "iterparse"}),
    "xml.dom.minidom": frozenset({"parse"}),
    "xml.dom.pulldom": frozenset({"parse"}),
    "xml.sax": frozenset({"parse"}),
}
# Dunder attributes that only describe a value; every other one (`__class__`, `__globals__`,
# `__subclasses__`, `__dict__`, ...) is a step on the classic ways out of a restricted namespace.
DESCRIPTIVE_DUNDERS = frozenset({"__name__", "__qualname__", "__doc__", "__module__", "__init__"})
FORBIDDEN_BUILTINS = frozenset(
    {
        "__import__",
        "breakpoint",
        "compile",
        "delattr",
        "eval",
        "exec",
        "exit",
        "globals",
        "help",
        "input",
        "locals",
        "memoryview",
        "open",
        "quit",
        "setattr",
        "vars",
    }
)
SAFE_BUILTINS = frozenset(name for name in dir(builtins) if not name.startswith("_")) - FORBIDDEN_BUILTINS


class ProgramError(HybridError, ValueError):
    """A workflow program failed the static checks; the message lists each problem."""


@dataclass(frozen=True)
class ProgramFacts:
    """What the checks learnt: the function, its parameters, and the capability calls in source order."""

    name: str
    parameters: list[str]
    operations: list[str]
    docstring: str


def call_name(node: ast.Call) -> str | None:
    """`api.demo.list_issues` for a call of that dotted name, else None."""
    parts: list[str] = []
    target: ast.expr = node.func
    while isinstance(target, ast.Attribute):
        parts.append(target.attr)
        target = target.value
    if not isinstance(target, ast.Name):
        return None
    parts.append(target.id)
    return ".".join(reversed(parts))


def capability_calls(tree: ast.AST) -> list[str]:
    """Dotted names of the capability calls (`api.*`, `mcp.*`, `browser.*`, `wf.*`) in source order."""
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    calls.sort(key=lambda node: (node.lineno, node.col_offset))
    names = [call_name(node) for node in calls]
    return [name for name in names if name and name.split(".", 1)[0] in CAPABILITIES and "." in name]


def operation_sequence(tree: ast.AST) -> list[str]:
    """The capability calls in order with immediate repeats collapsed (a loop's calls count once)."""
    sequence: list[str] = []
    for name in capability_calls(tree):
        if not sequence or sequence[-1] != name:
            sequence.append(name)
    return sequence


def check_program(source: str, name: str | None = None) -> ProgramFacts:
    """Parse and check a workflow program; raise `ProgramError` naming every problem found."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ProgramError(f"the program does not parse: {exc.msg} (line {exc.lineno})") from None
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    others = [node for node in tree.body if not isinstance(node, ast.FunctionDef)]
    if len(functions) != 1 or others:
        raise ProgramError("a workflow program must be exactly one top-level function definition")
    function = functions[0]
    problems: list[str] = []
    if name is not None and function.name != name:
        problems.append(f"the function is named {function.name!r}, expected {name!r}")
    if function.name.startswith("_"):
        problems.append("the function name must not start with an underscore")
    arguments = function.args
    if arguments.vararg or arguments.kwarg or arguments.posonlyargs:
        problems.append("parameters must be plain named parameters (no *args, **kwargs or positional-only)")
    parameters = [arg.arg for arg in [*arguments.args, *arguments.kwonlyargs]]
    problems.extend(_name_problems(function, set(parameters)))
    if not capability_calls(function):
        problems.append("the program calls no api, browser or wf operation")
    if problems:
        raise ProgramError("; ".join(problems))
    return ProgramFacts(
        function.name, parameters, operation_sequence(function), ast.get_docstring(function) or ""
    )


def module_allowed(module: str) -> bool:
    """Whether a program may import `module`: it, or a package it belongs to, is in `ALLOWED_MODULES`."""
    parts = module.split(".")
    return any(".".join(parts[:end]) in ALLOWED_MODULES for end in range(1, len(parts) + 1))


def _import_problems(node: ast.Import | ast.ImportFrom, modules: dict[str, str]) -> list[str]:
    """Problems of one import; records in `modules` which module each bound name stands for."""
    problems: list[str] = []
    for alias in node.names:
        if isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            bound, full = alias.asname or alias.name, f"{module}.{alias.name}"
        else:
            module = full = alias.name
            bound = alias.asname or alias.name.split(".")[0]
            full = alias.name if alias.asname else bound
        if not module_allowed(module):
            problems.append(
                f"imports {module!r}, which can reach files, processes, the network or the host; "
                f"allowed: the standard library's data modules ({', '.join(sorted(ALLOWED_MODULES))})"
            )
            continue
        owner, _, attribute = full.rpartition(".")
        if isinstance(node, ast.ImportFrom) and attribute in FILE_FUNCTIONS.get(owner, ()):
            problems.append(f"imports {full!r}, which opens files; parse text in memory instead")
        modules[bound] = full
    return problems


def _name_problems(function: ast.FunctionDef, parameters: set[str]) -> list[str]:
    problems: list[str] = []
    bound = set(parameters) | CAPABILITIES | SAFE_BUILTINS
    modules: dict[str, str] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and node is not function:
            arguments = node.args
            bound.update(
                arg.arg
                for arg in [
                    *arguments.posonlyargs,
                    *arguments.args,
                    *arguments.kwonlyargs,
                    *filter(None, [arguments.vararg, arguments.kwarg]),
                ]
            )
            if not isinstance(node, ast.Lambda):
                bound.add(node.name)
        elif isinstance(node, (ast.ClassDef, ast.ExceptHandler)) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            problems.extend(_import_problems(node, modules))
            bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in bound:
            reason = "is not allowed" if node.id in FORBIDDEN_BUILTINS else "is never defined"
            problems.append(f"uses the name {node.id!r}, which {reason}")
        elif (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("__")
            and node.attr not in DESCRIPTIVE_DUNDERS
        ):
            problems.append(f"reaches the dunder attribute {node.attr!r}")
        elif isinstance(node, ast.Attribute) and _file_function(node, modules):
            problems.append(
                f"calls {_file_function(node, modules)!r}, which opens files; parse text in memory "
                "instead (e.g. ElementTree.fromstring, io.StringIO)"
            )
        elif isinstance(node, ast.ExceptHandler) and node.type is None:
            problems.append(f"has a bare `except:` (line {node.lineno}); catch named exceptions")
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            problems.append("uses global or nonlocal")
    return sorted(set(problems), key=problems.index)


def _file_function(node: ast.Attribute, modules: dict[str, str]) -> str | None:
    """`xml.etree.ElementTree.parse` when `node` names a module function that opens files, else None."""
    parts: list[str] = [node.attr]
    target: ast.expr = node.value
    while isinstance(target, ast.Attribute):
        parts.append(target.attr)
        target = target.value
    if not isinstance(target, ast.Name) or target.id not in modules:
        return None
    dotted = ".".join([modules[target.id], *reversed(parts)])
    owner, _, attribute = dotted.rpartition(".")
    return dotted if attribute in FILE_FUNCTIONS.get(owner, ()) else None


def structure_fingerprint(source: str) -> str:
    """A hash of the function's code with its name, docstring and parameter names abstracted away,
    so two programs that do the same thing the same way have the same fingerprint."""
    function = ast.parse(source).body[0]
    assert isinstance(function, ast.FunctionDef)
    renames = {arg.arg: f"p{i}" for i, arg in enumerate([*function.args.args, *function.args.kwonlyargs])}
    body = function.body[1:] if ast.get_docstring(function) is not None else function.body

    class Rename(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.Name:
            return ast.copy_location(ast.Name(renames.get(node.id, node.id), node.ctx), node)

    module = Rename().visit(
        ast.Module(body=[ast.fix_missing_locations(statement) for statement in body], type_ignores=[])
    )
    return hashlib.sha256(ast.dump(module, annotate_fields=False).encode()).hexdigest()[:20]


def parameter_sinks(source: str) -> dict[str, set[str]]:
    """Where each parameter of the program's function flows: into a `call` (a capability call, or a helper
    the program defines, that takes something derived from it, or that runs only under a condition on it)
    and/or the `answer` (what it returns). A parameter with neither does nothing.

    The analysis follows names through assignments, loops, comprehensions and conditions, flow-insensitively
    (a name is derived from a parameter if any assignment to it is), which can only over-approximate a flow.
    """
    function = ast.parse(source).body[0]
    assert isinstance(function, ast.FunctionDef)
    parameters = [arg.arg for arg in [*function.args.args, *function.args.kwonlyargs]]
    helpers = {
        node.name
        for node in ast.walk(function)
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node is not function
    }
    derived: dict[str, set[str]] = {name: {name} for name in parameters}

    def sources(node: ast.AST | None) -> set[str]:
        if node is None:
            return set()
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        return set().union(*(derived.get(name, set()) for name in names))

    def stores(node: ast.AST) -> set[str]:
        return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}

    sinks: dict[str, set[str]] = {name: set() for name in parameters}
    for _ in range(len(parameters) + 32):  # to a fixed point; each round can only add
        changed = False

        def flow(targets: set[str], found: set[str]) -> None:
            nonlocal changed
            for target in targets:
                before = derived.setdefault(target, set())
                if not found <= before:
                    before |= found
                    changed = True

        def walk(statements: list[ast.stmt], guard: set[str]) -> None:
            for statement in statements:
                if isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                    value = statement.value
                    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                    flow(set().union(*(stores(t) for t in targets)), sources(value) | guard)
                elif isinstance(statement, (ast.For, ast.AsyncFor)):
                    flow(stores(statement.target), sources(statement.iter) | guard)
                    inner = guard | sources(statement.iter)
                    walk(statement.body, inner)
                    walk(statement.orelse, guard)
                    continue
                elif isinstance(statement, (ast.If, ast.While)):
                    inner = guard | sources(statement.test)
                    walk(statement.body, inner)
                    walk(statement.orelse, inner)
                    continue
                elif isinstance(statement, (ast.With, ast.AsyncWith)):
                    for item in statement.items:
                        if item.optional_vars is not None:
                            flow(stores(item.optional_vars), sources(item.context_expr) | guard)
                    walk(statement.body, guard)
                    continue
                elif isinstance(statement, ast.Try):
                    for block in (statement.body, statement.orelse, statement.finalbody):
                        walk(block, guard)
                    for handler in statement.handlers:
                        walk(handler.body, guard)
                    continue
                elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    continue  # a helper acts when called; its call is the sink
                if isinstance(statement, ast.Return):
                    for name in sources(statement.value) | guard:
                        sinks[name].add("answer")
                for node in ast.walk(statement):
                    if isinstance(node, ast.NamedExpr):
                        flow(stores(node.target), sources(node.value) | guard)
                    elif isinstance(node, ast.comprehension):
                        flow(stores(node.target), sources(node.iter) | guard)
                    elif isinstance(node, ast.Call):
                        called = call_name(node)
                        root = (called or "").split(".", 1)[0]
                        if root in CAPABILITIES or called in helpers:
                            for reached in (
                                sources(ast.Tuple([*node.args, *(k.value for k in node.keywords)])) | guard
                            ):
                                sinks[reached].add("call")

        walk(function.body, set())
        if not changed:
            break
    return sinks


def rename_program(source: str, name: str) -> str:
    """The program with its function named `name`: a stored workflow's name and its `def` are one name."""
    tree = ast.parse(source)
    function = tree.body[0]
    if not isinstance(function, ast.FunctionDef) or function.name == name:
        return source
    line = source.splitlines(keepends=True)[function.lineno - 1]
    renamed = line.replace(f"def {function.name}(", f"def {name}(", 1)
    lines = source.splitlines(keepends=True)
    lines[function.lineno - 1] = renamed
    return "".join(lines)
