"""API tokens: random, shown once, kept only as SCRAM-SHA-256 verifiers.

A token is ``lg_<id>_<secret>``: the id (public, 8 characters) finds its record, the secret (32
random bytes) is what proves it. The catalog keeps neither the secret nor a plain hash of it,
only what RFC 5802/7677 (SCRAM-SHA-256) keeps for a password: a salt, an iteration count, a
StoredKey and a ServerKey. The same record therefore checks a token sent over HTTP and a SCRAM
exchange from a PostgreSQL client that uses the token as its password.

All tokens of a principal share the principal's salt and iteration count: a SCRAM server must
send them before it knows which token the client holds, and with one salt it can then check
the client's proof against each of the principal's tokens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

ITERATIONS = 4096  # SCRAM-SHA-256's usual count: what PostgreSQL clients expect
PREFIX = "lg_"


@dataclass(frozen=True)
class Verifier:
    stored_key: bytes
    server_key: bytes


def new_salt() -> bytes:
    return secrets.token_bytes(16)


def new_token() -> tuple[str, str]:
    """A new token and its public id."""
    token_id = secrets.token_hex(4)
    return f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}", token_id


def token_id(token: str) -> str | None:
    """The public id of a token as written (``None`` when it is not shaped like one)."""
    if not token.startswith(PREFIX):
        return None
    head, sep, secret = token[len(PREFIX) :].partition("_")
    if not sep or len(head) != 8 or not secret:
        return None
    return head


def salted(token: str, salt: bytes, iterations: int = ITERATIONS) -> bytes:
    # SCRAM's SaltedPassword is Hi(Normalize(password), salt, i): PBKDF2 with HMAC-SHA-256.
    # Tokens are ASCII, which SASLprep leaves as it is.
    return hashlib.pbkdf2_hmac("sha256", token.encode("utf-8"), salt, iterations)


def verifier(token: str, salt: bytes, iterations: int = ITERATIONS) -> Verifier:
    salted_password = salted(token, salt, iterations)
    client_key = hmac.new(salted_password, b"Client Key", "sha256").digest()
    return Verifier(
        stored_key=hashlib.sha256(client_key).digest(),
        server_key=hmac.new(salted_password, b"Server Key", "sha256").digest(),
    )


def matches(token: str, salt: bytes, iterations: int, stored_key: bytes) -> bool:
    """Whether ``token`` is the one ``stored_key`` was made from (in constant time)."""
    return hmac.compare_digest(verifier(token, salt, iterations).stored_key, stored_key)


def client_proof_matches(stored_key: bytes, auth_message: bytes, proof: bytes) -> bool:
    """SCRAM: whether a client's proof was made with the token behind ``stored_key``."""
    signature = hmac.new(stored_key, auth_message, "sha256").digest()
    if len(proof) != len(signature):
        return False
    client_key = bytes(a ^ b for a, b in zip(proof, signature, strict=True))
    return hmac.compare_digest(hashlib.sha256(client_key).digest(), stored_key)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))
