"""Full-text retrieval of workflows for a task: SQLite FTS5 (bm25) or PostgreSQL full text (ts_rank).

The task's words (without stop words) are OR-ed, so a workflow matches on any shared word and ranks
by how many and how rare; name and intent weigh more than the description. Only workflows of the
run's sites that are not deprecated are returned.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, text
from sqlmodel import Session, col, select

from workflows.lightstore import SQLITE_MATCH, fts5_query, query_terms
from workflows.memory import Workflow, WorkflowStore

DEFAULT_K = 5

_SQLITE_QUERY = text(SQLITE_MATCH.format(sites=":sites", query=":query", k=":k")).bindparams(
    bindparam("sites", expanding=True)
)
_POSTGRES_QUERY = text(
    "SELECT id FROM workflows, to_tsquery('english', :query) AS query "
    "WHERE search_vector @@ query AND site IN :sites AND status != 'deprecated' "
    "ORDER BY ts_rank(search_vector, query) DESC LIMIT :k"
).bindparams(bindparam("sites", expanding=True))


def retrieve(store: WorkflowStore, task: str, sites: Iterable[str], k: int = DEFAULT_K) -> list[Workflow]:
    """The `k` workflows that best match `task` among the non-deprecated ones of `sites`, best first."""
    sites = list(sites)
    terms = query_terms(task)
    if not sites or not terms or k <= 0:
        return []
    dialect = store.engine.dialect.name
    if dialect == "sqlite":
        statement, query = _SQLITE_QUERY, fts5_query(terms, sites)
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
