"""The bed serves its built pages, and records what they submit and upload."""

from __future__ import annotations

import httpx
import pytest
from widget_bed import DIST, Upload, WidgetBed
from widget_tasks import TASKS

pytestmark = pytest.mark.browser

BUNDLED = [
    "jquery",
    "select2",
    "tom-select",
    "react",
    "react-dom",
    "react-select",
    "@mui/material",
    "@mui/x-date-pickers",
    "antd",
    "flatpickr",
    "dropzone",
    "react-window",
    "@shoelace-style/shoelace",
    "quill",
]


def test_every_task_page_is_built_and_served(widget_bed: WidgetBed) -> None:
    for page in {task.page for task in TASKS}:
        html = httpx.get(widget_bed.url(page)).text
        assert f'<script src="{page}.js"></script>' in html
        assert (
            httpx.get(f"{widget_bed.base_url}/{page}.js")
            .headers["content-type"]
            .startswith("text/javascript")
        )
    assert httpx.get(f"{widget_bed.base_url}/no-such-page.html").status_code == 404
    notices = (DIST / "THIRD-PARTY-NOTICES.txt").read_text()
    assert [library for library in BUNDLED if f"==== {library} " not in notices] == []


def test_forms_reports_and_uploads_are_recorded(widget_bed: WidgetBed) -> None:
    widget_bed.clear()
    httpx.post(f"{widget_bed.base_url}/submit/select2", data={"country": "DE", "tags": ["bug", "urgent"]})
    httpx.post(f"{widget_bed.base_url}/submit/mui", json={"role": "editor"})
    httpx.post(f"{widget_bed.base_url}/upload/dropzone", files={"file": ("report.txt", b"numbers\n")})
    assert widget_bed.last("select2") == {"country": ["DE"], "tags": ["bug", "urgent"]}
    assert widget_bed.last("mui") == {"role": "editor"}
    assert widget_bed.uploads == [Upload("dropzone", "report.txt", b"numbers\n")]
