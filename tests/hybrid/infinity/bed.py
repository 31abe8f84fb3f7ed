"""WebArena-Infinity's apps (tests/fixtures/benchmarks/webarena-infinity/apps), each served by its own
server.py's handler, imported unchanged, on a free port of 127.0.0.1 (the copies bind every address when
run as scripts, so they are not run as scripts), with fresh state for each task; and each task's verifier."""

from __future__ import annotations

import functools
import importlib.util
import itertools
import threading
from pathlib import Path
from types import ModuleType

APPS = Path(__file__).parents[2] / "fixtures" / "benchmarks" / "webarena-infinity" / "apps"
_loaded = itertools.count()


def _module(path: Path) -> ModuleType:
    """`path` imported afresh under a name of its own (a server keeps its state in module globals)."""
    spec = importlib.util.spec_from_file_location(f"infinity_{path.stem}_{next(_loaded)}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class AppServer:
    """One app served on 127.0.0.1 with the state it starts with; `close()` stops it."""

    def __init__(self, app: str) -> None:
        self.directory = APPS / app
        server = _module(self.directory / "server.py")
        handler = functools.partial(server.AppHandler, directory=str(self.directory))
        self._server = server.ThreadedHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def verify(self, verifier: str) -> tuple[bool, str]:
        """The task's verifier (a path inside the app, e.g. real-tasks/task_e1.py) on this server's state."""
        return _module(self.directory / verifier).verify(self.url)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
