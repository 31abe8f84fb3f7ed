"""Where an agent is put together, the one place: `open_agent` opens what a run needs (the site and MCP
registries, MCP connections, the browser, the kernel pool, the store, the checkpointer and the graph) and
hands it to an `Agent`, which only holds it. `hybrid run`, `runs resume`, `demo`, `bench`, `mcp serve` and
notebooks all get their agent here.

from hybrid import open_agent
with open_agent(sites=["demo"], model="openai:gpt-4o-mini") as agent:
    result = agent.run("How many open bugs are in alice/tracker-core?")
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from sqlalchemy.engine import make_url

import apis
from apis.mcpsites import McpRegistry, McpServerError
from hybrid.agent.cost import Pricing
from hybrid.agent.graph import Budget, build_graph
from hybrid.agent.model_calls import ModelCaller, ModelListener
from hybrid.agent.models import ModelError, load_chat_model
from hybrid.agent.run import Agent, AgentError
from hybrid.agent.runtime import (
    AgentRuntime,
    SiteHandle,
    StepCallback,
    page_writes_to_policy,
    web_credentials,
)
from hybrid.config import Settings, keep_private, load_settings
from sandbox import Call, IsolationUnavailable, KernelPool, Policy, PolicyMode
from sandbox.browser import BrowserService
from workflows.lightstore import LightStore, WorkflowView
from workflows.memory import WorkflowStore
from workflows.reading import StoreError

# Any fixed number, the same in every process (and not the store's migration lock): it names the lock that
# serialises the setup of PostgreSQL checkpoint tables.
CHECKPOINT_SETUP_LOCK_KEY = 7_007_008
CHECKPOINT_SETUP_SECONDS = 120

# What a failed start reports as one line (`AgentError`) rather than a traceback.
_START_PROBLEMS = (
    apis.RegistryError,
    apis.ApiError,
    apis.SpecError,
    StoreError,
    ValueError,
    IsolationUnavailable,
    McpServerError,
    ModelError,
)


@dataclass(frozen=True)
class AgentOptions:
    """What a caller chooses for its runs; anything left unset comes from the settings (see `hybrid config`).

    `model` is a chat model, a `provider:name` spec (loaded with the settings' timeout and context size), or
    None (only the fast path can then do a task). `on_model` is told what the model writes (its thinking
    too) and of retries, as they happen; `on_step` each step as it is recorded; `on_fast_path(workflow,
    None)` the workflow a task is about to be done by, with no model, and `on_fast_path(workflow, error)` if
    it failed. A `browser` or `pool` given is shared and left open; otherwise the agent makes and closes its
    own. `files` (the user's own) are copied read-only into each kernel's working directory.
    `use_browser=False` gives the model no browser, `use_api=False` no `api.*` (the modes benchmarks
    compare)."""

    sites: Sequence[str] = ()
    model: BaseChatModel | str | None = None
    model_name: str | None = None
    base_url: str | None = None
    policy: PolicyMode | None = None
    confirm: Callable[[Call], bool] | None = None
    browser: BrowserService | None = None
    use_browser: bool = True
    use_api: bool = True
    pool: KernelPool | None = None
    max_steps: int | None = None
    max_cost: float | None = None
    on_step: StepCallback | None = None
    on_model: ModelListener | None = None
    fast_path: bool | None = None
    induce: bool | None = None
    on_fast_path: Callable[[WorkflowView, str | None], None] | None = None
    files: Sequence[Path] = field(default_factory=tuple)


def open_agent(
    settings: Settings | None = None, options: AgentOptions | None = None, **choices: Any
) -> Agent:
    """An agent with everything its runs need opened; close it (or use it as a context manager) to close
    them. `choices` are `AgentOptions` fields, given instead of `options` or over them; `settings` default to
    the user's (`HYBRID_*` and hybrid.toml). Raises `AgentError` when something cannot be opened, having
    closed what was opened so far."""
    settings = settings or load_settings()
    options = replace(options or AgentOptions(), **choices)
    model, model_name = _model(settings, options)
    budget = budget_from(settings, options.max_steps, options.max_cost)
    pricing = Pricing(model_name)
    if budget.max_cost is not None and not pricing.known:
        raise AgentError(
            f"No price is known for model {model_name!r}, so a cost limit cannot be kept: "
            "drop --max-cost (HYBRID_MAX_COST), or name the model as the provider does "
            "(e.g. openai:gpt-4o-mini)."
        )
    # Every model call of a run, the judge's and induction's too, goes through this one caller: the same
    # retries, pricing and cost limit.
    call_model = ModelCaller(model, pricing=pricing, retries=settings.model_retries, max_cost=budget.max_cost)
    call_model.listener = options.on_model
    sites = list(options.sites)
    stack = ExitStack()
    try:
        runtime = _open_runtime(settings, options, sites, stack)
        graph = build_graph(call_model, runtime, budget, open_checkpointer(settings, stack))
    except BaseException as exc:
        stack.close()  # kernels and browsers started so far must not outlive a failed start
        if isinstance(exc, _START_PROBLEMS):
            raise AgentError(str(exc)) from exc
        raise
    return Agent(
        settings,
        model=model,
        model_name=model_name,
        sites=sites,
        policy=options.policy or settings.policy,
        fast_path=settings.fast_path if options.fast_path is None else options.fast_path,
        induce=settings.induce_workflows if options.induce is None else options.induce,
        on_fast_path=options.on_fast_path,
        budget=budget,
        call_model=call_model,
        runtime=runtime,
        graph=graph,
        resources=stack,
    )


def _model(settings: Settings, options: AgentOptions) -> tuple[BaseChatModel | None, str]:
    """The chat model the options name, loaded if given as a spec, and the name runs record it by."""
    model = options.model
    if isinstance(model, str):
        try:
            loaded = load_chat_model(
                model,
                base_url=options.base_url,
                timeout=settings.model_timeout_seconds,
                context_tokens=settings.model_context_tokens,
            )
        except ModelError as exc:
            raise AgentError(str(exc)) from exc
        return loaded, options.model_name or model
    name = (
        options.model_name
        or getattr(model, "model_name", None)
        or (type(model).__name__ if model is not None else "none")
    )
    return model, name


def _open_runtime(
    settings: Settings, options: AgentOptions, sites: list[str], stack: ExitStack
) -> AgentRuntime:
    """The run's live side: MCP connections, the browser, site clients, the store and kernels; each opened
    resource is closed by `stack`."""
    registry = apis.SiteRegistry(settings.data_dir)
    mcp_registry = McpRegistry(settings.data_dir)
    mcp_servers = [
        stack.enter_context(mcp_registry.connect(name)) for name in sites if mcp_registry.has(name)
    ]
    browser = options.browser
    if browser is None and options.use_browser:
        browser = open_browser(settings, registry, sites)
        if browser is not None:
            stack.callback(browser.close)
    handles = [
        SiteHandle.from_registry(
            registry, name, collect_mismatches=True, browser_cookies=browser.cookies if browser else None
        )
        for name in sites
        if not mcp_registry.has(name)
    ]
    store = WorkflowStore(settings.effective_database_url)
    # Steps are written without the ORM where the database allows it (1.5 -> 0.2 ms of CPU a step).
    step_store = LightStore.open(settings.effective_database_url)
    if step_store is not None:
        stack.callback(step_store.close)
    # Its own pool gets the first kernel going while the run prepares; later ones start when needed.
    pool = options.pool or stack.enter_context(
        KernelPool(size=1, limits=settings.kernel_limits, refill=False)
    )
    runtime = AgentRuntime(
        sites=handles,
        store=store,
        step_store=step_store,
        pool=pool,
        policy=Policy(mode=options.policy or settings.policy, confirm=options.confirm),
        browser=browser,
        on_step=options.on_step,
        mcp_servers=mcp_servers,
        user_files=options.files,
        use_api=options.use_api,
    )
    stack.callback(runtime.close)
    return runtime


def budget_from(settings: Settings, max_steps: int | None = None, max_cost: float | None = None) -> Budget:
    return Budget(
        max_steps=max_steps or settings.max_steps,
        max_wall_seconds=settings.max_wall_seconds,
        max_tokens=settings.max_tokens,
        action_timeout=settings.action_timeout_seconds,
        max_cost=max_cost if max_cost is not None else settings.max_cost,
    )


def open_checkpointer(settings: Settings, stack: ExitStack) -> Any:
    """LangGraph's SQLite checkpointer in the data dir, or its PostgreSQL one when the database is
    PostgreSQL."""
    url = settings.effective_database_url
    if url.startswith(("postgresql", "postgres")):
        try:
            import psycopg
            from langgraph.checkpoint.postgres import PostgresSaver
        except ImportError as exc:
            raise AgentError(
                "PostgreSQL checkpoints need: .venv/bin/pip install 'hybrid-agent[postgres]'"
            ) from exc
        # psycopg takes libpq URLs: no SQLAlchemy driver name (postgresql+psycopg://).
        conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        saver = stack.enter_context(PostgresSaver.from_conn_string(conninfo))
        _set_up_postgres_checkpoints(saver, psycopg.connect(conninfo, autocommit=True))
        return saver
    from langgraph.checkpoint.sqlite import SqliteSaver

    keep_private(settings.data_dir)
    path = settings.data_dir / "checkpoints.sqlite"
    path.touch(mode=0o600, exist_ok=True)  # before SQLite makes it 0644
    connection = sqlite3.connect(path, check_same_thread=False)
    stack.callback(connection.close)
    # As the run store (workflows.store): in WAL mode, NORMAL syncs at checkpoints of the log, not at every
    # commit, and a step commits several graph checkpoints. A crash of the process loses nothing committed;
    # a power cut may lose the last few, from which a resumed run starts a step or two earlier.
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return SqliteSaver(connection)


def _set_up_postgres_checkpoints(saver: Any, lock: Any) -> None:
    """Create or upgrade the checkpoint tables, one process at a time: agents (bench workers, say) opening a
    fresh database at once would race in its CREATE TABLE IF NOT EXISTS. The lock is polled, not waited for:
    the setup's CREATE INDEX CONCURRENTLY waits for every open statement, a blocked lock request included."""
    with lock:
        deadline = time.monotonic() + CHECKPOINT_SETUP_SECONDS
        while not lock.execute("SELECT pg_try_advisory_lock(%s)", (CHECKPOINT_SETUP_LOCK_KEY,)).fetchone()[0]:
            if time.monotonic() > deadline:
                raise AgentError(
                    f"Another process has been setting up the checkpoint tables for over "
                    f"{CHECKPOINT_SETUP_SECONDS} s; see pg_stat_activity on the database server."
                )
            time.sleep(0.05)
        saver.setup()  # the lock ends with its connection


def open_browser(settings: Settings, registry: apis.SiteRegistry, sites: list[str]) -> BrowserService | None:
    """A browser that can sign in to `sites` (Chromium starts on first use), or None without Chromium."""
    executable = settings.effective_browser_executable
    if executable is None:
        return None
    # The bridge's policy decides on each action's form submission before it runs; writes a page sends
    # otherwise (a script's fetch, a form a key submits) are held and put to the same policy, in allow mode
    # too: the call record is how learning knows the run wrote, so verifying its workflow does not write
    # again. The runtime restricts the browser to its run's sites.
    return BrowserService(
        executable,
        credentials=web_credentials(registry, sites),
        before_write=page_writes_to_policy,
        screenshot_dir=settings.data_dir / "screenshots",
    )
