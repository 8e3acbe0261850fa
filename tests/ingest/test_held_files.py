"""A local landing file is held under a hidden name while it is taken; if it changes anyway, the
attempt is undone — nothing of it stays queryable — and the file is taken again."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakegate.app import App
from lakegate.catalog import records as r
from lakegate.errors import StorageError
from lakegate.ingest.outcomes import Outcome
from lakegate.ingest.pipeline import Pipeline
from lakegate.keys import held_key
from tests.ingest.test_pipeline import Crash, _crash_once_at, landing_keys, rows


def append_to_held(app: App, key: str, data: bytes) -> None:
    [obj] = app.catalog.active_objects()
    path = app.store.area("landing").path(held_key(key, obj.id).removeprefix("landing/"))  # type: ignore[attr-defined]
    with path.open("ab") as out:
        out.write(data)


def test_a_file_is_hidden_while_it_is_taken(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    _crash_once_at(monkeypatch, r.VALIDATED)
    app.store.write("landing/s/t/a.csv", b"id\n1\n")
    with pytest.raises(Crash):
        Pipeline(app.catalog, app.store).process("landing/s/t/a.csv")
    assert landing_keys(app) == []  # neither the watcher nor a listing sees it now
    [held] = [p.name for p in (app.home.landing / "s" / "t").iterdir()]
    assert held.startswith(".lakegate-taking-")


def test_a_held_file_that_changes_before_registration_is_taken_again(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    _crash_once_at(monkeypatch, r.COPIED)
    key = "landing/s/t/a.csv"
    app.store.write(key, b"id\n1\n2\n")
    with pytest.raises(Crash):
        Pipeline(app.catalog, app.store).process(key)
    append_to_held(app, key, b"3\n")  # a writer lakegate could not see (a network file system)
    outcomes: list[Outcome] = []
    pipeline = Pipeline(app.catalog, app.store, on_outcome=outcomes.append)
    for obj in app.catalog.active_objects():
        pipeline.advance(obj)
    assert [o.kind for o in outcomes] == ["retaken"]
    assert app.catalog.table("s", "t") is None  # nothing of it was ever queryable
    assert list(app.store.list("lake/")) == []
    assert landing_keys(app) == [key] and app.store.read(key) == b"id\n1\n2\n3\n"
    [abandoned] = app.catalog.objects_in((r.ABANDONED,))
    assert abandoned.reason_code == "ingest.changed_while_taken"
    pipeline.process(key)
    assert [o.kind for o in outcomes] == ["retaken", "accepted"]
    assert rows(app, "SELECT id FROM s.t ORDER BY id") == [(1,), (2,), (3,)]


def test_a_held_file_that_changes_after_registration_is_rolled_back(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    Pipeline(app.catalog, app.store).process(app.store.write("landing/s/t/a.csv", b"id\n1\n").key)
    _crash_once_at(monkeypatch, r.CATALOGED)
    key = "landing/s/t/b.csv"
    app.store.write(key, b"id,note\n2,x\n")
    with pytest.raises(Crash):
        Pipeline(app.catalog, app.store).process(key)
    assert rows(app, "SELECT count(*) FROM s.t") == [(2,)]  # registered: queryable
    assert [v.version for v in app.catalog.versions("s", "t")] == [1, 2]
    append_to_held(app, key, b"3,y\n")
    outcomes: list[Outcome] = []
    pipeline = Pipeline(app.catalog, app.store, on_outcome=outcomes.append)
    for obj in app.catalog.active_objects():
        pipeline.advance(obj)
    assert [o.kind for o in outcomes] == ["retaken"]
    assert rows(app, "SELECT id FROM s.t") == [(1,)]  # its rows left the table
    assert [v.version for v in app.catalog.versions("s", "t")] == [1]  # and the column it added
    assert [i.key for i in app.store.list("lake/")] == ["lake/s/t/a.csv"]
    pipeline.process(key)
    assert rows(app, "SELECT id, note FROM s.t ORDER BY id") == [(1, None), (2, "x"), (3, "y")]
    assert landing_keys(app) == [] and app.catalog.active_objects() == []


@pytest.mark.parametrize("point", [r.ABANDONING, "before_release"])
def test_abandoning_resumes_after_a_crash(app: App, monkeypatch: pytest.MonkeyPatch, point: str) -> None:
    _crash_once_at(monkeypatch, r.COPIED)
    key = "landing/s/t/a.csv"
    app.store.write(key, b"id\n1\n")
    with pytest.raises(Crash):
        Pipeline(app.catalog, app.store).process(key)
    append_to_held(app, key, b"2\n")
    _crash_once_at(monkeypatch, point)
    with pytest.raises(Crash):
        for obj in app.catalog.active_objects():
            Pipeline(app.catalog, app.store).advance(obj)
    for obj in app.catalog.active_objects():
        Pipeline(app.catalog, app.store).advance(obj)
    Pipeline(app.catalog, app.store).process(key)
    assert rows(app, "SELECT id FROM s.t ORDER BY id") == [(1,), (2,)]
    assert [i.key for i in app.store.list("lake/")] == ["lake/s/t/a.csv"]
    assert landing_keys(app) == [] and app.catalog.active_objects() == []


def test_a_read_that_a_writer_overlaps_is_refused(app: App) -> None:
    key = "landing/s/t/a.csv"
    app.store.write(key, b"id\n" + b"1\n" * (3 << 20))
    path = app.home.landing / "s" / "t" / "a.csv"

    class Appending:  # a writer that appends once, while the first chunk is being read
        done = False

        def write(self, chunk: bytes) -> int:
            if not self.done:
                self.done = True
                with path.open("ab") as out:
                    out.write(b"2\n")
            return len(chunk)

    with pytest.raises(StorageError) as caught:
        app.store.scan(key, spool=Appending())
    assert caught.value.code == "storage.changed_while_read" and caught.value.transient


def test_a_file_open_for_writing_when_held_waits_for_its_writer(app: App) -> None:
    key = "landing/s/t/a.csv"
    path = app.home.landing / "s" / "t" / "a.csv"
    path.parent.mkdir(parents=True)
    writer = path.open("wb")
    writer.write(b"id\n1\n")
    writer.flush()
    try:
        with pytest.raises(Exception) as caught:
            Pipeline(app.catalog, app.store).process(key)
        assert getattr(caught.value, "code", "") == "ingest.being_written"
        writer.write(b"2\n")  # still its writer's: the held file grows
    finally:
        writer.close()
    outcomes: list[Outcome] = []
    Pipeline(app.catalog, app.store, on_outcome=outcomes.append).process(key)
    assert [(o.kind, o.rows) for o in outcomes] == [("accepted", 2)]


def test_a_held_link_is_put_back_as_the_link_it_was(app: App, tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_bytes(b"id\n1\n")
    folder = app.home.landing / "s" / "t"
    folder.mkdir(parents=True)
    (folder / ".lakegate-taking-9").symlink_to(outside)
    landing = app.store.area("landing")
    assert landing.release("s/t/.lakegate-taking-9", "s/t/a.csv") == "s/t/a.csv"
    assert (folder / "a.csv").is_symlink()  # never a hard link to what it points at
    assert outside.stat().st_nlink == 1 and outside.read_bytes() == b"id\n1\n"
