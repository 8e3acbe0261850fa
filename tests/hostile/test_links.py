"""Symbolic links in a drop folder never reach outside it: lakegate neither reads nor deletes
through a link; a link is quarantined (``reject.symlink``) as the link it is."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lakegate.app import App
from lakegate.errors import StorageError
from lakegate.ingest.outcomes import Outcome
from lakegate.ingest.pipeline import Pipeline
from lakegate.ingest.quarantine import Quarantine
from lakegate.storage import LocalStore
from tests.ingest.test_pipeline import landing_keys


def take_all(app: App) -> list[Outcome]:
    outcomes: list[Outcome] = []
    pipeline = Pipeline(app.catalog, app.store, on_outcome=outcomes.append)
    for info in list(app.store.list("landing/")):
        pipeline.process(info.key)
    return outcomes


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "secret.csv").write_bytes(b"user,password\nroot,hunter2\n")
    return folder


def test_a_link_to_a_file_is_quarantined_without_reading_or_deleting_its_target(
    app: App, outside: Path
) -> None:
    link = app.home.landing / "fs" / "x" / "passwd.csv"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside / "secret.csv")
    [outcome] = take_all(app)
    assert outcome.kind == "quarantined" and outcome.reason_code == "reject.symlink"
    assert (outside / "secret.csv").read_bytes() == b"user,password\nroot,hunter2\n"
    assert app.catalog.table("fs", "x") is None
    assert landing_keys(app) == []
    [obj] = Quarantine(app.catalog, app.store).list()
    assert obj.reason_details["points_to"] == str(outside / "secret.csv")
    kept = app.store.area("quarantine").path(obj.target_key.removeprefix("quarantine/"))  # type: ignore[attr-defined]
    assert kept.is_symlink()  # kept as the link it was: nothing of the target was copied
    assert app.store.read(obj.target_key) == os.fsencode(outside / "secret.csv")


def test_a_linked_folder_is_quarantined_and_nothing_in_it_is_taken(app: App, outside: Path) -> None:
    folder = app.home.landing / "db" / "t"
    folder.mkdir(parents=True)
    (folder / "k=1").symlink_to(outside, target_is_directory=True)
    (outside / "later.csv").write_bytes(b"a\n1\n")  # appears in the real folder afterwards
    keys = landing_keys(app)
    assert keys == ["landing/db/t/k=1"]  # the link itself, not what is behind it
    [outcome] = take_all(app)
    assert outcome.reason_code == "reject.symlink"
    assert sorted(p.name for p in outside.iterdir()) == ["later.csv", "secret.csv"]
    assert app.catalog.table("db", "t") is None


def test_no_storage_operation_goes_through_a_linked_folder(tmp_path: Path, outside: Path) -> None:
    store = LocalStore(tmp_path / "landing")
    (store.root / "db").mkdir()
    (store.root / "db" / "k=1").symlink_to(outside, target_is_directory=True)
    key = "db/k=1/secret.csv"
    for attempt in (
        lambda: store.open(key),
        lambda: store.stat(key),
        lambda: store.delete(key),
        lambda: store.write(key, b"x"),
        lambda: store.hold(key, "db/k=1/.lakegate-taking-1"),
    ):
        with pytest.raises(StorageError) as caught:
            attempt()
        assert caught.value.code == "storage.symlink"
        assert "db/k=1" in str(caught.value)
    assert list(store.list("db/k=1/")) == []
    assert sorted(p.name for p in outside.iterdir()) == ["secret.csv"]
    assert (outside / "secret.csv").read_bytes().startswith(b"user,password")


def test_a_quarantined_link_replayed_is_quarantined_again(app: App, outside: Path) -> None:
    link = app.home.landing / "fs" / "x" / "a.csv"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside / "secret.csv")
    take_all(app)
    [obj] = Quarantine(app.catalog, app.store).list()
    Quarantine(app.catalog, app.store).replay(obj, Pipeline(app.catalog, app.store))
    [outcome] = take_all(app)
    assert outcome.reason_code == "reject.symlink"
    assert (outside / "secret.csv").exists()


def test_a_folder_swapped_for_a_link_after_the_check_cannot_redirect_anything(
    tmp_path: Path, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name check passed (as if the folder were swapped for a link just after it): the
    operations themselves, opening folders one name at a time without following links, refuse."""
    store = LocalStore(tmp_path / "landing")
    (store.root / "db").mkdir()
    (store.root / "db" / "k=1").symlink_to(outside, target_is_directory=True)
    monkeypatch.setattr(LocalStore, "path", lambda self, key: self.root / key)
    key = "db/k=1/secret.csv"
    for attempt in (
        lambda: store.open(key),
        lambda: store.delete(key),
        lambda: store.write(key, b"overwritten"),
        lambda: store.write("db/k=1/new.csv", b"planted"),
        lambda: store.hold(key, "db/k=1/.lakegate-taking-1"),
    ):
        with pytest.raises(StorageError) as caught:
            attempt()
        assert caught.value.code in ("storage.symlink", "storage.open", "storage.write", "storage.hold")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.csv"]
    assert (outside / "secret.csv").read_bytes() == b"user,password\nroot,hunter2\n"
