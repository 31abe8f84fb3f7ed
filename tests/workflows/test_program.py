"""The static checks every stored program passes, and what they read from it."""

from __future__ import annotations

import re

import pytest

from workflows.program import ProgramError, check_program, structure_fingerprint

GOOD = '''
def close_issue(owner: str, project: str, number: int):
    """Close an issue."""
    import re
    issue = api.demo.update_issue(owner=owner, project=project, number=number, body={"state": "closed"})
    for _ in range(2):
        api.demo.get_issue(owner=owner, project=project, number=number)
    return issue["state"]
'''


def test_a_good_program_and_its_facts() -> None:
    facts = check_program(GOOD, "close_issue")
    assert facts.parameters == ["owner", "project", "number"]
    assert facts.operations == ["api.demo.update_issue", "api.demo.get_issue"]
    assert facts.docstring == "Close an issue."


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("def f(:\n  pass", "does not parse"),
        ("x = 1\ndef f():\n    api.demo.x()", "exactly one top-level function"),
        ("def f():\n    return 1", "calls no api, browser or wf operation"),
        ("def f():\n    api.demo.x(token=SECRET)", "uses the name 'SECRET', which is never defined"),
        ("def f():\n    open('/etc/passwd')\n    api.demo.x()", "uses the name 'open', which is not allowed"),
        ("def f():\n    import os\n    api.demo.x()", "imports 'os'"),
        ("def f():\n    try:\n        api.demo.x()\n    except:\n        pass", "bare `except:`"),
        ("def f():\n    api.demo.x().__class__", "dunder attribute '__class__'"),
        ("def f(*args):\n    api.demo.x()", "plain named parameters"),
    ],
)
def test_problems_are_named(source: str, problem: str) -> None:
    with pytest.raises(ProgramError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        check_program(source)


def test_wrong_name_is_refused() -> None:
    with pytest.raises(ProgramError, match="expected 'shut_issue'"):
        check_program(GOOD, "shut_issue")


def test_fingerprint_ignores_names_and_docstrings_but_not_behaviour() -> None:
    renamed = (
        GOOD.replace("close_issue", "shut")
        .replace("number: int", "n: int")
        .replace("number=number", "number=n")
    )
    renamed = renamed.replace('"""Close an issue."""', "")
    assert structure_fingerprint(renamed) == structure_fingerprint(GOOD)
    assert structure_fingerprint(GOOD.replace('"closed"', '"open"')) != structure_fingerprint(GOOD)


def test_ordinary_python_of_real_runs_passes() -> None:
    source = """
def report(owner: str):
    import csv, io, json
    import xml.etree.ElementTree as ET
    from collections import Counter
    from urllib.parse import urlencode

    class Row:
        def __init__(self, *cells, **named):
            self.cells = cells

    def kinds(values):
        return Counter(type(value).__name__ for value in values)

    text = api.demo.get_project(owner=owner)["description"]
    root = ET.fromstring("<r/>")
    rows = [Row(*r) for r in csv.reader(io.StringIO(text))]
    return json.dumps([kinds(rows), root.tag, urlencode({"q": owner})])
"""
    assert check_program(source, "report").operations == ["api.demo.get_project"]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (
            "import subprocess",
            "imports 'subprocess', which can reach files, processes, the network or the host",
        ),
        ("import urllib.request", "imports 'urllib.request'"),
        (
            "import xml.etree.ElementTree as ET\n    ET.parse('/etc/passwd')",
            "calls 'xml.etree.ElementTree.parse', which opens files",
        ),
        ("from io import open", "imports 'io.open', which opens files"),
        ("(lambda: 0).__globals__", "dunder attribute '__globals__'"),
    ],
)
def test_what_reaches_files_processes_network_or_the_host_is_refused(line: str, problem: str) -> None:
    with pytest.raises(ProgramError, match=re.escape(problem)):
        check_program(f"def f():\n    {line}\n    api.demo.x()")
