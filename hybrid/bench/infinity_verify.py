"""Run one WebArena-Infinity verifier in this process, as the benchmark's harness does: import the module at
VERIFIER (a path inside the app's folder, the working directory), call its `verify(server_url)`, and print
its verdict as the last line of output: {"passed": bool, "message": str}.

python -m hybrid.bench.infinity_verify real-tasks/task_e1.py http://127.0.0.1:PORT
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path


def verify(verifier: Path, server_url: str) -> tuple[bool, str]:
    spec = importlib.util.spec_from_file_location(f"verifier_{verifier.stem}", verifier)
    if spec is None or spec.loader is None:
        raise ImportError(f"{verifier} is not a Python module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    passed, message = module.verify(server_url)
    return bool(passed), str(message)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    passed, message = verify(Path(sys.argv[1]), sys.argv[2])
    print(json.dumps({"passed": passed, "message": message}), flush=True)
