"""Online workflow memory on a template family of Django-admin tasks (one shape, different books and dates),
run in order as `hybrid bench --memory online` runs a suite's family, against the same tasks with memory off
(`webapps.bed.run_family`; figures: bench_memory.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from webapps.bed import checks_passing_at_seed, run_family
from webapps.servers import DjangoLibrary
from webapps.tasks import DJANGO_FAMILY

from hybrid.config import Settings

pytestmark = pytest.mark.browser


def test_online_memory_learns_the_family_and_does_its_later_tasks_alone(
    library: DjangoLibrary, settings: Settings, tmp_path: Path
) -> None:
    alone = settings.model_copy(
        update={"data_dir": tmp_path / "off", "database_url": f"sqlite:///{tmp_path / 'off.sqlite'}"}
    )
    off = run_family(DJANGO_FAMILY, library, alone, "off")
    online = run_family(DJANGO_FAMILY, library, settings, "online")

    assert sum(r.passed for r in online) >= sum(r.passed for r in off)
    assert all(r.passed for r in online), online
    assert sum(r.wrong_writes for r in off + online) == 0
    # The first task is done by the model and teaches the shape; the later ones, naming other books and dates,
    # are done by what it taught with no model call, each on its own book (judged on the app's state).
    first, *later = online
    assert first.workflow is None and first.tokens > 0
    assert all(r.workflow is not None and r.steps == 1 and r.tokens == 0 for r in later), later
    assert len({r.workflow for r in later}) == 1  # one workflow for the shape
    assert all(r.tokens < w.tokens for r, w in zip(later, off[1:], strict=True))


def test_no_family_check_passes_on_the_seed_state(library: DjangoLibrary) -> None:
    assert checks_passing_at_seed(DJANGO_FAMILY, library) == []
