"""The demo site's operations on its data, shared by the REST API and the HTML UI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hybrid.demo.access import NotFound
from hybrid.demo.data import ROLES, Comment, Event, Issue, Label, Milestone, Project, TrackerState, User


class InvalidInput(Exception):
    """The request names something that does not exist or breaks a rule; the message says which."""


@dataclass(frozen=True)
class IssueFilter:
    state: str = "open"
    labels: tuple[str, ...] = ()
    assignee: str | None = None
    author: str | None = None
    milestone: str | None = None
    search: str | None = None
    sort: str = "created"
    direction: str = "desc"

    def matches(self, project: Project, issue: Issue) -> bool:
        if self.state != "all" and issue.state != self.state:
            return False
        if any(label not in issue.labels for label in self.labels):
            return False
        if self.assignee == "none" and issue.assignee is not None:
            return False
        if self.assignee not in (None, "none") and issue.assignee != self.assignee:
            return False
        if self.author and issue.author != self.author:
            return False
        if self.milestone:
            milestone = project.milestone(issue.milestone_id) if issue.milestone_id else None
            if milestone is None or milestone.title != self.milestone:
                return False
        if self.search:
            needle = self.search.lower()
            if needle not in issue.title.lower() and needle not in issue.body.lower():
                return False
        return True


def parse_labels(raw: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (raw or "").split(",") if part.strip())


def filter_issues(project: Project, issue_filter: IssueFilter) -> list[Issue]:
    if issue_filter.state not in ("open", "closed", "all"):
        raise InvalidInput("state must be one of open, closed, all.")
    if issue_filter.sort not in ("created", "updated"):
        raise InvalidInput("sort must be created or updated.")
    found = [issue for issue in project.issues if issue_filter.matches(project, issue)]
    key = (
        (lambda i: (i.created_at, i.number))
        if issue_filter.sort == "created"
        else (lambda i: (i.updated_at, i.number))
    )
    return sorted(found, key=key, reverse=issue_filter.direction != "asc")


def check_labels(project: Project, labels: list[str]) -> list[str]:
    unknown = [label for label in labels if label not in project.label_names()]
    if unknown:
        raise InvalidInput(
            f"Unknown label(s) {', '.join(unknown)} in {project.path}; "
            f"existing labels: {', '.join(project.label_names())}."
        )
    return list(dict.fromkeys(labels))


def check_assignee(state: TrackerState, project: Project, assignee: str | None) -> str | None:
    if assignee in (None, ""):
        return None
    if assignee not in state.users:
        raise InvalidInput(f"No user named {assignee!r}.")
    if project.role_of(assignee) is None:
        raise InvalidInput(f"{assignee} is not a member of {project.path}; only members can be assigned.")
    return assignee


def check_milestone(project: Project, milestone: str | int | None) -> int | None:
    if milestone in (None, ""):
        return None
    found = (
        project.milestone(milestone)
        if isinstance(milestone, int)
        else project.milestone_by_title(str(milestone))
    )
    if found is None:
        titles = ", ".join(m.title for m in project.milestones)
        raise InvalidInput(f"No milestone {milestone!r} in {project.path}; milestones: {titles}.")
    return found.id


def create_issue(
    state: TrackerState,
    project: Project,
    author: User,
    now: datetime,
    *,
    title: str,
    body: str = "",
    labels: list[str] | None = None,
    assignee: str | None = None,
    milestone: str | int | None = None,
) -> Issue:
    if not title.strip():
        raise InvalidInput("title must not be empty.")
    issue = Issue(
        number=max((i.number for i in project.issues), default=0) + 1,
        title=title.strip(),
        body=body,
        author=author.username,
        created_at=now,
        updated_at=now,
        labels=check_labels(project, labels or []),
        assignee=check_assignee(state, project, assignee),
        milestone_id=check_milestone(project, milestone),
    )
    project.issues.append(issue)
    project.events.append(Event(now, author.username, "opened", f"#{issue.number}"))
    return issue


def set_issue_state(project: Project, issue: Issue, actor: User, new_state: str, now: datetime) -> None:
    if new_state not in ("open", "closed"):
        raise InvalidInput("state must be open or closed.")
    if issue.state == new_state:
        return
    issue.state = "closed" if new_state == "closed" else "open"
    issue.updated_at = now
    if new_state == "closed":
        issue.closed_at, issue.closed_by = now, actor.username
        project.events.append(Event(now, actor.username, "closed", f"#{issue.number}"))
    else:
        issue.closed_at, issue.closed_by = None, None
        project.events.append(Event(now, actor.username, "reopened", f"#{issue.number}"))


def update_issue(
    state: TrackerState, project: Project, issue: Issue, actor: User, changes: dict, now: datetime
) -> Issue:
    """Apply the given fields (only those present) to an issue, recording activity."""
    if "title" in changes:
        if not str(changes["title"]).strip():
            raise InvalidInput("title must not be empty.")
        issue.title = str(changes["title"]).strip()
    if "body" in changes:
        issue.body = changes["body"] or ""
    if "labels" in changes:
        issue.labels = check_labels(project, list(changes["labels"] or []))
    if "assignee" in changes:
        new_assignee = check_assignee(state, project, changes["assignee"])
        if new_assignee != issue.assignee and new_assignee:
            project.events.append(
                Event(now, actor.username, "assigned", f"#{issue.number} to {new_assignee}")
            )
        issue.assignee = new_assignee
    if "milestone" in changes:
        issue.milestone_id = check_milestone(project, changes["milestone"])
    if "state" in changes:
        set_issue_state(project, issue, actor, changes["state"], now)
    issue.updated_at = now
    return issue


def add_comment(
    project: Project, issue: Issue, author: User, body: str, comment_id: int, now: datetime
) -> Comment:
    if not body.strip():
        raise InvalidInput("comment body must not be empty.")
    comment = Comment(comment_id, author.username, body.strip(), now)
    issue.comments.append(comment)
    issue.updated_at = now
    project.events.append(Event(now, author.username, "commented", f"#{issue.number}"))
    return comment


def add_label(project: Project, name: str, color: str, description: str) -> Label:
    if not name.strip():
        raise InvalidInput("label name must not be empty.")
    if name in project.label_names():
        raise InvalidInput(f"Label {name!r} already exists in {project.path}.")
    if not (color.startswith("#") and len(color) == 7):
        raise InvalidInput("color must look like #rrggbb.")
    label = Label(name.strip(), color, description)
    project.labels.append(label)
    return label


def add_milestone(
    state: TrackerState, project: Project, title: str, due_date: str | None, description: str
) -> Milestone:
    if not title.strip():
        raise InvalidInput("milestone title must not be empty.")
    if project.milestone_by_title(title):
        raise InvalidInput(f"Milestone {title!r} already exists in {project.path}.")
    milestone = Milestone(state.new_id("milestone"), title.strip(), due_date or "", "active", description)
    project.milestones.append(milestone)
    return milestone


def set_member(
    state: TrackerState, project: Project, username: str, role: str, actor: User, now: datetime
) -> None:
    if username not in state.users:
        raise InvalidInput(f"No user named {username!r}.")
    if role not in ROLES or role == "owner":
        raise InvalidInput(f"role must be one of {', '.join(r for r in ROLES if r != 'owner')}.")
    if username == project.owner:
        raise InvalidInput(f"{username} owns {project.path}; the owner's role cannot change.")
    project.members[username] = role
    project.events.append(Event(now, actor.username, "added member", f"{username} as {role}"))


def remove_member(project: Project, username: str, actor: User, now: datetime) -> None:
    if username == project.owner:
        raise InvalidInput(f"{username} owns {project.path} and cannot be removed.")
    if project.members.pop(username, None) is None:
        raise NotFound(f"{username} is not a member of {project.path}.")
    project.events.append(Event(now, actor.username, "removed member", username))


def transfer_project(
    state: TrackerState, project: Project, new_owner: str, actor: User, now: datetime
) -> None:
    if new_owner not in state.users:
        raise InvalidInput(f"No user named {new_owner!r}.")
    if new_owner == project.owner:
        raise InvalidInput(f"{new_owner} already owns {project.path}.")
    if state.project(new_owner, project.name):
        raise InvalidInput(f"{new_owner} already has a project named {project.name}.")
    old_owner = project.owner
    project.members[old_owner] = "maintainer"
    project.members[new_owner] = "owner"
    project.owner = new_owner
    project.events.append(Event(now, actor.username, "transferred", f"from {old_owner} to {new_owner}"))


def bulk_close(project: Project, numbers: list[int], actor: User, now: datetime) -> int:
    closed = 0
    for number in numbers:
        issue = project.issue(number)
        if issue is None:
            raise InvalidInput(f"Issue #{number} does not exist in {project.path}.")
        if issue.state == "open":
            set_issue_state(project, issue, actor, "closed", now)
            closed += 1
    return closed


def activity_report(project: Project, since: str | None = None, until: str | None = None) -> list[dict]:
    """Per-user counts of opened, closed, reopened and commented, within an optional date range."""
    rows: dict[str, dict[str, int]] = {}
    for event in project.events:
        day = event.at.date().isoformat()
        if (since and day < since) or (until and day > until):
            continue
        if event.action not in ("opened", "closed", "reopened", "commented"):
            continue
        counts = rows.setdefault(event.actor, {"opened": 0, "closed": 0, "reopened": 0, "commented": 0})
        counts[event.action] += 1
    return [
        {"user": user, **counts, "total": sum(counts.values())}
        for user, counts in sorted(rows.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    ]
