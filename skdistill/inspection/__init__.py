"""Inspecting a fitted distiller: the teacher-against-student report and the training history."""

from ._plot import plot_history
from ._report import DistillationReport, report

__all__ = ["DistillationReport", "plot_history", "report"]
