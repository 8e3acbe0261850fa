"""The web console: static files of this package, served at ``/`` (page) and ``/console/`` (its
scripts, styles and the one vendored bundle). Nothing is fetched from elsewhere, at build or run
time; the page may load only what this server serves (Content-Security-Policy)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Response
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

FOLDER = Path(__file__).parent / "console"
# CodeMirror adds its styles at run time: inline styles are allowed, inline scripts are not.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class _Files(StaticFiles):
    """The console's files, with its security headers."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.update(_HEADERS)
        return response


def mount_console(app: FastAPI) -> None:
    app.mount("/console", _Files(directory=FOLDER), name="console")

    @app.get("/", include_in_schema=False)
    def console_page() -> FileResponse:
        headers = {**_HEADERS, "Cache-Control": "no-cache"}
        return FileResponse(FOLDER / "index.html", media_type="text/html", headers=headers)
