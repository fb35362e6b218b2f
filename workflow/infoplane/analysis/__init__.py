"""Analysis: the MI table of a run and the stacked tables of an experiment.

``run_mi`` and ``run_tables`` (torch) are imported on first use, so that stacking tables, a job of
its own, does not pay for importing torch.
"""

from .aggregate import stack_run_tables

_RUN_MI = ("MI_COLUMNS", "NonFiniteActivations", "layer_numbers", "run_mi_table")
_RUN_TABLES = ("TableToEstimate", "preset_table", "write_mi_tables")


def __getattr__(name: str):
    if name in _RUN_MI:
        from . import run_mi

        return getattr(run_mi, name)
    if name in _RUN_TABLES:
        from . import run_tables

        return getattr(run_tables, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "MI_COLUMNS",
    "NonFiniteActivations",
    "TableToEstimate",
    "layer_numbers",
    "preset_table",
    "run_mi_table",
    "stack_run_tables",
    "write_mi_tables",
]
