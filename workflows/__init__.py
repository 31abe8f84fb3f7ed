"""The SQL memory: runs, steps, calls, and (soon) workflows and their uses."""
