"""The API's interactive documentation at ``/docs``, served from the package like the console:
Swagger UI's files come from the ``swagger-ui-bundle-v2`` wheel (Swagger UI 5, which reads
OpenAPI 3.1); nothing is fetched from a CDN, so it works offline and behind firewalls.
``/openapi.json`` is what it shows."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = "/docs/static"


def mount_api_docs(app: FastAPI) -> None:
    from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

    app.mount(STATIC, StaticFiles(directory=str(swagger_ui_path)), name="api-docs")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="lakegate HTTP API",
            swagger_js_url=f"{STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC}/favicon-32x32.png",
        )
