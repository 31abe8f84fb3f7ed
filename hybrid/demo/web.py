"""The demo site's server-rendered HTML UI: login, lists with filters and pagination, forms.

Features only here (not in the API): bulk-closing issues, transferring a project, editing your
profile, and the activity report.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from hybrid.demo import tracker
from hybrid.demo.access import (
    can_edit_issue,
    can_manage,
    can_see,
    can_write_issues,
    require,
    visible_issue,
    visible_project,
)
from hybrid.demo.data import DEMO_PASSWORD, ROLES, Project, TrackerStore, User
from hybrid.demo.sessions import SESSION_COOKIE, flash, session_user, take_flashes

PAGE_SIZE = 20
templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))


class LoginRequired(Exception):
    """Raised by pages that need a signed-in user; answered with a redirect to the login form."""


def store_of(request: Request) -> TrackerStore:
    return request.app.state.store


def signed_in(request: Request) -> User:
    user = session_user(request)
    if user is None:
        raise LoginRequired()
    return user


Viewer = Annotated[User, Depends(signed_in)]
Store = Annotated[TrackerStore, Depends(store_of)]


def render(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    context.setdefault("viewer", session_user(request))
    context["flashes"] = take_flashes(request)
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def page_window(total: int, page: int) -> dict:
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(1, page), pages)
    return {"page": page, "pages": pages, "total": total, "start": (page - 1) * PAGE_SIZE}


def page_url(request: Request, page: int) -> str:
    query = dict(request.query_params)
    query["page"] = str(page)
    return f"{request.url.path}?{urlencode(query)}"


templates.env.globals["page_url"] = page_url


router = APIRouter(include_in_schema=False)


# ----------------------------------------------------------------------------------------------
# Sign in and out
# ----------------------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/projects") -> HTMLResponse:
    return render(request, "login.html.jinja", next=next, error=None, username="")


@router.post("/login")
async def login(
    request: Request,
    store: Store,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/projects",
) -> Response:
    if username not in store.state.users or password != DEMO_PASSWORD:
        return render(
            request,
            "login.html.jinja",
            status_code=401,
            next=next,
            username=username,
            error="Invalid username or password.",
        )
    response = redirect(next if next.startswith("/") and not next.startswith("//") else "/projects")
    response.set_cookie(
        SESSION_COOKIE, request.app.state.sessions.open(username), httponly=True, samesite="lax"
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    request.app.state.sessions.close(request.cookies.get(SESSION_COOKIE))
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/")
async def home(request: Request) -> Response:
    return redirect("/projects" if session_user(request) else "/login")


# ----------------------------------------------------------------------------------------------
# Projects and people
# ----------------------------------------------------------------------------------------------


@router.get("/projects", response_class=HTMLResponse)
async def projects_page(
    request: Request, store: Store, viewer: Viewer, search: str = "", page: int = 1
) -> HTMLResponse:
    projects = [
        p
        for p in store.state.projects
        if can_see(viewer, p) and (not search or search.lower() in (p.name + " " + p.description).lower())
    ]
    window = page_window(len(projects), page)
    return render(
        request,
        "projects.html.jinja",
        projects=projects[window["start"] :][:PAGE_SIZE],
        search=search,
        window=window,
    )


@router.get("/users/{username}", response_class=HTMLResponse)
async def user_page(request: Request, username: str, store: Store, viewer: Viewer) -> HTMLResponse:
    person = store.state.users.get(username)
    if person is None:
        return render(request, "error.html.jinja", status_code=404, message=f"No user named {username}.")
    projects = [p for p in store.state.projects if can_see(viewer, p) and p.role_of(username)]
    return render(request, "user.html.jinja", person=person, projects=projects)


@router.get("/profile/edit", response_class=HTMLResponse)
async def profile_form(request: Request, viewer: Viewer) -> HTMLResponse:
    return render(request, "profile_edit.html.jinja")


@router.post("/profile/edit")
async def profile_save(
    request: Request,
    viewer: Viewer,
    name: Annotated[str, Form()],
    bio: Annotated[str, Form()] = "",
    location: Annotated[str, Form()] = "",
) -> Response:
    if not name.strip():
        flash(request, ("error", "Name must not be empty."))
        return redirect("/profile/edit")
    viewer.name, viewer.bio, viewer.location = name.strip(), bio.strip(), location.strip()
    flash(request, ("success", "Profile updated."))
    return redirect(f"/users/{viewer.username}")


# ----------------------------------------------------------------------------------------------
# One project
# ----------------------------------------------------------------------------------------------


def project_of(request: Request, owner: str, project: str) -> Project:
    return visible_project(store_of(request).state, session_user(request), owner, project)


@router.get("/{owner}/{project}", response_class=HTMLResponse)
async def project_page(request: Request, owner: str, project: str, viewer: Viewer) -> HTMLResponse:
    found = project_of(request, owner, project)
    open_count = sum(1 for i in found.issues if i.state == "open")
    return render(
        request,
        "project.html.jinja",
        project=found,
        open_count=open_count,
        closed_count=len(found.issues) - open_count,
        can_manage=can_manage(viewer, found),
        recent=found.events[-10:][::-1],
    )


@router.get("/{owner}/{project}/issues", response_class=HTMLResponse)
async def issues_page(
    request: Request,
    owner: str,
    project: str,
    viewer: Viewer,
    state: str = "open",
    label: str = "",
    assignee: str = "",
    milestone: str = "",
    search: str = "",
    page: int = 1,
) -> HTMLResponse:
    found = project_of(request, owner, project)
    issue_filter = tracker.IssueFilter(
        state=state,
        labels=tracker.parse_labels(label),
        assignee=assignee or None,
        milestone=milestone or None,
        search=search or None,
    )
    issues = tracker.filter_issues(found, issue_filter)
    window = page_window(len(issues), page)
    return render(
        request,
        "issues.html.jinja",
        project=found,
        issues=issues[window["start"] :][:PAGE_SIZE],
        window=window,
        filters={
            "state": state,
            "label": label,
            "assignee": assignee,
            "milestone": milestone,
            "search": search,
        },
        can_bulk_close=can_write_issues(viewer, found),
    )


@router.post("/{owner}/{project}/issues/bulk-close")
async def bulk_close(request: Request, owner: str, project: str, store: Store, viewer: Viewer) -> Response:
    found = project_of(request, owner, project)
    require(can_write_issues(viewer, found), f"close issues of {found.path}")
    form = await request.form()
    numbers = [int(n) for n in form.getlist("numbers") if isinstance(n, str) and n.isdigit()]
    back = str(form.get("back") or f"/{found.path}/issues")
    if not numbers:
        flash(request, ("error", "Select at least one issue to close."))
        return redirect(back)
    closed = tracker.bulk_close(found, numbers, viewer, store.clock.tick())
    flash(request, ("success", f"Closed {closed} issue{'s' if closed != 1 else ''}."))
    return redirect(back)


@router.get("/{owner}/{project}/issues/new", response_class=HTMLResponse)
async def new_issue_form(
    request: Request, owner: str, project: str, store: Store, viewer: Viewer
) -> HTMLResponse:
    found = project_of(request, owner, project)
    return render(
        request,
        "issue_form.html.jinja",
        project=found,
        issue=None,
        assignable=sorted(found.members),
        can_triage=can_write_issues(viewer, found),
    )


@router.post("/{owner}/{project}/issues/new")
async def create_issue(request: Request, owner: str, project: str, store: Store, viewer: Viewer) -> Response:
    found = project_of(request, owner, project)
    form = await request.form()
    triage = can_write_issues(viewer, found)
    try:
        issue = tracker.create_issue(
            store.state,
            found,
            viewer,
            store.clock.tick(),
            title=str(form.get("title", "")),
            body=str(form.get("body", "")),
            labels=[str(x) for x in form.getlist("labels")] if triage else [],
            assignee=str(form.get("assignee") or "") if triage else None,
            milestone=str(form.get("milestone") or "") if triage else None,
        )
    except tracker.InvalidInput as exc:
        flash(request, ("error", str(exc)))
        return redirect(f"/{found.path}/issues/new")
    flash(request, ("success", f"Issue #{issue.number} created."))
    return redirect(f"/{found.path}/issues/{issue.number}")


@router.get("/{owner}/{project}/issues/{number}", response_class=HTMLResponse)
async def issue_page(request: Request, owner: str, project: str, number: int, viewer: Viewer) -> HTMLResponse:
    found = project_of(request, owner, project)
    issue = visible_issue(found, number)
    milestone = found.milestone(issue.milestone_id) if issue.milestone_id else None
    return render(
        request,
        "issue.html.jinja",
        project=found,
        issue=issue,
        milestone=milestone,
        can_edit=can_edit_issue(viewer, found, issue),
    )


@router.post("/{owner}/{project}/issues/{number}/comments")
async def comment_issue(
    request: Request,
    owner: str,
    project: str,
    number: int,
    store: Store,
    viewer: Viewer,
    body: Annotated[str, Form()] = "",
) -> Response:
    found = project_of(request, owner, project)
    issue = visible_issue(found, number)
    try:
        tracker.add_comment(found, issue, viewer, body, store.state.new_id("comment"), store.clock.tick())
        flash(request, ("success", "Comment added."))
    except tracker.InvalidInput as exc:
        flash(request, ("error", str(exc)))
    return redirect(f"/{found.path}/issues/{number}")


@router.post("/{owner}/{project}/issues/{number}/state")
async def change_issue_state(
    request: Request,
    owner: str,
    project: str,
    number: int,
    store: Store,
    viewer: Viewer,
    state: Annotated[str, Form()],
) -> Response:
    found = project_of(request, owner, project)
    issue = visible_issue(found, number)
    require(can_edit_issue(viewer, found, issue), f"change issue #{number}")
    tracker.set_issue_state(found, issue, viewer, state, store.clock.tick())
    flash(request, ("success", f"Issue #{number} {'closed' if state == 'closed' else 'reopened'}."))
    return redirect(f"/{found.path}/issues/{number}")


@router.get("/{owner}/{project}/issues/{number}/edit", response_class=HTMLResponse)
async def edit_issue_form(
    request: Request, owner: str, project: str, number: int, viewer: Viewer
) -> HTMLResponse:
    found = project_of(request, owner, project)
    issue = visible_issue(found, number)
    require(can_edit_issue(viewer, found, issue), f"edit issue #{number}")
    return render(
        request,
        "issue_form.html.jinja",
        project=found,
        issue=issue,
        milestone=found.milestone(issue.milestone_id) if issue.milestone_id else None,
        assignable=sorted(found.members),
        can_triage=can_write_issues(viewer, found),
    )


@router.post("/{owner}/{project}/issues/{number}/edit")
async def edit_issue(
    request: Request, owner: str, project: str, number: int, store: Store, viewer: Viewer
) -> Response:
    found = project_of(request, owner, project)
    issue = visible_issue(found, number)
    require(can_edit_issue(viewer, found, issue), f"edit issue #{number}")
    form = await request.form()
    changes: dict = {"title": str(form.get("title", "")), "body": str(form.get("body", ""))}
    if can_write_issues(viewer, found):
        changes.update(
            labels=[str(x) for x in form.getlist("labels")],
            assignee=str(form.get("assignee") or ""),
            milestone=str(form.get("milestone") or ""),
        )
    try:
        tracker.update_issue(store.state, found, issue, viewer, changes, store.clock.tick())
    except tracker.InvalidInput as exc:
        flash(request, ("error", str(exc)))
        return redirect(f"/{found.path}/issues/{number}/edit")
    flash(request, ("success", "Issue updated."))
    return redirect(f"/{found.path}/issues/{number}")


@router.get("/{owner}/{project}/members", response_class=HTMLResponse)
async def members_page(
    request: Request, owner: str, project: str, store: Store, viewer: Viewer
) -> HTMLResponse:
    found = project_of(request, owner, project)
    members = sorted(found.members.items(), key=lambda m: (-ROLES.index(m[1]), m[0]))
    return render(request, "members.html.jinja", project=found, members=members, users=store.state.users)


@router.get("/{owner}/{project}/milestones", response_class=HTMLResponse)
async def milestones_page(request: Request, owner: str, project: str, viewer: Viewer) -> HTMLResponse:
    found = project_of(request, owner, project)
    counts = {
        m.id: (
            sum(1 for i in found.issues if i.milestone_id == m.id and i.state == "open"),
            sum(1 for i in found.issues if i.milestone_id == m.id and i.state == "closed"),
        )
        for m in found.milestones
    }
    return render(request, "milestones.html.jinja", project=found, counts=counts)


@router.get("/{owner}/{project}/activity", response_class=HTMLResponse)
async def activity_page(
    request: Request,
    owner: str,
    project: str,
    viewer: Viewer,
    since: str = "",
    until: str = "",
    page: int = 1,
) -> HTMLResponse:
    found = project_of(request, owner, project)
    events = [
        e
        for e in reversed(found.events)
        if (not since or e.at.date().isoformat() >= since) and (not until or e.at.date().isoformat() <= until)
    ]
    window = page_window(len(events), page)
    return render(
        request,
        "activity.html.jinja",
        project=found,
        since=since,
        until=until,
        report=tracker.activity_report(found, since or None, until or None),
        events=events[window["start"] :][:PAGE_SIZE],
        window=window,
    )


@router.get("/{owner}/{project}/settings", response_class=HTMLResponse)
async def settings_page(
    request: Request, owner: str, project: str, store: Store, viewer: Viewer
) -> HTMLResponse:
    found = project_of(request, owner, project)
    require(can_manage(viewer, found), f"change settings of {found.path}")
    return render(
        request,
        "settings.html.jinja",
        project=found,
        candidates=sorted(u for u in store.state.users if u != found.owner),
        can_transfer=viewer.is_admin or found.owner == viewer.username,
    )


@router.post("/{owner}/{project}/settings")
async def save_settings(
    request: Request,
    owner: str,
    project: str,
    viewer: Viewer,
    description: Annotated[str, Form()] = "",
    visibility: Annotated[str, Form()] = "public",
) -> Response:
    found = project_of(request, owner, project)
    require(can_manage(viewer, found), f"change settings of {found.path}")
    if visibility not in ("public", "private"):
        flash(request, ("error", "Visibility must be public or private."))
    else:
        found.description, found.visibility = description.strip(), visibility
        flash(request, ("success", "Settings saved."))
    return redirect(f"/{found.path}/settings")


@router.post("/{owner}/{project}/transfer")
async def transfer(
    request: Request,
    owner: str,
    project: str,
    store: Store,
    viewer: Viewer,
    new_owner: Annotated[str, Form()],
    confirm_name: Annotated[str, Form()] = "",
) -> Response:
    found = project_of(request, owner, project)
    require(viewer.is_admin or found.owner == viewer.username, f"transfer {found.path}")
    if confirm_name != found.name:
        flash(request, ("error", f"Type the project name ({found.name}) to confirm the transfer."))
        return redirect(f"/{found.path}/settings")
    try:
        tracker.transfer_project(store.state, found, new_owner, viewer, store.clock.tick())
    except tracker.InvalidInput as exc:
        flash(request, ("error", str(exc)))
        return redirect(f"/{owner}/{project}/settings")
    flash(request, ("success", f"Project transferred to {new_owner}."))
    return redirect(f"/{found.path}")


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect(f"/login?next={quote(target, safe='')}")
