"""Every check a routed file passes once its content is sniffed — shared by the judge process
(``judge_worker.py``) and `lakegate rules test`, so a dry run judges exactly as ingest does.

Kept light (no catalog, no HTTP): the judge process starts with it loaded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO

from lakegate.crawler.detect import Detected
from lakegate.crawler.infer import read_and_infer
from lakegate.duck.readers import FilePlan
from lakegate.errors import Rejection
from lakegate.ingest.routing import Route, Verdicts
from lakegate.ingest.rules import Content, Facts
from lakegate.ingest.rules.extension import mismatch


def check_partition_clash(plan: FilePlan, route: Route) -> None:
    """Raises: Rejection ``reject.partition_column_clash`` when a column is named like a partition key."""
    clash = [c.original for c in plan.columns if c.name in route.partition]
    if clash:
        raise Rejection(
            f"the file has a column named like its partition folder: {', '.join(clash)}",
            code="reject.partition_column_clash",
            hint="rename the column or the key=value folder",
            details={"columns": clash},
        )


@dataclass
class Judged:
    """A file that passed every check, as the engine reads it."""

    plan: FilePlan
    warnings: list[str]  # the crawler's, then those of the dataset's ``warn`` rules
    readable: str  # what the engine read: the delivered file, or a temporary readable copy of it
    copy_reason: str  # why queries read a derived Parquet copy ("": they read the file itself)


@contextmanager
def judged(
    conn: Any,
    route: Route,
    read_from: str,
    *,
    key: str,
    size: int,
    detected: Detected,
    verdicts: Verdicts | None = None,
    source: Callable[[], BinaryIO] | None = None,
    copy_to: str | None = None,
) -> Iterator[Judged]:
    """Every check a routed file passes once its content is sniffed: the dataset's formats, the
    schema, partition columns and the dataset's rules. The pipeline and `lakegate rules test`
    both use it, so a dry run judges exactly as ingest does. A file the engine cannot read in
    place is judged from a readable temporary copy, there until the context exits.

    ``source`` opens the delivered file when ``read_from`` is a URL. ``copy_to``: a CSV or JSON
    file read in place has its Parquet copy written there in the full read (the plan's ``copy``).

    Raises:
        Rejection: the first check the file fails.
    """
    dataset = route.dataset
    if dataset is not None:
        dataset.check_content(detected.format, detected.compression)
    screen = dataset.screen if dataset else None
    sheet = dataset.sheet if dataset else ""
    yes_no = bool(dataset and dataset.yes_no)
    with ExitStack() as stack:
        ready, plan = read_and_infer(
            stack, conn, read_from, detected, size, source=source, screen=screen, sheet=sheet, yes_no=yes_no,
            copy_to=copy_to,
        )  # fmt: skip
        path = ready.path
        check_partition_clash(plan, route)
        warnings = ready.notes + plan.warnings
        named = mismatch(key, detected, strict=False)
        if named is not None and not (dataset and any(r["check"] == "extension" for r in dataset.rules)):
            warnings.append(f"{named.message} (read by its content)")
        if dataset is not None:
            arrival = route.arrival or dt.datetime.now(dt.UTC)
            facts = Facts(key, size, detected, plan, arrival, route.fields, Content(conn, path))
            warnings += dataset.judge(facts, verdicts)
        yield Judged(plan, warnings, path, ready.reason)
