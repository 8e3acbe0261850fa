"""The server side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL clients speak it.

The password is a lakegate token. The catalog keeps, per token, only StoredKey and ServerKey,
made with the principal's salt and iteration count, so any of a principal's tokens proves the
exchange and none can be rebuilt from what is stored. An unknown or disabled principal goes
through the same exchange with made-up keys, and fails at the same step with the same message.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from dataclasses import dataclass

from lakegate.auth import tokens as t
from lakegate.auth.principals import ScramSecrets

MECHANISM = "SCRAM-SHA-256"


class ScramFailed(Exception):
    """The exchange failed (a malformed message or a wrong proof)."""


@dataclass
class ScramExchange:
    secrets_: ScramSecrets | None  # None: unknown principal (the exchange still runs, then fails)
    client_first_bare: str = ""
    server_first: str = ""
    nonce: str = ""
    _gs2: str = ""
    token_id: str | None = None  # the token whose key proved the exchange

    def first(self, client_first: bytes) -> bytes:
        """The server-first-message answering the client-first-message."""
        text = _ascii(client_first)
        gs2, _, bare = _split_gs2(text)
        if gs2.startswith("p"):
            raise ScramFailed("channel binding is not offered by this server")
        attributes = _attributes(bare)
        client_nonce = attributes.get("r")
        if not client_nonce:
            raise ScramFailed("the client's first message has no nonce")
        self.client_first_bare = bare
        self.nonce = client_nonce + base64.b64encode(secrets.token_bytes(18)).decode()
        salt = self.secrets_.salt if self.secrets_ else secrets.token_bytes(16)
        iterations = self.secrets_.iterations if self.secrets_ else t.ITERATIONS
        self.server_first = f"r={self.nonce},s={base64.b64encode(salt).decode()},i={iterations}"
        self._gs2 = gs2
        return self.server_first.encode()

    def final(self, client_final: bytes) -> bytes:
        """The server-final-message (``v=`` the server's signature) once the proof holds.

        Raises: ScramFailed for a wrong proof, another nonce or a changed channel-binding header.
        """
        text = _ascii(client_final)
        without_proof, _, proof_part = text.rpartition(",p=")
        if not without_proof:
            raise ScramFailed("the client's final message has no proof")
        attributes = _attributes(without_proof)
        if attributes.get("r") != self.nonce:
            raise ScramFailed("the client's final message answers another exchange")
        if base64.b64decode(attributes.get("c", "")) != self._gs2.encode():
            raise ScramFailed("the channel-binding header changed during the exchange")
        try:
            proof = base64.b64decode(proof_part, validate=True)
        except ValueError:
            raise ScramFailed("the proof is not base64") from None
        auth_message = f"{self.client_first_bare},{self.server_first},{without_proof}".encode()
        for token_id, stored_key, server_key in self.secrets_.keys if self.secrets_ else []:
            if t.client_proof_matches(stored_key, auth_message, proof):
                self.token_id = token_id
                signature = hmac.new(server_key, auth_message, "sha256").digest()
                return f"v={base64.b64encode(signature).decode()}".encode()
        raise ScramFailed("the password is not a valid token of this user")


def _ascii(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScramFailed("a SCRAM message is not text") from None


def _split_gs2(text: str) -> tuple[str, str, str]:
    """``n,,n=,r=...`` → the GS2 header (``n,,``), the authzid and the bare message."""
    parts = text.split(",", 2)
    if len(parts) != 3 or (parts[0] not in ("n", "y") and not parts[0].startswith("p=")):
        raise ScramFailed("the client's first message is not SCRAM")
    return f"{parts[0]},{parts[1]},", parts[1], parts[2]


def _attributes(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if sep and len(key) == 1:
            found.setdefault(key, value)
    return found
