"""What can be done with quarantined objects — list, show, replay, purge — for every front end.

`lakegate quarantine ...` and the HTTP API (``http_api.py``) both call these, so a replay or a
purge means the same thing wherever it is asked for. Nothing delivered is deleted except by
``purge``, which records the purge before deleting, so a crash in between is finished by
purging again.
"""

from __future__ import annotations

from typing import Any

from lakegate.catalog import Catalog, ObjectRecord
from lakegate.catalog import records as r
from lakegate.errors import ConfigError
from lakegate.ingest.pipeline import Pipeline
from lakegate.storage import ObjectStore

LISTED = (r.QUARANTINED, r.REJECTED, r.QUARANTINE_COPIED)  # rejected: still being copied there


class Quarantine:
    def __init__(self, catalog: Catalog, store: ObjectStore) -> None:
        self.catalog = catalog
        self.store = store

    def list(self, reason: str | None = None, limit: int = 1000) -> list[ObjectRecord]:
        """Quarantined objects, newest first; only those with reason code ``reason``, if given."""
        rows = self.catalog.objects_in(LISTED, limit=limit)
        return [o for o in rows if reason is None or o.reason_code == reason]

    def get(self, object_id: int) -> ObjectRecord:
        """A quarantined (or purged) object.

        Raises:
            ConfigError: ``quarantine.unknown`` when there is none with this id.
        """
        obj = self.catalog.get_object(object_id)
        if obj is None or obj.state not in (r.QUARANTINED, r.PURGED):
            raise ConfigError(
                f"no quarantined object with id {object_id}",
                code="quarantine.unknown",
                hint="`lakegate quarantine list` shows the ids",
            )
        return obj

    def replay(self, obj: ObjectRecord, pipeline: Pipeline) -> ObjectRecord:
        """Put ``obj`` back in landing, where it is taken again as a new delivery.

        Returns the record after the replay: ``replayed``, or ``quarantined`` again when it was
        postponed (another delivery holds its key).

        Raises:
            CatalogError: ``quarantine.busy`` (its key is being taken right now) or
                ``catalog.state_conflict`` (it is no longer quarantined).
            ConfigError: ``quarantine.purged`` when it was purged.
        """
        if obj.state == r.PURGED:
            raise ConfigError(
                f"object {obj.id} was purged: there is nothing left to replay",
                code="quarantine.purged",
                hint="deliver the file again",
            )
        return pipeline.advance(self.catalog.begin_replay(obj, pipeline.claimant))

    def purge(self, obj: ObjectRecord) -> ObjectRecord:
        """Delete the quarantined copy of ``obj`` for good."""
        if obj.state != r.PURGED:  # recorded first; purging again finishes a purge a crash cut short
            obj = self.catalog.transition(obj, r.PURGED)
        if obj.target_key:
            self.store.delete(obj.target_key)
        return obj


def describe(obj: ObjectRecord) -> dict[str, Any]:
    """A quarantined object as the HTTP API and `--format json` show it."""
    details = dict(obj.reason_details or {})
    hint = details.pop("hint", None)
    return {
        "id": obj.id,
        "object": obj.source_key,
        "state": obj.state,
        "kept_at": obj.target_key if obj.state != r.PURGED else None,
        "reason_code": obj.reason_code,
        "reason": obj.reason,
        "how_to_fix": hint,
        "details": details,
        "size": obj.size,
        "sha256": obj.sha256,
        "landed_at": obj.created_at,
        "updated_at": obj.updated_at,
    }
