"""What became of a delivered object, as the pipeline reports it, and the rejections a
file's judge process ending badly turns into."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from lakegate.catalog import records as r
from lakegate.errors import LakegateError, Rejection
from lakegate.ingest.judge_worker import JudgeCrashed

MAX_INTERNAL_ATTEMPTS = 3


OutcomeKind = Literal[
    "accepted", "quarantined", "duplicate", "vanished", "replayed", "replay postponed", "retaken"
]


# the kind of the outcome an object in a final state reports
KINDS: dict[str, OutcomeKind] = {
    r.DONE: "accepted", r.QUARANTINED: "quarantined", r.SKIPPED: "duplicate", r.VANISHED: "vanished",
    r.REPLAYED: "replayed",
}  # fmt: skip


@dataclass
class Outcome:
    """What happened to one object, reported once it reached a final state (or, ``retaken``
    and ``replay postponed``, that it will be taken again)."""

    kind: OutcomeKind
    source_key: str
    table: str = ""
    partition: str = ""
    rows: int = 0
    target_key: str = ""
    reason_code: str = ""
    reason: str = ""
    schema_diff: dict[str, Any] | None = field(default=None)  # {version, diff} of a change it made
    warnings: list[str] = field(default_factory=list)  # of the dataset's `warn` rules
    object_id: int = 0  # its id in the ledger (`lakegate quarantine show ID` for a quarantined one)


def crashed(exc: JudgeCrashed) -> Rejection:
    """The verdict on a file whose reading killed (or outlasted) the process reading it."""
    if exc.code == "ingest.judge_timeout":
        return Rejection(
            f"{exc.message}; it was stopped",
            code="reject.too_slow",
            hint="split the file, or raise ingest.judge_timeout_seconds, then replay it",
            details=exc.details,
        )
    return Rejection(
        f"{exc.message} (lakegate and other files were not affected). A document nested "
        "thousands of levels deep, or a file built to exhaust a reader, does this",
        code="reject.crashed_worker",
        hint="check the file's structure; replay it once it is fixed",
    )


def out_of_memory(exc: LakegateError) -> Rejection:
    return Rejection(
        f"{exc.message}, {MAX_INTERNAL_ATTEMPTS} times, each in a fresh process",
        code="reject.memory_limit",
        hint="split the file, or raise ingest.judge_memory_mb, then replay it",
    )
