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
    ["a", "an", "the", "of", "to", "for", "in", "on", "at", "by", "with", "and", "or", "is", "are", "be", "been", "was", "were", "it", "its", "this", "that", "these", "those", "from", "as", "me", "my", "i", "you", "your", "we", "our", "all", "any", "every", "how", "many", "much", "there", "their", "them", "then", "than", "what", "which", "who", "whose", "do", "does", "did", "please", "tell", "show", "find", "new"]
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
}
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

    @classmethod
    def build(cls, spec: Spec) -> SearchIndex:
        term_frequencies = [Counter(_document_terms(op)) for op in spec.operations]
        lengths = [sum(tf.values()) for tf in term_frequencies]
        document_frequency: Counter[str] = Counter()
        for tf in term_frequencies:
            document_frequency.update(tf.keys())
        return cls(spec.operations, term_frequencies, lengths, document_frequency, sum(lengths) / max(len(lengths), 1))

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
    return weights
