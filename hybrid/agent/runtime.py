"""The live side of a run: site clients, kernels with their capabilities, the browser, and the record.

The graph (hybrid.agent.graph) holds only data; everything here is a live object, created on the host
and never handed to the kernel except as capability stubs.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import apis
from apis.mcpsites import McpConnection
from hybrid.agent.hints import http_by_hand, noting_more_pages, unknown_operation
from hybrid.agent.observation import BROWSER_CAPABILITY, full_record, render_observation
from hybrid.mcp.capability import CAPABILITY as MCP_CAPABILITY, mcp_capability, prompt_sections
from sandbox import (
    Call,
    CallRecord,
    Effect,
    ExecutionResult,
    HostFunction,
    KernelPool,
    KernelSession,
    Namespace,
    PermissionDenied,
    Policy,
    Value,
)
from sandbox.bridge import decide_during_call
from sandbox.names import API
from workflows.kernel import InstalledWorkflows, WorkflowInstallError, install_workflows
from workflows.status import RunStatus
from workflows.templates import fits

if TYPE_CHECKING:
    # Imported where used: a task done on the fast path needs neither LangGraph nor Playwright, and
    # `hybrid run` starts in a fraction of the time without them.
    from hybrid.agent.cost import TokenUsage
    from hybrid.agent.graph import ActionOutcome
    from sandbox.browser import BrowserService, SiteLogin

    # And no SQLAlchemy: the fast path records its run through `workflows.lightstore` where it can.
    from workflows.lightstore import FastPathStore
    from workflows.memory import Workflow, WorkflowStore
    from workflows.store import StepRecord

API_SECTION_TOKENS = 3000
SEARCH_RESULTS = 8
WORKFLOWS_OFFERED = 5
# What one observation may show the model (about 2,000 tokens); the record keeps everything.
OUTPUT_CHARS = 8000
# Told each step as it is recorded (the CLI prints it, an MCP client gets progress).
StepCallback = Callable[["StepRecord", list[CallRecord]], None]


@dataclass
class SiteHandle:
    """One site as the agent uses it: its processed spec, an authenticated client, and where its UI is."""

    name: str
    spec: apis.Spec
    client: apis.Client
    web_url: str | None = None
    secrets: list[str] = field(default_factory=list)
    has_web_login: bool = False
    has_api: bool = True  # False for a site with only a web UI
    # Requests and responses that differed from the spec since the last step took them.
    mismatches: list[apis.Mismatch] = field(default_factory=list)

    @property
    def host(self) -> str | None:
        return urlsplit(self.client.base_url).hostname

    @classmethod
    def from_registry(
        cls,
        registry: apis.SiteRegistry,
        name: str,
        *,
        collect_mismatches: bool = False,
        browser_cookies: Callable[[str], list[dict[str, Any]]] | None = None,
    ) -> SiteHandle:
        """`collect_mismatches` keeps differences from the spec for `take_mismatches` (an agent run shows them
        to the model after each step) instead of warning about each one. `browser_cookies(url)` gives the
        browser's cookies, which a site with `web_session` auth sends with its API calls."""
        site = registry.get(name)
        web_url = site.web_url
        web_cookies = (lambda: browser_cookies(web_url)) if browser_cookies and web_url else None
        spec = registry.load_spec(name)
        password = _web_password(registry, name) if site.web_login else None
        mismatches: list[apis.Mismatch] = []
        client = apis.build_client(
            spec,
            site.base_url,
            site.auth,
            secrets=registry.secrets,
            on_mismatch=mismatches.append if collect_mismatches else None,
            web_cookies=web_cookies,
        )
        return cls(
            name=name,
            spec=spec,
            client=client,
            web_url=site.web_url,
            secrets=[*apis.secret_values(site.auth, registry.secrets), *([password] if password else [])],
            has_web_login=site.web_login is not None,
            has_api=site.spec is not None,
            mismatches=mismatches,
        )

    def take_mismatches(self) -> list[apis.Mismatch]:
        """The mismatches since the last take (the client appends to this same list)."""
        taken = list(self.mismatches)
        self.mismatches.clear()
        return taken


def mismatch_record(mismatches: dict[str, list[apis.Mismatch]]) -> str:
    """For the run record: each mismatch, by site, with the validator's whole text."""
    if not any(mismatches.values()):
        return ""
    return "\n--- spec mismatches ---\n" + "\n".join(
        f"{site}: {found.line()}\n{found.detail}" for site, found_ in mismatches.items() for found in found_
    )


def _web_password(registry: apis.SiteRegistry, name: str) -> str | None:
    """The site's web password, to redact it; None when it is not set, which only matters (and is
    reported by `browser.login`) if the run signs in."""
    try:
        found = registry.web_credentials(name)
    except apis.AuthError:
        return None
    return found.password if found else None


def api_capability(
    sites: list[SiteHandle],
    notes: list[str] | None = None,
    learned: Callable[[str], Sequence[apis.LearnedTask]] | None = None,
) -> Namespace:
    """`api.<site>.<operation>(...)` for every operation, plus `api.<site>.search(query)`. With `notes`, a
    list read from a full page leaves a hint there; with `learned` (a site's name -> what successful runs on
    it called, for which tasks), search ranks those operations first for queries worded alike."""
    members: dict[str, Any] = {}
    for site in (s for s in sites if s.has_api):
        operations: dict[str, Any] = {
            op.name: HostFunction(
                getattr(site.client, op.name)
                if notes is None
                else noting_more_pages(getattr(site.client, op.name), site.name, op, notes),
                # Per call: a POST that only queries reads, and a GraphQL call reads unless it mutates.
                writes=op.writes_for,
                domain=site.host,
            )
            for op in site.spec.operations
        }
        operations.setdefault("search", HostFunction(_search_for(site, learned), writes=False))
        for op in site.spec.operations:
            if op.alias:
                operations.setdefault(op.alias, operations[op.name])
        # Read as attributes: where the API is served and where its web pages are (operations named so
        # are renamed with a trailing "_", see apis.naming).
        operations.update(base_url=Value(site.client.base_url), web_url=Value(site.web_url))
        members[apis.code_name(site.name)] = Namespace(operations, doc=f"Operations of the {site.name} API.")
    return Namespace(members, doc="The sites' APIs: api.<site>.<operation>(argument=value, ..., body={...}).")


def _search_for(
    site: SiteHandle, learned: Callable[[str], Sequence[apis.LearnedTask]] | None
) -> Callable[..., list[str]]:
    def search(query: str, k: int = SEARCH_RESULTS) -> list[str]:
        """The operations most relevant to `query`, one line each: name(arguments) METHOD /path - summary."""
        past = learned(site.name) if learned is not None else ()
        return apis.operation_lines(site.spec, apis.search(site.spec, query, k, learned=past))

    return search


class BrowserOperation(HostFunction):
    """One `browser.<method>`: classified on the page as it is at call time, once per call, because
    whether a click or Enter submits a form depends on the page and the focus, not on the arguments.
    The call then does what the policy decided on, without classifying again."""

    def __init__(self, service: BrowserService, method: str, before_use: Callable[[], None] | None) -> None:
        super().__init__(getattr(service, method), writes=True)  # `effect` below decides per call
        self.service, self.method, self.before_use = service, method, before_use
        self._classified = threading.local()  # the bridge judges and calls on the same thread

    def effect(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Effect:
        if self.before_use is not None:
            self.before_use()  # opens the run's start page first, so the call is judged on that page
        classification = self.service.classify(self.method, args, kwargs)
        self._classified.value = classification
        return Effect(writes=bool(classification["writes"]), domain=classification["domain"])

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        classification = getattr(self._classified, "value", None)
        self._classified.value = None
        if classification is None:  # called without being judged first (not through the bridge)
            return super().__call__(*args, **kwargs)
        return self.service.perform(classification)


def browser_capability(service: BrowserService, before_use: Callable[[], None] | None = None) -> Namespace:
    """`browser.<method>(...)` for the methods the service offers the kernel; form submissions are writes.
    `before_use` runs before each call is judged (the runtime opens a run's start page on its first one)."""
    members = {
        method: BrowserOperation(service, method, before_use) for method in sorted(service.KERNEL_METHODS)
    }
    return Namespace(members, doc="A real browser on the host: observe pages, act on element ids.")


def give_files(files: Iterable[Path], work_dir: Path) -> None:
    """Copy the user's `files` into a kernel's `work_dir` under their names, read-only: what the run may
    read and upload (browser.upload reads only from there), not change for the user."""
    for path in files:
        copy = work_dir / path.name
        shutil.copyfile(path, copy)
        copy.chmod(0o444)


def site_urls(sites: Iterable[SiteHandle]) -> list[str]:
    """Where the sites are served, their API and their web UI: the origins a run's browser may reach."""
    from sandbox.browser import origin_of

    return [url for site in sites for url in (site.client.base_url, site.web_url) if url and origin_of(url)]


def marked_reads(sites: Iterable[SiteHandle]) -> list[tuple[str, str]]:
    """The sites' operations that read though their method is not GET (a POST that only queries, one the spec
    marks `x-read-only` or the user marks read), as (method, URL template): the browser's own requests to
    them are reads too."""
    return [
        (op.method, site.client.base_url.rstrip("/") + op.path)
        for site in sites
        if site.has_api
        for op in site.spec.operations
        if not op.writes and op.method not in ("GET", "HEAD", "OPTIONS")
    ]


def page_writes_to_policy(write: Mapping[str, Any]) -> bool:
    """The browser's `before_write` for runs: a write a page sends on its own (a form submitted by a key or
    a script, a fetch, XHR or beacon) is put to the policy of the kernel call that was being served, so
    confirm mode asks the user and the time they take is not charged to the action."""
    if write["method"] != "request":
        return True  # an action's own form submission, which the bridge put to the policy before it ran
    call = Call(BROWSER_CAPABILITY, "request", tuple(write["args"]), {}, writes=True, domain=write["domain"])
    try:
        decide_during_call(call)
    except PermissionDenied:
        return False
    return True


def web_credentials(registry: apis.SiteRegistry, sites: Iterable[str]) -> Callable[[str], SiteLogin | None]:
    """The browser's sign-in details for one of `sites` (the run's own; no other), read from the registry
    when `browser.login(site)` runs."""
    allowed = set(sites)

    def credentials(site: str) -> SiteLogin | None:
        from sandbox.browser import SiteLogin

        if site not in allowed:
            return None
        try:
            found = registry.web_credentials(site)
        except (apis.RegistryError, apis.ApiError):
            return None
        return SiteLogin(found.url, found.username, found.password) if found else None

    return credentials


class AgentRuntime:
    """Kernels per run, with `api` (and `browser` when configured) registered; steps into the store."""

    def __init__(
        self,
        *,
        sites: list[SiteHandle],
        store: WorkflowStore | None,
        pool: KernelPool,
        step_store: FastPathStore | None = None,
        policy: Policy,
        browser: BrowserService | None = None,
        on_step: StepCallback | None = None,
        mcp_servers: Sequence[McpConnection] = (),
        user_files: Sequence[Path] = (),
        use_api: bool = True,
    ) -> None:
        """Without `use_api`, the sites' APIs are neither described nor callable (`api` is absent): a
        browsing-only agent, as benchmarks compare. Without a `store`, it only gives sessions
        (`fresh_session`): the fast path records its run in a store of its own."""
        self.sites = sites
        self.use_api = use_api
        self.mcp_servers = list(mcp_servers)
        self._store = store
        # Where steps are written, if not `store`: the same tables without the ORM (workflows.lightstore).
        self._step_store = step_store
        self.pool = pool
        self.policy = policy
        self.browser = browser
        self.on_step = on_step
        self._sessions: dict[str, KernelSession] = {}
        self._installed: dict[str, InstalledWorkflows] = {}
        # Each run's workflows from memory, retrieved once: its prompt shows them, its kernel installs them.
        self._offered: dict[str, list[Workflow]] = {}
        self._hints: list[str] = []
        # Mismatch lines the model has seen in this run: each is shown once.
        self._mismatches_shown: set[str] = set()
        self._api = api_capability(sites, self._hints, self.learned_operations)
        self._mcp = mcp_capability(self.mcp_servers) if self.mcp_servers else None
        self._operation_names = {site.name: [op.name for op in site.spec.operations] for site in sites}
        self._browser = None
        if browser is not None:
            browser.restrict(site_urls(sites))  # a shared browser may have served other sites' runs before
            browser.mark_reads(marked_reads(sites))
            self._browser = browser_capability(browser, self._open_start_page)
        # Opened on the run's first browser call, so runs that never browse never start Chromium.
        self._start_page: str | None = None
        self._start_notices: list[str] = []
        # The user's own files (`hybrid run --file`), copied into each kernel's work dir.
        self.user_files: list[Path] = list(user_files)

    @property
    def store(self) -> WorkflowStore:
        """Where runs and workflows are kept."""
        if self._store is None:
            raise RuntimeError("this runtime keeps no store: it only gives sessions (see fresh_session)")
        return self._store

    def offered_workflows(self, run_id: str, task: str) -> list[Workflow]:
        """The workflows from memory that best match run `run_id`'s `task` on these sites (programs and
        guides) and can take its values (see `workflows.templates.fits`), retrieved on the run's first ask
        and kept until it is released."""
        offered = self._offered.get(run_id)
        if offered is None:
            names = [site.name for site in self.sites] + [server.name for server in self.mcp_servers]
            found = self.store.matching_workflows(task, names, k=WORKFLOWS_OFFERED)
            offered = self._offered[run_id] = [
                w for w in found if fits(w.intent_template, w.parameters, task)
            ]
        return offered

    def learned_operations(self, site: str) -> Sequence[apis.LearnedTask]:
        """What successful runs on `site` called, with their tasks (newest first), for search to rank
        (nothing for a runtime without a store)."""
        return self.store.learned_operations(site) if self._store is not None else []

    def remember_operations(self, run_id: str, task: str) -> None:
        """Keep, per site, the API operations successful run `run_id` called for `task` (by their names in
        the spec, an alias taken as its operation), for later tasks worded alike."""
        called = self.store.api_operations_called(run_id)
        for site in self.sites:
            names = called.get(apis.code_name(site.name)) if site.has_api else None
            if not names:
                continue
            known = {op.name: op.name for op in site.spec.operations}
            known.update({op.alias: op.name for op in site.spec.operations if op.alias})
            operations = list(dict.fromkeys(known[name] for name in names if name in known))
            self.store.remember_operations(run_id, site.name, task, operations)

    def system_prompt(self, run_id: str, task: str, max_steps: int) -> str:
        sections = [
            {
                "name": site.name,
                "web_url": site.web_url,
                "api_section": (
                    apis.render_api_section(
                        site.spec,
                        task,
                        API_SECTION_TOKENS,
                        site=apis.code_name(site.name),
                        learned=self.learned_operations(site.name),
                    )
                    if site.has_api
                    else "It has no API here, only its web UI: use the browser."
                )
                if self.use_api
                else None,
            }
            for site in self.sites
        ]
        offered = self.offered_workflows(run_id, task)
        from hybrid.agent.graph import render

        return render(
            "system.md.jinja",
            sites=sections,
            mcp_servers=prompt_sections(self.mcp_servers, task),
            browser=self.browser.prompt_lines() if self.browser is not None else None,
            logins=[site.name for site in self.sites if site.has_web_login],
            files=[path.name for path in self.user_files],
            use_api=self.use_api,
            workflows=[w for w in offered if w.kind == "program"],
            guides=[w for w in offered if w.kind == "text"],
            max_steps=max_steps,
        )

    def _new_session(self) -> KernelSession:
        secrets = [secret for site in self.sites for secret in site.secrets]
        secrets += [secret for server in self.mcp_servers for secret in server.secrets]
        session = self.pool.acquire(policy=self.policy, secrets=secrets, max_output_chars=OUTPUT_CHARS)
        give_files(self.user_files, session.working_dir)
        if self.use_api:
            session.register(API, self._api)
        if self._mcp is not None:
            session.register(MCP_CAPABILITY, self._mcp)
        if self._browser is not None:
            session.register(BROWSER_CAPABILITY, self._browser)
        return session

    @contextmanager
    def fresh_session(self, start_url: str | None = None) -> Iterator[KernelSession]:
        """A kernel with this runtime's capabilities and no workflows, shut down afterwards; the browser
        opens `start_url` (signed in) when first used."""
        self._start_page, self._start_notices = start_url, []  # its own start page, never a run's
        session = self._new_session()
        try:
            yield session
        finally:
            session.shutdown()

    def session(self, run_id: str, task: str, start_url: str | None = None) -> KernelSession:
        """The run's kernel session, made on first use; the browser opens `start_url` when first used.

        The workflows offered for the run's `task` are callable there as `wf.<name>(...)`.
        """
        session = self._sessions.get(run_id)
        if session is not None:
            return session
        session = self._new_session()
        self._start_page = start_url
        self._sessions[run_id] = session
        offered = [w for w in self.offered_workflows(run_id, task) if w.kind == "program"]
        if offered:
            try:
                self._installed[run_id] = install_workflows(session, self.store, offered, run_id=run_id)
            except WorkflowInstallError as exc:
                # A broken stored workflow must not stop the run: it goes on without `wf`.
                self._start_notices.append(
                    f"Workflows from memory could not be installed ({exc}); wf is not available in this run."
                )
        return session

    def home_page(self) -> str | None:
        """Where the browser starts when the task names no page: the first site's web UI."""
        if self.browser is None:
            return None
        return next((site.web_url for site in self.sites if site.web_url), None)

    def _open_start_page(self) -> None:
        """Sign in to the site that serves the run's start page (when it has a web login) and open it."""
        from sandbox.browser import BrowserError

        start_url, self._start_page = self._start_page, None
        if not start_url or self.browser is None:
            return
        host = urlsplit(start_url).hostname
        site = next((s for s in self.sites if s.web_url and urlsplit(s.web_url).hostname == host), None)
        try:
            if site is not None and site.has_web_login:
                self.browser.login(site.name)
            self.browser.goto(start_url)
        except BrowserError as exc:
            self._start_notices.append(f"The browser could not open the start page {start_url}: {exc}")

    def execute(
        self,
        run_id: str,
        task: str,
        step_index: int,
        code: str,
        timeout: float,
        *,
        fresh_kernel_notice: bool,
        start_url: str | None = None,
    ) -> ActionOutcome:
        """Run step `step_index` of run `run_id` (whose task is `task`): `code`, within `timeout` seconds."""
        from hybrid.agent.graph import RESUMED_NOTICE, ActionOutcome

        began = time.monotonic()
        session = self.session(run_id, task, start_url)
        installed = self._installed.get(run_id)
        if installed is not None:
            installed.ensure()
            installed.step_index = step_index
        self._hints.clear()
        decided = session.dispatcher.deciding_seconds()  # the user's time to answer is not the step's
        result = session.execute(code, timeout=timeout)
        decided = session.dispatcher.deciding_seconds() - decided
        if result.finished:
            # The run ends here: threads and processes the code left running must not act unrecorded.
            self._stop_kernel(run_id, session, result)
        if installed is not None:
            installed.settle(result)  # the host judges each workflow use from what it observed
        notices, self._start_notices = self._start_notices, []
        result.notices[:0] = ([RESUMED_NOTICE] if fresh_kernel_notice else []) + notices
        error = (
            f"{result.error.name}: {result.error.message}"
            if result.error
            else ("; ".join(result.notices) if not result.ok else None)
        )
        observation = render_observation(result)
        hints = [
            *dict.fromkeys(self._hints),
            unknown_operation(observation, self._operation_names),
            http_by_hand(code, [site.name for site in self.sites]),
        ]
        mismatches = {site.name: site.take_mismatches() for site in self.sites}
        return ActionOutcome(
            observation="\n".join([observation, *(hint for hint in hints if hint)])
            + apis.mismatch_section(mismatches, self._mismatches_shown),
            full_output=full_record(result) + mismatch_record(mismatches),
            ok=result.ok,
            error=error,
            seconds=time.monotonic() - began - decided,
            calls=result.calls,
            used_browser=any(call.capability == BROWSER_CAPABILITY for call in result.calls),
            finished=result.finished,
            answer=None if result.answer is None else str(result.answer),
        )

    def _stop_kernel(self, run_id: str, session: KernelSession, result: ExecutionResult) -> None:
        """At `finish()`, refuse further calls, kill the run's kernel (its threads and processes with it), and
        put the calls served after the action ended into its record."""
        self._sessions.pop(run_id, None)
        session.dispatcher.close()
        session.shutdown()
        result.calls.extend(session.dispatcher.recorder.take())

    def record_step(self, run_id: str, step: StepRecord, calls: list[CallRecord]) -> None:
        if self._step_store is not None:
            self._step_store.add_step_fields(run_id, step.model_dump(), calls)
        else:
            self.store.add_step(run_id, step, calls)
        if self.on_step is not None:
            self.on_step(step, calls)

    def record_model_use(self, run_id: str, usage: TokenUsage, cost: float | None) -> None:
        self.store.add_model_use(
            run_id, prompt_tokens=usage.input_tokens, completion_tokens=usage.output_tokens, cost=cost
        )

    def end_run(self, run_id: str, status: RunStatus, answer: str | None, error: str | None) -> None:
        self.release(run_id)
        self.store.end_run(run_id, status, answer=answer, error=error)

    def release(self, run_id: str) -> None:
        """Close the run's workflows and shut its kernel down (a resumed run gets a fresh one)."""
        self._offered.pop(run_id, None)
        installed = self._installed.pop(run_id, None)
        if installed is not None:
            installed.close()
        session = self._sessions.pop(run_id, None)
        if session is not None:
            session.shutdown()

    def close(self) -> None:
        for installed in self._installed.values():
            installed.close()
        self._installed.clear()
        self._offered.clear()
        for session in self._sessions.values():
            session.shutdown()
        self._sessions.clear()
