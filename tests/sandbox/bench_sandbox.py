"""Figures for the kernel runtime and the bridge, as medians over many runs.

Run: .venv/bin/python tests/sandbox/bench_sandbox.py
Targets (issue 4): trivial action < 10 ms, bridge call < 2 ms, pool acquire < 50 ms. Each figure is
measured isolated (bubblewrap, the default) and not (--sandbox none); issue 12: isolation may add at
most 2 ms to a trivial action and 150 ms to a cold start.
"""

from __future__ import annotations

import json
import statistics
import time

from sandbox import HostFunction, Isolation, KernelLimits, KernelPool, KernelSession

COLD_STARTS = 10
ACQUIRES = 20
TRIVIAL_ACTIONS = 500
BRIDGE_CALLS = 2000


def milliseconds(samples: list[float]) -> str:
    p90 = statistics.quantiles(samples, n=10)[-1]
    return f"{statistics.median(samples) * 1000:8.2f} ms  (p90 {p90 * 1000:.2f} ms, n={len(samples)})"


def cold_starts(limits: KernelLimits) -> list[float]:
    samples = []
    for _ in range(COLD_STARTS):
        start = time.perf_counter()
        session = KernelSession(limits=limits)
        samples.append(time.perf_counter() - start)
        session.shutdown()
    return samples


def pool_acquires(pool: KernelPool) -> list[float]:
    samples = []
    for _ in range(ACQUIRES):
        time.sleep(1.2)  # let the pool refill, as it would between runs
        start = time.perf_counter()
        session = pool.acquire()
        samples.append(time.perf_counter() - start)
        session.shutdown()
    return samples


def trivial_actions(session: KernelSession) -> list[float]:
    samples = []
    for _ in range(TRIVIAL_ACTIONS):
        start = time.perf_counter()
        session.execute("x = 1")
        samples.append(time.perf_counter() - start)
    return samples


def bridge_calls(session: KernelSession) -> list[float]:
    session.register("noop", HostFunction(lambda: None, writes=False))
    result = session.execute(
        "import json, time\n"
        "samples = []\n"
        f"for _ in range({BRIDGE_CALLS}):\n"
        "    start = time.perf_counter()\n"
        "    noop()\n"
        "    samples.append(time.perf_counter() - start)\n"
        "print(json.dumps(samples))",
        timeout=120,
    )
    session.dispatcher.recorder.take()
    return json.loads(result.full_stdout)


def main() -> None:
    for mode in ("bubblewrap", "none"):
        limits = KernelLimits(isolation=Isolation(mode=mode))
        print(f"sandbox {mode}")
        print(f"  cold session start     {milliseconds(cold_starts(limits))}")
        with KernelPool(size=2, limits=limits) as pool:
            print(f"  warm pool acquire      {milliseconds(pool_acquires(pool))}")
            with pool.acquire() as session:
                print(f"  trivial action x = 1   {milliseconds(trivial_actions(session))}")
                print(
                    f"  bridge no-op call      {milliseconds(bridge_calls(session))}  (timed in the kernel)"
                )


if __name__ == "__main__":
    main()
