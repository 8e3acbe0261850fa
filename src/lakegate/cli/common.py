"""What every `lakegate` command shares: the --home option, the consoles, opening the home, and
how failures and times are printed."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console

from lakegate.app import App, open_app
from lakegate.errors import LakegateError

HomeOption = Annotated[
    str | None,
    typer.Option("--home", help="The lakegate home folder (default: $LAKEGATE_HOME, else ./lakegate-data)."),
]
out = Console(width=None if sys.stdout.isatty() else 200, highlight=False, markup=False)
err = Console(stderr=True, highlight=False, markup=False)


def fail(exc: LakegateError) -> typer.Exit:
    err.print(exc.one_line(), markup=False, soft_wrap=True)
    return typer.Exit(1)


@contextmanager
def opened(home: str | None, *, create: bool = False) -> Iterator[App]:
    try:
        application = open_app(home, create=create)
    except LakegateError as exc:
        raise fail(exc) from None
    try:
        yield application
    except LakegateError as exc:
        raise fail(exc) from None
    finally:
        application.close()


def when(timestamp: float) -> str:
    """A catalog time as listings show it: local time to the second."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))
