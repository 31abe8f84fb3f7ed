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
LANDED = ("gmail", "superhuman-general")
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


# Finds the id of the `role "name"` element on the observation line that mentions `text` (a message row).
HELPERS = """
import re
def in_line(page, text, role, name=None):
    line = next(l for l in page.splitlines() if text in l)
    pattern = rf'\\[(\\d+)\\] {role}' + (rf' "{re.escape(name)}"' if name else '')
    return int(re.search(pattern, line).group(1))
"""

# Star or mark a message from its own row: its line in the observation holds its buttons.
STEPS: dict[str, tuple[str, ...]] = {
    "gmail/function:task_1": (
        "row = browser.check(browser.find('checkbox', 'Q1 Product Roadmap Review'))",
        "print(browser.click(in_line(row, 'Q1 Product Roadmap Review', 'button', 'Mark as read')))",
    ),
    "gmail/function:task_2": (
        "row = browser.check(browser.find('checkbox', 'Monthly Financial Report - January 2026'))",
        "print(browser.click(in_line(row, 'Monthly Financial Report - January 2026', 'button', 'Mark as unread')))",
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
        "print(browser.click(in_line(page, 'Partnership Opportunity - FinancePlus x Acme', 'button', '☆')))",
    ),
    "superhuman-general/real:task_e1": (
        "page = browser.observe()",  # two rows are about the term sheet: the one from her, not to her
        "print(browser.click(in_line(page, 'Emily Rodriguez Mar 7 Re: Series B Term Sheet', 'button', '☆')))",
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
            "subjects = ['Partnership Opportunity - FinancePlus x Acme', 'Quantum Computing Integration Prototype']\n"
            "lacking = [s for s in subjects if ' Clients ' not in next(l for l in page.splitlines() if s in l)]\n"
            "print(lacking)"
        ),
        "for subject in lacking:\n    browser.check(browser.find('checkbox', subject))",
        "print(browser.click(browser.find('button', 'Label')))",
        "print(browser.check(browser.find('checkbox', 'Clients')))",
    ),
}


def tasks(apps: tuple[str, ...] = LANDED) -> list[Task]:
    """The chosen tasks of `apps`, each with its steps (the helpers first)."""
    found = []
    for app in apps:
        for task_id, instruction, verifier in chosen(app):
            steps = STEPS[f"{app}/{task_id}"]
            found.append(Task(app, task_id, instruction, verifier, (HELPERS, *steps)))
    return found
