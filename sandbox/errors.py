"""The root of every error hybrid-agent raises on purpose.

Each one's message says what went wrong and what to do, in one line a person can act on; the CLI prints
it as `Error: <message>` (see `hybrid.cli`), and a traceback is left for errors that are not one of these.
It lives in `sandbox`, the package the others all build on.
"""

from __future__ import annotations


class HybridError(Exception):
    """An error hybrid-agent reports to its user: the message is the whole report."""
