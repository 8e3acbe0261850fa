"""Delivering and taking back: ``put`` (deliver a file and wait for its outcome) and
``quarantine list|show|replay|purge``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from lakegate.app import LANDING_PREFIX, App
from lakegate.catalog import records as r
from lakegate.cli.common import (
    HomeOption,
    err,
    fail,
    opened,
    out,
    plural_rows,
    split_table,
    status_line,
    when,
)
from lakegate.daemon import HomeLock
from lakegate.errors import ConfigError

if TYPE_CHECKING:
    from lakegate.ingest.outcomes import Outcome


quarantine_app = typer.Typer(no_args_is_help=True, help="Objects that were rejected, with their reasons.")


def put(
    file: Annotated[Path, typer.Argument(help="The file to deliver.", exists=True, dir_okay=False)],
    to: Annotated[str, typer.Option("--to", help="database.table to deliver it to.")],
    partition: Annotated[
        list[str] | None, typer.Option("--partition", "-p", help="key=value, repeatable, in folder order.")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Deliver a file as a drop into landing/ would (processed at once if `lakegate up` is not running)."""
    from lakegate.ingest.pipeline import Pipeline
    from lakegate.ingest.routing import Router

    with opened(home, create=True) as application:
        database, table = split_table(to)
        parts = [database, table, *(partition or []), file.name]
        for p in partition or []:
            if "=" not in p or "/" in p:
                raise fail(ConfigError(f"--partition {p!r} is not key=value", code="cli.bad_partition"))
        key = LANDING_PREFIX + "/".join(parts)
        earlier = application.catalog.latest_for(key)
        with file.open("rb") as stream:
            application.store.write(key, stream)
        lock = HomeLock(application.home.root)
        if lock.acquire():
            try:
                obj = Pipeline(
                    application.catalog,
                    application.store,
                    router=Router.from_settings(application.settings),
                ).process(key)
            finally:
                lock.release()
        else:
            obj = _wait_for(application, key, after=earlier.id if earlier else 0, timeout=60)
        if obj is None:
            out.print(f"delivered {key}; `lakegate up` is still working on it")
        elif obj.state == r.DONE:
            rows = (obj.plan or {}).get("rows", 0)
            out.print(f"accepted {key} -> {obj.qualified_table} ({plural_rows(rows)})", markup=False)
        elif obj.state == r.SKIPPED:
            out.print(f"duplicate {key}: identical content already in {obj.qualified_table}")
        else:
            err.print(f"quarantined {key}: {obj.reason_code}: {obj.reason}", markup=False, soft_wrap=True)
            raise typer.Exit(1)


def _wait_for(application: App, key: str, after: int, timeout: float) -> Any:
    """The running daemon's verdict on ``key``: its first ledger row newer than ``after`` once
    finished (however fast it was), or None after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        latest = application.catalog.latest_for(key)
        if latest is not None and latest.id > after and latest.state in r.TERMINAL:
            return latest
        time.sleep(0.1)
    return None


@quarantine_app.command("list")
def quarantine_list(home: HomeOption = None) -> None:
    """Every quarantined object with its reason (newest first)."""
    from lakegate.ingest.quarantine import Quarantine

    with opened(home) as application:
        rows = Quarantine(application.catalog, application.store).list()
        if not rows:
            out.print("quarantine is empty")
            return
        grid = Table("id", "when", "object", "kept at", "reason", box=None)
        for o in rows:
            stamp = when(o.updated_at)
            grid.add_row(str(o.id), stamp, o.source_key, o.target_key or "", f"{o.reason_code}: {o.reason}")
        out.print(grid)


def _quarantined(application: App, object_id: int) -> Any:
    from lakegate.ingest.quarantine import Quarantine

    return Quarantine(application.catalog, application.store).get(object_id)


@quarantine_app.command("show")
def quarantine_show(
    object_id: Annotated[int, typer.Argument(help="The id `lakegate quarantine list` shows.")],
    home: HomeOption = None,
) -> None:
    """One quarantined object: why, where it is kept, and the details of its reason."""
    import json

    from lakegate.ingest.quarantine import describe

    with opened(home) as application:
        shown = describe(_quarantined(application, object_id))
        grid = Table(box=None, show_header=False)
        grid.add_row("id", str(shown["id"]))
        grid.add_row("object", shown["object"])
        grid.add_row("state", shown["state"])
        grid.add_row("kept at", shown["kept_at"] or "(purged)")
        grid.add_row("reason", f"{shown['reason_code']}: {shown['reason']}")
        if shown["how_to_fix"]:
            grid.add_row("how to fix", str(shown["how_to_fix"]))
        for name, value in shown["details"].items():
            grid.add_row(name, value if isinstance(value, str) else json.dumps(value))
        grid.add_row("size", f"{shown['size']} bytes")
        grid.add_row("sha256", shown["sha256"] or "")
        grid.add_row("landed", when(shown["landed_at"]))
        out.print(grid)


@quarantine_app.command("replay")
def quarantine_replay(
    object_ids: Annotated[
        list[int] | None, typer.Argument(help="Ids from `lakegate quarantine list`.")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every quarantined object.")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="Those quarantined with this code.")] = None,
    home: HomeOption = None,
) -> None:
    """Put quarantined objects back in landing, to be taken again after a fix to the rules or files.

    Exit code 1 when any of them is quarantined again or could not be replayed.
    """
    from lakegate.errors import CatalogError
    from lakegate.ingest.pipeline import Pipeline
    from lakegate.ingest.quarantine import Quarantine
    from lakegate.ingest.routing import Router

    with opened(home) as application:
        catalog = application.catalog
        quarantine = Quarantine(catalog, application.store)
        if object_ids:
            chosen = [quarantine.get(i) for i in object_ids]
        elif every or reason:
            chosen = [o for o in quarantine.list(reason) if o.state == r.QUARANTINED]
        else:
            raise ConfigError(
                "name the objects to replay", code="cli.nothing_chosen", hint="give ids, --all or --reason"
            )
        outcomes: list[Outcome] = []
        pipeline = Pipeline(
            catalog,
            application.store,
            router=Router.from_settings(application.settings),
            on_outcome=outcomes.append,
        )
        lock = HomeLock(application.home.root)
        daemon_running = not lock.acquire()  # if `lakegate up` runs, it takes the objects back in landing
        refused = 0
        try:
            for obj in chosen:
                if obj.state != r.QUARANTINED:
                    err.print(f"not replayed {obj.id}: it was {obj.state}", soft_wrap=True)
                    refused += 1
                    continue
                try:
                    done = quarantine.replay(obj, pipeline)
                except CatalogError as exc:
                    if exc.code != "catalog.state_conflict":  # else `lakegate up` finished the replay
                        err.print(f"not replayed {obj.id}: {exc.one_line()}", soft_wrap=True)
                        refused += 1
                        continue
                    done = catalog.get_object(obj.id) or obj
                if done.state != r.REPLAYED:
                    continue  # postponed: reported below
                if not daemon_running:
                    pipeline.process(obj.source_key)
        finally:
            lock.release()
        for o in outcomes:
            if o.kind != "replayed" or daemon_running:  # replayed, then taken: the outcome says it all
                out.print(status_line(o))
            if o.kind == "quarantined" and o.object_id:
                out.print(f"→ quarantined again as {o.object_id} (`lakegate quarantine show {o.object_id}`)")
            elif o.kind == "replayed" and daemon_running:
                out.print("→ back in landing: `lakegate up` takes it again (its line there says how it went)")
        if refused or any(o.kind in ("quarantined", "replay postponed") for o in outcomes):
            raise typer.Exit(1)


@quarantine_app.command("purge")
def quarantine_purge(
    object_ids: Annotated[list[int], typer.Argument(help="Ids from `lakegate quarantine list`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Really delete them.")] = False,
    home: HomeOption = None,
) -> None:
    """Delete quarantined objects for good. Nothing delivered is deleted without this."""
    from lakegate.ingest.quarantine import Quarantine

    with opened(home) as application:
        chosen = [_quarantined(application, i) for i in object_ids]
        if not yes:
            for obj in chosen:
                out.print(f"would delete {obj.target_key} ({obj.source_key}, {obj.size} bytes)")
            out.print("nothing deleted: add --yes to delete them")
            return
        quarantine = Quarantine(application.catalog, application.store)
        for obj in chosen:
            quarantine.purge(obj)
            out.print(f"purged {obj.id}: {obj.target_key}")
