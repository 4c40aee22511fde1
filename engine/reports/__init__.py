"""The reports engine: datasets aggregated in SQL, Plotly widgets, dashboards, print templates
and exports. Nothing here knows any particular KPI: the safety KPIs are dashboard definitions in
the template packs."""

from engine.reports import messages as _messages  # noqa: F401  (registers zh-CN/en messages)
from engine.reports.dataset import Dataset, Dimension, Measure, SourceSpec
from engine.reports.query import SYSTEM, QueryContext, RowFilter, Viewer, run_dataset
from engine.reports.result import DatasetResult, ResultColumn

__all__ = [
    "SYSTEM",
    "Dataset",
    "DatasetResult",
    "Dimension",
    "Measure",
    "QueryContext",
    "ResultColumn",
    "RowFilter",
    "SourceSpec",
    "Viewer",
    "run_dataset",
]
