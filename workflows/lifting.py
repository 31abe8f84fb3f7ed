"""Deterministic induction: a run's effective code actions become one parameterised function.

No model is involved. The steps are joined into one body (helpers and classes they define included);
prints, displays and statements whose results are never used are dropped (exploration); `finish(x)`
becomes `return x`; literals that also occur in the task text are lifted into parameters (inside longer
strings too, as f-strings) named after where the code uses them, and the intent template is the task
text with those values replaced by `{{parameter}}` slots.
"""

from __future__ import annotations

import ast
import bisect
import keyword
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard, TypeVar

from sandbox.errors import HybridError
from sandbox.names import BROWSER, CAPABILITIES, FINISH, SITE_CAPABILITIES, WORKFLOWS
from workflows.program import SAFE_BUILTINS, call_name, capability_calls
from workflows.templates import ITEM_SEPARATOR, task_values

RESERVED = CAPABILITIES | {FINISH, "print"}
# What a notebook shows a value with: dropped with what they show, unless that has an effect.
# `help()` too: the prompt tells the model to read docs with it, and reading docs is exploration.
DISPLAY_CALLS = frozenset({"print", "display", "pprint", "pprint.pprint", "help"})
PURE_CALLS = frozenset(
    {
        "print",
        "help",
        "len",
        "str",
        "int",
        "float",
        "bool",
        "sorted",
        "list",
        "dict",
        "set",
        "tuple",
        "min",
        "max",
        "sum",
        "any",
        "all",
        "repr",
        "round",
        "abs",
        "enumerate",
        "zip",
        "range",
        "type",
        "isinstance",
        "issubclass",
        "hasattr",
        "callable",
        "format",
        "reversed",
        "map",
        "filter",
        "frozenset",
        "bytes",
        "chr",
        "ord",
        "hex",
        "bin",
        "oct",
        "divmod",
        "pow",
        "hash",
        "ascii",
        "slice",
    }
)
NAME_WORDS = 4
NAME_STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "to",
        "of",
        "in",
        "on",
        "for",
        "and",
        "or",
        "is",
        "are",
        "be",
        "there",
        "with",
        "by",
        "me",
        "my",
        "i",
        "it",
        "its",
        "that",
        "this",
        "as",
        "at",
        "from",
        "you",
        "your",
        "do",
        "does",
        "please",
        "tell",
        "answer",
    ]
)


class InductionRefused(HybridError, ValueError):
    """The run cannot become a program this way; the message says why and what would work."""


@dataclass
class WorkflowDraft:
    """A workflow induced from a run, before it is stored: a program's source, or (from a model) a text
    guide's, with the parameters either takes and the intent it serves."""

    name: str
    source: str
    parameters: list[dict[str, Any]]
    intent_template: str
    description: str
    arguments: dict[str, Any] = field(default_factory=dict)


# How telling a name from where a value is used is: an API parameter or a form field's label says what
# the value is; a dict key less surely; a variable's name least.
PARAMETER_RANK, KEY_RANK, VARIABLE_RANK = 3, 2, 1


@dataclass(frozen=True)
class _Role:
    """Where the code uses a literal: the name that place gives it, how telling that name is, and the line."""

    name: str | None
    rank: int
    line: int


Scalar = str | int
# A task value as the code holds it: one literal, or the literals of a loop's tuple (`for n in (17, 18)`).
Literal = Scalar | tuple[Scalar, ...]


@dataclass
class _Value:
    """A task value lifted into a parameter. `spelling` is how the task writes it when the code holds it
    case-folded (`'brass desk lamp'` for "Brass Desk Lamp"), and `fold` the str method that gives the code's
    value from the parameter (`lower`)."""

    value: Literal
    name: str
    occurrences: int = 0
    roles: list[_Role] = field(default_factory=list)
    spelling: str | None = None
    fold: str | None = None
    # A value the code held as a regular expression (`r'brass\s+desk'`): the pattern's text before and
    # after the words the task spells, and whether whitespace between them matched any run of it.
    regex: tuple[str, str, bool] | None = None

    @property
    def argument(self) -> Any:
        """The value as the task gives it, which the parameter takes."""
        if isinstance(self.value, tuple):
            return list(self.value)
        return self.spelling if self.spelling is not None else self.value

    @property
    def parameter(self) -> dict[str, Any]:
        if isinstance(self.value, tuple):
            return {
                "name": self.name,
                "type": "list",
                "items": type(self.value[0]).__name__,
                "example": self.argument,
            }
        return {"name": self.name, "type": type(self.value).__name__, "example": self.argument}


def lift_program(
    task: str, steps: Sequence[str], *, writing_calls: Iterable[str] = (), outputs: Sequence[str] = ()
) -> WorkflowDraft:
    """Induce a program from the code of a run's successful steps, in order.

    `writing_calls` are the dotted names (`api.demo.update_issue`, `browser.click`) of the run's calls
    that wrote; calls to them are kept even when their results are unused, and a run with none must
    compute its answer. `outputs` are what each step printed and returned (its observation), when known:
    they tell a task value from one the model copied off an output (see `_refuse_values_read_from_outputs`).
    """
    statements, step_lines = _parse_steps(steps)
    writes = set(writing_calls)
    statements = _drop_displays(statements, writes)
    statements = _finish_to_return(statements)
    statements = _drop_dead(statements, writes)
    if not capability_calls(ast.Module(body=statements, type_ignores=[])):
        raise InductionRefused(
            "the run's effective code calls no api, browser or wf operation: nothing to reuse"
        )
    # What documentation showed (help(), a printed docstring) is the API's vocabulary, not data read off.
    outputs = ["" if _reads_docs_only(code) else output for code, output in zip(steps, outputs, strict=False)]
    values = _liftable_values(task, statements)
    _refuse_values_read_from_outputs(task, values, step_lines, outputs)
    _refuse_written_values_read_from_outputs(task, statements, writes, steps, step_lines, outputs)
    lifter = _Lifter(values)
    statements = [ast.fix_missing_locations(lifter.visit(statement)) for statement in statements]
    refuse_task_literals_left(task, statements)
    _refuse_constant_answers(statements, writes, {v.name for v in values.values()})
    distinct = {id(v): v for v in values.values() if v.occurrences}.values()
    ordered = sorted(distinct, key=lambda v: _first_position(task, v.spelling or v.value))
    if not ordered:
        raise InductionRefused(
            "no value of the task text occurs in the code: the program would have no "
            "parameters and could only redo this one task"
        )
    template = intent_template(task, ordered)
    name = name_from_template(template)
    parameters = [v.parameter for v in ordered]
    description = f"For tasks like: {template_as_text(template)}"
    source = _function_source(name, parameters, description, statements)
    return WorkflowDraft(
        name=name,
        source=source,
        parameters=parameters,
        intent_template=template,
        description=description,
        arguments={v.name: v.argument for v in ordered},
    )


def _parse_steps(steps: Sequence[str]) -> tuple[list[ast.stmt], list[int]]:
    """The steps' statements, numbered as one text so a node's line says its step, and each step's first
    line."""
    statements: list[ast.stmt] = []
    step_lines: list[int] = []
    offset = 0
    for number, code in enumerate(steps, 1):
        try:
            tree = ast.parse(code)
        except SyntaxError as exc:
            raise InductionRefused(
                f"step {number} does not parse ({exc.msg}); induce from a clean run"
            ) from None
        statements.extend(ast.increment_lineno(tree, offset).body)
        step_lines.append(offset + 1)
        offset += code.count("\n") + 1
    if not statements:
        raise InductionRefused("the run has no successful code actions")
    return statements, step_lines


def _reads_docs_only(code: str) -> bool:
    """Whether a step only shows documentation: `help(x)`, `print(x.__doc__)`."""
    try:
        body = ast.parse(code).body
    except SyntaxError:
        return False
    calls = [s.value for s in body if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call)]
    return bool(body) and len(calls) == len(body) and all(_shows_docs(call) for call in calls)


def _shows_docs(call: ast.Call) -> bool:
    name = call_name(call)
    if name == "help":
        return True
    return name in DISPLAY_CALLS and all(
        isinstance(arg, ast.Attribute) and arg.attr == "__doc__" for arg in call.args
    )


def _effectful(node: ast.AST, writes: set[str]) -> bool:
    """Whether evaluating `node` may change something: a browser, wf or writing api call, or an unknown
    call."""
    for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
        name = call_name(call)
        if name is None:
            continue
        root = name.split(".", 1)[0]
        if root in (BROWSER, WORKFLOWS) or name in writes or name == FINISH:
            return True
        if root in SITE_CAPABILITIES or name in PURE_CALLS:  # their writing calls are in `writes`
            continue
        if "." not in name:
            return True  # a function defined in the run: assume it may act
    return False


def _drop_displays(statements: list[ast.stmt], writes: set[str]) -> list[ast.stmt]:
    """`print(...)` keeps only the effectful calls among its arguments; bare reads and names go."""

    class Displays(ast.NodeTransformer):
        def visit_Expr(self, node: ast.Expr) -> ast.stmt | list[ast.stmt] | None:
            value = node.value
            if isinstance(value, ast.Call) and call_name(value) in DISPLAY_CALLS:
                kept = [ast.Expr(arg) for arg in value.args if _effectful(arg, writes)]
                return [ast.copy_location(expr, node) for expr in kept] or None
            if _method_call(value):
                return node  # a method call for its effect (`found.append(x)`, `csv.writer(out).writerow(r)`)
            return node if _effectful(value, writes) else None

    cleaned: list[ast.stmt] = []
    for statement in statements:
        result = Displays().visit(statement)
        cleaned.extend(result if isinstance(result, list) else [] if result is None else [result])
    return [ast.fix_missing_locations(_fill_empty_bodies(statement)) for statement in cleaned]


def _method_call(node: ast.expr) -> bool:
    """A call of a method of some value (not of a capability): it may change that value or its arguments."""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return False
    name = call_name(node)
    return name is None or name.split(".", 1)[0] not in CAPABILITIES


_Node = TypeVar("_Node", bound=ast.AST)


def _fill_empty_bodies(node: _Node) -> _Node:
    for child in ast.walk(node):
        for attribute in ("body", "orelse", "finalbody"):
            block = getattr(child, attribute, None)
            if attribute == "body" and isinstance(block, list) and not block:
                block.append(ast.Pass())
    return node


def _finish_to_return(statements: list[ast.stmt]) -> list[ast.stmt]:
    """`finish(x)` statements become `return x`; whatever follows a top-level finish is dropped."""

    class Finish(ast.NodeTransformer):
        def visit_Expr(self, node: ast.Expr) -> ast.stmt:
            value = node.value
            if isinstance(value, ast.Call) and call_name(value) == FINISH:
                answer = (
                    value.args[0] if value.args else (value.keywords[0].value if value.keywords else None)
                )
                return ast.copy_location(ast.Return(answer), node)
            return node

    kept: list[ast.stmt] = []
    for statement in statements:
        statement = ast.fix_missing_locations(Finish().visit(statement))
        if any(isinstance(n, ast.Call) and call_name(n) == FINISH for n in ast.walk(statement)):
            raise InductionRefused(
                "finish() is used inside an expression; only `finish(answer)` statements lift"
            )
        kept.append(statement)
        if isinstance(statement, ast.Return):
            break
    return kept


def _names(node: ast.AST, context: type[ast.expr_context]) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, context)}


def _defined(statement: ast.stmt) -> set[str]:
    """The names a top-level statement binds: a def's or class's name, an import's, an assignment's."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {statement.name}
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).split(".")[0] for alias in statement.names}
    return _names(statement, ast.Store)


def _drop_dead(statements: list[ast.stmt], writes: set[str]) -> list[ast.stmt]:
    """Remove top-level statements that define only names never used afterwards and have no effect.

    Defining a helper function or class has no effect of its own: it stays when later code uses it,
    and then whatever its body uses stays too.
    """
    live: set[str] = set()
    kept: list[ast.stmt] = []
    for statement in reversed(statements):
        defined = _defined(statement)
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            needed = bool(defined & live)
        else:
            mutated = {
                n.func.value.id
                for n in ast.walk(statement)
                if isinstance(n, ast.Call)
                and isinstance(n.func, ast.Attribute)
                and isinstance(n.func.value, ast.Name)
            }
            if isinstance(statement, ast.Expr) and _method_call(statement.value):
                mutated |= _names(statement, ast.Load)  # what a method is given, it may change
            needed = (
                isinstance(statement, ast.Return)
                or _effectful(statement, writes)
                or bool((defined | mutated) & live)
            )
        if not needed:
            continue
        kept.append(statement)
        if isinstance(statement, ast.Assign):
            live -= defined
        live |= _names(statement, ast.Load)
    return list(reversed(kept))


FORM_CALLS = frozenset({"browser.fill", "browser.select"})
LABEL_FILLER = NAME_STOP_WORDS | {"type", "enter", "select", "choose", "pick", "confirm", "here"}


def label_name(label: str) -> str | None:
    """A parameter name from a form field's label: `Type the project name to confirm` -> `project_name`."""
    words = [w for w in re.findall(r"[a-z0-9]+", label.lower()) if w not in LABEL_FILLER]
    return "_".join(words[:3]) or None


def _literal_contexts(statements: list[ast.stmt]) -> dict[int, _Role]:
    """For each liftable literal node (by id): the role its place in the code gives it.

    Dict keys and subscripts are structure, not task values, so they are never lifted.
    """
    contexts: dict[int, _Role] = {}
    labels: dict[str, str] = {}  # variables holding `browser.find(role, label)`, by name
    # The run's own helpers: a value passed to one is named like the helper's parameter.
    helpers = {
        s.name: [a.arg for a in [*s.args.posonlyargs, *s.args.args]]
        for s in statements
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
    }

    def field_label(target: ast.expr) -> str | None:
        if isinstance(target, ast.Name):
            return labels.get(target.id)
        if (
            isinstance(target, ast.Call)
            and call_name(target) == "browser.find"
            and len(target.args) > 1
            and isinstance(target.args[1], ast.Constant)
            and isinstance(target.args[1].value, str)
        ):
            return target.args[1].value
        return None

    def visit(node: ast.AST, role: tuple[str | None, int], liftable: bool) -> None:
        if isinstance(node, ast.Constant):
            if liftable and _scalar(node.value):
                contexts[id(node)] = _Role(*role, node.lineno)
            return
        if isinstance(node, (ast.Tuple, ast.List)) and liftable and _constant_items(node) is not None:
            contexts[id(node)] = _Role(*role, node.lineno)  # the items may be one list-valued task value
        if isinstance(node, ast.For) and isinstance(node.target, ast.Name):
            # `for n in (17, 18): ...(number=n)`: the tuple is the `numbers` the task names.
            used_as = _keyword_of(node.target.id, node.body)
            visit(node.iter, (_plural(used_as), PARAMETER_RANK) if used_as else role, True)
            for branch in [*node.body, *node.orelse]:
                visit(branch, (None, 0), True)
            return
        if isinstance(node, ast.Compare):
            # `p['title'].lower() == 'brass desk lamp'`, `'lamp' in p['title']`: the value is a title.
            operands = [node.left, *node.comparators]
            subject = next((s for s in map(_subject, operands) if s is not None), None)
            for operand in operands:
                visit(operand, subject or role, True)
            return
        if isinstance(node, ast.Call):
            name = call_name(node)
            visit(node.func, (None, 0), False)
            label = field_label(node.args[0]) if name in FORM_CALLS and node.args else None
            subject = _searched_subject(node)
            for position, arg in enumerate(node.args):
                if subject is not None and position == 0:
                    visit(arg, subject, True)
                elif name in PURE_CALLS:
                    visit(arg, role, True)
                elif label is not None and position == 1:
                    visit(arg, (label_name(label), PARAMETER_RANK), True)
                elif name in helpers and position < len(helpers[name]):
                    visit(arg, (helpers[name][position], PARAMETER_RANK), True)
                else:
                    visit(arg, (None, 0), True)
            for kw in node.keywords:
                visit(kw.value, (kw.arg, PARAMETER_RANK) if kw.arg else (None, 0), True)
            return
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if key is not None:
                    visit(key, (None, 0), False)
                name = key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
                visit(value, (name, KEY_RANK) if name is not None else role, True)
            return
        if isinstance(node, ast.Subscript):
            visit(node.value, role, liftable)
            visit(node.slice, (None, 0), False)
            return
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                label = field_label(node.value)
                if label is not None:
                    labels[target.id] = label
                visit(node.value, (target.id, VARIABLE_RANK), True)
                return
            if (
                isinstance(target, ast.Tuple)
                and isinstance(node.value, ast.Tuple)
                and len(target.elts) == len(node.value.elts)
            ):
                for element, value in zip(target.elts, node.value.elts, strict=True):
                    visit(
                        value,
                        (element.id, VARIABLE_RANK) if isinstance(element, ast.Name) else (None, 0),
                        True,
                    )
                return
        for child in ast.iter_child_nodes(node):
            visit(child, role, liftable)

    for statement in statements:
        visit(statement, (None, 0), True)
    return contexts


def _scalar(value: object) -> TypeGuard[Scalar]:
    return isinstance(value, (str, int)) and not isinstance(value, bool)


def _constant_items(node: ast.Tuple | ast.List) -> tuple[Scalar, ...] | None:
    """`(17, 18)` -> (17, 18): the items of a tuple or list of two or more literals of one type, else None."""
    items = [e.value for e in node.elts if isinstance(e, ast.Constant) and _scalar(e.value)]
    if len(items) < 2 or len(items) != len(node.elts) or len({type(item) for item in items}) != 1:
        return None
    return tuple(items)


def _keyword_of(variable: str, body: list[ast.stmt]) -> str | None:
    """The keyword a call in `body` passes `variable` as (`number` in `update_issue(number=n)`), if any."""
    for node in (n for statement in body for n in ast.walk(statement)):
        if isinstance(node, ast.keyword) and isinstance(node.value, ast.Name) and node.value.id == variable:
            return node.arg
    return None


def _plural(name: str | None) -> str | None:
    return None if name is None else name if name.endswith("s") else f"{name}s"


def _subject(node: ast.expr) -> tuple[str, int] | None:
    """What a value compared with `node` is: `title` for `p['title']`, `p['title'].lower()` or `p.title`."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        node = node.func.value  # a method applied to it: .lower(), .strip(), .casefold()
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        key = node.slice.value
        return (key, KEY_RANK) if isinstance(key, str) else None
    if isinstance(node, ast.Attribute):
        return node.attr, KEY_RANK
    return None


SEARCH_METHODS = frozenset(
    {"startswith", "endswith", "find", "index", "count", "removeprefix", "removesuffix"}
)
SEARCH_FUNCTIONS = frozenset({"re.search", "re.match", "re.fullmatch", "re.findall", "re.finditer"})
# Functions whose first argument (or `pattern=`) is a regular expression: a value lifted there is escaped.
PATTERN_FUNCTIONS = SEARCH_FUNCTIONS | {"re.compile", "re.sub", "re.subn", "re.split"}


def _pattern_argument(call: ast.Call) -> ast.expr | None:
    """The regular expression a `re.*` call is given, if it is one of `PATTERN_FUNCTIONS`."""
    if call_name(call) not in PATTERN_FUNCTIONS:
        return None
    if call.args:
        return call.args[0]
    return next((k.value for k in call.keywords if k.arg == "pattern"), None)


def _regex_spelling(pattern: str, task: str) -> tuple[str, str | None, tuple[str, str, bool]] | None:
    """How the task spells the text a regular expression holds (`r'\\bbrass\\s+desk'` for "Brass Desk"):
    the task's spelling, the str method that folds it to the pattern's case (or None), and the pattern's
    text before and after the words (`\\b` and `\\b` here) with whether whitespace between them matched
    any run of it. None if the task does not spell it."""
    text = _regex_text(pattern)
    if len(text) < 2:
        return None
    found = re.search(rf"(?<!\w){_spaced(text)}(?!\w)", task, re.IGNORECASE)
    if found is None:
        return None
    spelling = " ".join(found.group(0).split())
    fold = next(
        (m for m in ("lower", "upper", "casefold") if spelling != text and getattr(spelling, m)() == text),
        None,
    )
    words = text.split()
    first = re.search(re.escape(words[0]), pattern, re.IGNORECASE)
    last = list(re.finditer(re.escape(words[-1]), pattern, re.IGNORECASE))
    prefix, suffix = "", ""
    if first is not None and last and last[-1].end() >= first.end():
        prefix, suffix = pattern[: first.start()], pattern[last[-1].end() :]
        middle = pattern[first.start() : last[-1].end()]
    else:
        middle = pattern
    return spelling, fold, (prefix, suffix, "\\s" in middle)


def _searched_subject(call: ast.Call) -> tuple[str, int] | None:
    """For a search whose first argument is sought in a value (`p['title'].startswith('Brass')`,
    `re.search('lamp', p['title'])`), what that value is."""
    if isinstance(call.func, ast.Attribute) and call.func.attr in SEARCH_METHODS:
        return _subject(call.func.value)
    if call_name(call) in SEARCH_FUNCTIONS and len(call.args) > 1:
        return _subject(call.args[1])
    return None


def _occurs(value: Literal, text: str) -> bool:
    return _value_pattern(value).search(text) is not None


def _item_pattern(value: Scalar) -> str:
    return str(value) if isinstance(value, int) else re.escape(value)


def _value_pattern(value: Literal) -> re.Pattern[str]:
    if isinstance(value, tuple):
        items = ITEM_SEPARATOR.join(_item_pattern(item) for item in value)
        return re.compile(rf"(?<![\w.]){items}(?!\w|\.\d)")
    if isinstance(value, int):
        return re.compile(rf"(?<![\w.]){value}(?![\w]|\.\d)")
    return re.compile(rf"(?<!\w){re.escape(value)}(?!\w)")


def _first_position(text: str, value: Literal) -> int:
    match = _value_pattern(value).search(text)
    return match.start() if match else len(text)


def _folded_spelling(value: str, task: str) -> tuple[str, str] | None:
    """How the task writes a value the code holds case-folded, and the str method that folds it:
    ("Brass Desk Lamp", "lower") for `'brass desk lamp'`; None if the task does not name it so."""
    found = re.search(rf"(?<!\w){re.escape(value)}(?!\w)", task, re.IGNORECASE)
    if found is None or found.group(0) == value:
        return None
    spelling = found.group(0)
    fold = next((m for m in ("lower", "upper", "casefold") if getattr(spelling, m)() == value), None)
    return None if fold is None else (spelling, fold)


def _program_names(statements: list[ast.stmt]) -> set[str]:
    """Every name the program binds or reads in its own scope, and the free names of the functions it
    defines: a parameter of one of those names would shadow it, or be shadowed. A helper's own arguments
    are its business (`def fetch_all(owner, ...)` may meet a parameter `owner`)."""
    names: set[str] = set()
    pending: list[ast.AST] = list(statements)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            if not isinstance(node, ast.Lambda):
                names.add(node.name)
            arguments = node.args
            local = {
                arg.arg
                for arg in [
                    *arguments.posonlyargs,
                    *arguments.args,
                    *arguments.kwonlyargs,
                    *filter(None, [arguments.vararg, arguments.kwarg]),
                ]
            }
            inner = [n for n in ast.walk(node) if isinstance(n, ast.Name)]
            stored = {n.id for n in inner if isinstance(n.ctx, ast.Store)}
            names |= {n.id for n in inner} - local - stored
            continue
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        pending.extend(ast.iter_child_nodes(node))
    return names


def _liftable_values(task: str, statements: list[ast.stmt]) -> dict[Literal, _Value]:
    """Task values found in the code, each with a parameter named after the most telling place the code
    uses it (an API parameter or a form field's label over a dict key over a variable), and never after a
    name the program already has. A value the code holds case-folded is the task's spelling folded; a
    loop's tuple of values the task lists is one list."""
    contexts = _literal_contexts(statements)
    roles: dict[Literal, list[_Role]] = {}
    folded: dict[Literal, tuple[str, str]] = {}
    regexes: dict[str, tuple[str, str | None, tuple[str, str, bool]]] = {}
    embedded: list[str] = []
    patterns = {
        id(pattern)
        for statement in statements
        for node in ast.walk(statement)
        if isinstance(node, ast.Call) and (pattern := _pattern_argument(node)) is not None
    }
    for node in (n for statement in statements for n in ast.walk(statement)):
        if id(node) not in contexts:
            continue
        if (
            id(node) in patterns
            and isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and not _occurs(node.value, task)
            and _folded_spelling(node.value, task) is None
        ):
            spelled = _regex_spelling(node.value, task)
            if spelled is not None:  # a regular expression of a task value: `r'brass\s+desk'`
                roles.setdefault(node.value, []).append(contexts[id(node)])
                regexes[node.value] = spelled
                continue
        role = contexts[id(node)]
        if isinstance(node, (ast.Tuple, ast.List)):
            items = _constant_items(node)
            if items is not None and _occurs(items, task):
                roles.setdefault(items, []).append(role)
            continue
        if not isinstance(node, ast.Constant):
            continue
        value = node.value
        whole = (isinstance(value, int) and role.name is not None) or (
            isinstance(value, str) and len(value.strip()) > 1
        )
        spelling = _folded_spelling(value, task) if whole and isinstance(value, str) else None
        # `whole` holds only for a str or an int (a bool too, as before): the check narrows the type.
        if whole and isinstance(value, (str, int)) and (_occurs(value, task) or spelling is not None):
            roles.setdefault(value, []).append(role)
            if spelling is not None and not _occurs(value, task):
                folded[value] = spelling
        elif isinstance(value, str):
            embedded.append(value)
    values: dict[Literal, _Value] = {}
    taken = _program_names(statements) | RESERVED | SAFE_BUILTINS
    for literal, found in roles.items():
        best = max(found, key=lambda role: role.rank)  # the first of the most telling
        task_spelling, fold = folded.get(literal, (None, None))
        name = _parameter_name(best.name, literal, taken)
        values[literal] = _Value(literal, name, roles=found, spelling=task_spelling, fold=fold)
        if isinstance(literal, str) and literal in regexes:
            values[literal].spelling, values[literal].fold, values[literal].regex = regexes[literal]
    listed = {item for value in values if isinstance(value, tuple) for item in value}
    for token in task_values(task):
        if token in values or token in listed or (token.isdigit() and int(token) in listed):
            continue
        if token.isdigit() and int(token) in values:
            values[token] = values[int(token)]  # `#7` in a message is the number 7 the code used
            continue
        for text in embedded:
            if _occurs(token, text):
                hint = re.search(rf"(\w+)=(?={re.escape(token)})", text)
                values[token] = _Value(token, _parameter_name(hint.group(1) if hint else None, token, taken))
                break
    return values


def _only_in_paths(task: str, value: Literal) -> bool:
    """Whether the task names `value` only as a segment of paths (`alice` in `alice/tracker-core`)."""
    words = [word for word in task.split() if _occurs(value, word)]
    return bool(words) and all("/" in word for word in words)


def _refuse_values_read_from_outputs(
    task: str, values: dict[Literal, _Value], step_lines: list[int], outputs: Sequence[str]
) -> None:
    """Follow the data: a value the task names only inside a path (`alice` of `alice/app`) is a task value
    in the role the code first gives it (`owner`, or a role sharing a word with it). Used in an unrelated
    role (`assignee`) after an output showed it, it was read off that output (the model copied what it
    saw): a program would repeat that one value instead of finding it, so the run is refused. A value
    the task names on its own may play several roles (the new owner of a transferred project is then its
    owner)."""
    if not outputs:
        return
    for value in {id(v): v for v in values.values()}.values():
        if not _only_in_paths(task, value.value):
            continue
        named = [role for role in value.roles if role.rank >= KEY_RANK and role.name]
        if not named:
            continue
        first_words = set(str(named[0].name).split("_"))
        for role in named[1:]:
            if first_words & set(str(role.name).split("_")):
                continue  # the same quantity by another name: `project_name` of a form, then `project`
            step = bisect.bisect_right(step_lines, role.line) - 1
            shown = next(
                (j for j in range(step) if j < len(outputs) and _occurs(value.value, outputs[j])), None
            )
            if shown is not None:
                raise InductionRefused(
                    f"step {step + 1} passes {value.value!r} as {role.name!r}, a value the output of step "
                    f"{shown + 1} showed rather than one the code computed: a program would always use "
                    f"{value.value!r}. Compute it in the code (parse the page or the API's answer), or "
                    "induce with a model."
                )


def _written_literals(call: ast.Call) -> Iterable[ast.Constant]:
    """The text a writing call writes: its arguments, and the values of dicts among them (not the locators
    of nested calls such as `browser.find(role, name)`)."""
    pending: list[ast.expr] = [*call.args, *(kw.value for kw in call.keywords)]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value.strip()) > 1:
            yield node
        elif isinstance(node, ast.Dict):
            pending.extend(node.values)
        elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            pending.extend(node.elts)


def _refuse_written_values_read_from_outputs(
    task: str,
    statements: list[ast.stmt],
    writes: set[str],
    steps: Sequence[str],
    step_lines: list[int],
    outputs: Sequence[str],
) -> None:
    """Follow the data: text that a writing call writes, which the task does not name and which first
    appeared in an output (no code before had typed it), was copied off that output: a program would
    write that one value every time (`assign to that person` always assigning alice)."""
    if not outputs:
        return
    for call in (
        n for s in statements for n in ast.walk(s) if isinstance(n, ast.Call) and call_name(n) in writes
    ):
        for literal in _written_literals(call):
            value = str(literal.value)  # `_written_literals` yields text only
            if value.casefold() in task.casefold():
                continue
            step = bisect.bisect_right(step_lines, literal.lineno) - 1
            shown = next((j for j in range(min(step, len(outputs))) if _occurs(value, outputs[j])), None)
            if shown is not None and not any(value in code for code in steps[: shown + 1]):
                raise InductionRefused(
                    f"step {step + 1} writes {value!r}, which the task does not name and the output of step "
                    f"{shown + 1} showed: a program would always write {value!r}. Compute it in the code "
                    "(parse the page or the API's answer), or induce with a model."
                )


def _parameter_name(hint: str | None, value: Literal, taken: set[str]) -> str:
    item = value[0] if isinstance(value, tuple) else value
    base = re.sub(r"\W+", "_", hint or "").strip("_").lower() or (
        "number" if isinstance(item, int) else "value"
    )
    if isinstance(value, tuple) and not hint:
        base += "s"
    if base[0].isdigit() or keyword.iskeyword(base) or base in RESERVED:
        base = f"{base}_value"
    name, suffix = base, 2
    while name in taken:
        name, suffix = f"{base}_{suffix}", suffix + 1
    taken.add(name)
    return name


class _Lifter(ast.NodeTransformer):
    """Replaces lifted literals by their parameters (folded as the code held them), tuples of listed values
    by their list, and strings containing any of them by f-strings."""

    def __init__(self, values: dict[Literal, _Value]) -> None:
        self.values = values
        self.escaping = False  # inside the pattern of a `re.*` call: values are matched literally
        # What may sit inside a longer string: each value as the code holds it and as the task spells it.
        self.inside: list[tuple[Literal, _Value, bool]] = []
        for value, lifted in values.items():
            if isinstance(value, (str, tuple)):
                self.inside.append((value, lifted, True))
            if lifted.spelling is not None:
                self.inside.append((lifted.spelling, lifted, False))
        self.inside.sort(key=lambda entry: len(str(entry[0])), reverse=True)
        self.pattern = (
            re.compile(
                "|".join(
                    f"(?P<v{i}>{_value_pattern(text).pattern})" for i, (text, _, _) in enumerate(self.inside)
                )
            )
            if self.inside
            else None
        )

    def visit_Call(self, node: ast.Call) -> ast.expr:
        pattern = _pattern_argument(node)
        if pattern is None:
            return self.generic_visit(node)  # type: ignore[return-value]
        escaping, self.escaping = self.escaping, False
        node.func = self.visit(node.func)
        self.escaping = True
        node.args = [self.visit(arg) if arg is pattern else arg for arg in node.args]
        for kw in node.keywords:
            if kw.value is pattern:
                kw.value = self.visit(kw.value)
        self.escaping = False
        node.args = [arg if arg is pattern else self.visit(arg) for arg in node.args]
        for kw in node.keywords:
            if kw.value is not pattern:
                kw.value = self.visit(kw.value)
        self.escaping = escaping
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.expr:
        value = node.value
        if _scalar(value) and value in self.values:
            if self.values[value].regex is not None and not self.escaping:
                return node  # a pattern's text somewhere else: left as it is (and refused if a task value)
            return ast.copy_location(self._expression(self.values[value], folded=True), node)
        if isinstance(value, str):
            parts = self._parts(value)
            if any(isinstance(part, ast.FormattedValue) for part in parts):
                return ast.copy_location(ast.JoinedStr(parts), node)
        return node

    def visit_Tuple(self, node: ast.Tuple) -> ast.expr:
        return self._sequence(node)

    def visit_List(self, node: ast.List) -> ast.expr:
        return self._sequence(node)

    def _sequence(self, node: ast.Tuple | ast.List) -> ast.expr:
        items = _constant_items(node)
        if items is not None and items in self.values:
            return ast.copy_location(self._expression(self.values[items], folded=True), node)
        return self.generic_visit(node)  # type: ignore[return-value]

    def _expression(self, lifted: _Value, *, folded: bool, separator: str = ", ") -> ast.expr:
        lifted.occurrences += 1
        parameter = ast.Name(lifted.name, ast.Load())
        if isinstance(lifted.value, tuple) and not folded:
            items = ast.Call(ast.Name("map", ast.Load()), [ast.Name("str", ast.Load()), parameter], [])
            return ast.Call(ast.Attribute(ast.Constant(separator), "join", ast.Load()), [items], [])
        expression: ast.expr = parameter
        if (folded or lifted.regex is not None) and lifted.fold is not None:
            expression = ast.Call(ast.Attribute(parameter, lifted.fold, ast.Load()), [], [])
        if self.escaping:
            return _escaped(expression, lifted.regex)
        return expression

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.JoinedStr:
        parts: list[ast.expr] = []
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                parts.extend(self._parts(part.value))
            else:
                parts.append(self.visit(part))
        node.values = parts
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.Subscript:
        node.value = self.visit(node.value)
        return node  # keys are structure, never task values

    def visit_Dict(self, node: ast.Dict) -> ast.Dict:
        node.values = [self.visit(value) for value in node.values]
        return node

    def _parts(self, text: str) -> list[ast.expr]:
        if self.pattern is None:
            return [ast.Constant(text)]
        parts: list[ast.expr] = []
        position = 0
        for match in self.pattern.finditer(text):
            if match.start() > position:
                parts.append(ast.Constant(text[position : match.start()]))
            value, lifted, folded = self.inside[int(str(match.lastgroup)[1:])]
            if isinstance(value, tuple):
                # Inside text the list reads as the task wrote it: `17 and 18`.
                first = re.match(rf"{_item_pattern(value[0])}({ITEM_SEPARATOR})", match.group(0))
                assert first is not None  # the whole match starts with the first item and a separator
                expression = self._expression(lifted, folded=False, separator=first.group(1))
            else:
                expression = self._expression(lifted, folded=folded)
            parts.append(ast.FormattedValue(expression, -1, None))
            position = match.end()
        if position < len(text):
            parts.append(ast.Constant(text[position:]))
        return parts or [ast.Constant(text)]


def _escaped(value: ast.expr, regex: tuple[str, str, bool] | None) -> ast.expr:
    """`value` matched literally inside a regular expression: `re.escape(value)`; for a value the run held
    as a pattern, with the pattern's text around it kept and, where it matched any run of whitespace
    between words, still so: `'(?<!\\w)' + '\\s+'.join(map(re.escape, value.split())) + '(?!\\w)'` for
    `r'\\bbrass\\s+desk\\b'`."""
    escape = ast.Attribute(ast.Name("re", ast.Load()), "escape", ast.Load())
    if regex is None or not regex[2]:
        expression: ast.expr = ast.Call(escape, [value], [])
    else:
        words = ast.Call(ast.Attribute(value, "split", ast.Load()), [], [])
        expression = ast.Call(
            ast.Attribute(ast.Constant(r"\s+"), "join", ast.Load()),
            [ast.Call(ast.Name("map", ast.Load()), [escape, words], [])],
            [],
        )
    prefix, suffix = (regex[0], regex[1]) if regex is not None else ("", "")
    # A word boundary next to the value meant "not inside a longer word"; said so, it holds for values
    # that start or end with punctuation too ("Enamel Camp Mug (large)").
    prefix = re.sub(r"\\b$", lambda _: r"(?<!\w)", prefix)
    suffix = re.sub(r"^\\b", lambda _: r"(?!\w)", suffix)
    if prefix:
        expression = ast.BinOp(ast.Constant(prefix), ast.Add(), expression)
    if suffix:
        expression = ast.BinOp(expression, ast.Add(), ast.Constant(suffix))
    return expression


def _refuse_constant_answers(statements: list[ast.stmt], writes: set[str], parameters: set[str]) -> None:
    """A read-only run whose answer is a constant was answered from what the model read, not computed."""
    module = ast.Module(body=statements, type_ignores=[])
    if any(name in writes for name in capability_calls(module)):
        return
    returns = [node for node in ast.walk(module) if isinstance(node, ast.Return)]
    computed = [r for r in returns if r.value is not None and _names(r.value, ast.Load) - parameters]
    if not computed:
        raise InductionRefused(
            "the answer is not computed by the code (the model read it from an observation), and the run "
            "changed nothing: a program would only repeat a constant. Induce a text workflow with a model "
            "instead."
        )


# Small numbers the code uses for structure (`[0]`, `page = 1`, `+ 1`) even when a task names them too.
STRUCTURAL_NUMBERS = frozenset({0, 1})


def refuse_task_literals_left(task: str, statements: list[ast.stmt]) -> None:
    """Correct by construction: a literal of the task left in the program (however the code held it:
    another case, in a tuple, under a regex) would make the program redo this task whatever it is given.
    Dict keys, subscripts and `browser.find` locators are the site's structure, not task values."""
    skipped: set[int] = set()
    for node in (n for statement in statements for n in ast.walk(statement)):
        if isinstance(node, ast.Subscript):
            skipped.update(id(n) for n in ast.walk(node.slice))
        elif isinstance(node, ast.Dict):
            skipped.update(id(key) for key in node.keys if key is not None)
        elif isinstance(node, ast.JoinedStr):
            skipped.update(id(part) for part in node.values)  # text around lifted values
        elif isinstance(node, ast.Attribute):
            skipped.add(id(node.value))  # a separator joining a list, `' and '.join(...)`
        elif isinstance(node, ast.Call) and call_name(node) == "browser.find":
            skipped.update(id(n) for arg in node.args for n in ast.walk(arg))
    for node in (n for statement in statements for n in ast.walk(statement)):
        if not isinstance(node, ast.Constant) or id(node) in skipped or not _scalar(node.value):
            continue
        value = node.value
        left: bool | re.Match[str] | None
        if isinstance(value, str):
            left = any(
                len(text) > 1 and re.search(rf"(?<!\w){_spaced(text)}(?!\w)", task, re.IGNORECASE)
                for text in {value.strip(), _regex_text(value)}
            )
        else:
            left = value not in STRUCTURAL_NUMBERS and _occurs(value, task)
        if left:
            raise InductionRefused(
                f"the code still holds {value!r} from the task (line {node.lineno} of the run's code) where "
                "no parameter could take its place: the program would act on that value whatever it is "
                "given. "
                "Pass task values to the calls directly (as keyword arguments, or compared as they are)."
            )


def _regex_text(value: str) -> str:
    """The text a regular expression spells, as a task would: `r'brass\\s+desk'` and `re.escape`d
    `'brass\\ desk'` read `brass desk` (whitespace classes, wildcards and anchors as gaps)."""
    text = re.sub(r"\\[sWb]|\.[*+?]?", " ", value)
    text = re.sub(r"\\(.)", r"\1", re.sub(r"(?<!\\)[*+?^$()\[\]|{}]", " ", text))
    return " ".join(text.split())


def _spaced(text: str) -> str:
    """A pattern for `text` with any run of whitespace where it has one."""
    return r"\s+".join(map(re.escape, text.split()))


def intent_template(task: str, values: Sequence[_Value]) -> str:
    """The task text with each lifted value, as the task spells it, replaced by its `{{parameter}}` slot."""
    if not values:
        return task
    ordered = sorted(values, key=lambda v: len(str(v.spelling or v.value)), reverse=True)
    pattern = re.compile(
        "|".join(f"(?P<v{i}>{_value_pattern(v.spelling or v.value).pattern})" for i, v in enumerate(ordered))
    )
    return pattern.sub(lambda match: "{{" + ordered[int(str(match.lastgroup)[1:])].name + "}}", task)


def template_as_text(template: str) -> str:
    """`Close issue #{{number}}` -> `Close issue #<number>`, for descriptions and prompts."""
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", r"<\1>", template)


def name_from_template(template: str) -> str:
    """A snake_case name from the first sentence's leading content words, e.g. `close_issue`."""
    first = re.split(r"(?<=[.?!])\s", re.sub(r"\{\{\s*\w+\s*\}\}", " ", template), maxsplit=1)[0]
    words = [w for w in re.findall(r"[a-z]+", first.lower()) if w not in NAME_STOP_WORDS]
    return "_".join(words[:NAME_WORDS]) or "workflow"


def _function_source(
    name: str, parameters: list[dict[str, Any]], description: str, statements: list[ast.stmt]
) -> str:
    lines = [description, ""]
    if parameters:
        lines.append("Args:")
        lines.extend(f"    {p['name']}: e.g. {p['example']!r}" for p in parameters)
    docstring = "\n    ".join(lines).strip() + "\n    "
    function = ast.FunctionDef(
        name=name,
        args=ast.arguments(
            posonlyargs=[],
            args=[ast.arg(p["name"], ast.Name(p["type"], ast.Load())) for p in parameters],
            kwonlyargs=[],
            kw_defaults=[],
            defaults=[],
        ),
        body=[ast.Expr(ast.Constant(docstring)), *statements],
        decorator_list=[],
        returns=None,
        type_params=[],  # type: ignore[call-arg,unused-ignore]  # Python 3.12+ needs it; 3.11 ignores it
    )
    return ast.unparse(ast.fix_missing_locations(ast.Module(body=[function], type_ignores=[]))) + "\n"
