"""Figures for MCP both ways, as medians over many calls.

Run: .venv/bin/python tests/hybrid/mcp/bench_mcp.py
- an MCP tool called from sync host code (the host-side SDK session over stdio), and from an isolated
  kernel as mcp.notes.list_notes() (the bridge added on top);
- `hybrid mcp serve` over stdio: search_operations (no site call) and call_operation (one API call to the
  demo site, policy and record included), as the SDK's client sees them.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from mcp import Client, StdioServerParameters

import apis
from apis.mcpsites import McpConnection, McpServer
from hybrid.demo import demo_site
from hybrid.demo.registration import register_demo
from hybrid.mcp.capability import mcp_capability
from sandbox import KernelSession

NOTES_SERVER = Path(__file__).parents[2] / "fixtures" / "notes_mcp_server.py"
HOST_CALLS = 300
KERNEL_CALLS = 300
SERVE_CALLS = 100


def milliseconds(samples: list[float]) -> str:
    return (
        f"{statistics.median(samples) * 1000:8.2f} ms  (p90 "
        f"{statistics.quantiles(samples, n=10)[-1] * 1000:.2f} "
        f"ms, n={len(samples)})"
    )


def timed(call, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def mcp_sites() -> dict[str, list[float]]:
    server = McpServer("notes", command=[sys.executable, str(NOTES_SERVER)])
    with McpConnection(server, timeout=30).open() as notes, KernelSession() as session:
        host = timed(lambda: notes.call("list_notes", {}), HOST_CALLS)
        session.register("mcp", mcp_capability([notes]))
        code = (
            f"import time\n_s = []\nfor _ in range({KERNEL_CALLS}):\n    _t = time.perf_counter()\n"
            "    mcp.notes.list_notes()\n    _s.append(time.perf_counter() - _t)\nprint(_s)"
        )
        result = session.execute(code, timeout=300)
        kernel = json.loads(result.stdout)
    return {"host": host, "kernel": kernel}


async def serve_calls(data_dir: str) -> dict[str, list[float]]:
    env = {
        **os.environ,
        "HYBRID_DATA_DIR": data_dir,
        "HYBRID_DATABASE_URL": f"sqlite:///{data_dir}/hybrid.db",
    }
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "hybrid", "mcp", "serve", "--site", "demo"], env=env
    )
    figures: dict[str, list[float]] = {"search_operations": [], "call_operation": []}
    async with Client(params) as client:
        for _ in range(SERVE_CALLS):
            start = time.perf_counter()
            await client.call_tool("search_operations", {"site": "demo", "query": "list issues"})
            figures["search_operations"].append(time.perf_counter() - start)
            start = time.perf_counter()
            await client.call_tool(
                "call_operation",
                {
                    "site": "demo",
                    "operation": "get_project",
                    "arguments": {"owner": "alice", "project": "tracker-core"},
                },
            )
            figures["call_operation"].append(time.perf_counter() - start)
    return figures


def main() -> None:
    for name, samples in mcp_sites().items():
        print(f"MCP tool call, from the {name:6}: {milliseconds(samples)}")
    with tempfile.TemporaryDirectory() as data_dir, demo_site() as site:
        register_demo(apis.SiteRegistry(data_dir), site, "alice")
        for name, samples in asyncio.run(serve_calls(data_dir)).items():
            print(f"hybrid mcp serve, {name:17}: {milliseconds(samples)}")


if __name__ == "__main__":
    main()
