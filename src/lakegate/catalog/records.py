"""Plain records the catalog hands out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypedDict

from lakegate.schema import Column

# The object ledger's states. Each arrow is one committed transition.
#   landed → validated → copied → cataloged → done
#   landed | validated | copied → rejected → quarantine_copied → quarantined
#        (from copied: the table's schema or duplicate policy refused it at registration)
#   validated | copied → duplicate → skipped        (identical content already in the table)
#   any → vanished                                   (the landing object disappeared before it was taken)
#   landed … cataloged | quarantine_copied | duplicate → abandoning → abandoned
#        (a local landing file changed after it was read: what that attempt made is undone, and the
#         file goes back to landing, where it is taken again once its writer is done)
#   quarantined → purged                             (`lakegate quarantine purge`: the copy is deleted)
#   quarantined → replaying → replayed               (`lakegate quarantine replay`: back to landing, where
#               ↖────────────┘ (postponed)            it is a new delivery; postponed if the key is taken)
LANDED: Final = "landed"
VALIDATED: Final = "validated"
COPIED: Final = "copied"
CATALOGED: Final = "cataloged"
DONE: Final = "done"
REJECTED: Final = "rejected"
QUARANTINE_COPIED: Final = "quarantine_copied"
QUARANTINED: Final = "quarantined"
DUPLICATE: Final = "duplicate"
SKIPPED: Final = "skipped"
VANISHED: Final = "vanished"
PURGED: Final = "purged"
REPLAYING: Final = "replaying"
REPLAYED: Final = "replayed"
ABANDONING: Final = "abandoning"
ABANDONED: Final = "abandoned"
State = Literal[
    "landed", "validated", "copied", "cataloged", "done", "rejected", "quarantine_copied", "quarantined",
    "duplicate", "skipped", "vanished", "purged", "replaying", "replayed", "abandoning", "abandoned",
]  # fmt: skip
TERMINAL: frozenset[State] = frozenset({DONE, QUARANTINED, SKIPPED, VANISHED, PURGED, REPLAYED, ABANDONED})

# An archived lake file's states: out of its table, being moved → archived → (explicit purge) purged;
# missing: it was gone from the lake before it could be moved (deleted by hand).
ARCHIVING = "archiving"
ARCHIVED = "archived"
PURGED_FILE = "purged"
MISSING_FILE = "missing"


class LedgerPlan(TypedDict, total=False):
    """What the pipeline found and decided about an object, kept with it in the ledger (JSON):
    the file as read, where it goes, and what registering it must honour."""

    format: str  # csv | json | parquet | xlsx
    options: dict[str, Any]  # the reader's options (dialect, encoding, null tokens...)
    columns: list[dict[str, Any]]  # Column.as_dict() of each
    rows: int
    row_hash: str | None  # the sum of its rows' hashes, when the full read took it
    stats: dict[str, dict[str, Any]]  # per column: nulls, min, max
    size: int
    etag: str | None
    identity: list[int]  # what the landing file was when read: size, mtime, inode
    partition: dict[str, str]  # partition key -> value
    location: str  # the table's folder in the lake
    dataset: str | None  # the dataset whose rules took it
    warnings: list[str]  # of its `warn` rules
    delivered_as: str  # the lake key it was delivered under (before a suffix for new content)
    duplicates: str  # the dataset's duplicate policy
    schema_evolution: str  # the table's schema policy
    # a derived copy queries read: {"key", "why"}; one made for speed in the judging read has
    # "accelerated": true and its "sha256" too
    derived: dict[str, Any] | None
    schema_change: dict[str, Any]  # {version, diff}: the schema version registering it made


@dataclass
class ObjectRecord:
    """One landed object in the ledger."""

    id: int
    source_key: str
    size: int
    mtime_ns: int
    state: State
    sha256: str | None = None
    database: str | None = None
    table: str | None = None
    partition_path: str | None = None
    target_key: str | None = None
    plan: LedgerPlan | None = None
    reason_code: str | None = None
    reason: str | None = None
    reason_details: dict[str, Any] | None = None
    attempts: int = 0
    created_at: float = 0.0
    updated_at: float = 0.0
    claimed_by: str | None = None  # the node holding it (the last one, once final)
    claim_epoch: int = 0  # the claim it was read under: a transition needs it unchanged

    @property
    def qualified_table(self) -> str:
        return f"{self.database}.{self.table}"


@dataclass(frozen=True)
class Claimant:
    """Who takes ledger objects: a node (its id) and how long its claim lasts unless renewed."""

    node: str
    lease_seconds: float = 30.0


@dataclass(frozen=True)
class FileRecord:
    key: str
    size: int
    sha256: str
    row_count: int
    format: str
    options: dict[str, Any]
    columns: list[Column]
    partition: dict[str, str]
    derived_key: str | None = None  # a current derived Parquet copy, which queries read instead
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)  # per column: min, max, nulls
    accelerated: bool = False  # the copy is for speed only: the delivered file reads the same in place


@dataclass
class TableInfo:
    """A table as queries and listings see it."""

    id: int
    database: str
    name: str
    location: str
    schema_version: int
    columns: list[Column]
    partition_keys: list[str]
    files: list[FileRecord] = field(default_factory=list)
    row_count: int = 0
    file_count: int = 0
    total_bytes: int = 0

    @property
    def qualified(self) -> str:
        return f"{self.database}.{self.name}"


@dataclass(frozen=True)
class TableVersion:
    version: int
    columns: list[Column]
    partition_keys: list[str]
    diff: dict[str, Any]
    cause: str
    created_at: float


@dataclass(frozen=True)
class PartitionInfo:
    path: str
    values: dict[str, str]
    file_count: int
    row_count: int
    total_bytes: int


@dataclass(frozen=True)
class Registration:
    """What one catalog commit changed, for status lines."""

    table: str
    partition: str
    rows: int
    schema_version: int
    schema_diff: dict[str, Any] | None
    duplicate_of: str | None = None


@dataclass(frozen=True)
class ArchivedFile:
    """A lake file taken out of its table (replaced, expired or dropped), kept in the archive."""

    id: int
    lake_key: str
    archive_key: str
    database: str
    table: str
    partition_path: str
    size: int
    sha256: str
    row_count: int
    cause: str  # replaced | retention | dropped
    reason: str
    object_id: int | None
    state: str
    archived_at: float
    purged_at: float | None
