"""Tasks on Django's admin (autocomplete, inlines, calendars, bulk actions, uploads, list filters), done
by the full agent with scripted replies and judged by the books the app then stores."""

from __future__ import annotations

import pytest
import webapps.tasks
from webapps.bed import as_params, do_by_hand, reset, run_task, waiting
from webapps.servers import DjangoLibrary
from webapps.tasks import DJANGO, WebTask

from hybrid.config import Settings


@pytest.mark.parametrize("task", as_params(DJANGO))
def test_task(task: WebTask, library: DjangoLibrary, settings: Settings) -> None:
    outcome = run_task(task, library, settings)
    assert outcome.passed, outcome.explain()


def test_no_judge_passes_on_the_seed_state(library: DjangoLibrary, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webapps.tasks, "JUDGE_SECONDS", 0)  # the seed state is there at once
    reset(library)
    passing = []
    for task in DJANGO:
        try:
            task.check(library)
            passing.append(task.name)
        except AssertionError:
            pass
    assert passing == []


@pytest.mark.parametrize("task", waiting(DJANGO))
def test_a_waiting_task_can_be_done_by_hand(task: WebTask, library: DjangoLibrary, chromium, tmp_path) -> None:
    do_by_hand(task, library, chromium, tmp_path)
    task.check(library)
