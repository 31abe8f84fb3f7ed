"""Every notebook in notebooks/ runs from top to bottom without an error (nbclient), so none rots."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.kernel

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "notebooks/ should hold at least one exploration notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_the_notebook_runs(path: Path, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HYBRID_MODEL", "HYBRID_POLICY", "HYBRID_CONFIG", "HYBRID_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(
        "HYBRID_DATA_DIR", str(tmp_path / "data")
    )  # the kernel inherits it: no user data touched
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    # nbclient raises at the first cell that fails; every cell ran when it does not.
    assert all(cell.execution_count for cell in notebook.cells if cell.cell_type == "code")
