"""Full-text retrieval of workflows for a task: SQLite FTS5 (bm25) or PostgreSQL full text (ts_rank).

The task's words (without stop words) are OR-ed, so a workflow matches on any shared word and ranks
by how many and how rare; name and intent weigh more than the description. Only workflows of the
run's sites that are not deprecated are returned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import bindparam, text
from sqlmodel import Session, col, select

from workflows.memory import Workflow, WorkflowStore

DEFAULT_K = 5
MAX_TERMS = 24
STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "all",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "this",
        "to",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "with",
        "you",
        "your",
    ]
)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# bm25 weights per FTS column: name, description, intent_template, site.
_SQLITE_QUERY = text(
    "SELECT w.id FROM workflows_fts JOIN workflows AS w ON w.id = workflows_fts.rowid "
    "WHERE workflows_fts MATCH :query AND w.site IN :sites AND w.status != 'deprecated' "
    "ORDER BY bm25(workflows_fts, 4.0, 1.0, 3.0, 0.5) LIMIT :k"
).bindparams(bindparam("sites", expanding=True))
_POSTGRES_QUERY = text(
    "SELECT id FROM workflows, to_tsquery('english', :query) AS query "
    "WHERE search_vector @@ query AND site IN :sites AND status != 'deprecated' "
    "ORDER BY ts_rank(search_vector, query) DESC LIMIT :k"
).bindparams(bindparam("sites", expanding=True))


def query_terms(task: str) -> list[str]:
    """The task's distinct words worth searching for, in order."""
    terms: list[str] = []
    for word in _WORD.findall(task.lower()):
        if len(word) > 1 and word not in STOP_WORDS and word not in terms:
            terms.append(word)
    return terms[:MAX_TERMS]


def _fts5_query(terms: list[str], sites: list[str]) -> str:
    """Terms OR-ed, within the sites (matched in the index too, so bm25 ranks only their rows)."""
    quoted_sites = " OR ".join(_fts5_string(site) for site in sites)
    return f"site : ({quoted_sites}) AND ({' OR '.join(_fts5_string(term) for term in terms)})"


def _fts5_string(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def retrieve(store: WorkflowStore, task: str, sites: Iterable[str], k: int = DEFAULT_K) -> list[Workflow]:
    """The `k` workflows that best match `task` among the non-deprecated ones of `sites`, best first."""
    sites = list(sites)
    terms = query_terms(task)
    if not sites or not terms or k <= 0:
        return []
    dialect = store.engine.dialect.name
    if dialect == "sqlite":
        statement, query = _SQLITE_QUERY, _fts5_query(terms, sites)
    else:
        statement, query = _POSTGRES_QUERY, " | ".join(terms)
    with Session(store.engine) as session:
        ids = [
            row[0]
            for row in session.connection().execute(statement, {"query": query, "sites": sites, "k": k})
        ]
        if not ids:
            return []
        found = {w.id: w for w in session.exec(select(Workflow).where(col(Workflow.id).in_(ids))).all()}
    return [found[i] for i in ids if i in found]
