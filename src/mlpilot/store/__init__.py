"""The SQL metadata store: schema, connections and migrations."""

from mlpilot.store.database import Database
from mlpilot.store.migrate import ensure_schema, upgrade

__all__ = ["Database", "ensure_schema", "upgrade"]
