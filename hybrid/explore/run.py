"""A recorded run as a Python object, for notebooks: its steps, its checkpoints, forks and replays.

from hybrid import Run
run = Run.load("3f2a")            # an id or unique prefix; Run.load() is the latest run
run                               # the task, outcome and a table of steps
run[0]                            # step 0: thought, code, output, calls
run.history()                     # the graph's checkpoints
run.state(1)                      # the state before step 1: steps done, tokens, cost, what was pending
other = run.fork(1, model="openai:gpt-4o-mini")   # resume from step 1 as a new run, with another model
run.resume()                      # an interrupted or failed run goes on from its last checkpoint
again = run.replay()              # the same code actions again, in a fresh kernel
run.export("run.ipynb")           # a re-executable notebook
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel

from hybrid.agent.assembly import open_agent
from hybrid.agent.checkpoints import NoCheckpointError, RunCheckpoints, reading_checkpoints
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
        with reading_checkpoints(self.settings) as checkpoints:
            return History(checkpoints.history(self.id))

    def checkpoint_before(self, step: int) -> Checkpoint:
        """The latest checkpoint where `step` steps were done and the model was about to act."""
        with reading_checkpoints(self.settings) as checkpoints:
            return self._before(checkpoints, step)

    def state(self, step: int | None = None) -> Checkpoint:
        """The run's state before step `step` (steps done, tokens, cost, the prompt, what was about to run),
        or, with no step, its last state. `.values` holds it whole; in a notebook it shows as a summary."""
        if step is not None:
            return self.checkpoint_before(step)
        with reading_checkpoints(self.settings) as checkpoints:
            latest = checkpoints.latest(self.id)
        if latest is None:
            raise ExploreError(self._no_checkpoints())
        return latest

    def _before(self, checkpoints: RunCheckpoints, step: int) -> Checkpoint:
        try:
            return checkpoints.before_step(self.id, step)
        except NoCheckpointError as exc:
            raise ExploreError(str(exc) if exc.available else self._no_checkpoints()) from None

    def _no_checkpoints(self) -> str:
        return (
            f"Run {self.id} has no checkpoints in {self.settings.data_dir}: it was recorded "
            "with another data dir (HYBRID_DATA_DIR), whose checkpoints hold its states."
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
            changes: dict[str, Any] = {
                "run_id": forked.id,
                "task": new_task,
                "pending": None,
                "status": "running",
            }
            if system_prompt is not None or task is not None:
                changes["system_prompt"] = system_prompt or agent.runtime.system_prompt(
                    forked.id, new_task, agent.budget.max_steps
                )
            agent.checkpoints.fork(checkpoint, forked.id, changes)
            agent.resume(forked.id)
        return Run.load(forked.id, settings=self.settings)

    def resume(self, *, model: str | BaseChatModel | None = None, max_steps: int | None = None) -> Run:
        """Go on with this run (interrupted, or stopped by an error whose cause is fixed) from its last
        checkpoint, in a fresh kernel, as `hybrid runs resume` does; returns it as it is then. `model`
        defaults to the run's own; a `ScriptedChatModel` goes on after the replies already used."""
        chat_model, model_name = self._chat_model(model)
        with self._agent(chat_model, model_name, max_steps) as agent:
            try:
                agent.resume(self.id)
            except AgentError as exc:
                raise ExploreError(str(exc)) from exc
        return Run.load(self.id, settings=self.settings)

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
