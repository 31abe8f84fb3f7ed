"""The widget bed's tasks, in one table: what a user asks on each page, the code actions a model would write
for it (only `browser.*`, elements located with `find` or by reading observations), and how the result is
judged from what the bed's server received."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from widget_bed import Upload, WidgetBed

# Code a model writes to act on an element it found by reading the page's observation.
PICK = '''import re

def pick(pattern, after=None):
    """The id of the first observed element (role "name" ...) that matches the regex `pattern`, looking only
    below the first line that contains `after` when it is given."""
    page = browser.observe()
    lines = page.splitlines()
    if after is not None:
        lines = lines[next((i for i, line in enumerate(lines) if after in line), len(lines)):]
    for line in lines:  # a line may show several elements: [12] role "name" ... [13] role "name" ...
        for found in re.finditer(r"\\[(\\d+)\\] (.*?)(?= \\[\\d+\\] |$)", line):
            if re.search(pattern, found.group(2)):
                return int(found.group(1))
    raise LookupError(f"Nothing on the page matches {pattern!r}" + (f" after {after!r}" if after else "")
                      + f":\\n{page[:3000]}")
'''
REPORT = "Q3 report: revenue up 4%\n"
WRITE_REPORT = f'with open("report.txt", "w") as file:\n    file.write({REPORT!r})\nprint("wrote report.txt")'


@dataclass(frozen=True)
class Task:
    library: str
    page: str  # the bed's page, dist/<page>.html
    goal: str  # what the user asks
    steps: tuple[str, ...]  # the scripted code actions, before the final finish()
    observe: Callable[[WidgetBed], Any]  # reads the state the server received...
    want: Any  # ...which must equal this

    @property
    def id(self) -> str:
        return f"{self.library}: {self.goal}"


def field(
    page: str, name: str, how: Callable[[Any], Any] = lambda value: value
) -> Callable[[WidgetBed], Any]:
    """The value of `name` in `page`'s latest submission (None if it sent none), passed through `how`."""

    def read(bed: WidgetBed) -> Any:
        sent = bed.last(page)
        return None if sent is None or name not in sent else how(sent[name])

    return read


def code(*lines: str) -> str:
    """One code action, from its lines."""
    return "\n".join(lines)


def uploaded(page: str) -> Callable[[WidgetBed], list[Upload]]:
    return lambda bed: [upload for upload in bed.uploads if upload.page == page]


SAVE, SAVE_ISSUE, SAVE_PROFILE, SAVE_NOTE = (
    f'print(browser.click(browser.find("button", "{name}")))'
    for name in ("Save", "Save issue", "Save profile", "Save note")
)
TASKS: list[Task] = [
    Task(
        "select2",
        "select2",
        "Choose Germany in the Country field and save the ticket.",
        (code('browser.select(browser.find("combobox", "Country"), "Germany")', SAVE),),
        field("select2", "country"),
        ["DE"],
    ),
    Task(
        "select2",
        "select2",
        "Tag the ticket billing and urgent, then save it.",
        (
            code(
                'tags = browser.find("combobox", "Tags")',
                'browser.select(tags, "billing")',
                'browser.select(tags, "urgent")',
                SAVE,
            ),
        ),
        field("select2", "tags", sorted),
        ["billing", "urgent"],
    ),
    Task(
        "tom-select",
        "tom-select",
        "Assign the task to Grace Hopper.",
        (
            code(
                'browser.select(browser.find("combobox", "Assignee"), "Grace Hopper")',
                'print(browser.click(browser.find("button", "Assign")))',
            ),
        ),
        field("tom-select", "assignee"),
        ["grace"],
    ),
    Task(
        "tom-select",
        "tom-select",
        "Label the task security and ops, and assign it to Alan Turing.",
        (
            code(
                'labels = browser.find("combobox", "Labels")',
                'browser.select(labels, "security")',
                'browser.select(labels, "ops")',
                'browser.select(browser.find("combobox", "Assignee"), "Alan Turing")',
                'print(browser.click(browser.find("button", "Assign")))',
            ),
        ),
        lambda bed: (field("tom-select", "assignee")(bed), field("tom-select", "labels", sorted)(bed)),
        (["alan"], ["ops", "security"]),
    ),
    Task(
        "react-select",
        "react-select",
        "Ship to Lisbon: choose it as the city and save.",
        (code('browser.select(browser.find("combobox", "City"), "Lisbon")', SAVE),),
        field("react-select", "city"),
        ["lisbon"],
    ),
    Task(
        "react-select",
        "react-select",
        "Choose blue and white gift wrap and save.",
        (
            code(
                'colours = browser.find("combobox", "Gift wrap colours")',
                'browser.select(colours, "Blue")',
                'browser.select(colours, "White")',
                SAVE,
            ),
        ),
        field("react-select", "colours", sorted),
        ["blue", "white"],
    ),
    Task(
        "mui",
        "mui",
        "Set the project's country to Canada and the role to Editor, then save.",
        (
            code(
                'browser.select(browser.find("combobox", "Country"), "Canada")',
                'browser.select(browser.find("combobox", "Role"), "Editor")',
                SAVE,
            ),
        ),
        lambda bed: bed.last("mui"),
        {"country": "Canada", "role": "editor", "start": "2026-03-01"},
    ),
    Task(
        "mui",
        "mui",
        "Pick 12 March 2026 as the start date in the date picker and save.",
        (
            code(
                PICK,
                """browser.click(pick(r'^button "Choose date'))""",
                """browser.click(pick(r'^gridcell "12"'))""",
                SAVE,
            ),
        ),
        field("mui", "start"),
        "2026-03-12",
    ),
    Task(
        "mui",
        "mui",
        "Change the start date's day to the 12th (the field, not the calendar) and save.",
        (code('browser.fill(browser.find("spinbutton", "Day"), "12")', SAVE),),
        field("mui", "start"),
        "2026-03-12",
    ),
    Task(
        "mui",
        "mui",
        "Archive the project (it is under More actions).",
        (
            code(
                'browser.click(browser.find("button", "More actions"))',
                'browser.click(browser.find("menuitem", "Archive"))',
                'print(browser.click(browser.find("button", "Archive project")))',
            ),
        ),
        lambda bed: bed.last("mui"),
        {"action": "archive"},
    ),
    Task(
        "mui",
        "mui",
        "Restore version 2 of the project from its History tab.",
        (
            code(
                PICK,
                'browser.click(browser.find("tab", "History"))',
                'print(browser.click(pick(r"Restore", after="Version 2")))',
            ),
        ),
        lambda bed: bed.last("mui"),
        {"restore": 2},
    ),
    Task(
        "antd",
        "antd",
        "Set the issue's priority to High and its location to Europe / France / Paris, then save.",
        (
            code(
                'browser.select(browser.find("combobox", "Priority"), "High")',
                'browser.select(browser.find("combobox", "Location"), "Europe / France / Paris")',
                SAVE_ISSUE,
            ),
        ),
        lambda bed: (field("antd", "priority")(bed), field("antd", "location")(bed)),
        ("high", ["europe", "france", "paris"]),
    ),
    Task(
        "antd",
        "antd",
        "Set the due date to 12 March 2026 and save.",
        (
            code(
                'due = browser.find("textbox", "Due date")',
                'browser.fill(due, "2026-03-12")',
                'browser.press("Enter", due)',
                SAVE_ISSUE,
            ),
        ),
        field("antd", "due"),
        "2026-03-12",
    ),
    Task(
        "antd",
        "antd",
        "Remove Chen Wei from the issue's watchers and save.",
        (code(PICK, 'browser.click(pick(r"Remove", after="Chen Wei"))', SAVE_ISSUE),),
        field("antd", "watchers"),
        ["Alice Moreau", "Bruno Keller", "Dana Scott", "Emil Novak"],
    ),
    Task(
        "antd",
        "antd",
        "Link the file src/components/Button.tsx to the issue (in the file tree).",
        (
            code(
                PICK,
                'for name in ("src", "components", "Button.tsx"):',
                """    print(browser.click(pick(rf'^treeitem "[^"]*\\b{re.escape(name)}"')))""",
            ),
        ),
        field("antd", "linked"),
        "src/components/Button.tsx",
    ),
    Task(
        "antd",
        "antd",
        "Attach report.txt to the issue.",
        (
            WRITE_REPORT,
            code('print(browser.upload(browser.find("button", "Click to upload"), "report.txt"))'),
        ),
        uploaded("antd"),
        [Upload("antd", "report.txt", REPORT.encode())],
    ),
    Task(
        "flatpickr",
        "flatpickr",
        "Book the room with check-in on 12 March 2026.",
        (
            code(
                PICK,
                'browser.click(browser.find("textbox", "Check-in"))',
                """browser.click(pick(r'"March 12, 2026"'))""",
                'print(browser.click(browser.find("button", "Book")))',
            ),
        ),
        field("flatpickr", "check_in"),
        ["2026-03-12"],
    ),
    Task(
        "dropzone",
        "dropzone",
        "Upload report.txt as a receipt.",
        (
            WRITE_REPORT,
            code('print(browser.upload(browser.find("button", "Drop files here to upload"), "report.txt"))'),
        ),
        uploaded("dropzone"),
        [Upload("dropzone", "report.txt", REPORT.encode())],
    ),
    Task(
        "react-window",
        "react-window",
        "Open order #40 (the list shows the first few; scroll it).",
        (
            code(
                "import re",
                'orders = browser.find("list", "Orders")',
                "row = None",
                "for _ in range(20):",
                '    found = re.search(r"\\[(\\d+)\\][^\\n]*Order #\\s*40\\b", browser.observe())',
                "    if found:",
                "        row = int(found.group(1))",
                "        break",
                '    print(browser.scroll(orders, "down"))',
                "print(browser.click(row))",
            ),
        ),
        lambda bed: bed.last("react-window"),
        {"opened": 40},
    ),
    Task(
        "shoelace",
        "shoelace",
        "Put me in Engineering, subscribe me to the newsletter, and save my profile.",
        (
            code(
                'browser.select(browser.find("combobox", "Department"), "Engineering")',
                'browser.check(browser.find("checkbox", "Subscribe to the newsletter"))',
                SAVE_PROFILE,
            ),
        ),
        lambda bed: bed.last("shoelace"),
        {"full_name": "Sam Example", "department": "engineering", "newsletter": "yes"},
    ),
    Task(
        "shoelace",
        "shoelace",
        "Change my name to Jo Park and save my profile.",
        (code('browser.fill(browser.find("textbox", "Full name"), "Jo Park")', SAVE_PROFILE),),
        field("shoelace", "full_name"),
        "Jo Park",
    ),
    Task(
        "quill",
        "quill",
        "Make the second word of the note bold, and save it.",
        (
            code(
                'browser.click(browser.find("textbox", "Note"))',
                'for key in ("Control+Home", "Control+ArrowRight", "Control+ArrowRight", '
                '"Control+Shift+ArrowLeft"):',
                "    browser.press(key)",
                'browser.click(browser.find("button", "Bold"))',
                SAVE_NOTE,
            ),
        ),
        field("quill", "html"),
        "<p>Meeting <strong>moved</strong> to Thursday</p>",
    ),
    Task(
        "quill",
        "quill",
        "Replace the note with: Call Ada at 3pm.",
        (code('browser.fill(browser.find("textbox", "Note"), "Call Ada at 3pm")', SAVE_NOTE),),
        field("quill", "html"),
        "<p>Call Ada at 3pm</p>",
    ),
]
LIBRARIES = list(dict.fromkeys(task.library for task in TASKS))
