"""Analysis: the MI table of a run and the stacked tables of an experiment."""

from .aggregate import stack_run_tables
from .run_mi import MI_COLUMNS, NonFiniteActivations, layer_numbers, run_mi_table

__all__ = ["MI_COLUMNS", "NonFiniteActivations", "layer_numbers", "run_mi_table", "stack_run_tables"]
