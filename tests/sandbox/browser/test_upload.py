"""upload(): files reach file fields and drop zones, and the host reads them from the kernel's working
directory only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sandbox import HostFunction, KernelSession, Namespace
from sandbox.browser import BrowserService
from sandbox.browser.files import UploadRefused, read_upload

pytestmark = pytest.mark.browser


@pytest.fixture
def work_dir(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    (work / "reports").mkdir(parents=True)
    (work / "report.txt").write_text("quarterly figures")
    (work / "reports" / "q3.csv").write_text("a,b\n1,2\n")
    return work


def test_files_go_to_plain_and_hidden_file_fields_and_to_drop_zones(
    make_service, action_pages, work_dir
) -> None:
    browser = make_service(upload_dir=work_dir)
    browser.goto(f"{action_pages.base_url}/upload")
    plain = browser.upload(browser.find("button", "Attachment"), "report.txt")
    assert (
        plain.startswith("Attached report.txt (17 bytes, text/plain) to [")
        and "it holds report.txt." in plain
    )
    assert "+ attachment: report.txt quarterly figures" in plain
    hidden = browser.upload(browser.find("button", "Choose avatar"), "reports/q3.csv")
    assert hidden.startswith("Attached q3.csv (8 bytes, text/csv) to [")
    assert "+ avatar: q3.csv a,b" in hidden
    dropped = browser.upload(browser.find("button", "Drop files here"), str(work_dir / "report.txt"))
    assert dropped.startswith("Dropped report.txt (17 bytes, text/plain) on [")
    assert "+ dropped: report.txt quarterly figures" in dropped


def test_the_host_reads_only_inside_the_work_dir(tmp_path: Path, work_dir: Path) -> None:
    secrets = tmp_path / "data" / "secrets.json"  # stands for the host's data dir, beside the work dir
    secrets.parent.mkdir()
    secrets.write_text('{"token": "s3cret"}')
    (work_dir / "link-out").symlink_to(secrets)
    (work_dir / "dir-out").symlink_to(secrets.parent, target_is_directory=True)
    (work_dir / "link-in").symlink_to(work_dir / "report.txt")
    os.mkfifo(work_dir / "pipe")
    refused = {
        "../data/secrets.json": "'..' may not appear",
        "reports/../../data/secrets.json": "'..' may not appear",
        str(secrets): "outside the kernel's working directory",
        "/etc/passwd": "outside the kernel's working directory",
        "link-out": "symbolic links are not followed",
        "dir-out/secrets.json": "symbolic links are not followed",
        "link-in": "symbolic links are not followed",
        "pipe": "not a regular file",
        "reports": "not a regular file",
        "missing.txt": "There is no file 'missing.txt'",
        "": "needs a file name",
    }
    for path, reason in refused.items():
        with pytest.raises(UploadRefused, match=reason):
            read_upload(path, work_dir)
    assert read_upload("reports/q3.csv", work_dir).data == b"a,b\n1,2\n"
    assert read_upload(str(work_dir / "report.txt"), work_dir).name == "report.txt"


def test_without_a_kernel_or_an_upload_dir_nothing_is_read(browser, action_pages) -> None:
    browser.goto(f"{action_pages.base_url}/upload")
    with pytest.raises(UploadRefused, match="comes from no kernel"):
        browser.upload(browser.find("button", "Attachment"), "/etc/hostname")


def test_a_kernel_uploads_from_its_own_working_directory(browser: BrowserService, action_pages) -> None:
    browser.goto(f"{action_pages.base_url}/upload")
    with KernelSession() as session:
        session.register(
            "browser",
            Namespace(
                {name: HostFunction(getattr(browser, name), writes=False) for name in ("find", "upload")}
            ),
        )
        result = session.execute(
            "open('notes.txt', 'w').write('from the kernel')\n"
            "print(browser.upload(browser.find('button', 'Attachment'), 'notes.txt'))\n"
            "try:\n    browser.upload(browser.find('button', 'Attachment'), '../../etc/passwd')\n"
            "except Exception as exc:\n    print('refused:', exc)",
            timeout=60,
        )
    assert result.ok, result
    assert "+ attachment: notes.txt from the kernel" in result.stdout
    assert "refused: Refused to upload '../../etc/passwd'" in result.stdout
