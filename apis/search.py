"""`search(spec, query, k)`: operations ranked for a task with BM25 over their names and docs.

A small BM25 written here rather than a dependency: a few hundred short documents need no sparse
matrices (bm25s) or numpy (rank-bm25), and field weights, light stemming and action synonyms are
easier to express directly.
"""

from __future__ import annotations

import math
import re
import weakref
from collections import Counter
from dataclasses import dataclass

from apis.model import Operation, Spec

K1 = 1.2
B = 0.75
# How many times a field's words count: the name and summary say most about what an operation does.
FIELD_WEIGHTS = {"name": 3, "summary": 2, "path": 2, "group": 1, "parameters": 1, "description": 1}
DESCRIPTION_CHARS = 300
SYNONYM_WEIGHT = 0.4
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "for",
        "in",
        "on",
        "at",
        "by",
        "with",
        "and",
        "or",
        "is",
        "are",
        "be",
        "been",
        "was",
        "were",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "from",
        "as",
        "me",
        "my",
        "i",
        "you",
        "your",
        "we",
        "our",
        "all",
        "any",
        "every",
        "how",
        "many",
        "much",
        "there",
        "their",
        "them",
        "then",
        "than",
        "what",
        "which",
        "who",
        "whose",
        "do",
        "does",
        "did",
        "please",
        "tell",
        "show",
        "find",
    ]
)
# Words a task uses for an action, mapped to the words specs use for it (and the method it implies).
SYNONYMS = {
    "create": ("add", "post"),
    "add": ("create", "post"),
    "make": ("create",),
    "update": ("edit", "patch", "modify", "change", "set"),
    "edit": ("update", "patch", "modify"),
    "change": ("update", "edit", "set"),
    "set": ("update", "edit", "put"),
    "close": ("edit", "update", "state"),
    "reopen": ("edit", "update", "state"),
    "rename": ("edit", "update"),
    "delete": ("remove", "del"),
    "remove": ("delete", "del"),
    "list": ("get", "all", "search"),
    "get": ("list", "read"),
    "search": ("list", "find", "query"),
    "count": ("list",),
    "comment": ("comments",),
    "label": ("labels",),
    "labelled": ("label",),
    "labeled": ("label",),
    "user": ("users", "member"),
    "repository": ("repo",),
    "repo": ("repository",),
    "star": ("starred",),
    "open": ("create",),
    "new": ("create",),
    "publish": ("create",),
    "send": ("create", "post"),
    "workspace": ("team",),
    "channel": ("conversation",),
    "remind": ("reminder",),
    "webhook": ("hook",),
    "log": ("add", "time"),
    "hour": ("time",),
    "away": ("presence",),
    "status": ("presence", "state"),
}
# Words for the person asking, which specs call the current or authenticated user.
SELF_WORDS = frozenset({"i", "me", "my", "mine", "myself", "am"})
SELF_TERMS = ("current", "authenticated", "user")
# The action a task asks for, by the words that say it, and the words an operation's name uses for it.
ACTIONS = {
    "create": (
        "create",
        "add",
        "open",
        "new",
        "make",
        "post",
        "publish",
        "send",
        "upload",
        "start",
        "invite",
    ),
    "update": (
        "update",
        "edit",
        "change",
        "set",
        "close",
        "reopen",
        "rename",
        "replace",
        "patch",
        "move",
        "lock",
        "pin",
        "archive",
        "scale",
        "mark",
    ),
    "delete": ("delete", "remove", "del", "clear", "unfollow", "kick", "leave"),
    "read": (
        "list",
        "get",
        "read",
        "show",
        "which",
        "what",
        "who",
        "search",
        "find",
        "view",
        "info",
        "count",
        "fetch",
        "see",
        "look",
    ),
}
METHOD_ACTIONS = {
    "GET": "read",
    "HEAD": "read",
    "POST": "create",
    "PUT": "update",
    "PATCH": "update",
    "DELETE": "delete",
}
# How much an operation's score grows when it does the asked action, and when its resource is the asked
# object.
ACTION_BOOST = 0.35
OBJECT_BOOST = 0.35
# Operations rarely wanted for an everyday task: admin ones (unless asked for) and deprecated ones.
ADMIN_FACTOR = 0.6
DEPRECATED_FACTOR = 0.5
METHOD_WORDS = {
    "GET": "get list read",
    "POST": "create add post",
    "PUT": "update set put",
    "PATCH": "update edit patch",
    "DELETE": "delete remove",
}
_WORD = re.compile(r"[a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def tokenize(text: str) -> list[str]:
    words = _WORD.findall(_CAMEL.sub(" ", text).lower())
    return [_stem(w) for w in words if w not in STOPWORDS]


def _stem(word: str) -> str:
    """Plural and -ing/-ed endings off, enough for `issues` to meet `issue`."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@dataclass
class SearchIndex:
    operations: list[Operation]
    term_frequencies: list[Counter[str]]
    lengths: list[int]
    document_frequency: Counter[str]
    average_length: float
    actions: list[frozenset[str]]
    resources: list[frozenset[str]]
    factors: list[float]

    @classmethod
    def build(cls, spec: Spec) -> SearchIndex:
        term_frequencies = [Counter(_document_terms(op)) for op in spec.operations]
        lengths = [sum(tf.values()) for tf in term_frequencies]
        document_frequency: Counter[str] = Counter()
        for tf in term_frequencies:
            document_frequency.update(tf.keys())
        return cls(
            spec.operations,
            term_frequencies,
            lengths,
            document_frequency,
            sum(lengths) / max(len(lengths), 1),
            [_operation_actions(op) for op in spec.operations],
            [_resource_terms(op) for op in spec.operations],
            [_rarity_factor(op) for op in spec.operations],
        )

    def scores(self, query: str) -> list[float]:
        weights = _query_weights(query)
        total = len(self.operations)
        scores = [0.0] * total
        for term, weight in weights.items():
            frequency = self.document_frequency.get(term)
            if not frequency:
                continue
            idf = math.log(1 + (total - frequency + 0.5) / (frequency + 0.5))
            for i, tf in enumerate(self.term_frequencies):
                count = tf.get(term)
                if count:
                    norm = K1 * (1 - B + B * self.lengths[i] / self.average_length)
                    scores[i] += weight * idf * count * (K1 + 1) / (count + norm)
        action = _asked_action(query)
        objects = {term for term, weight in weights.items() if weight >= 1}
        wants_admin = "admin" in objects
        for i, score in enumerate(scores):
            if not score:
                continue
            boost = 1.0 + (ACTION_BOOST if action in self.actions[i] else 0.0)
            boost += OBJECT_BOOST if objects & self.resources[i] else 0.0
            factor = self.factors[i]
            if wants_admin and factor == ADMIN_FACTOR:
                factor = 1.0
            scores[i] = score * boost * factor
        return scores


_indexes: weakref.WeakKeyDictionary[Spec, SearchIndex] = weakref.WeakKeyDictionary()


def search_index(spec: Spec) -> SearchIndex:
    """The spec's index, built on first use and kept as long as the spec is."""
    if spec not in _indexes:
        _indexes[spec] = SearchIndex.build(spec)
    return _indexes[spec]


def search(spec: Spec, query: str, k: int = 10) -> list[Operation]:
    """The `k` operations that best match `query`, best first; ties keep document order."""
    scores = search_index(spec).scores(query)
    ranked = sorted(range(len(scores)), key=lambda i: -scores[i])
    return [spec.operations[i] for i in ranked[:k] if scores[i] > 0 or k >= len(scores)]


def _document_terms(operation: Operation) -> list[str]:
    fields = {
        "name": f"{operation.name} {operation.operation_id or ''}",
        "summary": f"{operation.summary} {METHOD_WORDS.get(operation.method, '')}",
        "path": " ".join(s for s in operation.path.split("/") if not s.startswith("{")),
        "group": " ".join(operation.tags) or operation.group,
        "parameters": " ".join(p.name for p in operation.parameters),
        "description": operation.description[:DESCRIPTION_CHARS],
    }
    terms = []
    for field, text in fields.items():
        terms += tokenize(text) * FIELD_WEIGHTS[field]
    return terms


def _query_weights(query: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for term in tokenize(query):
        weights[term] = weights.get(term, 0.0) + 1.0
    for term in list(weights):
        for synonym in SYNONYMS.get(term, ()):
            stemmed = _stem(synonym)
            weights.setdefault(stemmed, SYNONYM_WEIGHT)
    if SELF_WORDS & set(_WORD.findall(query.lower())):
        for term in SELF_TERMS:
            weights.setdefault(term, SYNONYM_WEIGHT)
    return weights


def _asked_action(query: str) -> str | None:
    """The action of the first word of the task that names one (`close issue 4` -> update)."""
    for word in _WORD.findall(query.lower()):
        for action, words in ACTIONS.items():
            if word in words:
                return action
    return None


def _operation_actions(operation: Operation) -> frozenset[str]:
    """What an operation does: its method's action, and the actions its name's words say (RPC-style APIs)."""
    words = set(_WORD.findall(_CAMEL.sub(" ", operation.name.replace("_", " ")).lower()))
    named = {action for action, verbs in ACTIONS.items() if words & set(verbs)}
    method = METHOD_ACTIONS.get(operation.method)
    # A POST named get/list/info reads; otherwise the method says what it does.
    if named and operation.method == "POST":
        return frozenset(named)
    return frozenset(named | ({method} if method else set()))


def _resource_terms(operation: Operation) -> frozenset[str]:
    """The thing an operation acts on: the words of its last literal path segment (`/repos/{o}/{r}/issues/{n}`
    -> issue)."""
    literal = [segment for segment in operation.path.split("/") if segment and not segment.startswith("{")]
    return frozenset(tokenize(literal[-1].split(".")[0])) if literal else frozenset()


def _rarity_factor(operation: Operation) -> float:
    text = f"{operation.name} {operation.summary}".lower()
    if operation.deprecated or "deprecated" in text:
        return DEPRECATED_FACTOR
    if operation.name.startswith("admin") or "/admin" in operation.path:
        return ADMIN_FACTOR
    return 1.0
