"""The demo site's data: a project tracker's records, seeded deterministically.

Everything lives in memory so that a reset to the seed state is instant. The seed is generated from
a fixed random seed, so every reset (and every machine) yields the same users, projects, issues,
comments and activity, which is what lets the task suite carry exact reference answers.
"""

from __future__ import annotations

import hashlib
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

SEED = 20260101
EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DEMO_PASSWORD = "hybrid-demo"
ROLES = ("guest", "reporter", "developer", "maintainer", "owner")
WRITE_ROLES = ("developer", "maintainer", "owner")
MANAGE_ROLES = ("maintainer", "owner")


@dataclass
class User:
    username: str
    name: str
    email: str
    bio: str = ""
    location: str = ""
    is_admin: bool = False

    @property
    def token(self) -> str:
        return api_token_for(self.username)


@dataclass
class Label:
    name: str
    color: str
    description: str = ""


@dataclass
class Milestone:
    id: int
    title: str
    due_date: str
    state: str = "active"
    description: str = ""


@dataclass
class Comment:
    id: int
    author: str
    body: str
    created_at: datetime


IssueState = Literal["open", "closed"]


@dataclass
class Issue:
    number: int
    title: str
    body: str
    author: str
    created_at: datetime
    updated_at: datetime
    state: IssueState = "open"
    labels: list[str] = field(default_factory=list)
    assignee: str | None = None
    milestone_id: int | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    comments: list[Comment] = field(default_factory=list)


@dataclass
class Event:
    """One line of a project's activity log (shown only in the UI's activity report)."""

    at: datetime
    actor: str
    action: str
    target: str


@dataclass
class Project:
    id: int
    owner: str
    name: str
    description: str
    created_at: datetime
    visibility: str = "public"
    members: dict[str, str] = field(default_factory=dict)
    labels: list[Label] = field(default_factory=list)
    milestones: list[Milestone] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"{self.owner}/{self.name}"

    def role_of(self, username: str) -> str | None:
        return self.members.get(username)

    def issue(self, number: int) -> Issue | None:
        return next((i for i in self.issues if i.number == number), None)

    def milestone(self, milestone_id: int) -> Milestone | None:
        return next((m for m in self.milestones if m.id == milestone_id), None)

    def milestone_by_title(self, title: str) -> Milestone | None:
        return next((m for m in self.milestones if m.title == title), None)

    def label_names(self) -> list[str]:
        return [label.name for label in self.labels]


@dataclass
class TrackerState:
    users: dict[str, User]
    projects: list[Project]
    next_ids: dict[str, int]

    def project(self, owner: str, name: str) -> Project | None:
        return next((p for p in self.projects if p.owner == owner and p.name == name), None)

    def new_id(self, kind: str) -> int:
        self.next_ids[kind] = self.next_ids.get(kind, 0) + 1
        return self.next_ids[kind]


def api_token_for(username: str) -> str:
    """Deterministic API tokens, so the task suite and docs can name them."""
    return "demo_" + hashlib.sha256(f"hybrid-demo-token:{username}".encode()).hexdigest()[:32]


class TrackerStore:
    """The site's state behind a lock; `reset()` brings back the seed state."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.state = build_seed_state()
        self.clock = SiteClock()

    def reset(self) -> None:
        with self.lock:
            self.state = build_seed_state()
            self.clock = SiteClock()


class SiteClock:
    """Time on the demo site advances one minute per change, so new records sort after the seed."""

    def __init__(self) -> None:
        self._now = EPOCH + timedelta(days=320)

    def tick(self) -> datetime:
        self._now += timedelta(minutes=1)
        return self._now


# ---------------------------------------------------------------------------------------------
# Seed data
# ---------------------------------------------------------------------------------------------

USERS = [
    ("alice", "Alice Moreau", "Lyon", True),
    ("bob", "Bob Okafor", "Lagos", False),
    ("carol", "Carol Jensen", "Aarhus", False),
    ("dave", "Dave Kowalski", "Kraków", False),
    ("erin", "Erin Walsh", "Dublin", False),
    ("frank", "Frank Li", "Singapore", False),
    ("grace", "Grace Hopper-Smith", "Boston", False),
    ("heidi", "Heidi Müller", "Zürich", False),
    ("ivan", "Ivan Petrov", "Sofia", False),
    ("judy", "Judy Nakamura", "Osaka", False),
    ("mallory", "Mallory Brooks", "Denver", False),
    ("oscar", "Oscar Silva", "Porto", False),
]

# (owner, name, description, visibility, number of issues, members with roles)
PROJECTS = [
    (
        "alice",
        "tracker-core",
        "The issue tracker's core service: storage, search and notifications.",
        "public",
        230,
        {
            "bob": "maintainer",
            "carol": "developer",
            "dave": "developer",
            "erin": "reporter",
            "frank": "developer",
            "judy": "guest",
        },
    ),
    (
        "alice",
        "docs-site",
        "User and administrator documentation, built as a static site.",
        "public",
        34,
        {"grace": "developer", "heidi": "reporter"},
    ),
    (
        "bob",
        "mobile-app",
        "iOS and Android clients for the tracker.",
        "public",
        72,
        {"alice": "developer", "ivan": "developer", "judy": "maintainer", "oscar": "reporter"},
    ),
    (
        "carol",
        "data-pipeline",
        "Nightly exports, metrics and the reporting warehouse.",
        "public",
        58,
        {"dave": "maintainer", "mallory": "developer", "alice": "reporter"},
    ),
    (
        "dave",
        "infra",
        "Terraform, deployment scripts and on-call runbooks.",
        "private",
        41,
        {"alice": "maintainer", "frank": "developer"},
    ),
    (
        "erin",
        "design-system",
        "Shared UI components, tokens and accessibility guidelines.",
        "public",
        27,
        {"grace": "maintainer", "heidi": "developer", "oscar": "developer"},
    ),
    (
        "frank",
        "billing",
        "Invoices, plans and payment provider integration.",
        "private",
        36,
        {"bob": "developer", "mallory": "reporter"},
    ),
    (
        "grace",
        "website",
        "The public marketing website and blog.",
        "public",
        19,
        {"erin": "developer", "ivan": "reporter"},
    ),
]

LABELS = [
    ("bug", "#d73a4a", "Something is not working"),
    ("feature", "#a2eeef", "New functionality"),
    ("docs", "#0075ca", "Documentation changes"),
    ("performance", "#fbca04", "Slow or resource-hungry behaviour"),
    ("security", "#b60205", "Security-relevant problems"),
    ("good first issue", "#7057ff", "Suitable for newcomers"),
    ("help wanted", "#008672", "Extra attention is needed"),
    ("wontfix", "#ffffff", "This will not be worked on"),
    ("priority::high", "#e11d21", "Needs attention this week"),
    ("priority::low", "#c5def5", "Can wait"),
]

MILESTONES = [("v1.0", 40, "closed"), ("v1.1", 130, "active"), ("v2.0", 300, "active")]

COMPONENTS = [
    "login page",
    "search index",
    "notification emails",
    "CSV export",
    "REST API",
    "issue board",
    "markdown renderer",
    "settings page",
    "webhooks",
    "audit log",
    "avatar upload",
    "project import",
    "label picker",
    "dark theme",
    "cache layer",
    "background jobs",
    "password reset",
    "activity feed",
    "mobile layout",
    "rate limiter",
]
PROBLEMS = [
    "crashes on empty input",
    "is slow with many projects",
    "shows the wrong timezone",
    "ignores the locale",
    "leaks memory after an hour",
    "returns a 500 error",
    "breaks with unicode names",
    "times out behind a proxy",
    "loses unsaved changes",
    "double-counts closed items",
    "fails when the session expires",
    "renders blank on Safari",
]
FEATURES = [
    "Add keyboard shortcuts to the",
    "Support bulk editing in the",
    "Add an audit trail to the",
    "Allow filtering by date in the",
    "Add dark mode to the",
    "Export JSON from the",
    "Add pagination to the",
    "Translate the",
]
DOC_TOPICS = [
    "Document the",
    "Clarify setup steps for the",
    "Add examples for the",
    "Fix broken links in the guide to the",
]
COMMENT_LINES = [
    "I can reproduce this on the latest build.",
    "Could you attach the server logs?",
    "This looks related to the recent cache change.",
    "Working on a fix now.",
    "Confirmed on staging as well.",
    "Is there a workaround in the meantime?",
    "Moving this to the next milestone.",
    "The fix is ready for review.",
    "Thanks, that solved it for me.",
    "Still happening after the upgrade.",
]


def default_labels() -> list[Label]:
    return [Label(name, color, description) for name, color, description in LABELS]


def build_seed_state() -> TrackerState:
    rng = random.Random(SEED)
    users = {
        username: User(
            username=username,
            name=name,
            email=f"{username}@example.test",
            bio=f"{name.split()[0]} works on the tracker team.",
            location=location,
            is_admin=is_admin,
        )
        for username, name, location, is_admin in USERS
    }
    state = TrackerState(users=users, projects=[], next_ids={})
    for owner, name, description, visibility, issue_count, members in PROJECTS:
        project = Project(
            id=state.new_id("project"),
            owner=owner,
            name=name,
            description=description,
            created_at=EPOCH + timedelta(days=rng.randint(0, 20)),
            visibility=visibility,
            members={owner: "owner", **members},
            labels=default_labels(),
            milestones=[
                Milestone(
                    id=state.new_id("milestone"),
                    title=title,
                    due_date=(EPOCH + timedelta(days=days)).date().isoformat(),
                    state=ms_state,
                    description=f"Release {title} of {name}.",
                )
                for title, days, ms_state in MILESTONES
            ],
        )
        _seed_issues(rng, state, project, issue_count)
        state.projects.append(project)
    return state


def _seed_issues(rng: random.Random, state: TrackerState, project: Project, count: int) -> None:
    people = sorted(project.members)
    writers = sorted(u for u, role in project.members.items() if role in WRITE_ROLES)
    when = project.created_at
    for number in range(1, count + 1):
        when += timedelta(hours=rng.randint(3, 30), minutes=rng.randint(0, 59))
        kind = rng.choices(["bug", "feature", "docs"], weights=[5, 3, 1])[0]
        component = rng.choice(COMPONENTS)
        if kind == "bug":
            title = f"{component.capitalize()} {rng.choice(PROBLEMS)}"
        elif kind == "feature":
            title = f"{rng.choice(FEATURES)} {component}"
        else:
            title = f"{rng.choice(DOC_TOPICS)} {component}"
        labels = [kind]
        for extra, chance in (
            ("priority::high", 0.12),
            ("priority::low", 0.15),
            ("help wanted", 0.1),
            ("good first issue", 0.08),
            ("performance", 0.08),
            ("security", 0.05),
            ("wontfix", 0.06),
        ):
            if rng.random() < chance:
                labels.append(extra)
        author = rng.choice(people)
        issue = Issue(
            number=number,
            title=title,
            body=(
                f"The {component} needs attention.\n\nSteps: open the {component}, then watch what "
                f"happens.\n\nReported by {author}."
            ),
            author=author,
            created_at=when,
            updated_at=when,
            labels=labels,
            assignee=rng.choice(writers) if rng.random() < 0.7 else None,
            milestone_id=rng.choice(project.milestones).id if rng.random() < 0.6 else None,
        )
        project.events.append(Event(when, author, "opened", f"#{number}"))
        for _ in range(rng.choices([0, 1, 2, 3, 4], weights=[4, 3, 2, 1, 1])[0]):
            at = issue.updated_at + timedelta(hours=rng.randint(1, 48))
            commenter = rng.choice(people)
            issue.comments.append(Comment(state.new_id("comment"), commenter, rng.choice(COMMENT_LINES), at))
            project.events.append(Event(at, commenter, "commented", f"#{number}"))
            issue.updated_at = at
        if rng.random() < 0.35:
            closer = rng.choice(writers)
            issue.state = "closed"
            issue.closed_at = issue.updated_at + timedelta(hours=rng.randint(1, 72))
            issue.closed_by = closer
            issue.updated_at = issue.closed_at
            project.events.append(Event(issue.closed_at, closer, "closed", f"#{number}"))
        project.issues.append(issue)
    project.events.sort(key=lambda e: e.at)
