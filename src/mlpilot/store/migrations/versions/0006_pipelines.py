"""pipelines, pipeline runs, step runs and triggers; request counts per served version; commit times

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 00:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("git_committed_at", sa.BigInteger(), nullable=True))
    # Counts kept so far move to version 0 ("not known"); the key gains the version.
    with op.batch_alter_table("request_counts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="0", nullable=False))
        batch_op.drop_constraint("pk_request_counts", type_="primary")
        batch_op.create_primary_key("pk_request_counts", ["deployment", "version", "minute"])

    op.create_table(
        "pipelines",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("source", sa.String(length=1000), nullable=False),
        sa.Column("workdir", sa.String(length=1000), nullable=True),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipelines")),
        sa.UniqueConstraint("name", name=op.f("uq_pipelines_name")),
    )
    op.create_table(
        "pipeline_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("pipeline_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("trigger", sa.JSON(), nullable=False),
        sa.Column("running_key", sa.String(length=250), nullable=True),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("actor", sa.String(length=250), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("ended_at", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipelines.id"],
            name=op.f("fk_pipeline_runs_pipeline_id_pipelines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_pipeline_runs_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_runs")),
        sa.UniqueConstraint("running_key", name=op.f("uq_pipeline_runs_running_key")),
    )
    with op.batch_alter_table("pipeline_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pipeline_runs_pipeline_id_started_at"), ["pipeline_id", "started_at"], unique=False
        )
    op.create_table(
        "step_runs",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("pipeline_run_id", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=250), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cache_key", sa.String(length=64), nullable=True),
        sa.Column("cached_from", sa.BigInteger(), nullable=True),
        sa.Column("outputs", sa.JSON(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("started_at", sa.BigInteger(), nullable=True),
        sa.Column("ended_at", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pipeline_run_id"],
            ["pipeline_runs.id"],
            name=op.f("fk_step_runs_pipeline_run_id_pipeline_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_step_runs_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_step_runs")),
    )
    with op.batch_alter_table("step_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_step_runs_pipeline_run_id_id"), ["pipeline_run_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_step_runs_cache_key_status"), ["cache_key", "status"], unique=False)
    op.create_table(
        "pipeline_triggers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pipeline_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("cursor", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_fired_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipelines.id"],
            name=op.f("fk_pipeline_triggers_pipeline_id_pipelines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_triggers")),
    )
    with op.batch_alter_table("pipeline_triggers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pipeline_triggers_pipeline_id"), ["pipeline_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pipeline_triggers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pipeline_triggers_pipeline_id"))
    op.drop_table("pipeline_triggers")
    with op.batch_alter_table("step_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_step_runs_cache_key_status"))
        batch_op.drop_index(batch_op.f("ix_step_runs_pipeline_run_id_id"))
    op.drop_table("step_runs")
    with op.batch_alter_table("pipeline_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pipeline_runs_pipeline_id_started_at"))
    op.drop_table("pipeline_runs")
    op.drop_table("pipelines")
    # Per-version counts add up into one row per deployment and minute again.
    op.execute(
        "CREATE TABLE request_counts_old AS SELECT deployment, minute, SUM(requests) AS requests, "
        "SUM(server_errors) AS server_errors, SUM(client_errors) AS client_errors "
        "FROM request_counts GROUP BY deployment, minute"
    )
    op.drop_table("request_counts")
    op.create_table(
        "request_counts",
        sa.Column("deployment", sa.String(length=100), nullable=False),
        sa.Column("minute", sa.BigInteger(), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("server_errors", sa.BigInteger(), nullable=False),
        sa.Column("client_errors", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("deployment", "minute", name=op.f("pk_request_counts")),
    )
    op.execute("INSERT INTO request_counts SELECT * FROM request_counts_old")
    op.drop_table("request_counts_old")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("git_committed_at")
