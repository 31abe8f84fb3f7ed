"""Builds the demo site's task suite (`tasks.jsonl`) from its seed data.

The reference answers are computed from the seed, so they stay right when the seed changes: run
`python -m hybrid.demo.build_tasks` and commit the file (a test fails while the file is stale).

Reference solutions are the code actions an agent would emit, one string per step, using the names
the kernel provides: `api.demo.<operation>(...)` (path and query parameters by name, the request body as
`body={...}`), `browser.goto(url_or_path)`, `browser.find(role, name)` (an element id from the current
page), `browser.click(id)`, `browser.fill(id, text)`, `browser.select(id, option)`, `browser.text()`, and
`finish(answer)`. Where a person would read the answer off a page, the solution prints the page in one
step and states what it read in the next, as a model would.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from itertools import count
from pathlib import Path

from hybrid.demo import tracker
from hybrid.demo.data import Project, TrackerState, build_seed_state

SUITE_PATH = Path(__file__).with_name("tasks.jsonl")
SITE = "demo"

Task = dict


def _split(path: str) -> tuple[str, str]:
    owner, name = path.split("/")
    return owner, name


def _all_pages(var: str, operation: str, **params: str | int) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in params.items())
    return (
        f"{var}, page = [], 1\n"
        f"while True:\n"
        f"    batch = api.{SITE}.{operation}({args}, page=page, per_page=100)\n"
        f"    {var} += batch\n"
        f"    if len(batch) < 100:\n"
        f"        break\n"
        f"    page += 1\n"
    )


class SuiteBuilder:
    def __init__(self, state: TrackerState) -> None:
        self.state = state
        self.ids = count()
        self.tasks: list[Task] = []

    def project(self, path: str) -> Project:
        found = self.state.project(*_split(path))
        assert found is not None, path
        return found

    def add(
        self,
        template_id: int,
        template: str,
        args: dict,
        category: str,
        start_path: str,
        evaluation: dict,
        solution: list[str],
        login_as: str = "alice",
    ) -> None:
        intent = template
        for key, value in args.items():
            intent = intent.replace("{{" + key + "}}", str(value))
        self.tasks.append(
            {
                "task_id": next(self.ids),
                "sites": [SITE],
                "category": category,
                "intent_template_id": template_id,
                "intent_template": template,
                "instantiation_dict": args,
                "intent": intent,
                "start_url": "__SITE__" + start_path,
                "login_as": login_as,
                "eval": evaluation,
                "reference_solution": solution,
            }
        )

    # --- API: information -------------------------------------------------------------------

    def count_open_with_label(self) -> None:
        template = "How many open issues labelled {{label}} are there in {{project}}?"
        for path, label in [
            ("alice/tracker-core", "bug"),
            ("bob/mobile-app", "priority::high"),
            ("carol/data-pipeline", "feature"),
        ]:
            owner, name = _split(path)
            expected = sum(1 for i in self.project(path).issues if i.state == "open" and label in i.labels)
            self.add(
                1,
                template,
                {"label": label, "project": path},
                "api",
                f"/{path}/issues",
                {"answer": {"number": expected}},
                [
                    _all_pages("issues", "list_issues", owner=owner, project=name, state="open", labels=label)
                    + "print(len(issues))",
                    "finish(str(len(issues)))",
                ],
            )

    def assignee_of(self) -> None:
        template = "Who is assigned to issue #{{number}} in {{project}}? Answer with the username, or nobody."
        for path, number in [("alice/tracker-core", 17), ("bob/mobile-app", 5), ("alice/docs-site", 2)]:
            owner, name = _split(path)
            issue = self.project(path).issue(number)
            assert issue is not None, f"the seed has no issue {path}#{number}"
            assignee = issue.assignee or "nobody"
            self.add(
                2,
                template,
                {"number": number, "project": path},
                "api",
                f"/{path}/issues/{number}",
                {"answer": {"exact": assignee}},
                [
                    (
                        f"issue = api.{SITE}.get_issue(owner={owner!r}, project={name!r}, number={number})\n"
                        f"print(issue['assignee'])"
                    ),
                    "finish(issue['assignee'] or 'nobody')",
                ],
            )

    def newest_issue_title(self) -> None:
        template = "What is the title of the most recently opened issue in {{project}}?"
        for path in ["erin/design-system", "carol/data-pipeline"]:
            owner, name = _split(path)
            newest = max(self.project(path).issues, key=lambda i: (i.created_at, i.number))
            self.add(
                3,
                template,
                {"project": path},
                "api",
                f"/{path}/issues",
                {"answer": {"exact": newest.title}},
                [
                    (
                        f"newest = api.{SITE}.list_issues(owner={owner!r}, project={name!r}, state='all', "
                        "sort='created', direction='desc', per_page=1)[0]\nprint(newest['number'], "
                        "newest['title'])"
                    ),
                    "finish(newest['title'])",
                ],
            )

    def busiest_assignee(self) -> None:
        template = (
            "Across all the projects I can see, who is assigned the most open issues labelled "
            "{{label}}? Answer with the username."
        )
        for label, login_as in [("priority::high", "alice"), ("performance", "erin")]:
            visible = [
                p
                for p in self.state.projects
                if p.visibility == "public" or login_as == "alice" or p.role_of(login_as)
            ]
            counts = Counter(
                i.assignee
                for p in visible
                for i in p.issues
                if i.state == "open" and label in i.labels and i.assignee
            )
            (top, top_count), (_, runner_up) = counts.most_common(2)
            assert top_count > runner_up, (label, counts)
            self.add(
                4,
                template,
                {"label": label},
                "api",
                "/projects",
                {"answer": {"exact": top}},
                [
                    _all_pages("found", "search_issues", state="open", labels=label)
                    + "from collections import Counter\n"
                    "counts = Counter(i['assignee'] for i in found if i['assignee'])\n"
                    "print(counts.most_common(3))",
                    "finish(counts.most_common(1)[0][0])",
                ],
                login_as=login_as,
            )

    def comment_count(self) -> None:
        template = "How many comments does issue #{{number}} in {{project}} have?"
        for path in ["alice/tracker-core", "bob/mobile-app"]:
            owner, name = _split(path)
            issue = max(self.project(path).issues, key=lambda i: (len(i.comments), -i.number))
            self.add(
                5,
                template,
                {"number": issue.number, "project": path},
                "api",
                f"/{path}/issues/{issue.number}",
                {"answer": {"number": len(issue.comments)}},
                [
                    (
                        f"comments = api.{SITE}.list_comments(owner={owner!r}, project={name!r}, "
                        f"number={issue.number})\nprint(len(comments))"
                    ),
                    "finish(str(len(comments)))",
                ],
            )

    # --- API: changes -----------------------------------------------------------------------

    def close_issue(self) -> None:
        template = "Close issue #{{number}} in {{project}}."
        for path in ["alice/tracker-core", "carol/data-pipeline", "alice/docs-site"]:
            owner, name = _split(path)
            number = next(i.number for i in self.project(path).issues[5:] if i.state == "open")
            self.add(
                6,
                template,
                {"number": number, "project": path},
                "api",
                f"/{path}/issues/{number}",
                {
                    "state": [
                        {"get": f"/projects/{path}/issues/{number}", "select": "state", "equals": "closed"}
                    ]
                },
                [
                    (
                        f"issue = api.{SITE}.update_issue(owner={owner!r}, project={name!r}, "
                        f"number={number}, body={{'state': 'closed'}})\nprint(issue['state'])"
                    ),
                    f"finish('Closed issue #{number} in {path}.')",
                ],
            )

    def add_label(self) -> None:
        template = "Add the label {{label}} to issue #{{number}} in {{project}}, keeping its other labels."
        for path, start, label in [
            ("alice/tracker-core", 12, "help wanted"),
            ("bob/mobile-app", 30, "security"),
            ("carol/data-pipeline", 8, "priority::low"),
        ]:
            owner, name = _split(path)
            issue = next(
                i for i in self.project(path).issues[start:] if label not in i.labels and len(i.labels) > 1
            )
            number = issue.number
            checks = [
                {"get": f"/projects/{path}/issues/{number}", "select": "labels", "contains": kept}
                for kept in [*issue.labels, label]
            ]
            self.add(
                7,
                template,
                {"label": label, "number": number, "project": path},
                "api",
                f"/{path}/issues/{number}",
                {"state": checks},
                [
                    (
                        f"issue = api.{SITE}.get_issue(owner={owner!r}, project={name!r}, number={number})\n"
                        f"print(issue['labels'])"
                    ),
                    (
                        f"updated = api.{SITE}.update_issue(owner={owner!r}, project={name!r}, "
                        f"number={number}, "
                        f"body={{'labels': issue['labels'] + [{label!r}]}})\nprint(updated['labels'])"
                    ),
                    f"finish('Added {label} to #{number}.')",
                ],
            )

    def assign_unassigned(self) -> None:
        template = (
            "Assign every open issue labelled {{label}} in {{project}} that has no assignee to "
            "{{user}}, and tell me how many you assigned."
        )
        for path, label, user in [
            ("alice/tracker-core", "security", "frank"),
            ("bob/mobile-app", "feature", "ivan"),
        ]:
            owner, name = _split(path)
            issues = [i for i in self.project(path).issues if i.state == "open" and label in i.labels]
            unassigned = [i for i in issues if i.assignee is None]
            already = [i for i in issues if i.assignee == user]
            assert 0 < len(unassigned) < 15
            list_path = f"/projects/{path}/issues"
            self.add(
                8,
                template,
                {"label": label, "project": path, "user": user},
                "api",
                f"/{path}/issues",
                {
                    "answer": {"number": len(unassigned)},
                    "state": [
                        {"get": list_path, "params": {"labels": label, "assignee": "none"}, "count": 0},
                        {
                            "get": list_path,
                            "params": {"labels": label, "assignee": user},
                            "count": len(unassigned) + len(already),
                        },
                    ],
                },
                [
                    _all_pages(
                        "todo",
                        "list_issues",
                        owner=owner,
                        project=name,
                        state="open",
                        labels=label,
                        assignee="none",
                    )
                    + "print([i['number'] for i in todo])",
                    (
                        f"for issue in todo:\n    api.{SITE}.update_issue(owner={owner!r}, project={name!r}, "
                        f"number=issue['number'], body={{'assignee': {user!r}}})\nprint(len(todo))"
                    ),
                    "finish(f'Assigned {len(todo)} issues.')",
                ],
            )

    def create_label(self) -> None:
        template = "Create a label named {{name}} with colour {{color}} in {{project}}."
        for path, label, color in [
            ("alice/tracker-core", "regression", "#e99695"),
            ("erin/design-system", "a11y", "#5319e7"),
        ]:
            owner, name = _split(path)
            self.add(
                9,
                template,
                {"name": label, "color": color, "project": path},
                "api",
                f"/{path}",
                {
                    "state": [
                        {
                            "get": f"/projects/{path}/labels",
                            "where": {"name": label},
                            "select": "color",
                            "contains": color,
                        }
                    ]
                },
                [
                    (
                        f"label = api.{SITE}.create_label(owner={owner!r}, project={name!r}, "
                        f"body={{'name': {label!r}, 'color': {color!r}}})\nprint(label)"
                    ),
                    f"finish('Created label {label}.')",
                ],
                login_as=owner,
            )

    def add_member(self) -> None:
        template = "Add {{user}} to {{project}} as a {{role}}."
        for path, user, role in [
            ("alice/docs-site", "oscar", "reporter"),
            ("carol/data-pipeline", "ivan", "developer"),
        ]:
            owner, name = _split(path)
            assert self.project(path).role_of(user) is None
            self.add(
                10,
                template,
                {"user": user, "project": path, "role": role},
                "api",
                f"/{path}/members",
                {
                    "state": [
                        {
                            "get": f"/projects/{path}/members",
                            "where": {"username": user},
                            "select": "role",
                            "contains": role,
                        }
                    ]
                },
                [
                    (
                        f"member = api.{SITE}.add_member(owner={owner!r}, project={name!r}, "
                        f"body={{'username': {user!r}, 'role': {role!r}}})\nprint(member)"
                    ),
                    f"finish('{user} is now a {role} of {path}.')",
                ],
                login_as=owner,
            )

    def comment_on(self) -> None:
        template = 'Comment "{{text}}" on issue #{{number}} in {{project}}.'
        for path, number, text in [
            ("alice/tracker-core", 40, "Fixed in the next release."),
            ("grace/website", 3, "Can someone review the copy?"),
        ]:
            owner, name = _split(path)
            self.add(
                11,
                template,
                {"text": text, "number": number, "project": path},
                "api",
                f"/{path}/issues/{number}",
                {
                    "state": [
                        {
                            "get": f"/projects/{path}/issues/{number}/comments",
                            "select": "body",
                            "contains": text,
                        }
                    ]
                },
                [
                    (
                        f"comment = api.{SITE}.create_comment(owner={owner!r}, project={name!r}, "
                        f"number={number}, body={{'body': {text!r}}})\nprint(comment['id'])"
                    ),
                    "finish('Comment posted.')",
                ],
            )

    # --- UI only ----------------------------------------------------------------------------

    def _top(
        self, path: str, column: str, since: str | None = None, until: str | None = None
    ) -> tuple[str, int]:
        rows = tracker.activity_report(self.project(path), since, until)
        ranked = sorted(rows, key=lambda r: (-r[column], r["user"]))
        assert ranked and ranked[0][column] > (ranked[1][column] if len(ranked) > 1 else -1), (path, column)
        return ranked[0]["user"], ranked[0][column]

    def top_closer(self) -> None:
        template = (
            "According to the activity report of {{project}}, who has closed the most issues? "
            "Answer with the username."
        )
        for path in ["alice/tracker-core", "carol/data-pipeline", "dave/infra"]:
            top, closed = self._top(path, "closed")
            self.add(
                12,
                template,
                {"project": path},
                "ui",
                f"/{path}",
                {"answer": {"exact": top}},
                [
                    f"print(browser.goto('/{path}/activity'))",
                    (
                        f"# The report's first table lists {top} with the most closed issues ({closed}).\n"
                        f"finish({top!r})"
                    ),
                ],
            )

    def set_location(self) -> None:
        template = "Change the location on my profile to {{location}}."
        for user, location in [("bob", "Accra"), ("heidi", "Basel")]:
            self.add(
                13,
                template,
                {"location": location},
                "ui",
                "/projects",
                {"state": [{"get": f"/users/{user}", "select": "location", "equals": location}]},
                [
                    "print(browser.goto('/profile/edit'))",
                    (
                        f"browser.fill(browser.find('textbox', 'Location'), {location!r})\n"
                        f"print(browser.click(browser.find('button', 'Save profile')))"
                    ),
                    f"finish('Location changed to {location}.')",
                ],
                login_as=user,
            )

    def _transfer_steps(self, path: str, new_owner: str) -> list[str]:
        name = _split(path)[1]
        return [
            f"print(browser.goto('/{path}/settings'))",
            (
                f"browser.select(browser.find('combobox', 'New owner'), {new_owner!r})\n"
                f"browser.fill(browser.find('textbox', 'Type the project name to confirm'), {name!r})\n"
                f"print(browser.click(browser.find('button', 'Transfer project')))"
            ),
        ]

    def transfer(self) -> None:
        template = "Transfer the project {{project}} to {{user}}."
        for path, user in [("alice/docs-site", "grace"), ("erin/design-system", "heidi")]:
            owner, name = _split(path)
            self.add(
                14,
                template,
                {"project": path, "user": user},
                "ui",
                f"/{path}",
                {
                    "state": [
                        {"get": f"/projects/{user}/{name}", "select": "owner", "equals": user},
                        {"get": f"/projects/{path}", "status": 404},
                    ]
                },
                [*self._transfer_steps(path, user), f"finish('{path} now belongs to {user}.')"],
                login_as=owner,
            )

    def events_in_range(self) -> None:
        template = (
            "According to the activity report of {{project}}, how many events in total did {{user}} "
            "have from {{since}} to {{until}}?"
        )
        for path, since, until in [
            ("alice/tracker-core", "2026-02-01", "2026-02-28"),
            ("bob/mobile-app", "2026-03-01", "2026-03-31"),
        ]:
            busiest = tracker.activity_report(self.project(path), since, until)[0]
            user, total = busiest["user"], busiest["total"]
            self.add(
                15,
                template,
                {"project": path, "user": user, "since": since, "until": until},
                "ui",
                f"/{path}/activity",
                {"answer": {"number": total}},
                [
                    f"print(browser.goto('/{path}/activity?since={since}&until={until}'))",
                    f"# {user}'s row in the report shows {total} events in total.\nfinish({str(total)!r})",
                ],
            )

    # --- Both -------------------------------------------------------------------------------

    def assign_to_top_closer(self) -> None:
        template = (
            "Find who has closed the most issues in {{project}} according to its activity report, "
            "and assign issue #{{number}} of {{project}} to that person."
        )
        for path in ["alice/tracker-core", "bob/mobile-app", "carol/data-pipeline"]:
            owner, name = _split(path)
            top, _ = self._top(path, "closed")
            number = next(
                i.number for i in self.project(path).issues[10:] if i.state == "open" and i.assignee != top
            )
            self.add(
                16,
                template,
                {"project": path, "number": number},
                "mixed",
                f"/{path}",
                {
                    "state": [
                        {"get": f"/projects/{path}/issues/{number}", "select": "assignee", "equals": top}
                    ]
                },
                [
                    f"print(browser.goto('/{path}/activity'))",
                    (
                        f"# The report shows {top} closed the most issues.\nissue = "
                        f"api.{SITE}.update_issue(owner={owner!r}, project={name!r}, number={number}, "
                        f"body={{'assignee': {top!r}}})\nprint(issue['assignee'])"
                    ),
                    f"finish('Assigned #{number} to {top}.')",
                ],
            )

    def transfer_then_label(self) -> None:
        template = "Transfer {{project}} to {{user}}, then create a label named {{label}} in it."
        for path, user, label in [
            ("grace/website", "erin", "seo"),
            ("alice/docs-site", "heidi", "translation"),
        ]:
            owner, name = _split(path)
            self.add(
                17,
                template,
                {"project": path, "user": user, "label": label},
                "mixed",
                f"/{path}",
                {
                    "state": [
                        {"get": f"/projects/{user}/{name}", "select": "owner", "equals": user},
                        {"get": f"/projects/{user}/{name}/labels", "select": "name", "contains": label},
                    ]
                },
                [
                    *self._transfer_steps(path, user),
                    (
                        f"label = api.{SITE}.create_label(owner={user!r}, project={name!r}, "
                        f"body={{'name': {label!r}}})\nprint(label)"
                    ),
                    f"finish('Transferred {path} to {user} and created {label}.')",
                ],
                login_as=owner,
            )

    def recruit_top_commenter(self) -> None:
        template = (
            "Find who commented the most in {{project}} from {{since}} to {{until}} according to its "
            "activity report, and add that person to {{target}} as a {{role}}."
        )
        for path, since, until, target, role in [
            ("alice/tracker-core", "2026-04-01", "2026-04-30", "grace/website", "reporter"),
            ("carol/data-pipeline", "2026-01-01", "2026-01-31", "erin/design-system", "developer"),
        ]:
            user, _ = self._top(path, "commented", since, until)
            target_project = self.project(target)
            assert target_project.owner != user and target_project.role_of(user) != role, (user, target)
            owner, name = _split(target)
            self.add(
                18,
                template,
                {"project": path, "since": since, "until": until, "target": target, "role": role},
                "mixed",
                f"/{path}/activity",
                {
                    "state": [
                        {
                            "get": f"/projects/{target}/members",
                            "where": {"username": user},
                            "select": "role",
                            "contains": role,
                        }
                    ]
                },
                [
                    f"print(browser.goto('/{path}/activity?since={since}&until={until}'))",
                    (
                        f"# {user} has the most comments in that range.\n"
                        f"member = api.{SITE}.add_member(owner={owner!r}, project={name!r}, "
                        f"body={{'username': {user!r}, 'role': {role!r}}})\nprint(member)"
                    ),
                    f"finish('Added {user} to {target} as a {role}.')",
                ],
                login_as=owner,
            )

    def build(self) -> list[Task]:
        steps: list[Callable[[], None]] = [
            self.count_open_with_label,
            self.assignee_of,
            self.newest_issue_title,
            self.busiest_assignee,
            self.comment_count,
            self.close_issue,
            self.add_label,
            self.assign_unassigned,
            self.create_label,
            self.add_member,
            self.comment_on,
            self.top_closer,
            self.set_location,
            self.transfer,
            self.events_in_range,
            self.assign_to_top_closer,
            self.transfer_then_label,
            self.recruit_top_commenter,
        ]
        for step in steps:
            step()
        return self.tasks


def suite_lines() -> Iterator[str]:
    for task in SuiteBuilder(build_seed_state()).build():
        yield json.dumps(task, ensure_ascii=False)


def main() -> None:
    lines = list(suite_lines())
    SUITE_PATH.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} tasks to {SUITE_PATH}")


if __name__ == "__main__":
    main()
