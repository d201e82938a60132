"""API keys with scopes and the audit log: the security foundation of mlpilot's servers.

The services live in ``mlpilot.security.keys`` (create, list, revoke, verify, bootstrap) and
``mlpilot.security.audit`` (record, list); see docs/security.md.
"""

from mlpilot.security.records import ApiKey, AuditEntry
from mlpilot.security.scopes import Scope, grants, parse_scope, parse_scopes

__all__ = ["ApiKey", "AuditEntry", "Scope", "grants", "parse_scope", "parse_scopes"]
