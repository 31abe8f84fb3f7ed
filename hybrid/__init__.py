"""hybrid: an API-first hybrid web agent. In Python, `from hybrid import open_agent` runs tasks and
`from hybrid import Run` explores recorded runs."""

from typing import Any

# Loaded on first use, so that `hybrid --help` does not import the agent's whole stack.
_LAZY = {"Run": "hybrid.explore", "attach": "hybrid.explore", "open_agent": "hybrid.agent.assembly"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'hybrid' has no attribute {name!r}")
