"""Opening a listening socket before anything is said to be up: a port that cannot be opened
stops ``lakegate up`` with what to do, instead of a server that never answers."""

from __future__ import annotations

import socket

from lakegate.errors import ConfigError

# the option that sets each listener's port, and the Makefile's variable where there is one
FLAGS = {
    "http": ("--http-port", "make up HTTP_PORT=…"),
    "pg": ("--pg-port", ""),
    "aws": ("--aws-port", ""),
    "events": ("--events-port", ""),
}


def listen(host: str, port: int, name: str) -> socket.socket:
    """A socket bound to ``host:port`` (0: a free port) and listening.

    Raises:
        ConfigError: ``cli.port_busy`` — the port is taken, or the address is not this machine's.
    """
    flag, make = FLAGS.get(name, ("a port option", ""))
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ConfigError(
            f"the {name} address {host}:{port} cannot be used: {exc}",
            code="cli.port_busy",
            hint=f"pick another host (the option beside {flag})",
        ) from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # not a port another listens on
        sock.bind(address)
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        taken = exc.errno in (98, 48)  # EADDRINUSE on Linux, macOS
        what = f"port {port} is in use" if taken else f"{host}:{port} cannot be opened ({exc.strerror})"
        others = f" / {make}" if make else ""
        raise ConfigError(
            f"the {name} {what}",
            code="cli.port_busy",
            hint=f"pick another with {flag}{others}, or 0 for a free one",
        ) from None
    sock.setblocking(False)
    return sock
