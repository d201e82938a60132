"""The SQL schema of mlpilot's metadata, shared by SQLite and PostgreSQL.

Times are epoch milliseconds. A NaN metric is stored as NULL because SQLite cannot hold NaN and
PostgreSQL would sort it above every number; readers turn NULL back into NaN.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "api_keys",
    "artifacts",
    "audit_log",
    "dataset_versions",
    "datasets",
    "deployment_events",
    "deployments",
    "environments",
    "experiments",
    "feedback",
    "latest_metrics",
    "metadata",
    "metrics",
    "model_aliases",
    "model_events",
    "model_version_tags",
    "model_versions",
    "params",
    "registered_model_tags",
    "registered_models",
    "run_inputs",
    "run_tags",
    "runs",
    "ui_sessions",
]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)

# SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid), not a BIGINT one.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

experiments = sa.Table(
    "experiments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(500), nullable=False, unique=True),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

environments = sa.Table(
    "environments",
    metadata,
    sa.Column("hash", sa.String(64), primary_key=True),
    sa.Column("content", sa.JSON, nullable=False),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("experiment_id", sa.Integer, sa.ForeignKey("experiments.id"), nullable=False),
    sa.Column("name", sa.String(250), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("start_time", sa.BigInteger, nullable=False),
    sa.Column("end_time", sa.BigInteger, nullable=True),
    sa.Column("parent_run_id", sa.String(32), sa.ForeignKey("runs.id"), nullable=True),
    sa.Column("user", sa.String(250), nullable=False),
    sa.Column("entry_point", sa.String(1000), nullable=True),
    sa.Column("git_commit", sa.String(64), nullable=True),
    sa.Column("git_dirty", sa.Boolean, nullable=True),
    sa.Column("git_diff_hash", sa.String(64), nullable=True),
    sa.Column("git_committed_at", sa.BigInteger, nullable=True),  # epoch ms: DORA's lead time starts here
    sa.Column("environment_hash", sa.String(64), sa.ForeignKey("environments.hash"), nullable=True),
    sa.Index(None, "experiment_id", "start_time"),
    sa.Index(None, "parent_run_id"),
)

params = sa.Table(
    "params",
    metadata,
    sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Index(None, "key", "value"),
)

run_tags = sa.Table(
    "run_tags",
    metadata,
    sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

metrics = sa.Table(
    "metrics",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("key", sa.String(250), nullable=False),
    sa.Column("value", sa.Double, nullable=True),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Column("timestamp", sa.BigInteger, nullable=False),
    sa.Index(None, "run_id", "key", "step"),
)

# The newest point of each (run, key): what listings, search and ordering read, so they never
# scan the full history.
latest_metrics = sa.Table(
    "latest_metrics",
    metadata,
    sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Double, nullable=True),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Column("timestamp", sa.BigInteger, nullable=False),
    sa.Index(None, "key", "value"),
)

artifacts = sa.Table(
    "artifacts",
    metadata,
    sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), primary_key=True),
    sa.Column("path", sa.String(1000), primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

datasets = sa.Table(
    "datasets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(250), nullable=False, unique=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

dataset_versions = sa.Table(
    "dataset_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("schema", sa.JSON, nullable=False),
    sa.Column("profile", sa.JSON, nullable=False),
    sa.Column("storage_sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("source", sa.Text, nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("dataset_id", "version"),
    sa.UniqueConstraint("dataset_id", "content_hash"),
)

run_inputs = sa.Table(
    "run_inputs",
    metadata,
    sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), primary_key=True),
    sa.Column("dataset_version_id", sa.Integer, sa.ForeignKey("dataset_versions.id"), primary_key=True),
    sa.Column("role", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Index(None, "dataset_version_id"),
)

# --- model registry ----------------------------------------------------------------------------

registered_models = sa.Table(
    "registered_models",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(250), nullable=False, unique=True),
    sa.Column("description", sa.Text, nullable=True),
    # The highest version number ever handed out: bumped in the registering transaction so numbers
    # increase per model and are never reused, even when registrations race or versions go away.
    sa.Column("last_version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

model_versions = sa.Table(
    "model_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model_id", sa.Integer, sa.ForeignKey("registered_models.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("artifact_path", sa.String(1000), nullable=False),
    sa.Column("flavor", sa.String(64), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("signature", sa.JSON, nullable=True),
    sa.Column("metrics", sa.JSON, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_by", sa.String(250), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("model_id", "version"),
    sa.Index(None, "run_id"),
)

registered_model_tags = sa.Table(
    "registered_model_tags",
    metadata,
    sa.Column("model_id", sa.Integer, sa.ForeignKey("registered_models.id"), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

model_version_tags = sa.Table(
    "model_version_tags",
    metadata,
    sa.Column("version_id", sa.Integer, sa.ForeignKey("model_versions.id"), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

model_aliases = sa.Table(
    "model_aliases",
    metadata,
    sa.Column("model_id", sa.Integer, sa.ForeignKey("registered_models.id"), primary_key=True),
    sa.Column("alias", sa.String(250), primary_key=True),
    sa.Column("version_id", sa.Integer, sa.ForeignKey("model_versions.id"), nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

# Every change to a registered model, in order: what happened, to which version or alias, who did
# it, when, and why. Alias rollbacks are computed from this history.
model_events = sa.Table(
    "model_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("model_id", sa.Integer, sa.ForeignKey("registered_models.id"), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("version", sa.Integer, nullable=True),
    sa.Column("alias", sa.String(250), nullable=True),
    sa.Column("from_version", sa.Integer, nullable=True),
    sa.Column("actor", sa.String(250), nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("details", sa.JSON, nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Index(None, "model_id", "id"),
)

# --- security ------------------------------------------------------------------------------------

# API keys: the secret itself is never stored, only its SHA-256. ``prefix`` is the visible part of
# the key (``mlp_`` + 8 random characters) and the lookup handle; revocation is a soft delete so the
# audit trail keeps naming the key.
api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("prefix", sa.String(16), nullable=False, unique=True),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("scopes", sa.JSON, nullable=False),
    sa.Column("created_by", sa.String(250), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("last_used_at", sa.BigInteger, nullable=True),
    sa.Column("revoked_at", sa.BigInteger, nullable=True),
)

# Web UI sign-ins: a random token whose SHA-256 is kept (never the token, never the API key),
# bound to the key that signed in; revoking the key ends them, as does expiry or sign-out.
ui_sessions = sa.Table(
    "ui_sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("key_id", sa.Integer, sa.ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    sa.Index(None, "expires_at"),
)

# Every write, append-only: which key (by name, never the secret), which person or process, what
# action on what target, and when. No payloads: they may hold personal data.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("key_name", sa.String(100), nullable=True),
    sa.Column("actor", sa.String(250), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(500), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Index(None, "created_at"),
)

# --- deployments -----------------------------------------------------------------------------------

# A named binding of a registered model to a prediction endpoint. Each target (primary, canary,
# shadow) is an alias or a fixed version: exactly one of its pair of columns is set. ``revision``
# grows by one on every change, so a serving process polling the row knows when to reload.
deployments = sa.Table(
    "deployments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("model_id", sa.Integer, sa.ForeignKey("registered_models.id"), nullable=False),
    sa.Column("alias", sa.String(250), nullable=True),
    sa.Column("version", sa.Integer, nullable=True),
    sa.Column("canary_alias", sa.String(250), nullable=True),
    sa.Column("canary_version", sa.Integer, nullable=True),
    sa.Column("canary_weight", sa.Double, nullable=True),
    sa.Column("shadow_alias", sa.String(250), nullable=True),
    sa.Column("shadow_version", sa.Integer, nullable=True),
    sa.Column("shadow_share", sa.Double, nullable=True),
    # Set by a rollback: all traffic goes to this version, whatever the target says, until the
    # primary target is set again or a canary is promoted.
    sa.Column("pinned_version", sa.Integer, nullable=True),
    sa.Column("config", sa.JSON, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("created_by", sa.String(250), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Index(None, "model_id"),
)

# Every change to a deployment, in order. Keyed by name, not by id, so the history outlives a
# deleted deployment. Details hold versions, targets and weights, never request payloads.
deployment_events = sa.Table(
    "deployment_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("deployment", sa.String(100), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("details", sa.JSON, nullable=True),
    sa.Column("actor", sa.String(250), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Index(None, "deployment", "id"),
)

# Ground-truth labels for served predictions, joined to the prediction logs by prediction id. One
# label per prediction: a later label replaces the earlier one.
feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("deployment", sa.String(100), nullable=False),
    sa.Column("prediction_id", sa.String(32), nullable=False),
    sa.Column("label", sa.JSON, nullable=False),
    sa.Column("actor", sa.String(250), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("deployment", "prediction_id"),
    sa.Index(None, "deployment", "created_at"),
)

# --- monitoring --------------------------------------------------------------------------------

# The training data's profile per model version, fitted once: what every drift test compares
# live inputs with. The numerical sample behind KS and Wasserstein is a Parquet blob in the
# content store.
reference_profiles = sa.Table(
    "reference_profiles",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model_version_id", sa.Integer, sa.ForeignKey("model_versions.id"), nullable=False, unique=True),
    sa.Column("dataset_version_id", sa.Integer, sa.ForeignKey("dataset_versions.id"), nullable=True),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("profile", sa.JSON, nullable=False),
    sa.Column("sample_sha256", sa.String(64), nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

monitors = sa.Table(
    "monitors",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("deployment", sa.String(100), nullable=False),
    sa.Column("config", sa.JSON, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("created_by", sa.String(250), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Column("last_run_at", sa.BigInteger, nullable=True),
    sa.Index(None, "deployment"),
)

monitor_results = sa.Table(
    "monitor_results",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("monitor_id", sa.Integer, sa.ForeignKey("monitors.id", ondelete="CASCADE"), nullable=False),
    sa.Column("window_start", sa.BigInteger, nullable=True),
    sa.Column("window_end", sa.BigInteger, nullable=True),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("result", sa.JSON, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Index(None, "monitor_id", "id"),
)

# Requests and errors per deployment, served version and minute, added up by every serving worker:
# a monitor's error rate over a window, a canary's against its primary. Prediction logs hold only
# the requests that succeeded. Version 0 counts requests refused before a version was chosen.
request_counts = sa.Table(
    "request_counts",
    metadata,
    sa.Column("deployment", sa.String(100), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, server_default="0"),
    sa.Column("minute", sa.BigInteger, primary_key=True),  # epoch ms at the start of the minute
    sa.Column("requests", sa.BigInteger, nullable=False),
    sa.Column("server_errors", sa.BigInteger, nullable=False),
    sa.Column("client_errors", sa.BigInteger, nullable=False),
)

# One row per alert episode. ``open_key`` is set (monitor and condition) while the alert is open
# and cleared when it resolves: the unique constraint lets one condition hold at most one open
# alert, however many runs see it, while resolved episodes pile up freely (NULLs never collide).
alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("monitor_id", sa.Integer, sa.ForeignKey("monitors.id", ondelete="CASCADE"), nullable=False),
    sa.Column("condition", sa.String(250), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("open_key", sa.String(400), nullable=True, unique=True),
    sa.Column("value", sa.Double, nullable=True),
    sa.Column("threshold", sa.Double, nullable=True),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("opened_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Column("resolved_at", sa.BigInteger, nullable=True),
    sa.Index(None, "monitor_id", "id"),
)

# A pipeline is user code (``source`` names it as ``path.py:attribute`` or ``module:attribute``);
# the store keeps where to find it so triggers can start it again.
pipelines = sa.Table(
    "pipelines",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(250), nullable=False, unique=True),
    sa.Column("source", sa.String(1000), nullable=False),
    sa.Column("workdir", sa.String(1000), nullable=True),
    sa.Column("steps", sa.JSON, nullable=False),  # the DAG: step names, inputs, outputs
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

# ``running_key`` holds the pipeline's name while a run is active and is cleared when it ends: the
# unique constraint is what keeps one pipeline from running twice at once, on every store.
pipeline_runs = sa.Table(
    "pipeline_runs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("pipeline_id", sa.Integer, sa.ForeignKey("pipelines.id", ondelete="CASCADE"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("trigger", sa.JSON, nullable=False),
    sa.Column("running_key", sa.String(250), nullable=True, unique=True),
    sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), nullable=True),
    sa.Column("actor", sa.String(250), nullable=False),
    sa.Column("started_at", sa.BigInteger, nullable=False),
    sa.Column("ended_at", sa.BigInteger, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("summary", sa.JSON, nullable=True),
    sa.Index(None, "pipeline_id", "started_at"),
)

step_runs = sa.Table(
    "step_runs",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("pipeline_run_id", sa.String(32), sa.ForeignKey("pipeline_runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("step", sa.String(250), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("cache_key", sa.String(64), nullable=True),
    sa.Column("cached_from", sa.BigInteger, nullable=True),  # the step run whose outputs were reused
    sa.Column("outputs", sa.JSON, nullable=True),
    sa.Column("details", sa.JSON, nullable=True),
    sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), nullable=True),
    sa.Column("started_at", sa.BigInteger, nullable=True),
    sa.Column("ended_at", sa.BigInteger, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Index(None, "pipeline_run_id", "id"),
    sa.Index(None, "cache_key", "status"),
)

# Persisted triggers: a cron schedule, a dataset's new version, a monitor's alert. ``cursor`` is
# what the trigger saw last (dataset version, alert id), so a restart neither misses nor repeats.
pipeline_triggers = sa.Table(
    "pipeline_triggers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("pipeline_id", sa.Integer, sa.ForeignKey("pipelines.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("cursor", sa.JSON, nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("last_fired_at", sa.BigInteger, nullable=True),
    sa.Index(None, "pipeline_id"),
)
