"""Dataset versioning: content-hashed, profiled versions of named datasets, stored as Parquet in
the artifact store and linked to the runs that read them.

Only the records and reference parsing are imported here; the services live in
``mlpilot.data.versions`` and pull in pandas and pyarrow, which callers import when they need them
so that ``import mlpilot`` and the CLI start fast.
"""

from mlpilot.data.records import (
    CategoryChange,
    DatasetDiff,
    DatasetSummary,
    DatasetVersion,
    DtypeChange,
    StatChange,
)
from mlpilot.data.refs import parse_ref

__all__ = [
    "CategoryChange",
    "DatasetDiff",
    "DatasetSummary",
    "DatasetVersion",
    "DtypeChange",
    "StatChange",
    "parse_ref",
]
