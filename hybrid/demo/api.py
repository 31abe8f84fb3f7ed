"""The demo site's REST API (`/api/v1`), described by the OpenAPI document the site serves.

Authentication is a bearer token (`Authorization: Bearer <token>`) or, as on many real sites, the
web UI's session cookie. Some features are deliberately missing here and exist only in the UI
(bulk closing, transferring a project, editing a profile, the activity report); some exist only
here (labels, milestones and members management, cross-project issue search).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from hybrid.demo import tracker
from hybrid.demo.access import (
    NotFound,
    can_edit_issue,
    can_manage,
    can_see,
    can_write_issues,
    require,
    visible_issue,
    visible_project,
)
from hybrid.demo.data import Comment, Issue, IssueState, Project, TrackerStore, User, default_labels
from hybrid.demo.sessions import session_user

API_PREFIX = "/api/v1"
bearer = HTTPBearer(auto_error=False, description="A personal API token: `Authorization: Bearer <token>`.")


# ----------------------------------------------------------------------------------------------
# Schemas
# ----------------------------------------------------------------------------------------------

# Unknown fields are refused rather than ignored, so a client learns that e.g. `owner` cannot be
# changed through the API instead of believing it was.
STRICT_INPUT = ConfigDict(extra="forbid")


class UserOut(BaseModel):
    username: str
    name: str
    email: str
    bio: str
    location: str
    is_admin: bool


class LabelOut(BaseModel):
    name: str
    color: str
    description: str


class MilestoneOut(BaseModel):
    id: int
    title: str
    due_date: str
    state: str
    description: str


class MemberOut(BaseModel):
    username: str
    role: str


class ProjectOut(BaseModel):
    id: int
    owner: str
    name: str
    path: str = Field(description="owner/name")
    description: str
    visibility: str
    created_at: datetime
    open_issues_count: int
    web_url: str


class IssueOut(BaseModel):
    project: str = Field(description="owner/name of the project")
    number: int
    title: str
    body: str
    state: IssueState
    labels: list[str]
    assignee: str | None
    author: str
    milestone: str | None = Field(description="milestone title")
    comments_count: int
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    web_url: str


class CommentOut(BaseModel):
    id: int
    author: str
    body: str
    created_at: datetime


class ProjectCreate(BaseModel):
    model_config = STRICT_INPUT
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="lowercase letters, digits, dashes")
    description: str = ""
    visibility: Literal["public", "private"] = "public"


class ProjectUpdate(BaseModel):
    model_config = STRICT_INPUT
    description: str | None = None
    visibility: Literal["public", "private"] | None = None


class IssueCreate(BaseModel):
    model_config = STRICT_INPUT
    title: str = Field(min_length=1)
    body: str = ""
    labels: list[str] = Field(default_factory=list)
    assignee: str | None = None
    milestone: str | None = Field(default=None, description="milestone title")


class IssueUpdate(BaseModel):
    model_config = STRICT_INPUT
    title: str | None = None
    body: str | None = None
    state: IssueState | None = None
    labels: list[str] | None = Field(default=None, description="replaces the issue's labels")
    assignee: str | None = Field(default=None, description="username; empty string to unassign")
    milestone: str | None = Field(default=None, description="milestone title; empty string to clear")


class CommentCreate(BaseModel):
    model_config = STRICT_INPUT
    body: str = Field(min_length=1)


class LabelCreate(BaseModel):
    model_config = STRICT_INPUT
    name: str = Field(min_length=1)
    color: str = Field(default="#cccccc", pattern=r"^#[0-9a-fA-F]{6}$")
    description: str = ""


class MilestoneCreate(BaseModel):
    model_config = STRICT_INPUT
    title: str = Field(min_length=1)
    due_date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    description: str = ""


class MemberAdd(BaseModel):
    model_config = STRICT_INPUT
    username: str
    role: Literal["guest", "reporter", "developer", "maintainer"]


class ErrorOut(BaseModel):
    detail: str


# ----------------------------------------------------------------------------------------------
# Dependencies
# ----------------------------------------------------------------------------------------------


def get_store(request: Request) -> TrackerStore:
    return request.app.state.store


def optional_user(
    request: Request,
    store: Annotated[TrackerStore, Depends(get_store)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User | None:
    if credentials is not None:
        user = next((u for u in store.state.users.values() if u.token == credentials.credentials), None)
        if user is None:
            raise HTTPException(401, "Invalid API token.", headers={"WWW-Authenticate": "Bearer"})
        return user
    return session_user(request)


def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise HTTPException(
            401,
            "Authentication required: send Authorization: Bearer <token>.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


Store = Annotated[TrackerStore, Depends(get_store)]
CurrentUser = Annotated[User, Depends(current_user)]
Page = Annotated[int, Query(ge=1, description="page number, from 1")]
PerPage = Annotated[int, Query(ge=1, le=100, description="items per page (max 100)")]

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut},
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
    422: {"description": "Invalid input"},
}


def paginate(items: list, page: int, per_page: int, request: Request, response: Response) -> list:
    """Slice a list and set X-Total-Count and an RFC 8288 Link header, as Gitea and GitLab do."""
    total = len(items)
    last = max(1, -(-total // per_page))
    response.headers["X-Total-Count"] = str(total)
    links = []
    for rel, number in (("first", 1), ("prev", page - 1), ("next", page + 1), ("last", last)):
        if 1 <= number <= last and (rel in ("first", "last") or number != page):
            url = request.url.include_query_params(page=number, per_page=per_page)
            links.append(f'<{url}>; rel="{rel}"')
    if links:
        response.headers["Link"] = ", ".join(links)
    start = (page - 1) * per_page
    return items[start : start + per_page]


def web_url(request: Request, path: str) -> str:
    return str(request.base_url).rstrip("/") + path


def user_out(user: User) -> UserOut:
    return UserOut(
        username=user.username,
        name=user.name,
        email=user.email,
        bio=user.bio,
        location=user.location,
        is_admin=user.is_admin,
    )


def project_out(request: Request, project: Project) -> ProjectOut:
    return ProjectOut(
        id=project.id,
        owner=project.owner,
        name=project.name,
        path=project.path,
        description=project.description,
        visibility=project.visibility,
        created_at=project.created_at,
        open_issues_count=sum(1 for i in project.issues if i.state == "open"),
        web_url=web_url(request, f"/{project.path}"),
    )


def issue_out(request: Request, project: Project, issue: Issue) -> IssueOut:
    milestone = project.milestone(issue.milestone_id) if issue.milestone_id else None
    return IssueOut(
        project=project.path,
        number=issue.number,
        title=issue.title,
        body=issue.body,
        state=issue.state,
        labels=list(issue.labels),
        assignee=issue.assignee,
        author=issue.author,
        milestone=milestone.title if milestone else None,
        comments_count=len(issue.comments),
        created_at=issue.created_at,
        updated_at=issue.updated_at,
        closed_at=issue.closed_at,
        web_url=web_url(request, f"/{project.path}/issues/{issue.number}"),
    )


def comment_out(comment: Comment) -> CommentOut:
    return CommentOut(id=comment.id, author=comment.author, body=comment.body, created_at=comment.created_at)


def _project(store: TrackerStore, user: User | None, owner: str, project: str) -> Project:
    return visible_project(store.state, user, owner, project)


router = APIRouter(prefix=API_PREFIX, responses=ERRORS)


# ----------------------------------------------------------------------------------------------
# Users
# ----------------------------------------------------------------------------------------------


@router.get("/user", operation_id="get_current_user", tags=["users"], summary="Get the authenticated user")
async def get_current_user(user: CurrentUser) -> UserOut:
    return user_out(user)


@router.get("/users", operation_id="list_users", tags=["users"], summary="List users")
async def list_users(
    request: Request,
    response: Response,
    store: Store,
    user: CurrentUser,
    page: Page = 1,
    per_page: PerPage = 20,
) -> list[UserOut]:
    users = sorted(store.state.users.values(), key=lambda u: u.username)
    return [user_out(u) for u in paginate(users, page, per_page, request, response)]


@router.get("/users/{username}", operation_id="get_user", tags=["users"], summary="Get a user's profile")
async def get_user(username: str, store: Store, user: CurrentUser) -> UserOut:
    found = store.state.users.get(username)
    if found is None:
        raise NotFound(f"No user named {username!r}.")
    return user_out(found)


# ----------------------------------------------------------------------------------------------
# Projects
# ----------------------------------------------------------------------------------------------


@router.get(
    "/projects", operation_id="list_projects", tags=["projects"], summary="List projects visible to you"
)
async def list_projects(
    request: Request,
    response: Response,
    store: Store,
    user: CurrentUser,
    owner: Annotated[str | None, Query(description="only projects owned by this user")] = None,
    search: Annotated[str | None, Query(description="text in the name or description")] = None,
    page: Page = 1,
    per_page: PerPage = 20,
) -> list[ProjectOut]:
    projects = [
        p
        for p in store.state.projects
        if can_see(user, p)
        and (owner is None or p.owner == owner)
        and (not search or search.lower() in (p.name + " " + p.description).lower())
    ]
    return [project_out(request, p) for p in paginate(projects, page, per_page, request, response)]


@router.post(
    "/projects",
    operation_id="create_project",
    tags=["projects"],
    status_code=201,
    summary="Create a project owned by you",
)
async def create_project(
    body: ProjectCreate, request: Request, store: Store, user: CurrentUser
) -> ProjectOut:
    if store.state.project(user.username, body.name):
        raise tracker.InvalidInput(f"You already have a project named {body.name}.")
    now = store.clock.tick()
    project = Project(
        id=store.state.new_id("project"),
        owner=user.username,
        name=body.name,
        description=body.description,
        created_at=now,
        visibility=body.visibility,
        members={user.username: "owner"},
    )
    project.labels = default_labels()
    store.state.projects.append(project)
    return project_out(request, project)


@router.get(
    "/projects/{owner}/{project}", operation_id="get_project", tags=["projects"], summary="Get a project"
)
async def get_project(
    owner: str, project: str, request: Request, store: Store, user: CurrentUser
) -> ProjectOut:
    return project_out(request, _project(store, user, owner, project))


@router.patch(
    "/projects/{owner}/{project}",
    operation_id="update_project",
    tags=["projects"],
    summary="Update a project's description or visibility",
)
async def update_project(
    owner: str, project: str, body: ProjectUpdate, request: Request, store: Store, user: CurrentUser
) -> ProjectOut:
    found = _project(store, user, owner, project)
    require(can_manage(user, found), f"change settings of {found.path}")
    if body.description is not None:
        found.description = body.description
    if body.visibility is not None:
        found.visibility = body.visibility
    return project_out(request, found)


# ----------------------------------------------------------------------------------------------
# Members, labels, milestones (API-only management)
# ----------------------------------------------------------------------------------------------


@router.get(
    "/projects/{owner}/{project}/members",
    operation_id="list_members",
    tags=["members"],
    summary="List a project's members and their roles",
)
async def list_members(owner: str, project: str, store: Store, user: CurrentUser) -> list[MemberOut]:
    found = _project(store, user, owner, project)
    return [MemberOut(username=u, role=r) for u, r in sorted(found.members.items())]


@router.post(
    "/projects/{owner}/{project}/members",
    operation_id="add_member",
    tags=["members"],
    status_code=201,
    summary="Add a member or change a member's role",
)
async def add_member(owner: str, project: str, body: MemberAdd, store: Store, user: CurrentUser) -> MemberOut:
    found = _project(store, user, owner, project)
    require(can_manage(user, found), f"manage members of {found.path}")
    tracker.set_member(store.state, found, body.username, body.role, user, store.clock.tick())
    return MemberOut(username=body.username, role=body.role)


@router.delete(
    "/projects/{owner}/{project}/members/{username}",
    operation_id="remove_member",
    tags=["members"],
    status_code=204,
    summary="Remove a member",
)
async def remove_member(owner: str, project: str, username: str, store: Store, user: CurrentUser) -> None:
    found = _project(store, user, owner, project)
    require(can_manage(user, found), f"manage members of {found.path}")
    tracker.remove_member(found, username, user, store.clock.tick())


@router.get(
    "/projects/{owner}/{project}/labels",
    operation_id="list_labels",
    tags=["labels"],
    summary="List a project's labels",
)
async def list_labels(owner: str, project: str, store: Store, user: CurrentUser) -> list[LabelOut]:
    found = _project(store, user, owner, project)
    return [
        LabelOut(name=label.name, color=label.color, description=label.description) for label in found.labels
    ]


@router.post(
    "/projects/{owner}/{project}/labels",
    operation_id="create_label",
    tags=["labels"],
    status_code=201,
    summary="Create a label",
)
async def create_label(
    owner: str, project: str, body: LabelCreate, store: Store, user: CurrentUser
) -> LabelOut:
    found = _project(store, user, owner, project)
    require(can_manage(user, found), f"create labels in {found.path}")
    label = tracker.add_label(found, body.name, body.color, body.description)
    return LabelOut(name=label.name, color=label.color, description=label.description)


@router.get(
    "/projects/{owner}/{project}/milestones",
    operation_id="list_milestones",
    tags=["milestones"],
    summary="List a project's milestones",
)
async def list_milestones(
    owner: str,
    project: str,
    store: Store,
    user: CurrentUser,
    state: Annotated[Literal["active", "closed", "all"], Query()] = "all",
) -> list[MilestoneOut]:
    found = _project(store, user, owner, project)
    return [
        MilestoneOut(id=m.id, title=m.title, due_date=m.due_date, state=m.state, description=m.description)
        for m in found.milestones
        if state == "all" or m.state == state
    ]


@router.post(
    "/projects/{owner}/{project}/milestones",
    operation_id="create_milestone",
    tags=["milestones"],
    status_code=201,
    summary="Create a milestone",
)
async def create_milestone(
    owner: str, project: str, body: MilestoneCreate, store: Store, user: CurrentUser
) -> MilestoneOut:
    found = _project(store, user, owner, project)
    require(can_manage(user, found), f"create milestones in {found.path}")
    m = tracker.add_milestone(store.state, found, body.title, body.due_date, body.description)
    return MilestoneOut(id=m.id, title=m.title, due_date=m.due_date, state=m.state, description=m.description)


# ----------------------------------------------------------------------------------------------
# Issues and comments
# ----------------------------------------------------------------------------------------------

IssueFilter = Annotated[Literal["open", "closed", "all"], Query(description="open (default), closed or all")]
LabelsQuery = Annotated[str | None, Query(description="comma-separated label names; issues must have all")]
AssigneeQuery = Annotated[str | None, Query(description="username, or 'none' for unassigned")]


@router.get(
    "/projects/{owner}/{project}/issues",
    operation_id="list_issues",
    tags=["issues"],
    summary="List a project's issues, newest first, with filters",
)
async def list_issues(
    owner: str,
    project: str,
    request: Request,
    response: Response,
    store: Store,
    user: CurrentUser,
    state: IssueFilter = "open",
    labels: LabelsQuery = None,
    assignee: AssigneeQuery = None,
    author: Annotated[str | None, Query(description="username of the author")] = None,
    milestone: Annotated[str | None, Query(description="milestone title")] = None,
    q: Annotated[str | None, Query(description="text in the title or body")] = None,
    sort: Annotated[Literal["created", "updated"], Query()] = "created",
    direction: Annotated[Literal["asc", "desc"], Query()] = "desc",
    page: Page = 1,
    per_page: PerPage = 20,
) -> list[IssueOut]:
    found = _project(store, user, owner, project)
    issue_filter = tracker.IssueFilter(
        state=state,
        labels=tracker.parse_labels(labels),
        assignee=assignee,
        author=author,
        milestone=milestone,
        search=q,
        sort=sort,
        direction=direction,
    )
    issues = tracker.filter_issues(found, issue_filter)
    return [issue_out(request, found, i) for i in paginate(issues, page, per_page, request, response)]


@router.post(
    "/projects/{owner}/{project}/issues",
    operation_id="create_issue",
    tags=["issues"],
    status_code=201,
    summary="Open an issue",
)
async def create_issue(
    owner: str, project: str, body: IssueCreate, request: Request, store: Store, user: CurrentUser
) -> IssueOut:
    found = _project(store, user, owner, project)
    issue = tracker.create_issue(
        store.state,
        found,
        user,
        store.clock.tick(),
        title=body.title,
        body=body.body,
        labels=body.labels,
        assignee=body.assignee,
        milestone=body.milestone,
    )
    return issue_out(request, found, issue)


@router.get(
    "/projects/{owner}/{project}/issues/{number}",
    operation_id="get_issue",
    tags=["issues"],
    summary="Get one issue",
)
async def get_issue(
    owner: str, project: str, number: int, request: Request, store: Store, user: CurrentUser
) -> IssueOut:
    found = _project(store, user, owner, project)
    return issue_out(request, found, visible_issue(found, number))


@router.patch(
    "/projects/{owner}/{project}/issues/{number}",
    operation_id="update_issue",
    tags=["issues"],
    summary="Edit an issue: title, body, state, labels, assignee, milestone",
)
async def update_issue(
    owner: str,
    project: str,
    number: int,
    body: IssueUpdate,
    request: Request,
    store: Store,
    user: CurrentUser,
) -> IssueOut:
    found = _project(store, user, owner, project)
    issue = visible_issue(found, number)
    require(can_edit_issue(user, found, issue), f"edit issue #{number} of {found.path}")
    changes = body.model_dump(exclude_unset=True)
    if {"assignee", "labels", "milestone"} & set(changes):
        require(can_write_issues(user, found), f"triage issues of {found.path}")
    tracker.update_issue(store.state, found, issue, user, changes, store.clock.tick())
    return issue_out(request, found, issue)


@router.get(
    "/projects/{owner}/{project}/issues/{number}/comments",
    operation_id="list_comments",
    tags=["comments"],
    summary="List an issue's comments, oldest first",
)
async def list_comments(
    owner: str, project: str, number: int, store: Store, user: CurrentUser
) -> list[CommentOut]:
    issue = visible_issue(_project(store, user, owner, project), number)
    return [comment_out(c) for c in issue.comments]


@router.post(
    "/projects/{owner}/{project}/issues/{number}/comments",
    operation_id="create_comment",
    tags=["comments"],
    status_code=201,
    summary="Comment on an issue",
)
async def create_comment(
    owner: str, project: str, number: int, body: CommentCreate, store: Store, user: CurrentUser
) -> CommentOut:
    found = _project(store, user, owner, project)
    issue = visible_issue(found, number)
    comment = tracker.add_comment(
        found, issue, user, body.body, store.state.new_id("comment"), store.clock.tick()
    )
    return comment_out(comment)


@router.get(
    "/issues/search",
    operation_id="search_issues",
    tags=["issues"],
    summary="Search issues across every project visible to you",
)
async def search_issues(
    request: Request,
    response: Response,
    store: Store,
    user: CurrentUser,
    q: Annotated[str | None, Query(description="text in the title or body")] = None,
    state: IssueFilter = "open",
    labels: LabelsQuery = None,
    assignee: AssigneeQuery = None,
    author: Annotated[str | None, Query(description="username of the author")] = None,
    page: Page = 1,
    per_page: PerPage = 20,
) -> list[IssueOut]:
    issue_filter = tracker.IssueFilter(
        state=state, labels=tracker.parse_labels(labels), assignee=assignee, author=author, search=q
    )
    found = [
        (project, issue)
        for project in store.state.projects
        if can_see(user, project)
        for issue in tracker.filter_issues(project, issue_filter)
    ]
    found.sort(key=lambda pair: (pair[1].created_at, pair[0].path), reverse=True)
    return [issue_out(request, p, i) for p, i in paginate(found, page, per_page, request, response)]
