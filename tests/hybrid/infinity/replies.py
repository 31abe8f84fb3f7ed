"""The bed's scripted steps as a folder of replies for `hybrid bench` (FOLDER/APP/ID.json, one file per
task, each ending with finish), and the suite numbers of those tasks for `--tasks`.

Run: .venv/bin/python tests/hybrid/infinity/replies.py FOLDER
then: .venv/bin/hybrid bench tests/fixtures/benchmarks/webarena-infinity/apps --model scripted:FOLDER \
          --tasks NUMBERS --mode browser
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bed import APPS
from tasks import Task, tasks

from hybrid.agent.models import scripted_replies_for
from hybrid.bench.infinity import load_infinity

DONE = 'finish("done")'


def write_replies(folder: Path, chosen: list[Task]) -> list[int]:
    """One replies file per task in `folder`; the tasks' numbers in the published suite, in order."""
    numbers = {task.name: task.task_id for task in load_infinity(APPS).tasks}
    for task in chosen:
        (folder / task.app).mkdir(parents=True, exist_ok=True)
        replies = scripted_replies_for([*task.steps, DONE])
        (folder / task.app / f"{task.id.split(':')[1]}.json").write_text(json.dumps(replies))
    return sorted(numbers[task.name] for task in chosen)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(",".join(map(str, write_replies(Path(sys.argv[1]), tasks()))))
