"""The SQL memory: runs, steps and calls; workflows induced from successful runs, and their uses.

What the agent's runtime calls:
- `WorkflowStore(database_url)`: the run store plus workflows (migrated on open; SQLite or PostgreSQL).
- `retrieve(store, task, sites, k)`: the best-matching workflows for a task (full-text ranked).
- `install_workflows(session, store, workflows, run_id=...)`: `wf.<name>(...)` in a kernel session.
- `match_fast_path(store, task, sites)` and `run_fast_path(...)`: a task done by a verified workflow.
- `induce_from_run(store, run_id, model=None)`, `verify(...)`: memory upkeep; `learn_from_run(...)`
  (workflows.learn)
  does both after a run, repairs workflows that failed in it, and says what it did in one line.
"""
