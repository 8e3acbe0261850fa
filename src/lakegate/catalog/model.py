"""The catalog's tables (SQLAlchemy Core). Alembic migrations in ``migrations/`` build the same."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

databases = sa.Table(
    "databases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("created_at", sa.Float, nullable=False),
)

tables = sa.Table(
    "tables",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("database_id", sa.Integer, sa.ForeignKey("databases.id"), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("location", sa.Text, nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    # Hive-style partition keys, in path order: ["dt", "region"]; always typed VARCHAR.
    sa.Column("partition_keys", sa.JSON, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    # One more at every change to what queries read from it (files, schema, copies), and the
    # generation that last took files out of it: catalog/cache.py
    sa.Column("generation", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("removed_in", sa.BigInteger, nullable=False, server_default="0"),
    sa.UniqueConstraint("database_id", "name", name="uq_tables_database_name"),
)

columns = sa.Table(
    "columns",
    metadata,
    sa.Column("table_id", sa.Integer, sa.ForeignKey("tables.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("original_name", sa.Text, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("added_in", sa.Integer, nullable=False),
)

table_versions = sa.Table(
    "table_versions",
    metadata,
    sa.Column("table_id", sa.Integer, sa.ForeignKey("tables.id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("columns", sa.JSON, nullable=False),
    sa.Column("partition_keys", sa.JSON, nullable=False),
    sa.Column("diff", sa.JSON, nullable=False),
    sa.Column("cause", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

partitions = sa.Table(
    "partitions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("table_id", sa.Integer, sa.ForeignKey("tables.id"), nullable=False),
    sa.Column("path", sa.Text, nullable=False),  # "dt=2026-11-26/region=eu", "" when unpartitioned
    sa.Column("values", sa.JSON, nullable=False),  # {"dt": "2026-11-26", "region": "eu"}
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("table_id", "path", name="uq_partitions_table_path"),
)

files = sa.Table(
    "files",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("table_id", sa.Integer, sa.ForeignKey("tables.id"), nullable=False),
    sa.Column("partition_id", sa.Integer, sa.ForeignKey("partitions.id"), nullable=False),
    sa.Column("key", sa.Text, nullable=False, unique=True),
    # The lake key its delivery asked for; differs from ``key`` when that name held other content.
    sa.Column("delivered_as", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("row_count", sa.BigInteger, nullable=False),
    # The sum of its rows' hashes as queries read them (exact, as text; CSV and JSON), from the
    # read that cataloged it: its Parquet copy is checked against this. NULL: not known.
    sa.Column("row_hash", sa.String(48), nullable=True),
    sa.Column("schema_fingerprint", sa.String(64), nullable=False),
    sa.Column("format", sa.String(32), nullable=False),  # csv | json | parquet
    sa.Column("options", sa.JSON, nullable=False),  # delimiter, quote, header, compression, ...
    sa.Column("columns", sa.JSON, nullable=False),  # this file's own columns: name, original, type
    # A derived Parquet copy queries read instead (of files the engine cannot read in place):
    # its key, hash and state.
    sa.Column("derived_key", sa.Text, nullable=True),
    sa.Column("derived_sha256", sa.String(64), nullable=True),
    sa.Column("derived_state", sa.String(32), nullable=True),
    # Per column {"min", "max", "nulls"} (by lakegate name): from Parquet footers, or computed
    # in the crawler's read of CSV and JSON. Values are JSON text or numbers; unknown: absent.
    sa.Column("stats", sa.JSON, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("changed_in", sa.BigInteger, nullable=False, server_default="0"),  # the table's generation
    sa.Index("ix_files_table_sha", "table_id", "sha256"),
    sa.Index("ix_files_table_changed", "table_id", "changed_in"),
    sa.Index("ix_files_delivered_as", "delivered_as"),
)

# Lake files taken out of their table — replaced by a newer delivery, past retention, or in a
# dropped table — and kept in the archive area until an explicit purge.
archived_files = sa.Table(
    "archived_files",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("lake_key", sa.Text, nullable=False),  # where it was
    sa.Column("archive_key", sa.Text, nullable=False, unique=True),  # where it is kept
    sa.Column("database", sa.String(255), nullable=False),
    sa.Column("table", sa.String(255), nullable=False),
    sa.Column("partition_path", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("row_count", sa.BigInteger, nullable=False),
    sa.Column("cause", sa.String(32), nullable=False),  # replaced | retention | dropped
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("object_id", sa.Integer, nullable=True),  # the delivery that replaced it
    # archiving: out of the table, the move not yet done | archived | purging | purged
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("archived_at", sa.Float, nullable=False),
    sa.Column("purged_at", sa.Float, nullable=True),
    sa.Index("ix_archived_files_state", "state"),
)

objects = sa.Table(
    "objects",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source_key", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("mtime_ns", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=True),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("database", sa.String(255), nullable=True),
    sa.Column("table", sa.String(255), nullable=True),
    sa.Column("partition_path", sa.Text, nullable=True),
    sa.Column("target_key", sa.Text, nullable=True),
    sa.Column("plan", sa.JSON, nullable=True),  # what the crawler found: format, options, columns, rows
    sa.Column("reason_code", sa.String(64), nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("reason_details", sa.JSON, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    # Several nodes on one catalog: the node that holds the object (the last one, once it is
    # final), since when, until when its lease runs unless renewed, and the claim's number, which
    # every transition checks (a node whose claim was taken over can change nothing).
    sa.Column("claimed_by", sa.String(255), nullable=True),
    sa.Column("claimed_at", sa.Float, nullable=True),
    sa.Column("claim_epoch", sa.Integer, nullable=False, server_default="0"),
    sa.Column("lease_until", sa.Float, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Index("ix_objects_source_active", "source_key", "active"),
    # one delivery of a landing key at a time, whichever node records it
    sa.Index(
        "ux_objects_one_active",
        "source_key",
        unique=True,
        postgresql_where=sa.text("active"),
        sqlite_where=sa.text("active"),
    ),
    sa.Index("ix_objects_state", "state"),
    sa.Index("ix_objects_target", "target_key"),  # the delivery of a lake file (lineage, acceleration)
)

# Who may use lakegate: users and service accounts, each with a role.
principals = sa.Table(
    "principals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),  # user | service
    sa.Column("role", sa.String(16), nullable=False),  # admin | analyst | provider
    sa.Column("workgroup", sa.String(255), nullable=True),
    sa.Column("landing_prefix", sa.Text, nullable=True),  # where a provider may upload
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    # SCRAM-SHA-256: one salt and iteration count for all of the principal's tokens
    sa.Column("salt", sa.String(64), nullable=False),
    sa.Column("iterations", sa.Integer, nullable=False),
    sa.Column("declared", sa.Boolean, nullable=False, server_default=sa.false()),  # by lakegate.yaml
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("disabled_at", sa.Float, nullable=True),
)

# API tokens, kept only as SCRAM verifiers (the token itself is shown once, at creation).
tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),  # the token's public id
    sa.Column("principal_id", sa.Integer, sa.ForeignKey("principals.id"), nullable=False),
    sa.Column("stored_key", sa.String(64), nullable=False),
    sa.Column("server_key", sa.String(64), nullable=False),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=True),
    sa.Column("revoked_at", sa.Float, nullable=True),
    sa.Column("last_used_at", sa.Float, nullable=True),
    # token: an API token (SCRAM verifier above); aws: an AWS access key id (auth/aws_keys.py)
    sa.Column("kind", sa.String(8), nullable=False, server_default="token"),
    sa.Index("ix_tokens_principal", "principal_id"),
)

# What admins wrote about tables and their columns (kept apart from ``columns``, which each
# schema version rewrites). ``column`` is "" for the table itself.
descriptions = sa.Table(
    "descriptions",
    metadata,
    sa.Column("table_id", sa.Integer, sa.ForeignKey("tables.id"), primary_key=True),
    sa.Column("column", sa.String(255), primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("set_by", sa.String(255), nullable=False),
    sa.Column("set_at", sa.Float, nullable=False),
)

# What principals may read: a database (table "*") or a table, to a principal or a workgroup,
# with an optional column list (included or excluded) and an optional row filter.
grants = sa.Table(
    "grants",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("grantee_kind", sa.String(16), nullable=False),  # principal | workgroup
    sa.Column("grantee", sa.String(255), nullable=False),
    sa.Column("database", sa.String(255), nullable=False),
    sa.Column("table", sa.String(255), nullable=False),  # "*": every table of the database
    sa.Column("columns", sa.JSON, nullable=True),  # None: every column
    sa.Column("exclude", sa.Boolean, nullable=False, server_default=sa.false()),  # columns are left out
    sa.Column("row_filter", sa.Text, nullable=True),  # a SQL predicate over the table's columns
    sa.Column("granted_by", sa.String(255), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("ix_grants_grantee", "grantee_kind", "grantee"),
)

# Every query, as the audit log of who read what: kept, never deleted by analysts.
queries = sa.Table(
    "queries",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("principal", sa.String(255), nullable=False),
    sa.Column("workgroup", sa.String(255), nullable=True),
    sa.Column("via", sa.String(16), nullable=False),  # http | cli
    sa.Column("sql", sa.Text, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # QUEUED RUNNING SUCCEEDED FAILED CANCELLED
    sa.Column("error_code", sa.String(64), nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("tables", sa.JSON, nullable=True),  # database.table names it read
    sa.Column("rows", sa.BigInteger, nullable=True),
    sa.Column("bytes_scanned", sa.BigInteger, nullable=True),
    # answered by the kept result of an identical earlier query (query/result_cache.py)
    sa.Column("reused", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("submitted_at", sa.Float, nullable=False),
    sa.Column("started_at", sa.Float, nullable=True),
    sa.Column("finished_at", sa.Float, nullable=True),
    # Several nodes: the node running it, whether a cancel was asked (any node may take the
    # request; the runner sees it), its workgroup slot's lease, where its result is kept.
    sa.Column("node", sa.String(255), nullable=True),
    sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("lease_until", sa.Float, nullable=True),
    sa.Column("result_key", sa.Text, nullable=True),
    sa.Column("cancel_key", sa.String(64), nullable=True),  # a hash of a PostgreSQL client's cancel key
    sa.Column("engine", sa.String(16), nullable=True),  # the engine that ran it: duckdb, spark
    # Athena's front end: the client's ClientRequestToken (a repeat finds the same query) and
    # what GetQueryExecution says of it (database, statement type, parameters, reuse)
    sa.Column("request_token", sa.String(128), nullable=True),
    sa.Column("athena", sa.JSON, nullable=True),
    sa.Index("ix_queries_principal", "principal", "submitted_at"),
    sa.Index("ix_queries_request_token", "principal", "request_token", unique=True),
    sa.Index("ix_queries_workgroup", "workgroup", "submitted_at"),
    sa.Index("ix_queries_state", "state", "workgroup"),
    sa.Index("ix_queries_cancel_key", "cancel_key"),
)

# The lakegate nodes sharing this catalog (``lakegate nodes``): each renews its heartbeat;
# one whose heartbeat is older than a lease is gone, and its work is taken over.
nodes = sa.Table(
    "nodes",
    metadata,
    sa.Column("id", sa.String(255), primary_key=True),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("roles", sa.String(32), nullable=False),  # all | ingest | query
    sa.Column("version", sa.String(32), nullable=False),
    sa.Column("home", sa.Text, nullable=False),
    sa.Column("storage", sa.String(16), nullable=False),  # s3 | local
    sa.Column("http_url", sa.Text, nullable=True),
    sa.Column("pg_url", sa.Text, nullable=True),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("heartbeat_at", sa.Float, nullable=False),
    sa.Column("stopped_at", sa.Float, nullable=True),
)

# Workgroup turns across nodes: one row per query running (or ``waiting`` for its turn), with a
# lease its node renews (auth/slots.py); a row whose lease ran out belongs to a dead node.
query_slots = sa.Table(
    "query_slots",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("workgroup", sa.String(255), nullable=False),
    sa.Column("node", sa.String(255), nullable=False),
    sa.Column("waiting", sa.Boolean, nullable=False),
    sa.Column("since", sa.Float, nullable=False),
    sa.Column("lease_until", sa.Float, nullable=False),
    sa.Index("ix_query_slots_workgroup", "workgroup", "since"),
)

# Limits shared by the principals of a workgroup.
workgroups = sa.Table(
    "workgroups",
    metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("timeout_seconds", sa.Float, nullable=False),
    sa.Column("max_bytes_scanned", sa.BigInteger, nullable=True),
    sa.Column("max_rows", sa.BigInteger, nullable=True),
    sa.Column("max_concurrent", sa.Integer, nullable=False),
    sa.Column("max_queued", sa.Integer, nullable=False),
    sa.Column("memory_limit", sa.String(32), nullable=True),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("engine", sa.String(16), nullable=False, server_default="duckdb"),  # duckdb | spark | auto
)

# Signed-in web console sessions: the cookie's secret is kept only as its SHA-256; each session
# rests on the token it was opened with (revoking or expiring that token ends it).
sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),  # sha256 hex of the cookie's secret
    sa.Column("token_id", sa.String(16), sa.ForeignKey("tokens.id"), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),  # sent back in X-CSRF-Token on every change
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Index("ix_sessions_token", "token_id"),
)

# Queries a principal kept under a name, for the console's "saved" list.
saved_queries = sa.Table(
    "saved_queries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("principal", sa.String(255), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("sql", sa.Text, nullable=False),
    sa.Column("dialect", sa.String(16), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.UniqueConstraint("principal", "name", name="uq_saved_queries_principal_name"),
)

# Athena's named queries and prepared statements, each principal's own within a workgroup
# (Athena shares them in a workgroup; lakegate keeps tenants apart).
named_queries = sa.Table(
    "named_queries",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),  # a UUID, as Athena's NamedQueryId
    sa.Column("principal", sa.String(255), nullable=False),
    sa.Column("workgroup", sa.String(255), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("database", sa.String(255), nullable=False),
    sa.Column("sql", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("ix_named_queries_principal", "principal", "workgroup"),
)

prepared_statements = sa.Table(
    "prepared_statements",
    metadata,
    sa.Column("principal", sa.String(255), primary_key=True),
    sa.Column("workgroup", sa.String(255), primary_key=True),
    sa.Column("name", sa.String(256), primary_key=True),
    sa.Column("sql", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("updated_at", sa.Float, nullable=False),
)
