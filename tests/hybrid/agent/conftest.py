"""An agent wired to the demo site in a private data dir, with scripted models."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

import apis
from hybrid.agent.assembly import open_agent
from hybrid.agent.models import ScriptedChatModel, scripted_replies_for
from hybrid.agent.run import Agent
from hybrid.config import Settings
from hybrid.demo import DemoSite
from hybrid.demo.registration import register_demo


@pytest.fixture
def make_agent(settings: Settings, demo: DemoSite) -> Iterator[Callable[..., Agent]]:
    """make_agent(steps, login_as="alice", sites=["demo"], **options): an Agent whose model replays `steps` as
    code actions (other sites must be registered first)."""
    agents: list[Agent] = []

    def make(
        steps: list[str], login_as: str = "alice", sites: tuple[str, ...] = ("demo",), **options
    ) -> Agent:
        register_demo(apis.SiteRegistry(settings.data_dir), demo, login_as)
        model = ScriptedChatModel(replies=scripted_replies_for(steps))
        agent = open_agent(settings, model=model, model_name="scripted", sites=list(sites), **options)
        agents.append(agent)
        return agent

    yield make
    for agent in agents:
        agent.close()
