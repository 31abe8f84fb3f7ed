"""The floor under the agent loop's cost per step: LangGraph's own, for a loop of the agent's shape (a model
node and an execute node, one step a pass) whose nodes do nothing, with no checkpointer, with LangGraph's
in-memory one and with its SQLite one set up as the agent's (WAL, synchronous=NORMAL). Beside it, the host's
resident memory after importing only what that loop needs (`langgraph.graph`), and after importing the agent.

Whatever the agent does per step comes on top of the first figures, and whatever a run holds on top of the
second. smolagents' CodeAgent's loop time per step on a task of the same length is printed beside them
(measured as in `bench_loop.py`, which compares the whole agent loop with it).

Run: .venv/bin/python tests/hybrid/agent/bench_langgraph_floor.py [--steps N]
"""

from __future__ import annotations

import argparse
import operator
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any, TypedDict

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph

from tests.hybrid.agent.bench_loop import smolagents_loop


class LoopState(TypedDict):
    steps: Annotated[list[str], operator.add]
    pending: str | None


def loop_graph(steps: int, checkpointer: Any) -> Any:
    """model -> execute -> model ... until `steps` steps: the agent's two-node pass, nodes doing nothing."""

    def model(state: LoopState) -> dict[str, Any]:
        return {"pending": f"print({len(state['steps'])})"}

    def execute(state: LoopState) -> dict[str, Any]:
        return {"steps": [state["pending"] or ""], "pending": None}

    def route(state: LoopState) -> str:
        return END if len(state["steps"]) >= steps else "model"

    graph = StateGraph(LoopState)
    graph.add_node("model", model)
    graph.add_node("execute", execute)
    graph.add_edge(START, "model")
    graph.add_edge("model", "execute")
    graph.add_conditional_edges("execute", route)
    return graph.compile(checkpointer=checkpointer)


def per_step_ms(steps: int, checkpointer: Any) -> float:
    graph = loop_graph(steps, checkpointer)
    config = {"configurable": {"thread_id": "bench"}, "recursion_limit": 4 * steps + 10}
    began = time.perf_counter()
    graph.invoke({"steps": [], "pending": None}, config)
    return (time.perf_counter() - began) * 1000 / steps


def sqlite_saver(folder: Path) -> SqliteSaver:
    connection = sqlite3.connect(folder / "checkpoints.sqlite", check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return SqliteSaver(connection)


def resident_mib_after(statement: str) -> float:
    """The peak resident size of a new Python that runs `statement` (VmHWM, which starts again at exec:
    getrusage's peak would count this process's size, which the child has until it execs)."""
    code = f"{statement}\nprint(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return int(out.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=50, help="steps in each loop (default 50)")
    steps = parser.parse_args().steps
    per_step_ms(5, None)  # warm: LangGraph compiles its channels on first use
    with tempfile.TemporaryDirectory() as folder:
        rows = [
            ("no checkpointer", per_step_ms(steps, None)),
            ("in-memory checkpointer", per_step_ms(steps, InMemorySaver())),
            ("SQLite checkpointer (as the agent's)", per_step_ms(steps, sqlite_saver(Path(folder)))),
        ]
    print(f"LangGraph's own cost per step, a two-node loop of {steps} steps whose nodes do nothing:")
    for name, value in rows:
        print(f"  {name:<40} {value:6.2f} ms")
    print(
        f"  {'smolagents CodeAgent, its whole loop':<40} {statistics.median(smolagents_loop(steps)):6.2f} ms"
    )
    print("Peak resident memory of a new Python after:")
    for statement in ("pass", "import langgraph.graph", "import hybrid.agent.assembly"):
        print(f"  {statement:<40} {resident_mib_after(statement):6.1f} MiB")


if __name__ == "__main__":
    main()
