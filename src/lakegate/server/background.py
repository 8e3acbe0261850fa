"""An HTTP app served by uvicorn on a background thread, stopped with the daemon."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any


class BackgroundServer:
    def __init__(
        self,
        app: Any,
        host: str,
        port: int,
        name: str,
        tls: tuple[Path, Path] | None = None,
        *,
        max_connections: int | None = None,
    ) -> None:
        import uvicorn

        from lakegate.listening import listen

        self.socket = listen(host, port, name)  # bound now: a taken port stops start-up here
        self.app = app
        certificate, key = (str(tls[0]), str(tls[1])) if tls else (None, None)
        self.server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=host,
                port=port,
                log_level="warning",
                lifespan="off",
                ssl_certfile=certificate,
                ssl_keyfile=key,
                limit_concurrency=max_connections,  # beyond: 503 at once, nothing more is read
            )
        )
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, name=f"lakegate-{name}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def bound_port(self) -> int:
        """The port it listens on (the one the system picked for port 0)."""
        return int(self.socket.getsockname()[1])

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.socket.close()
