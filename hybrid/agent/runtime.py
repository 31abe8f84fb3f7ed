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
from workflows.kernel import InstalledWorkflows, WorkflowInstallError, install_workflows, stop_after
from workflows.status import RunStatus
from workflows.templates import fits

if TYPE_CHECKING:
    # Imported where used: a task done on the fast path needs neither LangGraph nor Playwright, and
    # `hybrid run` starts in a fraction of the time without them.
    from hybrid.agent.cost import TokenUsage
    from hybrid.agent.graph import ActionOutcome
    from sandbox.browser import BrowserService, SiteLogin
    from sandbox.browser.registry import BrowserCall

    # And no SQLAlchemy: the fast path records its run through `workflows.lightstore` where it can.
    from workflows.lightstore import FastPathStore, OperationMemory
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
    """One `browser.<method>`: its effect is found on the page as it is at call time, once per call, because
    whether a click or Enter submits a form depends on the page and the focus, not on the arguments.
    The call then does what the policy decided on, without classifying again."""

    def __init__(self, service: BrowserService, method: str, before_use: Callable[[], None] | None) -> None:
        super().__init__(getattr(service, method), writes=True)  # `effect` below decides per call
        self.service, self.method, self.before_use = service, method, before_use
        self._classified = threading.local()  # the bridge decides and calls on the same thread

    def effect(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Effect:
        if self.before_use is not None:
            self.before_use()  # opens the run's start page first, so the call is classified on that page
        call = self.service.classify(self.method, args, kwargs)
        self._classified.value = call
        return call.effect  # a `BrowserEffect` is the policy's `Effect`, as an API operation's is

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        classification = getattr(self._classified, "value", None)
        self._classified.value = None
        if classification is None:  # called without being classified first (not through the bridge)
            return super().__call__(*args, **kwargs)
        return self.service.perform(classification)


@dataclass
class RunContext:
    """What belongs to one run (or one fresh session) of a runtime, kept apart so that one runtime serves
    several runs at once (`hybrid mcp serve` serves many clients): its kernel, its installed and offered
    workflows, the hints its calls left this step, the mismatch lines its model has seen, the start page
    its browser opens on first use, and notices for its next observation."""

    run_id: str | None
    session: KernelSession | None = None
    installed: InstalledWorkflows | None = None
    offered: list[Workflow] | None = None
    hints: list[str] = field(default_factory=list)
    mismatches_shown: set[str] = field(default_factory=set)
    start_page: str | None = None
    notices: list[str] = field(default_factory=list)


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


# Under the data dir: each run's copies of the user's files, by run id, kept until the run ends for good.
RUN_FILES_DIR = "run-files"


def run_files_dir(data_dir: Path, run_id: str) -> Path:
    return data_dir / RUN_FILES_DIR / run_id


def keep_run_files(files: Iterable[Path], directory: Path) -> list[Path]:
    """Copy the user's `files` for one run into `directory` (in the private data dir), read-only, and return
    the copies: what the run's kernels are given, the first time and again when the run is resumed (the
    user's own file may have changed or gone by then)."""
    files = list(files)
    if not files:
        return []
    directory.parent.mkdir(mode=0o700, exist_ok=True)
    directory.mkdir(mode=0o700, exist_ok=True)
    kept = []
    for path in files:
        copy = directory / path.name
        shutil.copyfile(path, copy)
        copy.chmod(0o400)
        kept.append(copy)
    return kept


def kept_run_files(directory: Path) -> list[Path]:
    """The copies `keep_run_files` kept in `directory` (none if it kept none)."""
    if not directory.is_dir():
        return []
    return sorted(path for path in directory.iterdir() if path.is_file())


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


def page_writes_to_policy(write: BrowserCall) -> bool:
    """The browser's `before_write` for runs: a write a page sends on its own (a form submitted by a key or
    a script, a fetch, XHR or beacon) is put to the policy of the kernel call that was being served, so
    confirm mode asks the user and the time they take is not charged to the action."""
    if write.method != "request":
        return True  # an action's own form submission, which the bridge put to the policy before it ran
    call = Call(BROWSER_CAPABILITY, "request", write.args, {}, writes=True, domain=write.effect.domain)
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
        # Per run, by run id: a runtime serves concurrent runs (see RunContext).
        self._runs: dict[str, RunContext] = {}
        self._runs_lock = threading.Lock()
        self._mcp = mcp_capability(self.mcp_servers) if self.mcp_servers else None
        self._operation_names = {site.name: [op.name for op in site.spec.operations] for site in sites}
        if browser is not None:
            browser.restrict(site_urls(sites))  # a shared browser may have served other sites' runs before
            browser.mark_reads(marked_reads(sites))
        # The user's own files (`hybrid run --file`), copied into each kernel's work dir.
        self.user_files: list[Path] = list(user_files)
        # Per run, the (method, URL) of the requests its browser's pages sent: which of the sites' API
        # operations the pages called is learned as the run's own calls are (see `remember_operations`).
        self._page_requests: dict[str, list[tuple[str, str]]] = {}

    def context(self, run_id: str) -> RunContext:
        """Run `run_id`'s own state, made on first use and dropped when the run is released."""
        with self._runs_lock:
            found = self._runs.get(run_id)
            if found is None:
                found = self._runs[run_id] = RunContext(run_id)
            return found

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
        context = self.context(run_id)
        if context.offered is None:
            names = [site.name for site in self.sites] + [server.name for server in self.mcp_servers]
            found = self.store.matching_workflows(task, names, k=WORKFLOWS_OFFERED)
            context.offered = [w for w in found if fits(w.intent_template, w.parameters, task)]
        return context.offered

    def learned_operations(self, site: str) -> Sequence[apis.LearnedTask]:
        """What successful runs on `site` called, with their tasks (newest first), for search to rank
        (nothing for a runtime without a store)."""
        return self.store.learned_operations(site) if self._store is not None else []

    def remember_operations(self, run_id: str, task: str, store: OperationMemory | None = None) -> None:
        """Keep, per site, the API operations successful run `run_id` called for `task` (by their names in
        the spec, an alias taken as its operation), then those its browser's pages called (their requests
        to the site's API), for later tasks worded alike; in `store` (a fast path's own), else this
        runtime's."""
        memory: OperationMemory = store if store is not None else self.store
        called = memory.api_operations_called(run_id)
        page = self._page_requests.pop(run_id, [])
        for site in self.sites:
            if not site.has_api:
                continue
            names = called.get(apis.code_name(site.name), [])
            known = {op.name: op.name for op in site.spec.operations}
            known.update({op.alias: op.name for op in site.spec.operations if op.alias})
            operations = [known[name] for name in names if name in known]
            if page:
                operations += apis.operations_requested(site.spec, site.client.base_url, page)
            memory.remember_operations(run_id, site.name, task, list(dict.fromkeys(operations)))

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

    def _new_session(self, context: RunContext) -> KernelSession:
        """A kernel whose capabilities are bound to `context`: its `api` calls leave their hints there, and
        its browser opens that context's start page."""
        secrets = [secret for site in self.sites for secret in site.secrets]
        secrets += [secret for server in self.mcp_servers for secret in server.secrets]
        session = self.pool.acquire(policy=self.policy, secrets=secrets, max_output_chars=OUTPUT_CHARS)
        give_files(self.user_files, session.working_dir)
        if self.use_api:
            session.register(API, api_capability(self.sites, context.hints, self.learned_operations))
        if self._mcp is not None:
            session.register(MCP_CAPABILITY, self._mcp)
        if self.browser is not None:
            session.register(
                BROWSER_CAPABILITY, browser_capability(self.browser, lambda: self._open_start_page(context))
            )
        return session

    @contextmanager
    def fresh_session(self, start_url: str | None = None) -> Iterator[KernelSession]:
        """A kernel with this runtime's capabilities and no workflows, shut down afterwards; the browser
        opens `start_url` (signed in) when first used. It has a context of its own, so a run's pending start
        page and notices stay the run's (a failure is confirmed in a fresh session during a run's action)."""
        session = self._new_session(RunContext(None, start_page=start_url))
        try:
            yield session
        finally:
            session.shutdown()

    def session(self, run_id: str, task: str, start_url: str | None = None) -> KernelSession:
        """The run's kernel session, made on first use; the browser opens `start_url` when first used.

        The workflows offered for the run's `task` are callable there as `wf.<name>(...)`.
        """
        context = self.context(run_id)
        if context.session is not None:
            return context.session
        context.start_page = start_url
        session = context.session = self._new_session(context)
        if self.browser is not None and run_id not in self._page_requests:
            self.browser.take_requests()  # what the pages sent before this run is not its own
            self._page_requests[run_id] = []
        offered = [w for w in self.offered_workflows(run_id, task) if w.kind == "program"]
        if offered:
            try:
                context.installed = install_workflows(
                    session, self.store, offered, run_id=run_id, confirm=self.fresh_session
                )
            except WorkflowInstallError as exc:
                # A broken stored workflow must not stop the run: it goes on without `wf`.
                context.notices.append(
                    f"Workflows from memory could not be installed ({exc}); wf is not available in this run."
                )
        return session

    def home_page(self) -> str | None:
        """Where the browser starts when the task names no page: the first site's web UI."""
        if self.browser is None:
            return None
        return next((site.web_url for site in self.sites if site.web_url), None)

    def _open_start_page(self, context: RunContext) -> None:
        """Sign in to the site that serves the run's start page (when it has a web login) and open it."""
        from sandbox.browser import BrowserError

        start_url, context.start_page = context.start_page, None
        if not start_url or self.browser is None:
            return
        host = urlsplit(start_url).hostname
        site = next((s for s in self.sites if s.web_url and urlsplit(s.web_url).hostname == host), None)
        try:
            if site is not None and site.has_web_login:
                self.browser.login(site.name)
            self.browser.goto(start_url)
        except BrowserError as exc:
            context.notices.append(f"The browser could not open the start page {start_url}: {exc}")

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
        context = self.context(run_id)
        installed = context.installed
        if installed is not None:
            installed.ensure()
            installed.step_index = step_index
        context.hints.clear()
        decided = session.dispatcher.deciding_seconds()  # the user's time to answer is not the step's
        result = session.execute(code, timeout=timeout)
        decided = session.dispatcher.deciding_seconds() - decided
        if result.finished:
            # The run ends here: threads and processes the code left running must not act unrecorded.
            self._stop_kernel(context, session, result)
        if installed is not None:
            installed.settle(result)  # the host judges each workflow use from what it observed
        if self.browser is not None and any(call.capability == BROWSER_CAPABILITY for call in result.calls):
            self._page_requests.setdefault(run_id, []).extend(self.browser.take_requests())
        notices, context.notices = context.notices, []
        result.notices[:0] = ([RESUMED_NOTICE] if fresh_kernel_notice else []) + notices
        error = (
            f"{result.error.name}: {result.error.message}"
            if result.error
            else ("; ".join(result.notices) if not result.ok else None)
        )
        observation = render_observation(result)
        hints = [
            *dict.fromkeys(context.hints),
            unknown_operation(observation, self._operation_names),
            http_by_hand(code, [site.name for site in self.sites]),
        ]
        mismatches = {site.name: site.take_mismatches() for site in self.sites}
        return ActionOutcome(
            observation="\n".join([observation, *(hint for hint in hints if hint)])
            + apis.mismatch_section(mismatches, context.mismatches_shown),
            full_output=full_record(result) + mismatch_record(mismatches),
            ok=result.ok,
            error=error,
            seconds=time.monotonic() - began - decided,
            calls=result.calls,
            used_browser=any(call.capability == BROWSER_CAPABILITY for call in result.calls),
            finished=result.finished,
            answer=None if result.answer is None else str(result.answer),
        )

    def _stop_kernel(self, context: RunContext, session: KernelSession, result: ExecutionResult) -> None:
        """At `finish()`, refuse further calls, kill the run's kernel (its threads and processes with it), and
        put the calls served after the action ended into its record."""
        context.session = None
        stop_after(session, result)

    def record_step(self, run_id: str, step: StepRecord, calls: list[CallRecord]) -> None:
        if self._step_store is not None:
            self._step_store.add_step_fields(run_id, step.model_dump(), calls)
        else:
            self.store.add_step(run_id, step, calls)
        if self.on_step is not None:
            self.on_step(step, calls)

    def record_model_use(
        self, run_id: str, usage: TokenUsage, cost: float | None, *, estimated: bool = False
    ) -> None:
        self.store.add_model_use(
            run_id,
            prompt_tokens=usage.input_tokens,
            completion_tokens=usage.output_tokens,
            cost=cost,
            estimated=estimated,
        )

    def end_run(self, run_id: str, status: RunStatus, answer: str | None, error: str | None) -> None:
        self.release(run_id)
        if status != "finished":
            self._page_requests.pop(run_id, None)  # only a finished run's are learned from
        self.store.end_run(run_id, status, answer=answer, error=error)

    def release(self, run_id: str) -> None:
        """Close the run's workflows and shut its kernel down (a resumed run gets a fresh one)."""
        with self._runs_lock:
            context = self._runs.pop(run_id, None)
        if context is not None:
            _close_context(context)

    def close(self) -> None:
        with self._runs_lock:
            contexts, self._runs = list(self._runs.values()), {}
        for context in contexts:
            _close_context(context)


def _close_context(context: RunContext) -> None:
    if context.installed is not None:
        context.installed.close()
        context.installed = None
    if context.session is not None:
        context.session.shutdown()
        context.session = None
