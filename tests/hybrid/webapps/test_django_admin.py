"""Tasks on Django's admin (autocomplete, inlines, calendars, bulk actions, uploads, list filters), done
by the full agent with scripted replies and judged by the books the app then stores."""

from __future__ import annotations

import pytest
from webapps.bed import as_params, run_task
from webapps.servers import DjangoLibrary
from webapps.tasks import DJANGO, WebTask

from hybrid.config import Settings


@pytest.mark.parametrize("task", as_params(DJANGO))
def test_task(task: WebTask, library: DjangoLibrary, settings: Settings) -> None:
    outcome = run_task(task, library, settings)
    assert outcome.passed, outcome.explain()
