"""Runs recorded the way the agent records them: a task's code actions executed in a kernel whose `api`
capability is a generated client for the demo site, and the steps and calls written to the store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from langchain_core.messages import BaseMessage
from pydantic import Field

import apis
from hybrid.agent.assembly import open_agent
from hybrid.agent.models import ScriptedChatModel, scripted_replies_for
from hybrid.agent.run import Agent
from hybrid.bench.suite import Task, load_suite
from hybrid.config import Settings
from hybrid.demo import DemoSite
from hybrid.demo.registration import register_demo
from sandbox import HostFunction, KernelPool, KernelSession, Namespace, Policy
from workflows.memory import WorkflowStore
from workflows.store import StepRecord

SessionFactory = Callable[[], AbstractContextManager[KernelSession]]


@pytest.fixture(scope="session")
def suite() -> dict[int, Task]:
    return {task.task_id: task for task in load_suite()}


@pytest.fixture
def store(database_url: str) -> WorkflowStore:
    """A store on a fresh database: SQLite, or PostgreSQL where a test parametrises `database_url`."""
    return WorkflowStore(database_url)


@pytest.fixture
def inspector_client(demo: DemoSite) -> Iterator[httpx.Client]:
    """What evaluators read the demo site with (as alice)."""
    with httpx.Client(
        base_url=demo.api_url, headers={"Authorization": f"Bearer {demo.token_for('alice')}"}
    ) as c:
        yield c


@pytest.fixture(scope="session")
def demo_spec(demo_server: DemoSite) -> apis.Spec:
    return apis.load_spec(demo_server.openapi_url)


@pytest.fixture(scope="session")
def kernel_pool() -> Iterator[KernelPool]:
    with KernelPool(size=2) as pool:
        yield pool


def api_capability(site: DemoSite, spec: apis.Spec, username: str = "alice") -> Namespace:
    client = apis.build_client(
        spec, base_url=site.base_url, headers={"Authorization": f"Bearer {site.token_for(username)}"}
    )
    host = urlsplit(site.api_url).hostname
    return Namespace(
        {
            "demo": {
                op.name: HostFunction(getattr(client, op.name), writes=op.writes, domain=host)
                for op in spec.operations
            }
        }
    )


@pytest.fixture
def open_session(demo: DemoSite, demo_spec: apis.Spec, kernel_pool: KernelPool) -> SessionFactory:
    """Fresh kernels with `api.demo` (as alice), as the agent's runtime makes them."""
    capability = api_capability(demo, demo_spec)

    @contextmanager
    def open_one(policy: Policy | None = None) -> Iterator[KernelSession]:
        session = kernel_pool.acquire(policy=policy or Policy())
        try:
            session.register("api", capability)
            yield session
        finally:
            session.shutdown()

    return open_one


def _record_run(
    store: WorkflowStore,
    session: KernelSession,
    task: str,
    steps: list[str],
    *,
    tokens_per_step: tuple[int, int] = (0, 0),
) -> str:
    """Execute `steps` in `session` as a run's code actions and record the run; returns its id."""
    run = store.start_run(task, sites=["demo"], model="scripted", policy="allow")
    answer, failed = None, None
    for index, code in enumerate(steps):
        result = session.execute(code, timeout=60)
        error = f"{result.error.name}: {result.error.message}" if result.error else None
        store.add_step(
            run.id,
            StepRecord(
                index=index,
                code=code,
                observation=result.stdout,
                error=error,
                ok=result.ok,
                prompt_tokens=tokens_per_step[0],
                completion_tokens=tokens_per_step[1],
            ),
            result.calls,
        )
        failed = failed or error
        if result.finished:
            answer = str(result.answer)
            break
    store.end_run(run.id, "finished" if answer is not None else "error", answer=answer, error=failed)
    return run.id


@pytest.fixture
def run_task(store: WorkflowStore, open_session: SessionFactory) -> Callable[[Task], str]:
    """Record a run of a suite task's reference solution; returns the run id."""

    def run(task: Task) -> str:
        with open_session() as session:
            return _record_run(store, session, task.intent, task.reference_solution)

    return run


@pytest.fixture
def record_run() -> Callable[..., str]:
    """`record_run(store, session, task, steps)`: execute and record a run in any store; returns its id."""
    return _record_run


class RecordingModel(ScriptedChatModel):
    """A scripted model that keeps the system prompt and the task message of each call."""

    prompts: list[str] = Field(default_factory=list)
    tasks: list[str] = Field(default_factory=list)

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any):
        self.prompts.append(str(messages[0].content))
        self.tasks.append(str(messages[1].content))
        return super()._generate(messages, *args, **kwargs)


@pytest.fixture
def make_agent(
    tmp_path, monkeypatch, demo: DemoSite
) -> Iterator[Callable[..., tuple[Agent, RecordingModel | None]]]:
    """`make_agent(steps, **options)`: an agent on the demo site whose model replays `steps` (no model at all
    when `steps` is None); agents made in one test share their data dir, so their workflow memory."""
    for name in (
        "HYBRID_MODEL",
        "HYBRID_POLICY",
        "HYBRID_FAST_PATH",
        "HYBRID_INDUCE_WORKFLOWS",
        "HYBRID_CONFIG",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(data_dir=tmp_path / "data", action_timeout_seconds=30)
    register_demo(apis.SiteRegistry(settings.data_dir), demo, "alice")
    agents: list[Agent] = []

    def make(steps: list[str] | None, **options: Any) -> tuple[Agent, RecordingModel | None]:
        model = None if steps is None else RecordingModel(replies=scripted_replies_for(steps))
        agent = open_agent(
            settings, model=model, model_name=None if model is None else "scripted", sites=["demo"], **options
        )
        agents.append(agent)
        return agent, model

    yield make
    for agent in agents:
        agent.close()
