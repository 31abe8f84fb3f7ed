"""Figures for the apis package: spec load and index times, prompt sizes, per-call overhead.

Run: .venv/bin/python tests/apis/bench_apis.py
"""

from __future__ import annotations

import json
import multiprocessing
import socket
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from apis import (
    ApiValidationWarning,
    build_client,
    load_spec,
    operation_lines,
    render_api_section,
)
from apis.search import search_index
from sandbox.text import estimate_tokens

SPECS_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "specs"
CALLS = 500
ITEM = {"id": 1, "title": "An item", "labels": ["a", "b"], "open": True}
BENCH_SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Bench", "version": "1"},
    "paths": {
        "/items/{item_id}": {
            "get": {
                "operationId": "getItem",
                "parameters": [
                    {"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                    {
                        "name": "state",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["open", "closed"]},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "id": {"type": "integer"},
                                        "title": {"type": "string"},
                                        "labels": {"type": "array", "items": {"type": "string"}},
                                        "open": {"type": "boolean"},
                                    },
                                }
                            }
                        },
                    }
                },
            }
        }
    },
}


def load_figures() -> None:
    print(f"{'spec':32} {'size':>8} {'ops':>5} {'cold load':>10} {'cached':>8} {'index':>7}")
    for path in sorted(SPECS_DIR.glob("*.[jy]*")):
        with tempfile.TemporaryDirectory() as cache:
            started = time.perf_counter()
            spec = load_spec(path, cache)
            cold = time.perf_counter() - started
            cached_times = []
            for _ in range(5):
                started = time.perf_counter()
                cached_spec = load_spec(path, cache)
                cached_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            search_index(cached_spec)
            index = time.perf_counter() - started
        print(
            f"{path.name:32} {path.stat().st_size / 1e6:7.2f}M {len(spec.operations):5} "
            f"{cold * 1000:8.0f}ms {statistics.median(cached_times) * 1000:6.1f}ms {index * 1000:5.1f}ms"
        )


def prompt_figures() -> None:
    with tempfile.TemporaryDirectory() as cache:
        total_tokens = total_ops = 0
        for path in sorted(SPECS_DIR.glob("*.[jy]*")):
            spec = load_spec(path, cache)
            total_tokens += sum(estimate_tokens(line) + 1 for line in operation_lines(spec))
            total_ops += len(spec.operations)
        gitea = load_spec(SPECS_DIR / "gitea.json", cache)
        gitea_tokens = sum(estimate_tokens(line) + 1 for line in operation_lines(gitea))
        section = render_api_section(
            gitea, "close every open issue labelled wontfix in acme/site", 3000, "gitea"
        )
    print(
        f"\ntier-1 tokens per operation: {total_tokens / total_ops:.1f} over all {total_ops} operations; "
        f"gitea {gitea_tokens / len(gitea.operations):.1f} ({gitea_tokens} tokens for all 346)"
    )
    shown = len(section.splitlines()) - 4
    print(
        f"gitea API section at a 3,000-token budget: {estimate_tokens(section)} tokens, {len(section)} "
        f"characters, {shown} of 346 operations as tier-1 lines plus the group index"
    )


async def _item(request: Request) -> JSONResponse:
    return JSONResponse(ITEM)


def _serve(sock: socket.socket) -> None:
    app = Starlette(routes=[Route("/items/{item_id}", _item)])
    uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off")).run(sockets=[sock])


def call_figures() -> None:
    """The server runs in its own process, as a real site would, so only the client's own work is timed."""
    sock = socket.socket()
    # Accepted connections inherit this: without it, Nagle + delayed ACKs add ~40 ms to every answer.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = multiprocessing.get_context("fork").Process(target=_serve, args=(sock,), daemon=True)
    server.start()
    try:
        _wait_until_up(url)
        with tempfile.TemporaryDirectory() as directory:
            spec_path = Path(directory) / "bench.json"
            spec_path.write_text(json.dumps(BENCH_SPEC))
            spec = load_spec(spec_path, directory)
            with (
                httpx.Client() as plain,
                build_client(spec, url) as validated,
                build_client(spec, url, validation="off") as unvalidated,
            ):

                def plain_call() -> object:
                    return plain.get(f"{url}/items/1", params={"state": "open"}).json()

                figures = {
                    "plain httpx": _median_ms(plain_call),
                    "client, validation off": _median_ms(
                        lambda: unvalidated.get_item(item_id=1, state="open")
                    ),
                    "client, validation on": _median_ms(lambda: validated.get_item(item_id=1, state="open")),
                }
    finally:
        server.terminate()
        server.join(timeout=10)
    print(f"\nper call against a local server in another process (median of {CALLS}):")
    for label, value in figures.items():
        added = value - figures["plain httpx"]
        print(f"  {label:24} {value:6.3f} ms" + (f"  (+{added:.3f} ms)" if label != "plain httpx" else ""))


def _wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            httpx.get(f"{url}/items/0", timeout=1)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _median_ms(call: Callable[[], object]) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ApiValidationWarning)
        for _ in range(50):
            call()
        times = []
        for _ in range(CALLS):
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


if __name__ == "__main__":
    load_figures()
    prompt_figures()
    call_figures()
