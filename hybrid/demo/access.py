"""Who may see and change what on the demo site; shared by the REST API and the HTML UI."""

from __future__ import annotations

from hybrid.demo.data import MANAGE_ROLES, WRITE_ROLES, Issue, Project, TrackerState, User


class AccessDenied(Exception):
    """The user is known but may not do this."""


class NotFound(Exception):
    """No such record, or one the user may not see (private projects are not revealed)."""


def can_see(user: User | None, project: Project) -> bool:
    if project.visibility == "public":
        return True
    return user is not None and (user.is_admin or project.role_of(user.username) is not None)


def can_write_issues(user: User, project: Project) -> bool:
    return user.is_admin or project.role_of(user.username) in WRITE_ROLES


def can_edit_issue(user: User, project: Project, issue: Issue) -> bool:
    return can_write_issues(user, project) or issue.author == user.username


def can_manage(user: User, project: Project) -> bool:
    return user.is_admin or project.role_of(user.username) in MANAGE_ROLES


def visible_project(state: TrackerState, user: User | None, owner: str, name: str) -> Project:
    project = state.project(owner, name)
    if project is None or not can_see(user, project):
        raise NotFound(f"Project {owner}/{name} not found.")
    return project


def visible_issue(project: Project, number: int) -> Issue:
    issue = project.issue(number)
    if issue is None:
        raise NotFound(f"Issue #{number} not found in {project.path}.")
    return issue


def require(allowed: bool, action: str) -> None:
    if not allowed:
        raise AccessDenied(f"You do not have permission to {action}.")
