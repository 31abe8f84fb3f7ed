"""Exploring recorded runs from Python and notebooks: load a run, step through it, see its checkpoints,
fork or replay it, export it as a notebook, and call the sites' APIs as the agent does (`attach`)."""

from hybrid.explore.attach import AttachError, Attachment, attach
from hybrid.explore.run import ExploreError, Run
from hybrid.explore.views import Checkpoint, History, StepView

__all__ = ["AttachError", "Attachment", "Checkpoint", "ExploreError", "History", "Run", "StepView", "attach"]
