"""The WebArena-Infinity tasks this bed runs, chosen by a rule fixed before any was tried, and the code
actions a person would write for each from what the observations showed.

The rule: for each app, the first three function tasks of function-tasks.json and the first easy, medium
and hard task of real-tasks.json, in file order (6 per app, 30 in all). The steps use only `browser.*`,
with ids found by `find` or read from an earlier observation's text in code; never a hard-coded id,
evaluate(), or the app's /api/state (which only the verifier reads).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bed import APPS

# Apps in the order they are landed: the ones that failed most first.
LANDED = (
    "gmail",
    "superhuman-general",
    "gmail-accounts-and-contacts",
    "elation-clinical-records",
    "figma-slides",
)
# Tasks the app itself makes impossible: no control of its UI changes what the verifier reads (shown by
# test_impossible.py, by hand with Playwright and in the app's code).
IMPOSSIBLE = frozenset({"figma-slides/function:task_1", "figma-slides/real:task_h1"})
ALL_APPS = (
    "gmail",
    "superhuman-general",
    "gmail-accounts-and-contacts",
    "elation-clinical-records",
    "figma-slides",
)


@dataclass(frozen=True)
class Task:
    app: str
    id: str  # function:task_1, real:task_e1
    instruction: str
    verifier: str  # path inside the app
    steps: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.app}/{self.id}"


def chosen(app: str) -> list[tuple[str, str, str]]:
    """(id, instruction, verifier) of the tasks the rule chooses for `app`."""
    function = json.loads((APPS / app / "function-tasks.json").read_text())[:3]
    real = json.loads((APPS / app / "real-tasks.json").read_text())
    firsts = [next(t for t in real if t["difficulty"] == level) for level in ("easy", "medium", "hard")]
    return [(f"function:{t['id']}", t["instruction"], t["verify"]) for t in function] + [
        (f"real:{t['id']}", t["instruction"], t["verify"]) for t in firsts
    ]


# The id of the `role "name"` element on the first observation line that mentions `text` and has one (a
# message's row).
HELPERS = r"""
import re
def in_line(page, text, role, name=None):
    pattern = rf'\[(\d+)\] {role}' + (rf' "{re.escape(name)}"' if name else '')
    return next(int(m.group(1)) for l in page.splitlines() if text in l for m in [re.search(pattern, l)] if m)
"""

SEARCH_CONTACTS = (  # the list's own search box, the last of the two
    "page = browser.observe()\n"
    "search = int(re.findall(r'\\[(\\d+)\\] textbox \"Search contacts\"', page)[-1])\n"
    "browser.fill(search, {name!r})\n"
    "page = browser.observe()"
)
# The close button of the first delegate whose card says it is not active.
NON_ACTIVE = r"""
def non_active_close(page):
    status = None
    for line in page.splitlines():
        text = line.strip()
        if text in ('active', 'pending', 'expired', 'inactive', 'declined', 'revoked'):
            status = text
        found = re.match(r'\[(\d+)\] button "close"', text)
        if found:
            if status and status != 'active':
                return int(found.group(1))
            status = None
    return None
"""

# Star or mark a message from its own row: its line in the observation holds its buttons.
STEPS: dict[str, tuple[str, ...]] = {
    "gmail/function:task_1": (
        "row = browser.check(browser.find('checkbox', 'Q1 Product Roadmap Review'))",
        "print(browser.click(in_line(row, 'Q1 Product Roadmap Review', 'button', 'Mark as read')))",
    ),
    "gmail/function:task_2": (
        "row = browser.check(browser.find('checkbox', 'Monthly Financial Report - January 2026'))",
        (
            "print(browser.click(in_line(row, 'Monthly Financial Report - January 2026', "
            "'button', 'Mark as unread')))"
        ),
    ),
    "gmail/function:task_3": (
        "page = browser.observe()",
        "print(browser.click(in_line(page, 'Re: Platform Performance Issues', 'button', '☆')))",
    ),
    "gmail/real:task_e1": (
        "page = browser.observe()",
        "print(browser.click(in_line(page, 'Q1 Product Roadmap Review', 'button', '☆')))",
    ),
    "gmail/real:task_m1": (
        "browser.check(browser.find('checkbox', 'Tax Season Reminder'))",
        "print(browser.click(browser.find('button', 'Labels')))",
        "browser.check(browser.find('checkbox', 'Clients'))",
        "print(browser.click(browser.find('button', 'Apply')))",
    ),
    "gmail/real:task_h1": (
        "print(browser.click(browser.find('clickable', 'Create new label')))",
        "browser.fill(browser.find('textbox', 'Label name'), 'Q1 Priority')",
        "browser.select(browser.find('combobox', 'Nest under'), 'Work')",
        "print(browser.click(browser.find('button', 'Create')))",
        "browser.check(browser.find('checkbox', 'Q1 Product Roadmap Review'))",
        "browser.click(browser.find('button', 'Labels'))",
        "browser.check(browser.find('checkbox', 'Q1 Priority'))",
        "print(browser.click(browser.find('button', 'Apply')))",
    ),
    # Opening a message marks it read.
    "superhuman-general/function:task_1": (
        "print(browser.click(browser.find('clickable', 'Q2 Product Roadmap - Final Review')))",
    ),
    "superhuman-general/function:task_2": (
        "print(browser.check(browser.find('checkbox', 'Re: Infrastructure Migration Plan')))",
        "print(browser.click(browser.find('button', 'Mark Unread')))",
    ),
    "superhuman-general/function:task_3": (
        "page = browser.observe()",
        (
            "print(browser.click(in_line(page, 'Partnership Opportunity - FinancePlus x Acme', "
            "'button', '☆ Star')))"
        ),
    ),
    "superhuman-general/real:task_e1": (
        "page = browser.observe()",  # two rows are about the term sheet: the one from her, not to her
        (
            "print(browser.click(in_line(page, 'Emily Rodriguez Mar 7 Re: Series B Term Sheet', "
            "'button', '☆ Star')))"
        ),
    ),
    "superhuman-general/real:task_m1": (
        "browser.check(browser.find('checkbox', 'Q2 Product Roadmap - Final Review'))",
        "print(browser.click(browser.find('button', 'Label')))",
        "print(browser.check(browser.find('checkbox', 'Urgent')))",
    ),
    "superhuman-general/real:task_h1": (
        # Only the messages whose rows do not show the label yet are selected.
        (
            "page = browser.observe()\n"
            "subjects = ['Partnership Opportunity - FinancePlus x Acme', "
            "'Quantum Computing Integration Prototype']\n"
            "lacking = [s for s in subjects "
            "if ' Clients ' not in next(l for l in page.splitlines() if s in l)]\n"
            "print(lacking)"
        ),
        "for subject in lacking:\n    browser.check(browser.find('checkbox', subject))",
        "print(browser.click(browser.find('button', 'Label')))",
        "print(browser.check(browser.find('checkbox', 'Clients')))",
    ),
    "gmail-accounts-and-contacts/function:task_1": (
        "print(browser.click(browser.find('button', 'Create contact')))",
        "browser.fill(browser.find('textbox', 'First name'), 'Alice')",
        "browser.fill(browser.find('textbox', 'Last name'), 'Wonderland')",
        "browser.fill(browser.find('textbox', 'Email'), 'alice@wonderland.com')",
        "print(browser.click(browser.find('button', 'Save')))",
    ),
    "gmail-accounts-and-contacts/function:task_2": (
        "print(browser.click(browser.find('button', 'Create contact')))",
        "browser.fill(browser.find('textbox', 'First name'), 'Bob')",
        "browser.fill(browser.find('textbox', 'Last name'), 'Builder')",
        "browser.fill(browser.find('textbox', 'Email'), 'bob@builder.io')",
        "browser.fill(browser.find('textbox', 'Phone'), '+1 (555) 123-4567')",
        "browser.fill(browser.find('textbox', 'Company'), 'BuildCo')",
        "browser.fill(browser.find('textbox', 'Job title'), 'Foreman')",
        "print(browser.click(browser.find('button', 'Save')))",
    ),
    "gmail-accounts-and-contacts/function:task_3": (
        SEARCH_CONTACTS.format(name="Sarah Chen"),  # the first page of the list does not reach her
        "print(browser.click(in_line(page, 'Sarah Chen', 'button', 'edit')))",
        "browser.fill(browser.find('textbox', 'Job title'), 'Chief Product Officer')",
        "print(browser.click(browser.find('button', 'Save')))",
    ),
    "gmail-accounts-and-contacts/real:task_e1": (
        SEARCH_CONTACTS.format(name="James O'Brien"),
        "print(browser.click(in_line(page, \"James O'Brien\", 'button', 'star_border')))",
    ),
    "gmail-accounts-and-contacts/real:task_m1": (
        "browser.click(browser.find('clickable', 'Settings'))",
        "print(browser.click(browser.find('button', 'Account')))",
        # The form draws itself again when a field changes, which can drop what the next field was given: each
        # field is saved on its own.
        "print(browser.fill(browser.find('textbox', 'Name'), 'Alexander Johnson'))",
        "print(browser.click(browser.find('button', 'Save changes')))",
        "print(browser.fill(browser.find('textbox', 'Recovery email'), 'alex.secure@proton.me'))",
        "print(browser.click(browser.find('button', 'Save changes')))",
    ),
    "gmail-accounts-and-contacts/real:task_h1": (
        NON_ACTIVE,
        "page = browser.click(browser.find('clickable', 'Delegates')); print(page)",
        (
            "while (target := non_active_close(page)) is not None:\n"
            "    print(browser.click(target))\n"
            "    browser.click(browser.find('button', 'Remove'))\n"
            "    page = browser.observe()"
        ),
        "print(browser.click(browser.find('button', 'Add a delegate')))",
        "browser.fill(browser.find('textbox', 'Email'), 'backup@admin.com')",
        "browser.fill(browser.find('textbox', 'Name'), 'Backup Admin')",
        "print(browser.click(browser.find('button', 'Add delegate')))",
    ),
    "elation-clinical-records/function:task_1": (
        "browser.click(browser.find('row', 'Henderson, Robert'))",
        "print(browser.click(browser.find('button', 'Add Tag')))",
        "browser.fill(browser.find('textbox', 'Tag Name'), 'Flu-Season')",
        "print(browser.click(browser.find('button', 'Add Tag')))",  # the dialog's; the page's is "+ Add Tag"
    ),
    "elation-clinical-records/function:task_2": (
        "browser.click(browser.find('row', 'Nakamura, Emily'))",
        "print(browser.click(browser.find('button', 'Add Tag')))",
        "browser.fill(browser.find('textbox', 'Tag Name'), '*High-Risk')",
        "print(browser.click(browser.find('button', 'Add Tag')))",
    ),
    "elation-clinical-records/function:task_3": (
        "print(browser.click(browser.find('row', 'Johnson, Marcus')))",
        "print(browser.click(browser.find('clickable', 'Smoker')))",  # the tag's "×"
    ),
    "elation-clinical-records/real:task_e1": (
        "print(browser.click(browser.find('row', 'Johnson, Marcus')))",
        "print(browser.click(browser.find('clickable', 'Smoker')))",
    ),
    "elation-clinical-records/real:task_m1": (
        "page = browser.click(browser.find('row', 'Fitzgerald, James')); print(page)",
        # Two "+ Add Problem" buttons (the list's and its empty state's) open the same dialog.
        "print(browser.click(int(re.findall(r'\\[(\\d+)\\] button \"\\+ Add Problem\"', page)[0])))",
        "browser.fill(browser.find('textbox', 'Title'), 'Acute Sinusitis')",
        "browser.fill(browser.find('textbox', 'ICD-10 Code'), 'J01.90')",
        "print(browser.click(browser.find('button', 'Save')))",
    ),
    "elation-clinical-records/real:task_h1": (
        "page = browser.click(browser.find('row', 'Johnson, Marcus')); print(page)",
        (
            "while ids := re.findall(r'\\[(\\d+)\\] button \"Mark Controlled\"', page):\n"
            "    print(browser.click(int(ids[0])))\n"
            "    page = browser.observe()"
        ),
    ),
    "figma-slides/function:task_2": (
        "print(browser.click(browser.find('clickable', 'Q4 Roadmap')))",
        (
            "print(browser.fill(browser.find('textbox', 'Presenter notes'), "
            "'Aiko will present the roadmap. Focus on timelines and deliverables.'))"
        ),
    ),
    # Skipping is on the slide's own menu, opened by a right-click.
    "figma-slides/function:task_3": (
        "print(browser.right_click(browser.find('clickable', 'Competitive Landscape')))",
        "print(browser.click(browser.find('clickable', 'Skip slide')))",
    ),
    "figma-slides/real:task_e1": (
        "print(browser.right_click(browser.find('clickable', 'Competitive Landscape')))",
        "print(browser.click(browser.find('clickable', 'Skip slide')))",
    ),
    # Each collaborator's line is followed by their role drop-down and their "×".
    "figma-slides/real:task_m1": (
        "page = browser.click(browser.find('button', 'Share')); print(page)",
        (
            "lines = page.splitlines()\n"
            "def after(name, role):\n"
            "    at = next(i for i, l in enumerate(lines) if l.strip().lstrip('+ ') == name)\n"
            "    return next(int(m.group(1)) for l in lines[at + 1:] "
            "for m in [re.search(rf'\\[(\\d+)\\] {role}', l)] if m)\n"
            "print(browser.select(after('Aiko Tanaka', 'clickable'), 'Can view'))"
        ),
        ("lines = browser.observe().splitlines()\nprint(browser.click(after('Elena Kowalski', 'button')))"),
    ),
}


def tasks(apps: tuple[str, ...] = LANDED) -> list[Task]:
    """The chosen tasks of `apps`, each with its steps (the helpers first)."""
    found = []
    for app in apps:
        for task_id, instruction, verifier in chosen(app):
            if f"{app}/{task_id}" in IMPOSSIBLE:
                continue
            steps = STEPS[f"{app}/{task_id}"]
            found.append(Task(app, task_id, instruction, verifier, (HELPERS, *steps)))
    return found
