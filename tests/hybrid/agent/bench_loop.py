"""Figures for the agent loop's own cost per step, beside smolagents' CodeAgent doing the same scripted task
in the same run: each step's wall time minus the time the code action ran (in our isolated kernel; in
smolagents' in-process executor) and minus the time the model took to reply (both are fixed replies).
What is left is the loop: prompts, parsing, state, checkpoints and the record. Shown for steps 1-10 and for
the last ten steps of a long run, to show whether it grows with the run. The first step is left out on
both sides: it includes the run's start (the system prompt, the kernel session), paid once per run.

Run: .venv/bin/python tests/hybrid/agent/bench_loop.py [--steps N] [--long N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from hybrid.agent.assembly import open_agent
from hybrid.agent.models import ScriptedChatModel, scripted_replies_for
from hybrid.config import Settings
from workflows.store import StepRecord


def task_steps(count: int) -> list[str]:
    """A task of `count` code actions: each computes a little and prints it; the last one finishes."""
    steps = [f"value_{i} = sum(range({i} * 10))\nprint(value_{i})" for i in range(count - 1)]
    return [*steps, f"finish(str(value_{count - 2}))"]


def ours(count: int, home: Path) -> list[float]:
    """Each step's loop time in ms (wall between consecutive steps minus its code's and the model's time),
    from the second step on."""
    settings = Settings(data_dir=home, max_steps=count + 1, action_timeout_seconds=60)
    model = ScriptedChatModel(replies=scripted_replies_for(task_steps(count)))
    marks: list[tuple[float, StepRecord]] = []
    with open_agent(
        settings,
        model=model,
        sites=[],
        use_browser=False,
        fast_path=False,
        induce=False,
        on_step=lambda step, calls: marks.append((time.perf_counter(), step)),
    ) as agent:
        began = time.perf_counter()
        result = agent.run("Compute the sums.")
    if result.status != "finished" or len(marks) != count:
        raise SystemExit(f"our run did not do the task: {result}")
    loop = []
    previous = began
    for ended, step in marks:
        loop.append((ended - previous - step.execute_seconds - step.model_seconds) * 1000)
        previous = ended
    return loop[1:]


def smolagents_loop(count: int) -> list[float]:
    """The same for smolagents' CodeAgent, with a model that replies with the same code."""
    from smolagents import CodeAgent, Model
    from smolagents.local_python_executor import LocalPythonExecutor
    from smolagents.models import ChatMessage, MessageRole

    codes = [code.replace("finish(", "final_answer(") for code in task_steps(count)]

    class Scripted(Model):
        def __init__(self) -> None:
            super().__init__(model_id="scripted")
            self.position = 0
            self.seconds: list[float] = []

        def generate(self, messages: list[Any], stop_sequences: Any = None, **kwargs: Any) -> ChatMessage:
            began = time.perf_counter()
            code = codes[self.position]
            self.position += 1
            reply = ChatMessage(
                role=MessageRole.ASSISTANT,
                content=f"Thought: step {self.position} of {count}.\n<code>\n{code}\n</code>",
            )
            self.seconds.append(time.perf_counter() - began)
            return reply

    executed: list[float] = []

    class Timed(LocalPythonExecutor):
        def __call__(self, code_action: str) -> Any:
            began = time.perf_counter()
            try:
                return super().__call__(code_action)
            finally:
                executed.append(time.perf_counter() - began)

    model = Scripted()
    marks: list[float] = []
    agent = CodeAgent(
        tools=[],
        model=model,
        max_steps=count + 1,
        verbosity_level=0,
        step_callbacks=[lambda *args, **kwargs: marks.append(time.perf_counter())],
    )
    executor = Timed(additional_authorized_imports=[])
    executor.send_tools({**agent.tools})
    agent.python_executor = executor
    began = time.perf_counter()
    agent.run("Compute the sums.")
    loop, previous = [], began
    for ended, ran, replied in zip(marks, executed, model.seconds, strict=False):
        loop.append((ended - previous - ran - replied) * 1000)
        previous = ended
    return loop[1:]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=10, help="steps of the compared task")
    parser.add_argument("--long", type=int, default=50, help="steps of the long run (flatness)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-loop-") as home:
        ours(3, Path(home) / "warm")  # imports, the first kernel and the database's creation are not the loop
        mine = ours(options.steps, Path(home) / "short")
        long = ours(options.long, Path(home) / "long")
    smol = smolagents_loop(options.steps)
    smol_long = smolagents_loop(options.long)
    print("loop time per step, ms (median)      hybrid  smolagents   ratio")
    for label, a, b in (
        (f"{options.steps}-step task", mine, smol),
        (f"{options.long}-step run, steps 2-11", long[:10], smol_long[:10]),
        (f"{options.long}-step run, last 10 steps", long[-10:], smol_long[-10:]),
    ):
        ma, mb = statistics.median(a), statistics.median(b)
        print(f"{label:<36} {ma:>6.2f}  {mb:>10.2f}  {ma / mb:>6.1f}x")


if __name__ == "__main__":
    main()
