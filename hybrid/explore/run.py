"""A recorded run as a Python object, for notebooks: its steps, its checkpoints, forks and replays.

from hybrid import Run
run = Run.load("3f2a")            # an id or unique prefix; Run.load() is the latest run
run                               # the task, outcome and a table of steps
run[0]                            # step 0: thought, code, output, calls
run.history()                     # the graph's checkpoints
other = run.fork(1, model="openai:gpt-4o-mini")   # keep step 0, let another model go on
again = run.replay()              # the same code actions again, in a fresh kernel
run.export("run.ipynb")           # a re-executable notebook
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from langchain_core.language_models import BaseChatModel

from hybrid.agent.assembly import budget_from, open_agent, open_checkpointer
from hybrid.agent.graph import Runtime, build_graph
from hybrid.agent.models import ModelError, ScriptedChatModel, load_chat_model
from hybrid.agent.observation import BROWSER_CAPABILITY
from hybrid.agent.run import Agent, AgentError
from hybrid.config import Settings, load_settings
from hybrid.explore.attach import ask_on_input
from hybrid.explore.views import Checkpoint, History, StepView, table
from sandbox.errors import HybridError
from sandbox.text import first_line
from workflows.store import RunRow, RunStore


class ExploreError(HybridError):
    """What was asked of a run cannot be done; the message says why and what to do instead."""


def _thread(run_id: str, checkpoint_id: str | None = None) -> dict[str, Any]:
    """A run's graph thread, or one checkpoint of it."""
    if checkpoint_id is None:
        return {"configurable": {"thread_id": run_id, "checkpoint_ns": ""}}
    return {"configurable": {"thread_id": run_id, "checkpoint_ns": "", "checkpoint_id": checkpoint_id}}


class Run:
    """A recorded run: `Run.load(run_id)`. Iterate it for its steps; `run[i]` is step i."""

    def __init__(self, record: RunRow, steps: list[StepView], settings: Settings) -> None:
        self.record = record
        self.steps = steps
        self.settings = settings

    @classmethod
    def load(cls, run_id: str | None = None, *, settings: Settings | None = None) -> Run:
        """The run with this id (or unique id prefix) from the configured database; the latest if None."""
        settings = settings or load_settings()
        store = RunStore(settings.effective_database_url)
        if run_id is None:
            latest = store.list_runs(1)
            if not latest:
                raise ExploreError("No runs are recorded yet: try `hybrid demo` first.")
            run_id = latest[0].id
        record = store.get_run(run_id)
        steps = [StepView.of(step, store.calls_of(step.id)) for step in store.steps_of(record.id)]
        return cls(record, steps, settings)

    # What the run was -------------------------------------------------------------------------

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def task(self) -> str:
        return self.record.task

    @property
    def status(self) -> str:
        return self.record.status

    @property
    def answer(self) -> str | None:
        return self.record.answer

    @property
    def sites(self) -> list[str]:
        return list(self.record.sites)

    @property
    def used_browser(self) -> bool:
        return any(
            call.name.startswith(f"{BROWSER_CAPABILITY}.") for step in self.steps for call in step.calls
        )

    @property
    def tokens(self) -> int:
        return self.record.prompt_tokens + self.record.completion_tokens

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[StepView]:
        return iter(self.steps)

    def __getitem__(self, index: int) -> StepView:
        return self.steps[index]

    def show(self, index: int | None = None) -> Any:
        """Display step `index` (or the whole run) in the notebook; returns what it showed."""
        shown = self if index is None else self.steps[index]
        try:
            from IPython.display import Markdown, display
        except ImportError:
            print(shown._repr_markdown_())
        else:
            display(Markdown(shown._repr_markdown_()))
        return shown

    def __repr__(self) -> str:
        return f"<Run {self.id} {self.status}: {len(self.steps)} steps, {first_line(self.task, 60)!r}>"

    def _repr_markdown_(self) -> str:
        record = self.record
        lines = [
            f"**{record.task}**",
            "",
            f"run `{record.id}` · {record.status} · model {record.model} · sites {', '.join(record.sites)} · "
            f"policy {record.policy} · {len(self.steps)} steps · {self.tokens} tokens"
            + (f" · ${record.cost:.4f}" if record.cost else ""),
        ]
        if record.source:
            lines.append(f"source: {record.source}")
        lines += [
            "",
            table(
                ["step", "ok", "thought", "calls", "tokens"],
                [
                    [s.index, "✓" if s.ok else "✗", first_line(s.thought, 80), len(s.calls), s.tokens]
                    for s in self.steps
                ],
            ),
        ]
        if record.answer is not None:
            lines += ["", f"answer: **{record.answer}**"]
        if record.error:
            lines += ["", f"error: {record.error}"]
        return "\n".join(lines)

    # The graph's checkpoints ------------------------------------------------------------------

    def history(self) -> History:
        """The run's LangGraph checkpoints, oldest first: after each node, the state and what came next."""
        with ExitStack() as stack:
            # Reading checkpoints runs no node, so the graph needs neither a model nor a runtime.
            graph = build_graph(
                ScriptedChatModel(replies=[]),
                cast(Runtime, None),
                budget_from(self.settings),
                open_checkpointer(self.settings, stack),
            )
            snapshots = list(graph.get_state_history(_thread(self.id)))
        return History(
            Checkpoint(
                id=s.config["configurable"]["checkpoint_id"],
                graph_step=s.metadata.get("step", -1),
                next=tuple(s.next),
                steps=len(s.values.get("steps", [])),
                status=s.values.get("status"),
                values=dict(s.values),
                created_at=_parse_time(s.created_at),
            )
            for s in reversed(snapshots)
        )

    def checkpoint_before(self, step: int) -> Checkpoint:
        """The latest checkpoint where `step` steps were done and the model was about to act."""
        history = self.history()
        if not history:
            raise ExploreError(
                f"Run {self.id} has no checkpoints in {self.settings.data_dir}: it was recorded "
                "with another data dir (HYBRID_DATA_DIR), whose checkpoints hold its states."
            )
        for checkpoint in reversed(history):
            if checkpoint.next == ("act",) and checkpoint.steps == step:
                return checkpoint
        done = sorted({c.steps for c in history if c.next == ("act",)})
        raise ExploreError(
            f"Run {self.id} has no checkpoint before step {step}; it can fork before steps {done}."
        )

    # New runs from this one -------------------------------------------------------------------

    def fork(
        self,
        step: int,
        *,
        model: str | BaseChatModel | None = None,
        task: str | None = None,
        system_prompt: str | None = None,
        max_steps: int | None = None,
    ) -> Run:
        """A new run that keeps steps 0..step-1 of this one and lets `model` (default: this run's) go on
        from there, optionally with another task text or system prompt. It continues in a fresh kernel,
        and the model is told so. A `ScriptedChatModel`'s replies are the steps after the fork."""
        checkpoint = self.checkpoint_before(step)
        chat_model, model_name = self._chat_model(model)
        if isinstance(chat_model, ScriptedChatModel):
            # A scripted model resumes after the replies already used: the kept steps' ones.
            kept = [s.reply for s in self.steps[:step]]
            chat_model = chat_model.model_copy(update={"replies": kept + chat_model.replies, "position": 0})
        with self._agent(chat_model, model_name, max_steps) as agent:
            new_task = task or self.task
            forked = agent.store.start_run(
                new_task,
                sites=self.sites,
                model=model_name,
                policy=self.record.policy,
                source=f"fork:{self.id}@{step}",
                sandbox=agent.settings.sandbox,
            )
            for kept_step in self.steps[:step]:
                agent.store.add_step(forked.id, kept_step.record(), kept_step.calls)
            # The fork's thread starts as a copy of the checkpoint, so LangGraph knows which node wrote it
            # and goes on from there; then the fork's own values replace the original's. The copy carries
            # the steps whole: a checkpoint stores only those its node added, the rest are in the original
            # thread's writes, and a value stored in a checkpoint is where LangGraph starts rebuilding from.
            origin = agent.graph.checkpointer.get_tuple(_thread(self.id, checkpoint.id))
            seed = {
                **origin.checkpoint,
                "channel_values": {
                    **origin.checkpoint["channel_values"],
                    "steps": checkpoint.values["steps"],
                },
            }
            agent.graph.checkpointer.put(_thread(forked.id), seed, origin.metadata, seed["channel_versions"])
            update: dict[str, Any] = {
                "run_id": forked.id,
                "task": new_task,
                "pending": None,
                "status": "running",
            }
            if system_prompt is not None or task is not None:
                update["system_prompt"] = system_prompt or agent.runtime.system_prompt(
                    forked.id, new_task, agent.budget.max_steps
                )
            agent.graph.update_state(_thread(forked.id), update)
            agent.resume(forked.id)
        return Run.load(forked.id, settings=self.settings)

    def replay(self, *, max_steps: int | None = None) -> Run:
        """Run this run's recorded replies again as a new run, in a fresh kernel against the sites as they
        are now: the same code actions, no model. Compare `replay().answer` with `answer`."""
        if not self.steps:
            raise ExploreError(f"Run {self.id} has no steps to replay.")
        model = ScriptedChatModel(replies=[s.reply for s in self.steps])
        start_url = next((c.values.get("start_url") for c in self.history() if c.values.get("task")), None)
        with self._agent(model, "scripted", max_steps or len(self.steps)) as agent:
            result = agent.run(self.task, start_url=start_url, source=f"replay:{self.id}")
        return Run.load(result.run_id, settings=self.settings)

    def export(self, path: str | Path) -> Path:
        """Write this run as a re-executable notebook (see `hybrid.explore.export`)."""
        from hybrid.explore.export import write_notebook

        return write_notebook(self, Path(path))

    def _chat_model(self, model: str | BaseChatModel | None) -> tuple[BaseChatModel, str]:
        if isinstance(model, BaseChatModel):
            return model, getattr(model, "model_name", None) or type(model).__name__
        spec = model or self.record.model
        try:
            return load_chat_model(spec), spec
        except ModelError as exc:
            raise ExploreError(
                f"Cannot load model {spec!r} ({exc}); pass model= a provider:name spec or a chat "
                "model object."
            ) from exc

    def _agent(self, model: BaseChatModel, model_name: str, max_steps: int | None) -> Agent:
        """An agent for a fork or replay. Memory is off: a replay must rerun these actions, not a workflow
        learned from them, and an experiment should not teach the memory."""
        policy = self.record.policy
        try:
            return open_agent(
                self.settings,
                model=model,
                model_name=model_name,
                sites=self.sites,
                policy=policy,
                confirm=ask_on_input if policy == "confirm" else None,
                max_steps=max_steps,
                fast_path=False,
                induce=False,
            )
        except AgentError as exc:
            raise ExploreError(f"Cannot start an agent on {', '.join(self.sites)}: {exc}") from exc


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
