"""Waits that hold on a loaded machine: a bound measured on an idle machine, stretched by the current load
(runnable processes per core), so a test waits for a condition as long as this machine needs, not longer
than an idle one would when nothing is wrong."""

from __future__ import annotations

import os

MOST = 8.0  # a wait past eight times its idle bound means something is stuck, not slow


def load_factor() -> float:
    """How many times slower than idle the machine is now: 1 when idle, the 1-minute load per core above."""
    return min(MOST, max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1)))


def scaled(seconds: float) -> float:
    return seconds * load_factor()
