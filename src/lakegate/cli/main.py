"""The ``lakegate`` command: its command groups registered, each in a module of its own.

Every command takes ``--home DIR`` (else $LAKEGATE_HOME, else ./lakegate-data).
"""

from __future__ import annotations

import typer

from lakegate.cli import crawling, delivery, lake_files, querying, rules, serving, tables
from lakegate.cli.access import grants_app, tokens_app, users_app, workgroups_app

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="lakegate: drop files into landing/, query them with read-only SQL a second later.",
)
for group, name in (
    (delivery.quarantine_app, "quarantine"),
    (tables.schema_app, "schema"),
    (lake_files.archive_app, "archive"),
    (rules.rules_app, "rules"),
    (users_app, "users"),
    (tokens_app, "tokens"),
    (grants_app, "grants"),
    (workgroups_app, "workgroups"),
):
    app.add_typer(group, name=name)
for command in (
    serving.init, serving.up, serving.nodes, querying.sql, querying.history, crawling.crawl, crawling.migrate,
    tables.ls,
    tables.describe, tables.comment, delivery.put, lake_files.drop, lake_files.retention,
    lake_files.accelerate,
):  # fmt: skip
    app.command()(command)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
