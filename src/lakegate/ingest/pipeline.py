"""The per-object state machine: validate, organize, catalog, and only then remove the landing copy.

Each step is idempotent and its result is committed to the ledger before the next begins, so
a crash anywhere resumes from the last committed state without losing or doubling anything:

    landed ──validate──► validated ──copy+verify──► copied ──register──► cataloged ──remove──► done
       │                     │                         │
       └──────reject─────────┴──► rejected ◄───────────┤ (the table changed since validation:
                             │       │                 │  its schema or duplicate policy refuses it)
                             │       └──copy+verify──► quarantine_copied ──remove──► quarantined
                             └────────────────duplicate ──remove──► skipped

A delivery that replaces a file (duplicate policy ``replace``) takes it out of the table in the
same commit as its own registration; before its landing copy is removed, the replaced file is
moved to the archive area (``archive.py``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from lakegate import duck
from lakegate.catalog import Catalog, ObjectRecord
from lakegate.catalog import records as r
from lakegate.catalog.records import Claimant, LedgerPlan
from lakegate.crawler.detect import HEAD_BYTES, detect
from lakegate.errors import LakegateError, Rejection, StorageError
from lakegate.ingest import faults, judge_worker
from lakegate.ingest.archive import Archive
from lakegate.ingest.judge_worker import Job, JudgeCrashed
from lakegate.ingest.landing_files import (
    ABANDONED_REASON,
    Spool,
    arrival_of,
    being_written,
    copy_verified,
    identity,
    spooled,
    unterminated,
)
from lakegate.ingest.outcomes import (
    KINDS,
    MAX_INTERNAL_ATTEMPTS,
    Outcome,
    OutcomeKind,
    crashed,
    out_of_memory,
)
from lakegate.ingest.routing import LANDING, Route, Router
from lakegate.keys import held_key, name_problem, storable, with_suffix
from lakegate.storage import ObjectStore
from lakegate.storage.base import Scan

logger = logging.getLogger(__name__)

QUARANTINE = "quarantine/"
REPLAY_GRACE_SECONDS = 30.0  # a replay that has not finished this long after it began was cut short


class Pipeline:
    """Moves one landed object through its states. Safe to call from several threads."""

    def __init__(
        self,
        catalog: Catalog,
        store: ObjectStore,
        *,
        router: Router | None = None,
        on_outcome: Callable[[Outcome], None] | None = None,
        judges: judge_worker.Judges | None = None,
        claimant: Claimant | None = None,
    ) -> None:
        self.catalog = catalog
        # who this pipeline takes objects as: the node's id (every process of a node shares it)
        self.claimant = claimant or Claimant(f"{socket.gethostname()}:{os.getpid()}")
        self.store = store
        self.router = router or Router([])
        self.on_outcome = on_outcome or (lambda _o: None)
        self.judges = judges or judge_worker.shared()  # where delivered files are parsed
        self._resumed = threading.local()

    def warm_up(self) -> None:
        """Start this thread's judge process now rather than on the first delivery."""
        self.judges.warm_up()

    # -- entry points -----------------------------------------------------------------------

    def process(self, key: str) -> ObjectRecord | None:
        """Take the landing object ``key`` through to a final state; None when there is nothing
        to take or another node holds it (``Ledger.land``).

        The object is read once, before it is recorded: that read gives the size and time the
        ledger keeps and, for a new object, everything validation needs. A local file, which a
        writer may still change, is first held (renamed out of its writers' reach) and read
        there; see ``_validate_held``.
        """
        problem = name_problem(key)
        if problem is not None:
            return self._refuse_name(key, problem)
        if self.store.written_in_place(key):
            return self._process_local(key)
        active = self.catalog.active_for(key)
        if active is not None and active.claimed_by != self.claimant.node:
            # another node may hold it (then it is not read here at all), or its lease ran out
            return self.resume(active)
        with spooled(self.store, key) as spool:
            scan = self._scan(key, spool)
            if scan is None:
                # Gone from landing: perhaps a crash after its removal, before the final commit.
                active = self.catalog.active_for(key)
                return None if active is None else self.resume(active)
            obj = self.catalog.land(key, scan.size, scan.mtime_ns, self.claimant)
            if obj is not None and obj.state == r.REPLAYING:
                self._replay_interrupted(obj)
                self.advance(obj)  # a replay a crash interrupted; what it put back is a new delivery
                obj = self.catalog.land(key, scan.size, scan.mtime_ns, self.claimant)
            if obj is None:
                return None  # another node holds it
            if obj.state != r.LANDED:
                return self.advance(obj)  # resuming an earlier run's record
            obj = self._validated(obj, scan, spool)
            faults.checkpoint(obj.state)
        return self.advance(obj, resumed=False)

    def _refuse_name(self, key: str, problem: str) -> ObjectRecord | None:
        """Quarantine ``key``, whose name cannot be kept (``name_problem``), under a name that can:
        it is recorded as ``storable(key)``, and a local file is moved to the hidden name that
        record holds before it goes to quarantine. Never an endless retry.
        """
        safe = storable(key)
        try:
            scan = self.store.scan(key)
        except StorageError as exc:
            if exc.code == "storage.not_found":
                return None
            raise
        obj = self.catalog.land(safe, scan.size, scan.mtime_ns, self.claimant)
        if obj is None:
            return None  # another node holds it
        if obj.state == r.LANDED:
            refused = Rejection(
                f"lakegate cannot keep this file under its name: {problem}",
                code="reject.name",
                hint="deliver it again under a shorter name, in UTF-8",
                details={"name": safe},
            )
            obj = self._reject(obj, refused, scan)
        if self.store.written_in_place(key) and obj.state == r.REJECTED:
            self.store.hold(key, held_key(safe, obj.id))
        elif obj.state == r.REJECTED:
            obj = replace(obj, source_key=key)  # an object store copies it by its own key
        return self.advance(obj)

    def _process_local(self, key: str) -> ObjectRecord | None:
        """``process`` for a local landing file: an unfinished delivery of ``key`` goes first (a
        new file under its name waits its turn), then the file there is recorded and taken."""
        active = self.catalog.active_for(key)
        if active is not None:
            if active.state == r.REPLAYING:
                self._replay_interrupted(active)
            done = self.resume(active)
            if done is None or done.state != r.REPLAYED:
                return done
            # a replay a crash interrupted put the file back: it is a new delivery
        info = self.store.stat(key)
        if info is None:
            return None
        obj = self.catalog.land(key, info.size, info.mtime_ns, self.claimant)
        return None if obj is None else self.advance(obj, resumed=False)

    def resume(self, obj: ObjectRecord) -> ObjectRecord | None:
        """Claim ``obj`` (an unfinished ledger record) and run it to a final state; None when
        another node holds it or it was finished meanwhile."""
        claimed = self.catalog.claim(obj, self.claimant)
        return None if claimed is None else self.advance(claimed)

    @staticmethod
    def _replay_interrupted(obj: ObjectRecord) -> None:
        """Raises ``ingest.replaying`` (transient) while the replay that puts ``obj`` back in
        landing is young: whoever began it (the console, `lakegate quarantine replay`) finishes it.
        An old one was interrupted, and is finished here."""
        if time.time() - obj.updated_at < REPLAY_GRACE_SECONDS:
            raise LakegateError(
                f"{obj.source_key} is being put back in landing by a replay; it is taken next",
                code="ingest.replaying",
                transient=True,
            )

    def advance(self, obj: ObjectRecord, *, resumed: bool = True) -> ObjectRecord:
        """Run ``obj`` from its current state to a final one (raises on transient failures).

        ``resumed``: the record comes from the ledger, so its next step may find its work done.
        """
        steps: dict[str, Callable[[ObjectRecord], ObjectRecord]] = {
            r.LANDED: self._validate,
            r.VALIDATED: self._organize,
            r.COPIED: self._register,
            r.CATALOGED: self._finish,
            r.REJECTED: self._quarantine,
            r.QUARANTINE_COPIED: self._finish,
            r.DUPLICATE: self._finish,
            r.REPLAYING: self._replay,
            r.ABANDONING: self._abandoned,
        }
        while obj.state not in r.TERMINAL:
            self._resumed.value = resumed
            obj = steps[obj.state](obj)
            resumed = False  # later steps follow this process's own commits
            faults.checkpoint(obj.state)
        return obj

    # -- steps ------------------------------------------------------------------------------

    def _validate(self, obj: ObjectRecord) -> ObjectRecord:
        if self.store.written_in_place(obj.source_key):
            return self._validate_held(obj)
        with spooled(self.store, obj.source_key) as spool:
            scan = self._scan(obj.source_key, spool)
            return self._vanish(obj) if scan is None else self._validated(obj, scan, spool)

    def _validate_held(self, obj: ObjectRecord) -> ObjectRecord:
        """Hold a local file, then judge it once no process has it open for writing.

        Held, it has a hidden name: a writer that opens the landing name from now on makes a new
        file there (a new delivery), never changes this one. One that had it open already is
        waited for (``ingest.being_written``: the service tries again shortly).
        """
        held = held_key(obj.source_key, obj.id)
        if self.store.hold(obj.source_key, held) is None:
            return self._vanish(obj)
        if self.store.being_written(held):
            raise being_written(obj.source_key)
        scan = self._scan(held, None)
        return self._vanish(obj) if scan is None else self._validated(obj, scan, None)

    def _source(self, obj: ObjectRecord) -> str:
        """Where the object being taken is read: its landing key, or the name it is held under."""
        key = obj.source_key
        return held_key(key, obj.id) if self.store.written_in_place(key) else key

    def _scan(self, key: str, spool: Spool | None) -> Scan | None:
        """The one read of a landing object (``None`` when it is gone)."""
        try:
            return self.store.scan(key, HEAD_BYTES, 16, spool)
        except StorageError as exc:
            if exc.code == "storage.not_found":
                return None
            raise

    def _validated(self, obj: ObjectRecord, scan: Scan, spool: Spool | None) -> ObjectRecord:
        """Judge a landed object from its scan; accepted, rejected or duplicate, committed."""
        if scan.link:
            points_to = scan.head.decode(errors="replace")
            refused = Rejection(
                f"{obj.source_key} is a symbolic link to {points_to!r}; lakegate never reads, takes "
                "or deletes what a link points at",
                code="reject.symlink",
                hint="deliver the file itself (copy it into landing), not a link to it",
                details={"points_to": points_to},
            )
            return self._reject(obj, refused, scan)
        if spool is not None and not spool.overflow:
            spool.file.flush()
            read_from = spool.file.name
        else:
            read_from = self.store.url(self._source(obj))
        try:
            return self._judge(obj, scan, read_from)
        except Rejection as rejection:
            return self._reject(obj, rejection, scan)
        except JudgeCrashed as exc:
            if exc.code != "ingest.judge_timeout" and obj.attempts < 1:
                # once more, in a fresh process: a verdict only on a crash the file repeats
                self.catalog.bump_attempts(obj, exc.message)
                raise JudgeCrashed(exc.message, code=exc.code, transient=True) from None
            return self._reject(obj, crashed(exc), scan)
        except StorageError:
            raise
        except LakegateError as exc:
            if exc.code == "ingest.judge_memory":
                if obj.attempts + 1 >= MAX_INTERNAL_ATTEMPTS:
                    return self._reject(obj, out_of_memory(exc), scan)
                self.catalog.bump_attempts(obj, exc.message)
                raise
            if exc.transient:
                raise
            return self._reject(obj, Rejection(str(exc), code="reject.invalid"), scan)
        except Exception as exc:
            # A bug must not lose the file or stop the daemon: retry, then quarantine with the cause.
            logger.exception("unexpected error validating %s", obj.source_key)
            if obj.attempts + 1 >= MAX_INTERNAL_ATTEMPTS:
                reason = Rejection(
                    f"lakegate failed on this file: {type(exc).__name__}: {exc}",
                    code="reject.internal_error",
                    hint="this is a lakegate bug; report it, then replay the file",
                )
                return self._reject(obj, reason, scan)
            self.catalog.bump_attempts(obj, f"{type(exc).__name__}: {exc}")
            raise

    def _judge(self, obj: ObjectRecord, scan: Scan, read_from: str) -> ObjectRecord:
        route = self.router.route(obj.source_key, arrival_of(obj.mtime_ns))
        detected = detect(scan.head, scan.tail if scan.size > 16 else b"", scan.size)
        sha = scan.sha256
        duplicate = self.catalog.duplicate_in_table(route.database, route.table, sha)
        target = route.target_key
        dataset = route.dataset
        derived: dict[str, Any] = {}
        policy = self.router.schema_policy(route)
        if duplicate is None:
            target = self._new_name(route, sha)
        schema = self.catalog.schema(route.database, route.table) if duplicate is None else None
        with tempfile.TemporaryDirectory(prefix="lakegate-derived-") as work:
            setup: list[str] = []
            if "://" in read_from and (detected.format == "xlsx" or detected.compression == "zip"):
                read_from = f"{work}/delivered"  # a large remote workbook or zip: read from a copy
                with self.store.open(self._source(obj)) as remote, open(read_from, "wb") as local:
                    shutil.copyfileobj(remote, local, 1 << 20)
            elif "://" in read_from:  # a large remote object, which the engine reads where it is
                setup = duck.store_statements(self.store, [read_from])
            job = Job(route, read_from, obj.source_key, scan.size, detected, schema, policy,
                      admit=duplicate is None, copy_folder=work, limits=self.judges.limits,
                      setup=tuple(setup), accelerate=self.router.copies_while_judging(route))  # fmt: skip
            found = self.judges.judge(job)
            plan, warnings = found.plan, found.warnings + unterminated(detected, scan)
            derived = judge_worker.store_copy(self.store, found, target, sha)
        decided: LedgerPlan = {
            "format": plan.format,
            "options": plan.options,
            "columns": [c.as_dict() for c in plan.columns],
            "rows": plan.rows,
            "row_hash": plan.row_hash,
            "stats": plan.stats,
            "size": scan.size,
            "etag": scan.etag,
            "identity": identity(scan),
            "partition": route.partition,
            "location": route.location,
            "dataset": dataset.name if dataset else None,
            "warnings": warnings,
            "delivered_as": route.target_key,
            "duplicates": dataset.duplicates if dataset else "keep_both",
            "schema_evolution": policy,
            "derived": derived,
        }
        fields: dict[str, Any] = {
            "size": scan.size,
            "mtime_ns": scan.mtime_ns,
            "sha256": sha,
            "database": route.database,
            "table": route.table,
            "partition_path": route.partition_path,
            "target_key": duplicate or target,
            "plan": decided,
        }
        if duplicate is not None:
            return self.catalog.transition(
                obj, r.DUPLICATE, reason_details={"duplicate_of": duplicate}, **fields
            )
        return self.catalog.transition(obj, r.VALIDATED, **fields)

    def _new_name(self, route: Route, sha: str) -> str:
        """The lake key for new content: the route's, unless the table holds other content there.

        Raises:
            Rejection: ``reject.duplicate_name`` when the dataset's duplicate policy is ``reject``
                and the table has a file delivered under this name.
        """
        target = route.target_key
        if route.dataset is not None and route.dataset.duplicates == "reject":
            earlier = self.catalog.delivered_as(route.database, route.table, target)
            if earlier:
                raise Rejection(
                    f"the table already has a file delivered as {route.filename!r}, with other content, "
                    "and the dataset's duplicate policy is reject",
                    code="reject.duplicate_name",
                    hint="deliver new content under a new name, or set duplicates: keep_both or replace",
                    details={"existing": earlier},
                )
        registered_sha = self.catalog.file_sha(target)
        if registered_sha is not None and registered_sha != sha:
            target = with_suffix(target, sha)  # new content under a known name: a name of its own
        return target

    def _reject(self, obj: ObjectRecord, rejection: Rejection, scan: Scan) -> ObjectRecord:
        identified: LedgerPlan = {**(obj.plan or {}), "identity": identity(scan)}
        return self._rejected(
            replace(obj, plan=identified, size=scan.size, mtime_ns=scan.mtime_ns),
            rejection, scan.sha256, scan.size, scan.etag,
        )  # fmt: skip

    def _rejected(
        self, obj: ObjectRecord, rejection: Rejection, sha: str, size: int, etag: str | None
    ) -> ObjectRecord:
        day = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
        target = f"{QUARANTINE}{day}/{obj.source_key.removeprefix(LANDING)}"
        if self.store.stat(target) is not None:
            # a copy of its own, even of the same content: purging one never takes another's
            target = with_suffix(target, f"{sha[:6]}{obj.id:06d}")
        details = dict(rejection.details)
        if rejection.hint:
            details["hint"] = rejection.hint
        return self.catalog.transition(
            obj,
            r.REJECTED,
            sha256=sha,
            target_key=target,
            reason_code=rejection.code,
            reason=rejection.message,
            reason_details=details,
            plan={**(obj.plan or {}), "size": size, "etag": etag},
            size=size,
            mtime_ns=obj.mtime_ns,
        )

    def _organize(self, obj: ObjectRecord) -> ObjectRecord:
        resumed = getattr(self._resumed, "value", True)
        if not copy_verified(self.store, obj, self._source(obj), resumed=resumed):
            return self._changed(obj)
        return self.catalog.transition(obj, r.COPIED)

    def _changed(self, obj: ObjectRecord) -> ObjectRecord:
        """The source is gone or no longer the version validated: a local file is taken again
        (its attempt undone), an S3 object's new version is a delivery of its own."""
        if self.store.written_in_place(obj.source_key) and self.store.stat(self._source(obj)) is not None:
            return self._abandon(obj)
        return self._vanish(obj)

    def _held_unchanged(self, obj: ObjectRecord) -> bool | None:
        """Whether a held local file is still the version validated (``None``: it is gone, or
        this is not a held file). Raises ``ingest.being_written`` while a process writes it."""
        if not self.store.written_in_place(obj.source_key):
            return None
        held = self._source(obj)
        info = self.store.stat(held)
        if info is None:
            return None
        if self.store.being_written(held):
            raise being_written(obj.source_key)
        expected = (obj.plan or {}).get("identity")
        return expected is None or identity(info) == list(expected)

    def _register(self, obj: ObjectRecord) -> ObjectRecord:
        if self._held_unchanged(obj) is False:
            return self._abandon(obj)  # nothing of it was queryable
        try:
            obj, _registration = self.catalog.register(obj)
        except Rejection as rejection:
            # The table changed since validation (a schema or name another file took): our lake
            # copy was never registered, so it goes, and the delivery goes to quarantine.
            assert obj.target_key and obj.sha256
            if self.catalog.file_sha(obj.target_key) is None:
                self.store.delete(obj.target_key)
                derived = (obj.plan or {}).get("derived")
                if derived:
                    self.store.delete(derived["key"])
            plan = obj.plan or {}
            return self._rejected(
                obj, rejection, obj.sha256, int(plan.get("size", obj.size)), plan.get("etag")
            )
        if obj.state == r.DUPLICATE and obj.target_key and self.catalog.file_sha(obj.target_key) is None:
            self.store.delete(obj.target_key)  # our own unregistered copy of content already there
            derived = (obj.plan or {}).get("derived")
            if derived:
                self.store.delete(derived["key"])
        return obj

    def _quarantine(self, obj: ObjectRecord) -> ObjectRecord:
        resumed = getattr(self._resumed, "value", True)
        if not copy_verified(self.store, obj, self._source(obj), resumed=resumed):
            return self._changed(obj)
        return self.catalog.transition(obj, r.QUARANTINE_COPIED)

    def _finish(self, obj: ObjectRecord) -> ObjectRecord:
        unchanged = self._held_unchanged(obj)
        if unchanged is False:
            return self._abandon(obj)  # changed after it was taken: undone, and taken again
        if obj.state == r.CATALOGED and (obj.plan or {}).get("duplicates") == "replace":
            Archive(self.catalog, self.store).settle(obj.id)  # the file this delivery replaced
        faults.checkpoint("before_remove_source")
        if unchanged:
            self.store.delete(self._source(obj))
        elif not self.store.written_in_place(obj.source_key):
            info = self.store.stat(obj.source_key)
            if info is not None and info.size == obj.size and info.mtime_ns == obj.mtime_ns:
                self.store.delete(obj.source_key)
        # A different object now at the same key is a new delivery: the reconciler will land it.
        final = {r.CATALOGED: r.DONE, r.QUARANTINE_COPIED: r.QUARANTINED, r.DUPLICATE: r.SKIPPED}[obj.state]
        done = self.catalog.transition(obj, final)
        self._report(done)
        return done

    def _replay(self, obj: ObjectRecord) -> ObjectRecord:
        """Put a quarantined object back in landing, where it is taken again as a new delivery.

        Copy back, verify, then delete the quarantine copy and commit ``replayed``. Each step can
        be redone after a crash. A different object already at the key postpones the replay.
        """
        assert obj.target_key and obj.sha256
        try:
            present: str | None = self.store.sha256(obj.source_key)
        except StorageError as exc:
            if exc.code != "storage.not_found":
                raise
            present = None
        if present is not None and present != obj.sha256:
            details = dict(obj.reason_details or {})
            details["replay"] = f"postponed: {obj.source_key} holds another delivery; replay once it is taken"
            done = self.catalog.transition(obj, r.QUARANTINED, reason_details=details)
            self._report(done, kind="replay postponed", reason=details["replay"])
            return done
        if present is None:
            try:
                self.store.copy(obj.target_key, obj.source_key)
            except StorageError as exc:
                if exc.code != "storage.not_found":
                    raise
                # Both copies gone: an earlier run of this step got past the delete below.
            else:
                if self.store.sha256(obj.source_key) != obj.sha256:
                    self.store.delete(obj.source_key)
                    raise StorageError(
                        f"the copy of {obj.target_key} back to {obj.source_key} does not match it",
                        code="storage.verify",
                        transient=True,
                    )
        faults.checkpoint("replay_copied")
        self.store.delete(obj.target_key)
        done = self.catalog.transition(obj, r.REPLAYED)
        self._report(done, reason="back in landing, taken again as a new delivery")
        return done

    def _abandon(self, obj: ObjectRecord) -> ObjectRecord:
        """A held local file changed after it was read: undo this attempt (it leaves the table in
        the same commit, if it was registered) and put the file back in landing."""
        done = self.catalog.abandon(obj, ABANDONED_REASON)
        faults.checkpoint(done.state)
        return self._abandoned(done)

    def _abandoned(self, obj: ObjectRecord) -> ObjectRecord:
        """Delete the copies the abandoned attempt made, then release the held file."""
        plan = obj.plan or {}
        target = obj.target_key
        duplicate_of = (obj.reason_details or {}).get("duplicate_of")
        if target and target != duplicate_of and self.catalog.file_sha(target) is None:
            self.store.delete(target)
            derived = plan.get("derived")
            if derived:
                self.store.delete(derived["key"])
        faults.checkpoint("before_release")
        put_back = self.store.release(self._source(obj), obj.source_key)
        details = {**(obj.reason_details or {}), "released_as": put_back}
        done = self.catalog.transition(obj, r.ABANDONED, reason_details=details)
        self._report(done, kind="retaken")
        return done

    def _vanish(self, obj: ObjectRecord) -> ObjectRecord:
        done = self.catalog.transition(
            obj,
            r.VANISHED,
            reason_code="vanished",
            reason="the landing object disappeared or was replaced before it was taken "
            "(a replacement is taken as a new delivery)",
        )
        self._report(done)
        return done

    def _report(self, obj: ObjectRecord, kind: OutcomeKind | None = None, reason: str = "") -> None:
        plan = obj.plan or {}
        kind = kind or KINDS[obj.state]
        outcome = Outcome(
            kind=kind,
            source_key=obj.source_key,
            table=obj.qualified_table if obj.database else "",
            partition=obj.partition_path or "",
            rows=int(plan.get("rows", 0)),
            target_key=obj.target_key or "",
            reason_code=obj.reason_code or "",
            reason=reason or obj.reason or "",
            warnings=list(plan.get("warnings") or []) if kind == "accepted" else [],
            schema_diff=plan.get("schema_change") if kind == "accepted" else None,
            object_id=obj.id,
        )
        try:
            self.on_outcome(outcome)
        except Exception:
            logger.exception("status callback failed for %s", obj.source_key)
