"""An HTTP app served by uvicorn on a background thread, stopped with the daemon."""

from __future__ import annotations

import threading
from typing import Any


class BackgroundServer:
    def __init__(self, app: Any, host: str, port: int, name: str) -> None:
        import uvicorn

        self.server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
        )
        self._thread = threading.Thread(target=self.server.run, name=f"lakegate-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)
